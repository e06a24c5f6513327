"""The bad-input catalogue of issue 8: every case through the API and through the CLI.

Each row of ``CASES`` writes its files to ``tmp_path`` and returns the API call and the
equivalent command line. The API must raise the csisem error (or emit the csisem warning) with
the message; the CLI must exit 2 with that message as one ``csisem: error:`` (exit 0 and a
``csisem: warning:`` line for a warning), and never print a traceback.

Data cases fit ECSI (``"ecsi"``) to variants of the mobi data written as files; spec cases use a
small spec over mobi's columns. Where a case cannot be an error by design, its comment says so
and the table tests what does happen.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.cli import main
from csisem.errors import (
    ConvergenceWarning,
    CSIError,
    CSIWarning,
    DataError,
    DataWarning,
    EstimationError,
    InadmissibleSolutionWarning,
    OptionError,
    SpecError,
)
from csisem.models import Mode
from csisem.options import InnerScheme, Method

Call = Callable[[], Any]
Make = Callable[[FilePath], tuple[Call, list[str]]]

TINY = """\
name: tiny
scale: [1, 10]
constructs:
  IMAG:
    indicators: [IMAG1, IMAG2, IMAG3]
  CUSA:
    indicators: [CUSA1, CUSA2, CUSA3]
paths:
  CUSA: [IMAG]
"""

TINY_LAVAAN = """\
IMAG =~ IMAG1 + IMAG2 + IMAG3
CUSA =~ CUSA1 + CUSA2 + CUSA3
CUSA ~ IMAG
"""


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: what the API raises (or warns) and the message, API and CLI alike.

    ``cli_message`` replaces ``message`` for the CLI where argparse checks the option first.
    """

    id: str
    make: Make
    expected: type[CSIError] | type[CSIWarning]
    message: str
    cli_message: str | None = None

    @property
    def is_warning(self) -> bool:
        return issubclass(self.expected, Warning)


def load_mobi() -> pd.DataFrame:
    return csisem.datasets.load_mobi()


def write_csv(tmp: FilePath, name: str, frame: pd.DataFrame) -> FilePath:
    path = tmp / name
    frame.to_csv(path, index=False)
    return path


def write_text(tmp: FilePath, name: str, text: str) -> FilePath:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def data_case(frame: Callable[[pd.DataFrame], pd.DataFrame], *options: str,
              spec: str = "ecsi", **kwargs: Any) -> Make:
    """Fit ``spec`` to ``frame(mobi)`` written as CSV; ``options`` are the CLI's spelling of
    ``kwargs``."""

    def make(tmp: FilePath) -> tuple[Call, list[str]]:
        path = write_csv(tmp, "data.csv", frame(load_mobi()))
        return (lambda: csisem.fit(spec, path, **kwargs),
                ["fit", spec, "--data", str(path), *options])

    return make


def file_case(name: str, content: bytes | Callable[[], bytes]) -> Make:
    """Fit ECSI to a data file with these bytes."""

    def make(tmp: FilePath) -> tuple[Call, list[str]]:
        path = tmp / name
        path.write_bytes(content() if callable(content) else content)
        return lambda: csisem.fit("ecsi", path), ["fit", "ecsi", "--data", str(path)]

    return make


def spec_case(name: str, text: str, *options: str, data: str = "mobi", **kwargs: Any) -> Make:
    """Fit the spec ``text`` (written as ``name``; .yaml or .lav) to mobi."""

    def make(tmp: FilePath) -> tuple[Call, list[str]]:
        path = write_text(tmp, name, text)
        return (lambda: csisem.fit(path, data, **kwargs),
                ["fit", str(path), "--data", data, *options])

    return make


def tiny(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new)


