"""Read and write lavaan model syntax.

csisem reads the part of lavaan's syntax that describes a recursive CSI model::

    IMAG =~ IMAG1 + IMAG2 + 1*IMAG3   # reflective construct (Mode.REFLECTIVE)
    BRND <~ BRND1 + BRND2             # composite (Mode.COMPOSITE_B)
    CUSA ~ IMAG + b1*CUEX             # structural paths IMAG -> CUSA, CUEX -> CUSA
    IMAG1 ~~ IMAG2; CUEX ~~ CUEX      # covariances and variances

A modifier before ``*`` fixes the parameter (``1*x``, ``-0.5*x``, ``1.5e-1*x``), labels it
(``a*x``) or frees it (``NA*x``); one value and one label may be chained (``0.5*a*x``).
``#`` and ``!`` start comments, ``;`` separates statements, and a statement continues on the next
line when a line ends with an operator, ``+`` or ``*`` (or the next line starts with one).
Statements may come in any order, and several ``=~`` lines for one construct are merged.
Other lavaan operators and modifiers (``:=``, ``==``, ``<``, ``>``, ``|``, ``~*~``, ``~ 1``,
``c(...)``, ``start(...)``, ...) raise :class:`~csisem.errors.SpecError`.

Metadata lines
--------------
lavaan syntax has no place for what a YAML spec also holds, so :func:`to_lavaan` writes it in
comments that lavaan ignores and :func:`parse_lavaan` reads back. A metadata line starts with
``#@`` and holds one YAML ``key: value`` entry (read with ``yaml.safe_load``)::

    #@ name: ecsi                        # also title, citation, description
    #@ scale: [1, 10]
    #@ construct IMAG: {label: Image, description: ..., mode: composite_a}
    #@ indicator IMAG1: {wording: It can be trusted in what it says and does.}

``mode: composite_a`` turns a ``<~`` construct into Mode.COMPOSITE_A (the only mode the
operators cannot express). Without ``#@ name:`` the model is named after the file stem, or
``"model"`` for text. Ordinary ``#`` comments are ignored.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from ..errors import SpecError, SpecProblem
from .model import (
    Construct,
    Covariance,
    Indicator,
    Mode,
    Model,
    Path,
    _find_cycle,
    single_indicators,
)
from .spec import read_spec_text

__all__ = ["load_lavaan", "parse_lavaan", "to_lavaan"]

MEASUREMENT_OPS = {"=~": Mode.REFLECTIVE, "<~": Mode.COMPOSITE_B}
UNSUPPORTED_OPS = {":=": "defined parameters", "==": "equality constraints",
                   "<": "inequality constraints", ">": "inequality constraints",
                   "|": "thresholds", "~*~": "scaling factors", "?": "start values"}
UNSUPPORTED_MODIFIERS = {"c": "multi-group modifiers", "start": "start values",
                         "equal": "equality constraints", "label": "label()",
                         "lower": "bounds", "upper": "bounds", "efa": "EFA blocks"}
MODEL_KEYS = ("name", "title", "citation", "description", "scale")
CONSTRUCT_META_KEYS = ("label", "description", "mode")
INDICATOR_META_KEYS = ("wording",)

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>[#!].*)
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>(?:[~=<>:|*?]|-(?![\d.]))+)
  | (?P<punct>[+;(),])
  | (?P<other>.)
""", re.VERBOSE)
_PUNCT = {"+": "plus", ";": "semi", "(": "lparen", ")": "rparen", ",": "comma"}
_JOINERS = ("op", "plus", "star", "unsupported", "unknown")

Location = tuple[int, int]


@dataclass(frozen=True)
class _Token:
    kind: str  # name, number, op, star, plus, semi, lparen, ..., unsupported, unknown, other
    text: str
    line: int
    col: int


@dataclass(frozen=True)
class _Term:
    """One right-hand-side name with its modifiers."""

    token: _Token
    fixed: float | None = None
    label: str | None = None


