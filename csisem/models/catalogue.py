"""The model catalogue (``specs/*.yaml``, shipped inside the package) and model loading."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path as FilePath

import pandas as pd

from ..errors import SpecError
from .lavaan import load_lavaan
from .model import Model
from .spec import load_spec, parse_spec

__all__ = ["list_models", "load_model"]

YAML_SUFFIXES = (".yaml", ".yml")
LAVAAN_SUFFIXES = (".lav", ".lavaan", ".sem", ".txt")


def _catalogue() -> dict[str, resources.abc.Traversable]:
    root = resources.files("csisem.specs")
    return {f.name.rsplit(".", 1)[0].lower(): f for f in root.iterdir()
            if f.name.endswith(YAML_SUFFIXES)}


def list_models() -> pd.DataFrame:
    """The catalogue: one row per built-in model (name, title, constructs, paths, citation)."""
    rows = []
    for key, file in sorted(_catalogue().items()):
        m = parse_spec(file.read_text(encoding="utf-8"), source=f"<catalogue>/{file.name}")
        rows.append({"name": key, "title": m.title, "constructs": len(m.constructs),
                     "indicators": len(m.indicator_names), "paths": len(m.paths),
                     "citation": m.citation})
    return pd.DataFrame(rows)


def load_model(spec: str | FilePath | Model) -> Model:
    """A model from the catalogue (``"ecsi"``), a YAML spec file or a lavaan-syntax file.

    Files ending in .yaml/.yml are read as YAML specs; .lav, .lavaan, .sem and .txt as lavaan
    model syntax.

    Raises
    ------
    SpecError
        If the name is neither a catalogue model nor an existing file, or the spec is invalid.
    """
    if isinstance(spec, Model):
        return spec
    path = FilePath(spec)
    text = str(spec)
    looks_like_file = path.suffix.lower() in YAML_SUFFIXES + LAVAAN_SUFFIXES or "/" in text
    if path.is_file() or looks_like_file:
        if not path.exists():
            raise SpecError(f"Spec file {text!r} does not exist.")
        if path.suffix.lower() in YAML_SUFFIXES:
            return load_spec(path)
        if path.suffix.lower() in LAVAAN_SUFFIXES:
            return load_lavaan(path)
        raise SpecError(f"Cannot tell the format of spec file {text!r}: name it .yaml for a "
                        "YAML spec or .lav for lavaan model syntax.")
    catalogue = _catalogue()
    key = text.lower()
    if key in catalogue:
        file = catalogue[key]
        return parse_spec(file.read_text(encoding="utf-8"), source=f"<catalogue>/{file.name}")
    close = difflib.get_close_matches(key, list(catalogue), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise SpecError(f"{text!r} is neither a catalogue model nor a spec file.{hint} Catalogue: "
                    f"{', '.join(sorted(catalogue))}; or give the path of a .yaml or .lav file.")