def workbook_bytes() -> bytes:
    """A zip archive, which is what an .xlsx file is (csisem looks at the signature)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


def with_mode_b(spec: str, *constructs: str) -> str:
    model = csisem.load_model(spec)
    return dataclasses.replace(model, constructs=tuple(
        dataclasses.replace(c, mode=Mode.COMPOSITE_B) if c.name in constructs else c
        for c in model.constructs)).to_yaml()


def collinear_mode_b_case(tmp: FilePath) -> tuple[Call, list[str]]:
    """ECSI with IMAG in Mode B, and IMAG3 a copy of IMAG1."""
    frame = load_mobi()
    data = write_csv(tmp, "collinear.csv", frame.assign(IMAG3=frame["IMAG1"]))
    return spec_case("ecsi_b.yaml", with_mode_b("ecsi", "IMAG"), data=str(data))(tmp)


def heywood_data() -> pd.DataFrame:
    """One factor, three items, r12 = r13 = 0.8, r23 = 0.5 exactly: the ML loading of x1 is
    sqrt(0.8 * 0.8 / 0.5) = 1.13 > 1, so its error variance is negative (-0.28)."""
    R = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    z = np.random.default_rng(3).standard_normal((200, 3))
    z -= z.mean(axis=0)
    z = np.linalg.solve(np.linalg.cholesky(np.cov(z.T)), z.T).T @ np.linalg.cholesky(R).T
    return pd.DataFrame(z, columns=["x1", "x2", "x3"])


def heywood_case(tmp: FilePath) -> tuple[Call, list[str]]:
    spec = write_text(tmp, "heywood.lav", "F =~ x1 + x2 + x3\n")
    data = write_csv(tmp, "heywood.csv", heywood_data())
    return (lambda: csisem.fit(spec, data, method="ml"),
            ["fit", str(spec), "--data", str(data), "--method", "ml"])


def pls_fit(*args: Any, **kwargs: Any) -> csisem.PLSResult:
    result = csisem.fit(*args, **kwargs)
    assert isinstance(result, csisem.PLSResult)
    return result


def reversed_item(frame: pd.DataFrame) -> pd.DataFrame:
    """IMAG2 recoded 11 - x, as a reversed survey item left unrecoded: its weight is < 0."""
    return frame.assign(IMAG2=11 - frame["IMAG2"])


def negative_weight_case(tmp: FilePath) -> tuple[Call, list[str]]:
    # The fit itself succeeds (paths, loadings, weights are fine); asking for a 0-100 index
    # is refused. `csisem ipma` asks for indices; `csisem fit` prints the refusal as a note
    # in its index section (test_fit_shows_the_index_refusal_as_a_note).
    path = write_csv(tmp, "reversed.csv", reversed_item(load_mobi()))
    return (lambda: pls_fit("ecsi", path).index,
            ["ipma", "ecsi", "--data", str(path), "--target", "CUSL"])


def negative_weight_warn_case(tmp: FilePath) -> tuple[Call, list[str]]:
    path = write_csv(tmp, "reversed.csv", reversed_item(load_mobi()))
    return (lambda: pls_fit("ecsi", path, negative_weights="warn").index,
            ["fit", "ecsi", "--data", str(path), "--negative-weights", "warn"])


def _choices(enum: type[Enum]) -> str:
    """``'a', 'b'``: how csisem lists an option's values (as a regex)."""
    return re.escape(", ".join(f"'{m.value}'" for m in enum))


def _argparse_choices(enum: type[Enum]) -> str:
    """argparse lists choices quoted before Python 3.12.8 and bare after (as a regex)."""
    return ", ".join(f"'?{re.escape(m.value)}'?" for m in enum)


NEGATIVE_WEIGHT = (r"^Negative outer weight\(s\): IMAG2 of IMAG \(-0\.260\)\. A 0-100 index is a "
                   r"weighted mean of the items and is meaningless with a negative weight: recode "
                   r"a reversed item, drop the indicator, or pass negative_weights='warn' to "
                   r"compute it anyway\.$")