@dataclass
class _Block:
    """Everything the ``=~``/``<~`` statements say about one construct."""

    token: _Token
    op: str
    terms: list[_Term] = field(default_factory=list)


class _Syntax(Exception):
    """Aborts one statement; carries the offending location and message."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def load_lavaan(path: str | FilePath) -> Model:
    """Read and validate a lavaan model file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; its stem names the model unless a ``#@ name:`` line does.

    Returns
    -------
    Model
        The validated model.

    Raises
    ------
    SpecError
        If the file cannot be read or the model is invalid; every problem is listed with the
        file, line and column.
    """
    path = FilePath(path)
    return parse_lavaan(read_spec_text(path, "Lavaan"), source=str(path))


def parse_lavaan(text: str, source: str | None = None) -> Model:
    """Validate a model written in lavaan syntax.

    Parameters
    ----------
    text : str
        The model syntax, optionally with ``#@`` metadata lines (see the module docstring).
    source : str, optional
        File name used in error messages (``"<string>"`` when not given) and, without
        ``#@ name:``, for the model name.

    Returns
    -------
    Model
        The validated model.

    Raises
    ------
    SpecError
        If the syntax is invalid, uses lavaan features csisem does not support, or describes
        an invalid model; every problem is listed with line, column and a caret.
    """
    return _Reader(text, source).read()


class _Reader:
    """Parses lavaan text into a :class:`Model`, collecting every problem with its location."""

    def __init__(self, text: str, source: str | None) -> None:
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.source = source
        self.problems: list[SpecProblem] = []
        self.locations: dict[str, Location] = {}

    def add(self, line: int | None, col: int | None, message: str, where: str = "") -> None:
        if line is not None and col is not None and line <= len(self.lines):
            text = self.lines[line - 1]
            pad = "".join(c if c == "\t" else " " for c in text[:col - 1])
            message += f"\n  {text}\n  {pad.ljust(col - 1)}^"
        self.problems.append(SpecProblem(message, where, self.source or "<string>", line, col))

    def fail(self) -> SpecError:
        self.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        return SpecError(self.problems)

    def read(self) -> Model:
        tokens: list[_Token] = []
        meta_lines: list[tuple[int, int]] = []
        for number, raw in enumerate(self.lines, 1):
            if raw.lstrip().startswith("#@"):
                meta_lines.append((number, raw.index("#@") + 2))
                continue
            tokens.extend(_tokenize(raw, number))
            tokens.append(_Token("newline", "", number, len(raw) + 1))
        blocks: dict[str, _Block] = {}
        paths: list[tuple[_Token, _Term]] = []
        covariances: list[tuple[_Token, _Term]] = []
        for statement in _statements(tokens):
            try:
                lhs, op, terms = _parse_statement(statement)
            except _Syntax as exc:
                self.add(exc.line, exc.col, exc.message)
                continue
            if op.text in MEASUREMENT_OPS:
                block = blocks.setdefault(lhs[0].text, _Block(lhs[0], op.text))
                if block.op != op.text:
                    self.add(lhs[0].line, lhs[0].col, f"Construct {lhs[0].text!r} is defined "
                             f"with both '{block.op}' and '{op.text}'; use one operator.")
                block.terms.extend(terms)
            else:
                pairs = [(t, term) for t in lhs for term in terms]
                (paths if op.text == "~" else covariances).extend(pairs)
        meta = self.metadata(meta_lines)
        if self.problems:  # a model built from the statements that did parse would mislead
            raise self.fail()
        return self.build(meta, blocks, paths, covariances)

    # ---- metadata ----------------------------------------------------------------------------
    def metadata(self, meta_lines: list[tuple[int, int]]) -> dict[Any, tuple[Any, Location]]:
        """Map ``"title"``, ``("construct", "IMAG")``, ... -> (YAML value, location)."""
        meta: dict[Any, tuple[Any, Location]] = {}
        for number, start in meta_lines:
            snippet = self.lines[number - 1][start:]
            col = start + len(snippet) - len(snippet.lstrip()) + 1
            try:
                value = yaml.safe_load(snippet)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                problem = getattr(exc, "problem", None) or str(exc)
                self.add(number, start + mark.column + 1 if mark else col,
                         f"Cannot read the '#@' line as YAML: {problem}.")
                continue
            if not isinstance(value, dict) or len(value) != 1:
                self.add(number, col, "A '#@' line holds one 'key: value' entry, e.g. "
                                      f"'#@ name: ecsi'; found {snippet.strip()!r}.")
                continue
            (key, item), = value.items()
            words = str(key).split()
            if len(words) == 2 and words[0] in ("construct", "indicator"):
                key = (words[0], words[1])
            elif key not in MODEL_KEYS:
                allowed = (*MODEL_KEYS, "construct NAME", "indicator NAME")
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                self.add(number, col, f"Unknown '#@' key {key!r}.{hint} Allowed keys: "
                                      f"{', '.join(allowed)}.")
                continue
            if key in meta:
                self.add(number, col, f"'#@ {' '.join(words)}' appears twice; keep one line.")
            meta[key] = (item, (number, col))
        return meta

    def text(self, value: Any, at: Location, what: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.add(*at, f"Expected text for {what}, found {value!r}.")
        return None

    def mapping(self, value: Any, at: Location, what: str,
                allowed: tuple[str, ...]) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.add(*at, f"'#@ {what}' needs a mapping such as {{{allowed[0]}: ...}}; "
                          f"found {value!r}.")
            return {}
        for key in value:
            if key not in allowed:
                self.add(*at, f"Unknown key {key!r} in '#@ {what}'; allowed keys: "
                              f"{', '.join(allowed)}.")
        return value

    # ---- building ----------------------------------------------------------------------------
    def build(self, meta: dict[Any, tuple[Any, Location]], blocks: dict[str, _Block],
              paths: list[tuple[_Token, _Term]],
              covariances: list[tuple[_Token, _Term]]) -> Model:
        fields: dict[str, Any] = {}
        for key in MODEL_KEYS:
            if key in meta:
                value, at = meta[key]
                self.locations[key] = at
                fields[key] = self.scale(value, at) if key == "scale" else self.text(value, at, key)
        if "name" not in meta:
            fields["name"] = FilePath(self.source).stem if self.source else "model"
        fields["name"] = fields["name"] or ""

        wordings: dict[str, str | None] = {}
        for key, (value, at) in meta.items():
            if isinstance(key, tuple) and key[0] == "indicator":
                body = self.mapping(value, at, f"indicator {key[1]}", INDICATOR_META_KEYS)
                wordings[key[1]] = self.text(body.get("wording"), at, "wording")
                if not any(t.token.text == key[1] for b in blocks.values() for t in b.terms):
                    self.add(*at, f"'#@ indicator {key[1]}' describes an indicator that no "
                                  "'=~' or '<~' line lists.")
            elif isinstance(key, tuple) and key[1] not in blocks:
                self.add(*at, f"'#@ construct {key[1]}' describes a construct that no '=~' or "
                              "'<~' line defines.")

        constructs = []
        for name, block in blocks.items():
            where = f"constructs.{name}"
            self.locations[where] = (block.token.line, block.token.col)
            self.locations[f"{where}.indicators"] = (block.token.line, block.token.col)
            mode, label, description = MEASUREMENT_OPS[block.op], None, None
            if ("construct", name) in meta:
                value, at = meta[("construct", name)]
                body = self.mapping(value, at, f"construct {name}", CONSTRUCT_META_KEYS)
                label = self.text(body.get("label"), at, "label")
                description = self.text(body.get("description"), at, "description")
                mode = self.mode(body.get("mode"), at, block, mode)
            indicators = []
            for k, term in enumerate(block.terms):
                self.locations[f"{where}.indicators[{k}]"] = (term.token.line, term.token.col)
                indicators.append(Indicator(term.token.text, wordings.get(term.token.text),
                                            term.fixed, term.label))
            constructs.append(Construct(name, tuple(indicators), mode, label, description))

        model_paths = []
        count: dict[str, int] = {}
        for target, term in paths:
            k = count.get(target.text, 0)
            count[target.text] = k + 1
            self.locations.setdefault(f"paths.{target.text}", (target.line, target.col))
            self.locations[f"paths.{target.text}[{k}]"] = (term.token.line, term.token.col)
            model_paths.append(Path(term.token.text, target.text, term.fixed, term.label))
        if paths:
            self.locations["paths"] = _cycle_location(paths)
        model_covariances = []  # (Model drops a redundant 'x ~~ 0*x' of a single indicator)
        for k, (left, term) in enumerate(covariances):
            self.locations[f"covariances[{k}]"] = (term.token.line, term.token.col)
            model_covariances.append(Covariance(left.text, term.token.text, term.fixed,
                                                term.label))
        try:
            model = Model(constructs=tuple(constructs), paths=tuple(model_paths),
                          covariances=tuple(model_covariances), source=self.source, **fields)
        except SpecError as exc:
            for p in exc.problems:
                message = p.message
                if p.where == "constructs":
                    message = "The model defines no constructs; add a line such as " \
                              "'F =~ x1 + x2'."
                self.add(*self.locate(p.where), message, p.where)
            raise self.fail() from None
        if self.problems:
            raise self.fail()
        return model

    def scale(self, value: Any, at: Location) -> tuple[float, float] | None:
        if (not isinstance(value, list) or len(value) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)):
            self.add(*at, f"scale must be a list [lowest, highest] of two numbers, e.g. "
                          f"[1, 10]; found {value!r}.")
            return None
        return (value[0], value[1])

    def mode(self, value: Any, at: Location, block: _Block, default: Mode) -> Mode:
        if value is None:
            return default
        try:
            mode = Mode(value)
        except ValueError:
            self.add(*at, f"Unknown mode {value!r}; choose one of "
                          f"{', '.join(repr(m.value) for m in Mode)}.")
            return default
        expected = "=~" if mode is Mode.REFLECTIVE else "<~"
        if block.op != expected:
            self.add(*at, f"Construct {block.token.text!r} has mode {mode.value!r} but is "
                          f"defined with '{block.op}'; write it with '{expected}'.")
            return default
        return mode

    def locate(self, where: str) -> Location | tuple[None, None]:
        """Location of ``where`` or of its closest enclosing key path."""
        while where:
            if where in self.locations:
                return self.locations[where]
            cut = max(where.rfind("."), where.rfind("["))
            where = where[:cut] if cut > 0 else ""
        return (None, None)


def _tokenize(raw: str, line: int) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(raw):
        kind, text = match.lastgroup or "other", match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "punct":
            kind = _PUNCT[text]
        elif kind == "op":
            kind = ("op" if text in ("=~", "<~", "~", "~~") else "star" if text == "*"
                    else "unsupported" if text in UNSUPPORTED_OPS else "unknown")
        tokens.append(_Token(kind, text, line, match.start() + 1))
    return tokens


def _statements(tokens: list[_Token]) -> list[list[_Token]]:
    """Split at ``;`` and line ends, except where a line ends or starts with an operator."""
    statements: list[list[_Token]] = [[]]
    line_ended = False
    for token in tokens:
        if token.kind == "semi":
            statements.append([])
        elif token.kind == "newline":
            line_ended = True
        else:
            current = statements[-1]
            if line_ended and current and current[-1].kind not in _JOINERS \
                    and token.kind not in _JOINERS:
                statements.append([])
            statements[-1].append(token)
            line_ended = False
    return [s for s in statements if s]


def _error(token: _Token, expected: str) -> _Syntax:
    """The error for an unexpected token, specific for operators lavaan has and csisem not."""
    if token.kind == "unsupported":
        what = UNSUPPORTED_OPS[token.text]
        message = f"The lavaan operator '{token.text}' ({what}) is not supported by csisem."
    elif token.kind == "unknown":
        message = f"Unknown operator '{token.text}'; csisem reads =~, <~, ~ and ~~."
    elif token.kind == "other":
        message = f"Unexpected character {token.text!r}."
    else:
        message = f"Expected {expected}, found '{token.text}'."
    return _Syntax(token.line, token.col, message)


class _Cursor:
    """Walks the tokens of one statement."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.index = tokens, 0
        self.end = (tokens[-1].line, tokens[-1].col + len(tokens[-1].text))

    def peek(self, kind: str | None = None) -> _Token | None:
        token = self.tokens[self.index] if self.index < len(self.tokens) else None
        return token if kind is None or (token and token.kind == kind) else None

    def take(self, expected: str, kinds: tuple[str, ...] = ("name",)) -> _Token:
        token = self.peek()
        if token is None:
            raise _Syntax(*self.end, f"Expected {expected}, found the end of the statement.")
        self.index += 1
        if token.kind == "name" and self.peek("lparen"):
            what = UNSUPPORTED_MODIFIERS.get(token.text, "function modifiers")
            raise _Syntax(token.line, token.col, f"The modifier '{token.text}(...)' ({what}) is "
                          "not supported by csisem; use a number (1*x), NA*x or a label (a*x).")
        if token.kind not in kinds:
            raise _error(token, expected)
        return token


