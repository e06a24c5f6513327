"""Spec language, validation and the model catalogue."""

from .lavaan import load_lavaan, parse_lavaan, to_lavaan
from .model import Construct, Covariance, Indicator, Mode, Model, Path
from .spec import load_spec, parse_spec, to_yaml

__all__ = ["Construct", "Covariance", "Indicator", "Mode", "Model", "Path", "load_lavaan",
           "load_spec", "parse_lavaan", "parse_spec", "to_lavaan", "to_yaml"]