CASES = [
    # ---- data ---------------------------------------------------------------------------
    Case("data: missing indicator column, closest columns suggested",
         data_case(lambda d: d.rename(columns={"CUSL2": "CUSL_2"})), DataError,
         r"^The data lack 1 indicator column of model 'ECSI': 'CUSL2' \(closest: CUSL_2, CUSL3, "
         r"CUSL1\)\. Rename the columns or map them with columns=\{data_column: indicator\} "
         r"\(CLI: --columns DATA_COLUMN=INDICATOR,\.\.\.\)\.$"),
    Case("data: non-numeric column names the first bad value and its row",
         data_case(lambda d: d.astype(object).assign(
             PERQ3=lambda x: x["PERQ3"].where(x.index != 5, "seven"))), DataError,
         r"^Column 'PERQ3' is not numeric: row 6 \(index 5\) holds 'seven' \(1 non-numeric "
         r"value in all\)\. Recode the column as numbers, or make such cells empty "
         r"\(missing\)\.$"),
    Case("data: constant column",
         data_case(lambda d: d.assign(PERQ3=5)), DataError,
         r"^Indicator\(s\) 'PERQ3' \(always 5\) do not vary; a constant indicator carries no "
         r"information and cannot be standardised\. Drop it from the spec, or check that the "
         r"right column was read\.$"),
    Case("data: all-missing column",
         data_case(lambda d: d.assign(CUEX2=np.nan)), DataError,
         r"^Indicator column\(s\) 'CUEX2' have no observed values \(all 250 cells are "
         r"missing\)\. Check the column, or drop the indicator from the spec\.$"),
    Case("data: infinite value",
         data_case(lambda d: d.astype(float).assign(
             PERQ3=lambda x: x["PERQ3"].where(x.index != 7, np.inf))), DataError,
         r"^Column 'PERQ3' has an infinite value at row 8 \(index 7\); replace it or mark it "
         r"missing\.$"),
    Case("data: duplicated column names in the file",
         data_case(lambda d: d.rename(columns={"CUEX1": "IMAG1"})), DataError,
         r"^Data file '.*data\.csv' has duplicated column names: 'IMAG1' \(columns 1, 11\)\. "
         r"Column names must be unique\.$"),
    Case("data: duplicated column names after renaming",
         data_case(lambda d: d.rename(columns={"IMAG2": "q"}), "--columns", "q=IMAG1",
                   columns={"q": "IMAG1"}), DataError,
         r"^After renaming with columns=, several data columns share one name: 'IMAG1' <- "
         r"'IMAG1', 'q'\. Map exactly one data column to each indicator"),
    Case("data: fewer rows than parameters (PLS)",
         data_case(lambda d: d.head(5)), DataError,
         r"^Only 5 complete rows of data; model 'ECSI' needs at least 6\.$"),
    Case("data: fewer rows than indicators (CB-SEM)",
         data_case(lambda d: d.head(20), "--method", "ml", method="ml"), DataError,
         r"^The indicator covariance matrix is not positive definite \(smallest eigenvalue of "
         r"the correlation matrix [-+.e\d]+\), so the model cannot be fitted by maximum "
         r"likelihood: there are 20 rows but 24 indicators; CB-SEM needs more rows than "
         r"indicators\.$"),
    # Values outside the item scale are an OutOfScaleWarning by default: they are often
    # missing-value codes (98, 99), which missing_codes= turns into missing cells;
    # out_of_scale="error" (CLI --out-of-scale error) makes them a DataError.
    Case("data: values outside the spec's item scale (an error on request)",
         data_case(lambda d: d.assign(PERV1=d["PERV1"].where(d.index != 3, 99)),
                   "--out-of-scale", "error", out_of_scale="error"), DataError,
         r"^Values outside the spec's item scale \[1, 10\] in PERV1 \(1\); e\.g\. 99 in 'PERV1' "
         r"at row 4 \(index 3\)\. Are these missing-value codes\? Index scores assume the "
         r"scale\. \(out_of_scale='error'; declare the codes with missing_codes= or fix the "
         r"data\)\.$"),
    Case("data: values outside the spec's item scale (a warning)",
         data_case(lambda d: d.assign(PERV1=d["PERV1"].where(d.index != 3, 99))), DataWarning,
         r"^Values outside the spec's item scale \[1, 10\] in PERV1 \(1\); e\.g\. 99 in 'PERV1' "
         r"at row 4 \(index 3\)\. Are these missing-value codes\? Index scores assume the "
         r"scale\.$"),
    Case("data: empty file", file_case("empty.csv", b""), DataError,
         r"^Data file '.*empty\.csv' is empty\.$"),
    Case("data: header without rows", file_case("header.csv", b"IMAG1,IMAG2\n"), DataError,
         r"^Data file '.*header\.csv' has a header but no data rows\.$"),
    Case("data: a workbook named .csv", file_case("survey.csv", workbook_bytes), DataError,
         r"^Data file '.*survey\.csv' is not a CSV file: it looks like a spreadsheet workbook "
         r"\(Excel/ODS\)\. Export it as CSV first\.$"),
    Case("data: a CSV file named .dta",
         file_case("survey.dta", lambda: load_mobi().to_csv(index=False).encode()), DataError,
         r"^Data file '.*survey\.dta' is not a valid Stata file: .* It looks like a text \(CSV\) "
         r"file: give it the \.csv extension\.$"),
    # ---- spec ---------------------------------------------------------------------------
    Case("spec: YAML syntax error (unclosed bracket) with line and column",
         spec_case("unclosed.yaml", tiny("[CUSA1, CUSA2, CUSA3]", "[CUSA1, CUSA2, CUSA3")),
         SpecError,
         r"^.*unclosed\.yaml:8:6: YAML syntax error: expected ',' or '\]', but got ':' \(while "
         r"parsing a flow sequence\)\.$"),
    Case("spec: YAML syntax error (tab indentation) with line and column",
         spec_case("tab.yaml", tiny("  IMAG:\n", "\tIMAG:\n")), SpecError,
         r"^.*tab\.yaml:4:1: YAML syntax error: found character '\\t' that cannot start any "
         r"token \(while scanning for the next token\)\.$"),
    Case("spec: unknown top-level key",
         spec_case("key.yaml", tiny("name: tiny\n", "name: tiny\ncolour: red\n")), SpecError,
         r"^.*key\.yaml:2:1: colour: Unknown key 'colour'\. Allowed keys: name, title, citation, "
         r"description, scale, constructs, paths, covariances\.$"),
    # Every problem is listed: without 'indicators' the construct also has none.
    Case("spec: misspelt construct key",
         spec_case("indicator.yaml", tiny("    indicators: [IMAG1", "    indicator: [IMAG1")),
         SpecError,
         r"^2 problems in the model specification:\n"
         r"  - .*indicator\.yaml:4:3: constructs\.IMAG\.indicators: Construct 'IMAG' has no "
         r"indicators; every construct needs at least one indicator\.\n"
         r"  - .*indicator\.yaml:5:5: constructs\.IMAG\.indicator: Unknown key 'indicator'\. "
         r"Did you mean 'indicators'\? Allowed keys: label, mode, indicators, description\.$"),
    Case("spec: unknown construct in a path",
         spec_case("path.yaml", tiny("CUSA: [IMAG]", "CUSA: [IMGA]")), SpecError,
         r"^.*path\.yaml:9:10: paths\.CUSA\[0\]: Path source 'IMGA' \(-> CUSA\) is not a "
         r"construct\. Did you mean 'IMAG'\?$"),
    Case("spec: unknown construct in a path (lavaan, with a caret)",
         spec_case("path.lav", TINY_LAVAAN.replace("CUSA ~ IMAG", "CUSA ~ IMGA")), SpecError,
         r"^.*path\.lav:3:8: paths\.CUSA\[0\]: Path source 'IMGA' \(-> CUSA\) is not a "
         r"construct\. Did you mean 'IMAG'\?\n  CUSA ~ IMGA\n         \^$"),
    Case("spec: cycle",
         spec_case("cycle.yaml", TINY + "  IMAG: [CUSA]\n"), SpecError,
         r"^.*cycle\.yaml:8:1: paths: The structural model is cyclic \(IMAG -> CUSA -> IMAG\); "
         r"csisem estimates recursive models only: remove one of these paths\.$"),
    Case("spec: cycle (lavaan, caret at the path that closes it)",
         spec_case("cycle.lav", TINY_LAVAAN + "IMAG ~ CUSA\n"), SpecError,
         r"^.*cycle\.lav:4:8: paths: The structural model is cyclic \(IMAG -> CUSA -> IMAG\); "
         r"csisem estimates recursive models only: remove one of these paths\.\n"
         r"  IMAG ~ CUSA\n         \^$"),
    Case("spec: empty construct (empty list)",
         spec_case("empty.yaml", tiny("[CUSA1, CUSA2, CUSA3]", "[]")), SpecError,
         r"^.*empty\.yaml:7:5: constructs\.CUSA\.indicators: Construct 'CUSA' has no "
         r"indicators; every construct needs at least one indicator\.$"),
    Case("spec: empty construct (no body)",
         spec_case("bare.yaml", tiny("  CUSA:\n    indicators: [CUSA1, CUSA2, CUSA3]\n",
                                     "  CUSA:\n")), SpecError,
         r"^.*bare\.yaml:6:3: constructs\.CUSA\.indicators: Construct 'CUSA' has no "
         r"indicators; every construct needs at least one indicator\.$"),
    Case("spec: indicator used by two constructs",
         spec_case("shared.yaml", tiny("[CUSA1, CUSA2, CUSA3]", "[CUSA1, CUSA2, IMAG3]")),
         SpecError,
         r"^.*shared\.yaml:7:32: constructs\.CUSA\.indicators\[2\]: Indicator 'IMAG3' is used "
         r"by constructs 'IMAG' and 'CUSA'; an indicator can measure only one construct\.$"),
    Case("spec: indicator listed twice in one construct",
         spec_case("twice.yaml", tiny("[IMAG1, IMAG2, IMAG3]", "[IMAG1, IMAG2, IMAG1]")),
         SpecError,
         r"^.*twice\.yaml:5:32: constructs\.IMAG\.indicators\[2\]: Indicator 'IMAG1' is listed "
         r"twice in construct 'IMAG'\.$"),
    Case("spec: 'formative' is not a mode; the hint names composite_b",
         spec_case("mode.yaml", tiny("  IMAG:\n", "  IMAG:\n    mode: formative\n")), SpecError,
         r"^.*mode\.yaml:5:5: constructs\.IMAG\.mode: Unknown mode 'formative'\. A formative "
         r"\(Mode B\) construct is 'composite_b'\. Choose one of 'reflective', 'composite_a', "
         r"'composite_b'\.$"),
    # A formative (Mode B) construct needs no structural *predecessor* in PLS: an exogenous
    # Mode B construct is estimated from its successors. What PLS needs is a neighbour: a
    # construct on no path at all has no inner proxy.
    Case("spec: formative construct on no path (PLS)",
         spec_case("isolated.yaml", TINY.replace(
             "paths:", "  BRND:\n    mode: composite_b\n    indicators: [PERV1, PERV2]\npaths:")),
         SpecError,
         r"^Construct\(s\) BRND of model 'tiny' have no structural path; PLS estimates a "
         r"construct from its neighbours, so connect each construct to at least one other\.$"),
    # CB-SEM refuses every composite, with or without predecessors: csisem has no MIMIC or
    # composite CB-SEM (lavaan's <~ needs a structural successor for identification).
    Case("spec: formative construct with CB-SEM",
         spec_case("formative.yaml", tiny("  IMAG:\n", "  IMAG:\n    mode: composite_b\n"),
                   "--method", "ml", method="ml"), SpecError,
         r"^CB-SEM needs reflective \(common-factor\) constructs, but model 'tiny' has composite "
         r"construct\(s\) IMAG \(composite_b\)\. Declare them 'mode: reflective' \(lavaan: =~\), "
         r"or fit the model by PLS \(method='pls' or 'plsc'\)\.$"),
    Case("spec: unknown method lists the valid ones",
         data_case(lambda d: d, "--method", "pl", method="pl"), OptionError,
         rf"^method='pl' is not supported\. Did you mean 'pls'\? Choose one of "
         rf"{_choices(Method)}\.$",
         cli_message=rf"^Argument --method: invalid choice: 'pl' \(choose from "
                     rf"{_argparse_choices(Method)}\) \(see 'csisem fit --help'\)\.$"),
    Case("spec: unknown scheme lists the valid ones",
         data_case(lambda d: d, "--scheme", "pth", scheme="pth"), OptionError,
         rf"^scheme='pth' is not supported\. Did you mean 'path'\? Choose one of "
         rf"{_choices(InnerScheme)}\.$",
         cli_message=rf"^Argument --scheme: invalid choice: 'pth' \(choose from "
                     rf"{_argparse_choices(InnerScheme)}\) \(see 'csisem fit --help'\)\.$"),
    Case("spec: lavaan syntax error with line, column and caret",
         spec_case("syntax.lav", TINY_LAVAAN.replace("CUSA1 + CUSA2", "CUSA1 CUSA2")),
         SpecError,
         r"^.*syntax\.lav:2:15: Expected '\+' or the end of the statement after 'CUSA1', found "
         r"'CUSA2'\.\n  CUSA =~ CUSA1 CUSA2 \+ CUSA3\n                \^$"),
    Case("spec: lavaan operator csisem does not support",
         spec_case("defined.lav", TINY_LAVAAN + "total := a*b\n"), SpecError,
         r"^.*defined\.lav:4:7: The lavaan operator ':=' \(defined parameters\) is not supported "
         r"by csisem\.\n  total := a\*b\n        \^$"),
    # ---- numerics -----------------------------------------------------------------------
    Case("numerics: non-positive-definite covariance (CB-SEM)",
         data_case(lambda d: d.assign(CUEX2=d["CUEX1"]), "--method", "ml", method="ml"),
         DataError,
         r"^The indicator covariance matrix is not positive definite \(smallest eigenvalue of "
         r"the correlation matrix [-+.e\d]+\), so the model cannot be fitted by maximum "
         r"likelihood: indicators 'CUEX1' and 'CUEX2' are perfectly correlated "
         r"\(r = \+1\.000000\)\. Drop one of them from the spec, or check that the same column "
         r"was not read twice\.$"),
    Case("numerics: perfectly collinear indicators in a Mode B block", collinear_mode_b_case,
         EstimationError,
         r"^The indicators of Mode B construct 'IMAG' are perfectly collinear \(their "
         r"correlation matrix is singular\); drop one of them or use Mode A\.$"),
    # Non-convergence and Heywood cases are warnings by design (STYLE.md 6.5): the result is
    # returned, flagged (converged=False, admissible=False).
    Case("numerics: PLS does not converge",
         data_case(lambda d: d, "--max-iter", "1", max_iter=1), ConvergenceWarning,
         r"^PLS did not converge in 1 iteration \(largest weight change 0\.363 > tol=1e-07\); "
         r"results are not reliable\. Increase max_iter= or check the model\.$"),
    Case("numerics: CB-SEM does not converge",
         spec_case("tiny.yaml", TINY, "--method", "ml", "--max-iter", "1", method="ml",
                   max_iter=1), ConvergenceWarning,
         r"^The CB-SEM fit of model 'tiny' did not converge: reached max_iter=1 iterations "
         r"\(criterion N g'I\^-1 g = [.\de-]+, tol=1e-12\); the estimates are not a maximum of "
         r"the likelihood\. Raise max_iter=, or simplify the model\.$"),
    Case("numerics: Heywood case (CB-SEM)", heywood_case, InadmissibleSolutionWarning,
         r"^The solution of model 'heywood' is inadmissible: negative variance estimate\(s\) "
         r"\(Heywood case\): x1 ~~ x1 = -0\.2786\. Do not interpret it; the model may be "
         r"misspecified or the sample too small\.$"),
    Case("numerics: negative outer weight where an index is asked for",
         negative_weight_case, EstimationError, NEGATIVE_WEIGHT),
    Case("numerics: negative outer weight, negative_weights='warn'",
         negative_weight_warn_case, DataWarning, NEGATIVE_WEIGHT),
]


