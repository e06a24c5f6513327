"""The model catalogue: spec files shipped inside csisem (installed as ``csisem.specs``)."""
