"""Kano classification of product or service attributes from functional/dysfunctional pairs.

For every attribute the questionnaire asks a functional question ("How do you feel if the
product has X?") and a dysfunctional one ("... if it does not have X?"), each answered with

    1 like  ·  2 must-be (expect it)  ·  3 neutral  ·  4 live-with  ·  5 dislike

(numbers, or those words). The Kano evaluation table (Berger et al. 1993; Matzler &
Hinterhuber 1998) turns each respondent's answer pair into a category — rows functional,
columns dysfunctional::

                 like  must-be  neutral  live-with  dislike
    like           Q      A        A        A          O
    must-be        R      I        I        I          M
    neutral        R      I        I        I          M
    live-with      R      I        I        I          M
    dislike        R      R        R        R          Q

A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable. An
attribute's category is the most frequent one; a tie is broken by the evaluation rule
M > O > A > I (Berger et al. 1993; Matzler & Hinterhuber 1998: what customers miss most
when absent first), then R > Q. The customer-satisfaction coefficients (Berger et al.
1993)::

    better = (A + O) / (A + O + M + I)          (0 to 1: satisfaction if present)
    worse  = -(O + M) / (A + O + M + I)         (-1 to 0: dissatisfaction if absent)

References: Berger, C. et al. (1993). Kano's methods for understanding customer-defined
quality. *Center for Quality Management Journal*, 2(4), 3-35. Matzler, K. & Hinterhuber,
H. H. (1998). How to make product development projects more successful by integrating
Kano's model of customer satisfaction into quality function deployment. *Technovation*,
18(1), 25-38.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..summary import Section, Summary, SummaryMixin
from ._common import as_frame, plain, records, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ANSWERS", "CATEGORIES", "EVALUATION_TABLE", "KanoResult", "kano",
           "kano_category", "read_pairs"]

#: Answer options in code order 1..5.
ANSWERS = ("like", "must-be", "neutral", "live-with", "dislike")
#: Category letters in tie-break priority order, with their names.
CATEGORIES = {"M": "must-be", "O": "one-dimensional", "A": "attractive", "I": "indifferent",
              "R": "reverse", "Q": "questionable"}
#: Rows: functional answer 1..5; columns: dysfunctional answer 1..5.
EVALUATION_TABLE = (("Q", "A", "A", "A", "O"),
                    ("R", "I", "I", "I", "M"),
                    ("R", "I", "I", "I", "M"),
                    ("R", "I", "I", "I", "M"),
                    ("R", "R", "R", "R", "Q"))
_WORDS = {"like": 1, "i like it": 1, "must-be": 2, "must be": 2, "mustbe": 2, "expect": 2,
          "i expect it": 2, "neutral": 3, "i am neutral": 3, "live-with": 4, "live with": 4,
          "i can live with it": 4, "tolerate": 4, "dislike": 5, "i dislike it": 5}


def kano_category(functional: int, dysfunctional: int) -> str:
    """The Kano category letter (A, O, M, I, R, Q) of one answer pair (codes 1-5)."""
    if functional not in range(1, 6) or dysfunctional not in range(1, 6):
        raise OptionError(f"Kano answers are coded 1-5, not ({functional}, {dysfunctional}).")
    return EVALUATION_TABLE[functional - 1][dysfunctional - 1]


@dataclass(frozen=True, repr=False)
class KanoResult(SummaryMixin):
    """Kano categories and satisfaction coefficients.

    - ``attributes``: attribute, n, A, O, M, I, R, Q (counts), category, category_name,
      better, worse
    - ``respondents``: each respondent's category letter per attribute (NaN if unanswered)
    """

    attributes: pd.DataFrame
    respondents: pd.DataFrame

    def summary(self) -> Summary:
        """The per-attribute table."""
        return Summary(title="Kano classification", header={
            "Attributes": str(len(self.attributes)),
            "Respondents": str(len(self.respondents)),
            "Tie rule": "M > O > A > I > R > Q (Berger et al. 1993)"},
            sections=(Section("Attributes", self.attributes),),
            footer="better = (A+O)/(A+O+M+I); worse = -(O+M)/(A+O+M+I).")

    def __repr__(self) -> str:
        cats = ", ".join(f"{a}={c}" for a, c in
                         zip(self.attributes["attribute"], self.attributes["category"],
                             strict=True))
        return f"<KanoResult {cats}>"

    def plot(self, ax: Axes | None = None) -> Figure:
        """Better/worse diagram: |worse| on x, better on y, quadrants split at 0.5."""
        from .plots import kano_plot

        return kano_plot(self, ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (without respondent categories)."""
        return {"kind": "csisem.kano", "n_respondents": len(self.respondents),
                "tie_rule": "M>O>A>I>R>Q", "attributes": records(self.attributes)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _codes(frame: pd.DataFrame, column: str) -> pd.Series:
    """Answers 1-5 (or their words) as floats 1.0-5.0, NaN if missing."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        codes = raw.astype(float)
        given = raw.notna()
    else:
        text = raw.map(lambda v: None if pd.isna(v) else str(v).strip().lower())
        given = text.notna() & (text != "")
        words = text.map(_WORDS).astype(float)
        numbers = pd.to_numeric(text.where(given), errors="coerce").astype(float)
        codes = words.where(words.notna(), numbers)
    bad = given & ~codes.isin([1.0, 2.0, 3.0, 4.0, 5.0])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"Kano column {column!r}: row {plain(raw.index[pos])!r} holds "
                        f"{plain(raw.iloc[pos])!r}; answers are 1 like, 2 must-be, 3 neutral, "
                        "4 live-with, 5 dislike (codes or words).")
    return codes.where(given)


def read_pairs(pairs: Any) -> dict[str, tuple[str, str]]:
    """attribute -> (functional column, dysfunctional column).

    From a mapping (``{"wifi": ["f1", "d1"]}`` or ``{"wifi": {"functional": "f1",
    "dysfunctional": "d1"}}``), a YAML/JSON file holding one, or the text
    ``wifi=f1:d1,parking=f2:d2``.

    Raises
    ------
    OptionError
        If the pairs cannot be read or an entry is not a pair of columns.
    """
    if isinstance(pairs, str | FilePath) and (FilePath(pairs).suffix.lower() in
                                              (".yaml", ".yml", ".json")
                                              or FilePath(pairs).is_file()):
        import yaml

        path = FilePath(pairs)
        try:
            pairs = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc).strip().rstrip(".")
            raise OptionError(f"Cannot read the Kano pairs file {str(path)!r}: {detail}.") \
                from exc
        if not isinstance(pairs, Mapping):
            raise OptionError(f"The Kano pairs file {str(path)!r} must hold a mapping "
                              "attribute: [functional_column, dysfunctional_column].")
    elif isinstance(pairs, str):
        text, pairs = pairs, {}
        for part in (s.strip() for s in text.split(",") if s.strip()):
            name, _, columns = part.partition("=")
            f, _, d = columns.partition(":")
            if not (name.strip() and f.strip() and d.strip()):
                raise OptionError(f"Kano pair {part!r} is not of the form "
                                  "ATTRIBUTE=FUNCTIONAL:DYSFUNCTIONAL (e.g. wifi=f1:d1).")
            pairs[name.strip()] = (f.strip(), d.strip())
    if not isinstance(pairs, Mapping) or not pairs:
        raise OptionError("pairs= must map each attribute to its (functional, dysfunctional) "
                          "columns.")
    out: dict[str, tuple[str, str]] = {}
    for name, given in pairs.items():
        cols: Any = given
        if isinstance(given, Mapping) and {"functional", "dysfunctional"} <= set(given):
            cols = (given["functional"], given["dysfunctional"])
        if isinstance(cols, str) or not hasattr(cols, "__len__") or len(cols) != 2:
            raise OptionError(f"Kano attribute {name!r}: give its functional and dysfunctional "
                              f"columns as a pair, not {cols!r}.")
        out[str(name)] = (str(cols[0]), str(cols[1]))
    return out


def _mode(counts: dict[str, int]) -> str:
    """The most frequent category; ties by M > O > A > I > R > Q (dict order)."""
    best = max(counts.values())
    if best == 0:
        return ""
    return next(c for c in CATEGORIES if counts[c] == best)


def kano(data: Any, pairs: Any) -> KanoResult:
    """Kano categories per respondent and attribute, and better/worse coefficients.

    Parameters
    ----------
    data : DataFrame, bundled data set name or data file with the answer columns.
    pairs : attribute -> (functional column, dysfunctional column); see :func:`read_pairs`.

    Raises
    ------
    DataError
        For a missing column or an answer that is not 1-5 (or its word), naming the column.
    OptionError
        For unreadable pairs.
    """
    pairs = read_pairs(pairs)
    frame = as_frame(data)
    require_columns(frame, [c for pair in pairs.values() for c in pair], "Kano pairs")
    table = np.array(EVALUATION_TABLE, dtype=object)
    respondents = pd.DataFrame(index=frame.index)
    rows = []
    for name, (fcol, dcol) in pairs.items():
        f, d = _codes(frame, fcol), _codes(frame, dcol)
        ok = f.notna() & d.notna()
        cats = pd.Series(np.nan, index=frame.index, dtype=object)
        cats[ok] = table[f[ok].astype(int) - 1, d[ok].astype(int) - 1]
        respondents[name] = cats
        counts = {c: int((cats == c).sum()) for c in CATEGORIES}
        base = counts["A"] + counts["O"] + counts["M"] + counts["I"]
        category = _mode(counts)
        rows.append({"attribute": name, "n": int(ok.sum()), **counts, "category": category,
                     "category_name": CATEGORIES.get(category, ""),
                     "better": (counts["A"] + counts["O"]) / base if base else np.nan,
                     "worse": -(counts["O"] + counts["M"]) / base if base else np.nan})
    return KanoResult(attributes=pd.DataFrame(rows), respondents=respondents)