# ---- the two routes -----------------------------------------------------------------------
def cli_messages(err: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of each ``csisem: error:``/``csisem: warning:`` message on stderr; a
    message continues on the lines that follow it (lavaan's source line and caret)."""
    found: list[list[str]] = []
    for line in err.splitlines():
        match = re.match(r"csisem: (error|warning): (.*)$", line)
        if match:
            found.append([match[1], match[2]])
        elif found:
            found[-1][1] += "\n" + line
    return [(kind, text) for kind, text in found]


def assert_sentences(message: str) -> None:
    """STYLE.md 6.1: each line of a message ends like a sentence (a list of problems is
    introduced by a colon; lavaan's source line and caret are left out)."""
    for line in message.splitlines():
        if line.startswith("  ") and not line.startswith("  - "):
            continue  # the source line or the caret under it
        assert line.endswith((".", "?", ":")), line


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_api(case: Case, tmp_path: FilePath) -> None:
    call, _ = case.make(tmp_path)
    if issubclass(case.expected, Warning):
        with pytest.warns(case.expected, match=case.message):
            call()
    else:
        with pytest.raises(case.expected, match=case.message) as info:
            call()
        assert_sentences(str(info.value))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli(case: Case, tmp_path: FilePath, capsys: pytest.CaptureFixture[str]) -> None:
    _, argv = case.make(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    messages = cli_messages(err)
    pattern = case.cli_message or case.message
    if case.is_warning:
        assert code == 0, err
        assert out  # the results are still printed
        warned = [text for kind, text in messages if kind == "warning"]
        assert any(re.search(pattern, text) for text in warned), err
        assert all(kind == "warning" for kind, _ in messages), err
    else:
        assert (code, out) == (2, ""), err
        errors = [text for kind, text in messages if kind == "error"]
        assert len(errors) == 1, err
        assert re.search(pattern, errors[0]), errors[0]
        assert_sentences(errors[0])


def test_every_catalogue_case_is_in_the_table() -> None:
    # Issue 8's list, item by item: data, spec and numerics.
    ids = " | ".join(c.id for c in CASES)
    for topic in ("missing indicator column", "non-numeric column", "constant column",
                  "all-missing column", "infinite value", "duplicated column names",
                  "fewer rows than parameters", "outside the spec's item scale", "empty file",
                  "a workbook named .csv", "YAML syntax error", "unknown top-level key",
                  "unknown construct in a path", "cycle", "empty construct",
                  "indicator used by two constructs", "formative construct",
                  "unknown method", "unknown scheme", "lavaan syntax error",
                  "non-positive-definite covariance", "collinear indicators in a Mode B block",
                  "does not converge", "Heywood case", "negative outer weight"):
        assert topic in ids, topic


# ---- what happens instead of an error -----------------------------------------------------
def test_fit_shows_the_index_refusal_as_a_note(tmp_path, capsys):
    # `csisem fit` does not ask for indices: it prints the estimates and, in place of the
    # index table, the reason it is refused (exit 0; JSON has "index_error").
    path = write_csv(tmp_path, "reversed.csv", reversed_item(load_mobi()))
    code = main(["fit", "ecsi", "--data", str(path)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert "Index scores (0-100)" in out
    assert "Negative outer weight(s): IMAG2 of IMAG (-0.260)." in out
    code = main(["fit", "ecsi", "--data", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert '"index_error": "Negative outer weight(s): IMAG2 of IMAG (-0.260).' in out


def test_non_convergence_and_heywood_flag_the_result(tmp_path):
    with pytest.warns(ConvergenceWarning):
        assert csisem.fit("ecsi", "mobi", max_iter=1).converged is False
    call, _ = heywood_case(tmp_path)
    with pytest.warns(InadmissibleSolutionWarning):
        assert call().admissible is False


def test_out_of_scale_option_is_checked(mobi):
    with pytest.raises(csisem.errors.OptionError,
                       match=r"^out_of_scale='stop' is not supported; choose 'warn' or 'error'\.$"):
        csisem.fit("ecsi", mobi, out_of_scale="stop")


def test_duplicated_column_names_in_a_data_frame():
    # A DataFrame cannot reach the CLI; this is the API side of "duplicated column names".
    data = load_mobi().rename(columns={"CUEX1": "IMAG1"})
    with pytest.raises(DataError, match=r"^The data have duplicated column names: IMAG1\. "
                                        r"Column names must be unique\.$"):
        csisem.fit("ecsi", data)


def test_cli_reports_pls_non_convergence_once(capsys):
    # The f² table re-runs PLS on reduced models: their non-convergence is one summary line.
    code = main(["fit", "ecsi", "--data", "mobi", "--max-iter", "1"])
    _, err = capsys.readouterr()
    assert code == 0
    messages = [m[1] for m in cli_messages(err) if "did not converge" in m[1]]
    assert len(messages) == 2, err
    assert messages[0].startswith("PLS did not converge in 1 iteration ")
    assert messages[1].startswith("f²: ")