def _parse_statement(tokens: list[_Token]) -> tuple[list[_Token], _Token, list[_Term]]:
    cursor = _Cursor(tokens)
    lhs = [cursor.take("a name at the start of the statement")]
    while cursor.peek("plus"):
        cursor.index += 1
        lhs.append(cursor.take("a name after '+'"))
    op = cursor.take(f"an operator (=~, <~, ~ or ~~) after '{lhs[-1].text}'", ("op",))
    if op.text in MEASUREMENT_OPS and len(lhs) > 1:
        raise _Syntax(lhs[1].line, lhs[1].col, f"Put one construct on the left of "
                      f"'{op.text}'; found {len(lhs)}.")
    what = {"=~": "an indicator name", "<~": "an indicator name",
            "~": "a construct name"}.get(op.text, "a name")
    terms = [_parse_term(cursor, op.text, what, op.text)]
    while cursor.peek():
        cursor.take(f"'+' or the end of the statement after '{terms[-1].token.text}'", ("plus",))
        terms.append(_parse_term(cursor, op.text, what, "+"))
    return lhs, op, terms


def _parse_term(cursor: _Cursor, op: str, what: str, after: str) -> _Term:
    """``(modifier '*')* name``: at most one value (a number or NA) and one label."""
    value: str | None = None
    label: str | None = None
    while True:
        token = cursor.take(f"{what} after '{after}'", ("name", "number"))
        if not cursor.peek("star"):
            if token.kind == "name":
                return _Term(token, None if value in (None, "NA") else float(value), label)
            if op == "~" and float(token.text) == 1:
                raise _Syntax(token.line, token.col, "Intercepts ('~ 1') are not supported by "
                                                     "csisem.")
            following = cursor.peek()
            if following is not None and following.kind not in ("name", "number", "plus"):
                raise _error(following, "'*'")
            raise _Syntax(token.line, token.col, f"Expected '*' and a name after the value "
                                                 f"'{token.text}' (e.g. {token.text}*x).")
        cursor.index += 1
        after = "*"
        if token.kind == "number" or token.text == "NA":
            if value is not None:
                raise _Syntax(token.line, token.col, f"Two values for one parameter "
                                                     f"('{value}', '{token.text}').")
            value = token.text
        elif label is not None:
            raise _Syntax(token.line, token.col, f"Two labels for one parameter "
                                                 f"('{label}', '{token.text}').")
        else:
            label = token.text


