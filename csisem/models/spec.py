"""YAML model specs: read (with file, line and key path in every error) and write.

The only module that touches YAML. Layout of a spec::

    name: ecsi                      # required
    title: ...                      # optional free text
    citation: ...
    description: ...
    scale: [1, 10]                  # item scale, used for 0-100 indices and range checks
    constructs:                     # required
      IMAG:
        label: Image
        mode: reflective            # reflective | composite_a | composite_b
        indicators:
          - IMAG1: It can be trusted in what it says and does.   # name: wording
          - IMAG2                                                 # name only
          - {name: IMAG3, wording: ..., fixed: 1.0, label: l3}    # full form
    paths:                          # target: [sources]
      CUEX: [IMAG]
      CUSA: [IMAG, {source: CUEX, fixed: 0.5}]
    covariances:                    # pairs of constructs or of indicators
      - [CUEX, PERQ]
      - {between: [IMAG1, IMAG2], fixed: 0}
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path as FilePath
from typing import Any

import yaml

from ..errors import SpecError, SpecProblem
from .model import Construct, Covariance, Indicator, Mode, Model, Path

__all__ = ["load_spec", "parse_spec", "to_yaml"]

TOP_KEYS = ("name", "title", "citation", "description", "scale", "constructs", "paths",
            "covariances")
CONSTRUCT_KEYS = ("label", "mode", "indicators", "description")
INDICATOR_KEYS = ("name", "wording", "fixed", "label")
PATH_SOURCE_KEYS = ("source", "fixed", "label")
COVARIANCE_KEYS = ("between", "fixed", "label")

Location = tuple[int, int]

MAX_SPEC_BYTES = 1_000_000   # a real CSI spec is a few kB; refuse before parsing anything huge
MAX_NODES = 100_000          # YAML aliases can expand a small file into a huge document
MAX_DEPTH = 20               # a spec is at most ~5 levels deep
PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in
                       ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))


def load_spec(path: str | FilePath) -> Model:
    """Read and validate a YAML spec file.

    Raises
    ------
    SpecError
        If the file cannot be read or the spec is invalid; every problem is listed with the
        file, line and key path.
    """
    path = FilePath(path)
    return parse_spec(read_spec_text(path, "Spec"), source=str(path))


def read_spec_text(path: FilePath, kind: str) -> str:
    """The UTF-8 text of a spec file; ``kind`` ("Spec", "Lavaan") names it in errors.

    Raises
    ------
    SpecError
        If the file does not exist or cannot be read as UTF-8 text.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{kind} file {str(path)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"Cannot read {kind.lower()} file {str(path)!r}: {exc}.") from exc