def _cycle_location(paths: list[tuple[_Token, _Term]]) -> Location:
    """The last declared path on a cycle: the one that closes it (else the first path)."""
    names = list(dict.fromkeys(t.text for target, term in paths for t in (target, term.token)))
    cycle = _find_cycle(names, [Path(term.token.text, target.text) for target, term in paths
                                if term.token.text != target.text])
    edges = set(itertools.pairwise(cycle))
    on_cycle = [term.token for target, term in paths if (term.token.text, target.text) in edges]
    token = max(on_cycle, key=lambda t: (t.line, t.col)) if on_cycle else paths[0][0]
    return (token.line, token.col)


# ---- writing --------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Flow-style YAML on one line: line breaks and other unprintables are escaped."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style=None if value.isprintable() else '"'))


def _flow(value: Any) -> str:
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=math.inf,
                     allow_unicode=True).rstrip("\n")
    return text[:-4] if text.endswith("\n...") else text


def _term(name: str, fixed: float | None, label: str | None) -> str:
    # Model validation guarantees finite fixed values and name-like labels.
    parts = []
    if fixed is not None:
        number = repr(float(fixed))
        parts.append(number[:-2] if number.endswith(".0") else number)
    if label is not None:
        parts.append(label)
    return "*".join([*parts, name])