def parse_spec(text: str, source: str | None = None) -> Model:
    """Validate a YAML spec given as text; ``source`` names it in error messages."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError([SpecProblem(
            f"The spec is {len(text):,} characters long; csisem reads specs of at most "
            f"{MAX_SPEC_BYTES:,} (a CSI model spec is a few thousand).", "", source)])
    data, locations, problems = _compose(text, source)
    builder = _Builder(source, locations, problems)
    return builder.build(data)


# ---- YAML with locations -------------------------------------------------------------------
def _compose(text: str, source: str | None) -> tuple[Any, dict[str, Location], list[SpecProblem]]:
    """Parse YAML into plain Python plus a map key-path -> (line, column), 1-based."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        context = getattr(exc, "context", None)
        msg = f"YAML syntax error: {problem}" + (f" ({context})" if context else "") + "."
        raise SpecError([SpecProblem(msg, "", source, line, col)]) from None
    locations: dict[str, Location] = {}
    problems: list[SpecProblem] = []
    constructor = yaml.SafeLoader("")
    visited = 0

    def walk(n: yaml.Node, where: str, depth: int = 0) -> Any:
        nonlocal visited
        visited += 1
        if visited > MAX_NODES or depth > MAX_DEPTH:
            what = (f"more than {MAX_NODES:,} values (YAML aliases expand it)"
                    if visited > MAX_NODES else f"nested more than {MAX_DEPTH} levels deep")
            raise SpecError([SpecProblem(f"The spec is {what}; this is not a model spec.",
                                         where, source, n.start_mark.line + 1,
                                         n.start_mark.column + 1)])
        locations[where] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if n.tag not in PLAIN_TAGS:
            raise SpecError([SpecProblem(
                f"YAML tag {n.tag!r} is not allowed in a spec (specs hold plain values only).",
                where, source, n.start_mark.line + 1, n.start_mark.column + 1)])
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in n.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in PLAIN_TAGS:
                    what = ("a YAML merge key '<<'" if key_node.tag.endswith(":merge")
                            else "a key that is not a plain name")
                    raise SpecError([SpecProblem(
                        f"Found {what}; spec keys are plain names (write the entries out).",
                        where, source, key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1)])
                key = constructor.construct_object(key_node, deep=True)
                sub = f"{where}.{key}" if where else str(key)
                if key in out:
                    problems.append(SpecProblem(
                        f"Key {key!r} appears twice; YAML keeps only the last one, so rename "
                        "or merge them.", sub, source, key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1))
                out[key] = walk(value_node, sub, depth + 1)
                locations[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [walk(v, f"{where}[{k}]", depth + 1) for k, v in enumerate(n.value)]
        return constructor.construct_object(n, deep=True)

    data = walk(node, "") if node is not None else None
    return data, locations, problems


def _locate(locations: Mapping[str, Location], where: str) -> Location | tuple[None, None]:
    """Location of ``where`` or of its closest enclosing key."""
    key = where
    while key:
        if key in locations:
            return locations[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return locations.get("", (None, None))


def _did_you_mean(key: object, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown key {key!r}.{hint} Allowed keys: {', '.join(allowed)}."


class _Builder:
    """Turns the plain YAML structure into a :class:`Model`, collecting every problem."""

    def __init__(self, source: str | None, locations: dict[str, Location],
                 problems: list[SpecProblem]) -> None:
        self.source = source
        self.locations = locations
        self.problems = problems

    def add(self, where: str, message: str) -> None:
        line, col = _locate(self.locations, where)
        self.problems.append(SpecProblem(message, where, self.source, line, col))

    def check_keys(self, mapping: Mapping[Any, Any], allowed: tuple[str, ...],
                   where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(f"{where}.{key}" if where else str(key), _did_you_mean(key, allowed))

    def text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        self.add(where, f"Expected text, found {type(value).__name__}.")
        return None

    def number(self, value: Any, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, f"Expected a number, found {value!r}.")
            return None
        return float(value)

    def build(self, data: Any) -> Model:
        if not isinstance(data, dict):
            found = "an empty file" if data is None else f"a {type(data).__name__}"
            self.add("", f"A spec must be a YAML mapping with at least 'name' and "
                         f"'constructs'; found {found}.")
            raise SpecError(self.problems)
        self.check_keys(data, TOP_KEYS, "")
        for required in ("name", "constructs"):
            if required not in data:
                self.add("", f"Missing required key {required!r}.")
        name = self.text(data.get("name"), "name") or ""
        scale = self.scale(data.get("scale"))
        constructs = self.constructs(data.get("constructs"))
        paths = self.paths(data.get("paths"))
        covariances = self.covariances(data.get("covariances"))
        kwargs = dict(
            name=name, constructs=tuple(constructs), paths=tuple(paths),
            covariances=tuple(covariances), scale=scale,
            title=self.text(data.get("title"), "title"),
            citation=self.text(data.get("citation"), "citation"),
            description=self.text(data.get("description"), "description"),
            source=self.source,
        )
        try:
            model = Model(**kwargs)  # type: ignore[arg-type]
        except SpecError as exc:
            for p in exc.problems:
                self.add(p.where, p.message)
            model = None
        if self.problems or model is None:
            self.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
            raise SpecError(self.problems)
        return model

    def scale(self, value: Any) -> tuple[float, float] | None:
        if value is None:
            return None
        if (not isinstance(value, list) or len(value) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)):
            self.add("scale", f"scale must be a list [lowest, highest] of two numbers, e.g. "
                              f"[1, 10]; found {value!r}.")
            return None
        return (value[0], value[1])

    def constructs(self, value: Any) -> list[Construct]:
        if value is None:
            return []
        if not isinstance(value, dict):
            self.add("constructs", "constructs must be a mapping of construct name -> "
                                   "{label, mode, indicators}.")
            return []
        out = []
        for name, body in value.items():
            where = f"constructs.{name}"
            if body is None:
                body = {}
            if isinstance(body, list):
                # Shorthand: a construct given directly as its list of indicators.
                body = {"indicators": body}
            if not isinstance(body, dict):
                self.add(where, f"Construct {name!r} must be a mapping with 'indicators' "
                                f"(and optionally 'label', 'mode'); found {body!r}.")
                continue
            self.check_keys(body, CONSTRUCT_KEYS, where)
            mode = self.mode(body.get("mode", "reflective"), f"{where}.mode")
            indicators = self.indicators(body.get("indicators"), f"{where}.indicators")
            out.append(Construct(
                name=str(name), indicators=tuple(indicators), mode=mode,
                label=self.text(body.get("label"), f"{where}.label"),
                description=self.text(body.get("description"), f"{where}.description"),
            ))
        return out

    def mode(self, value: Any, where: str) -> Mode:
        try:
            return Mode(value)
        except ValueError:
            allowed = tuple(m.value for m in Mode)
            hint = ""
            if str(value).lower() in ("formative", "b", "mode_b", "modeb"):
                hint = " A formative (Mode B) construct is 'composite_b'."
            elif str(value).lower() in ("a", "mode_a", "modea", "composite"):
                hint = " Use 'composite_a' for a Mode A composite or 'reflective' for a factor."
            else:
                close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
            self.add(where, f"Unknown mode {value!r}.{hint} Choose one of "
                            f"{', '.join(repr(a) for a in allowed)}.")
            return Mode.REFLECTIVE

    def indicators(self, value: Any, where: str) -> list[Indicator]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(where, "indicators must be a list, e.g. [IMAG1, IMAG2] or a list of "
                            "'- NAME: wording' items.")
            return []
        out = []
        for k, item in enumerate(value):
            iw = f"{where}[{k}]"
            if isinstance(item, str):
                out.append(Indicator(item))
            elif isinstance(item, dict) and "name" in item:
                self.check_keys(item, INDICATOR_KEYS, iw)
                out.append(Indicator(
                    str(item["name"]), self.text(item.get("wording"), f"{iw}.wording"),
                    self.number(item.get("fixed"), f"{iw}.fixed"),
                    self.text(item.get("label"), f"{iw}.label")))
            elif isinstance(item, dict) and len(item) == 1:
                (name, wording), = item.items()
                out.append(Indicator(str(name), self.text(wording, f"{iw}.{name}")))
            else:
                self.add(iw, f"An indicator is a name, '- NAME: wording' or a mapping with "
                             f"'name' (and 'wording', 'fixed', 'label'); found {item!r}.")
        return out

    def _modified(self, item: Any, where: str, key: str, allowed: tuple[str, ...],
                  describe: str, convert: Callable[[Any], Any]) -> tuple[Any, float | None,
                                                                          str | None] | None:
        """A plain value or a mapping {key: value, fixed: x, label: l}."""
        if isinstance(item, dict) and key in item:
            self.check_keys(item, allowed, where)
            value = convert(item[key])
            return (value, self.number(item.get("fixed"), f"{where}.fixed"),
                    self.text(item.get("label"), f"{where}.label"))
        value = convert(item)
        if value is None:
            self.add(where, f"Expected {describe}; found {item!r}.")
            return None
        return value, None, None

    def paths(self, value: Any) -> list[Path]:
        if value is None:
            return []
        if not isinstance(value, dict):
            self.add("paths", "paths must be a mapping of target -> [sources], "
                              "e.g. 'CUSA: [IMAG, PERQ]'.")
            return []
        out = []
        for target, sources in value.items():
            where = f"paths.{target}"
            if isinstance(sources, str | dict):
                sources = [sources]
            if not isinstance(sources, list) or not sources:
                self.add(where, f"The sources of {target!r} must be a non-empty list of "
                                "construct names.")
                continue
            for k, item in enumerate(sources):
                got = self._modified(item, f"{where}[{k}]", "source", PATH_SOURCE_KEYS,
                                     "a construct name or {source: NAME, fixed: VALUE}",
                                     lambda v: v if isinstance(v, str) else None)
                if got is None:
                    continue
                if got[0] is None:
                    self.add(f"{where}[{k}].source", "The source must be a construct name.")
                    continue
                out.append(Path(got[0], str(target), got[1], got[2]))
        return out

    def covariances(self, value: Any) -> list[Covariance]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add("covariances", "covariances must be a list of pairs, e.g. "
                                    "'- [CUEX, PERQ]'.")
            return []

        def pair(v: Any) -> tuple[str, str] | None:
            if isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v):
                return (v[0], v[1])
            return None

        out = []
        for k, item in enumerate(value):
            got = self._modified(item, f"covariances[{k}]", "between", COVARIANCE_KEYS,
                                 "a pair [A, B] or {between: [A, B], fixed: VALUE}", pair)
            if got is None:
                continue
            if got[0] is None:
                self.add(f"covariances[{k}].between", "between must be a pair [A, B].")
                continue
            out.append(Covariance(got[0][0], got[0][1], got[1], got[2]))
        return out


# ---- writing -------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block style for mappings, flow style for short lists of names."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if "\x85" in value else "|" if "\n" in value else None  # PyYAML folds NEL
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Flow(list):  # type: ignore[type-arg]
    """A list written in flow style: [A, B]."""


_Dumper.add_representer(str, _str_presenter)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _with_modifiers(key: str, value: Any, fixed: float | None, label: str | None) -> Any:
    if fixed is None and label is None:
        return value
    out: dict[str, Any] = {key: value}
    if fixed is not None:
        out["fixed"] = fixed
    if label is not None:
        out["label"] = label
    return out


def to_yaml(model: Model) -> str:
    """The model as a YAML spec that :func:`parse_spec` reads back to an equal model."""
    doc: dict[str, Any] = {"name": model.name}
    for key in ("title", "citation", "description"):
        if getattr(model, key) is not None:
            doc[key] = getattr(model, key)
    if model.scale is not None:
        doc["scale"] = _Flow(model.scale)
    constructs: dict[str, Any] = {}
    for c in model.constructs:
        body: dict[str, Any] = {}
        if c.label is not None:
            body["label"] = c.label
        if c.description is not None:
            body["description"] = c.description
        body["mode"] = c.mode.value
        items: list[Any] = []
        for i in c.indicators:
            if i.fixed is not None or i.label is not None:
                item: dict[str, Any] = {"name": i.name}
                if i.wording is not None:
                    item["wording"] = i.wording
                items.append(_with_modifiers("name", i.name, i.fixed, i.label) | item)
            elif i.wording is not None:
                items.append({i.name: i.wording})
            else:
                items.append(i.name)
        body["indicators"] = items
        constructs[c.name] = body
    doc["constructs"] = constructs
    if model.paths:
        paths: dict[str, list[Any]] = {}
        for p in model.paths:
            paths.setdefault(p.target, []).append(
                _with_modifiers("source", p.source, p.fixed, p.label))
        doc["paths"] = {t: _Flow(s) for t, s in paths.items()}
    if model.covariances:
        doc["covariances"] = [
            _with_modifiers("between", _Flow([cv.left, cv.right]), cv.fixed, cv.label)
            for cv in model.covariances]
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