def _grouped(head: str, op: str, items: list[tuple[str, str]]) -> list[str]:
    """One line per run of consecutive items with the same left-hand side (keeps order)."""
    lines: list[str] = []
    previous = None
    for lhs, term in items:
        if lhs == previous:
            lines[-1] += f" + {term}"
        else:
            lines.append(f"{lhs} {op} {term}")
        previous = lhs
    return [head, *lines] if lines else []


def to_lavaan(model: Model) -> str:
    """The model in lavaan syntax, which :func:`parse_lavaan` reads back to an equal model.

    Parameters
    ----------
    model : Model
        The model to write; metadata goes into ``#@`` lines (see the module docstring).

    Returns
    -------
    str
        The syntax, ending with a newline.
    """
    lines = ["# lavaan model syntax written by csisem; '#@' lines hold csisem metadata.",
             f"#@ name: {_flow(model.name)}"]
    for key in ("title", "citation", "description"):
        if getattr(model, key) is not None:
            lines.append(f"#@ {key}: {_flow(getattr(model, key))}")
    if model.scale is not None:
        lines.append(f"#@ scale: {_flow([v if type(v) is int else float(v) for v in model.scale])}")
    for c in model.constructs:
        meta = {key: getattr(c, key) for key in ("label", "description")
                if getattr(c, key) is not None}
        if c.mode is Mode.COMPOSITE_A:
            meta["mode"] = c.mode.value
        block = [f"#@ construct {c.name}: {_flow(meta)}"] if meta else []
        block += [f"#@ indicator {i.name}: {_flow({'wording': i.wording})}"
                  for i in c.indicators if i.wording is not None]
        if block or c is model.constructs[0]:
            lines.append("")
        op = "=~" if c.mode is Mode.REFLECTIVE else "<~"
        terms = " + ".join(_term(i.name, i.fixed, i.label) for i in c.indicators)
        lines += [*block, f"{c.name} {op} {terms}"]
    lines += _grouped("\n# structural model", "~", [
        (p.target, _term(p.source, p.fixed, p.label)) for p in model.paths])
    lines += _grouped("\n# covariances", "~~", [
        (cv.left, _term(cv.right, cv.fixed, cv.label)) for cv in model.covariances])
    declared = {(cv.left, cv.right) for cv in model.covariances}
    fixed = [f"{i} ~~ 0*{i}" for i in single_indicators(model.constructs)
             if (i, i) not in declared]
    if fixed:  # lavaan's sem() does this itself (auto.fix.single); semopy, for one, does not
        lines += ["\n# a single indicator measures its construct without error", *fixed]
    return "\n".join(lines) + "\n"

