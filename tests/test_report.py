"""The HTML report and the Excel workbook (csisem.report) and ``csisem report``.

The browser test renders the report in headless Chromium; it is marked ``browser`` and skipped
unless a ``chromium`` executable is on PATH (Debian: ``apt-get install chromium``). Run it with
``pytest -m browser tests/test_report.py``.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path as FilePath

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.cli import main
from csisem.errors import OptionError
from csisem.io import MissingDependencyError
from csisem.models import Model
from csisem.report import html_report, write_excel, write_html
from csisem.report.excel import SHEET_NAME_MAX, sheet_name

SECTIONS = ["Model and data", "Path diagram", "Measurement model", "Structural model",
            "Model fit and prediction", "Index scores and impacts",
            "Importance-performance map"]
HOSTILE = "<script>alert(1)</script> & co"


@pytest.fixture(scope="module")
def boot() -> csisem.PLSResult:
    return csisem.fit("ecsi", "mobi", bootstrap=50, seed=1, progress=False)


@pytest.fixture(scope="module")
def report(boot: csisem.PLSResult) -> str:
    return html_report(boot)


def _h2(text: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", text)


def _hostile_model() -> Model:
    """ECSI with markup, an ampersand and a formula in its title, labels and wording."""
    model = csisem.load_model("ecsi")
    constructs = []
    for c in model.constructs:
        indicators = tuple(dataclasses.replace(i, wording=f"=1+2 {HOSTILE} {i.name}")
                           for i in c.indicators)
        constructs.append(dataclasses.replace(c, label=f"{HOSTILE} {c.name}",
                                              indicators=indicators))
    return dataclasses.replace(model, title=HOSTILE, citation=HOSTILE,
                               constructs=tuple(constructs))


# ---- the HTML document ------------------------------------------------------------------------
def test_report_has_every_section_in_order(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    assert _h2(report) == SECTIONS
    for key in ("data", "diagram", "measurement", "structural", "fit", "index", "ipma"):
        assert f"<section id='{key}'>" in report
        assert f"href='#{key}'" in report


def test_report_embeds_its_figures_as_inline_svg(report: str) -> None:
    # diagram, cross-loadings, HTMT, index plot, IPMA map
    assert report.count("<svg ") == 5
    assert "<?xml" not in report
    assert "<!DOCTYPE svg" not in report


def test_report_loads_no_external_resource(report: str) -> None:
    assert "http://" not in report
    assert "https://" not in report
    assert not re.search(r"<(script|link|img|iframe|object)\b", report, re.IGNORECASE)
    assert not re.search(r"\bsrc\s*=", report)
    assert not re.search(r"url\((?!#)", report)
    assert "@import" not in report


def test_report_svg_ids_are_unique_across_figures(report: str) -> None:
    ids = re.findall(r' id="([^"]+)"', report)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'href="#([^"]+)"', report)):
        assert ref in ids


def test_report_shows_the_bootstrap_and_the_numbers(boot: csisem.PLSResult,
                                                    report: str) -> None:
    assert "50 valid of 50 resamples, seed 1" in report
    assert f"{boot.gof:.3f}" in report
    srmr = boot.fit.loc["estimated", "srmr"]
    assert f"{srmr:.3f}" in report
    cusl = boot.index.set_index("construct").loc["CUSL", "estimate"]
    assert f">{cusl:.1f}<" in report
    assert "Target construct: <strong>CUSL</strong>" in report


@pytest.fixture(scope="module")
def plain() -> csisem.PLSResult:
    """No bootstrap; markup in every user string; IMAG1 reversed, so a negative outer weight
    makes the 0-100 indices refused."""
    data = csisem.datasets.load_mobi()
    data["IMAG1"] = 11 - data["IMAG1"]
    return csisem.fit(_hostile_model(), data)


@pytest.fixture(scope="module")
def plain_report(plain: csisem.PLSResult) -> str:
    return html_report(plain, title=f"Title {HOSTILE}")


@pytest.fixture(scope="module")
def plain_workbook(plain: csisem.PLSResult, tmp_path_factory: pytest.TempPathFactory
                   ) -> dict[str, pd.DataFrame]:
    path = write_excel(plain, tmp_path_factory.mktemp("xlsx") / "plain.xlsx")
    return pd.read_excel(path, sheet_name=None)


def test_report_escapes_every_user_string(plain_report: str) -> None:
    assert "<script" not in plain_report.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co IMAG" in plain_report  # a label
    assert "=1+2 &lt;script&gt;alert(1)&lt;/script&gt; &amp; co IMAG1" in plain_report
    assert "<title>Title &lt;script&gt;" in plain_report
    assert "Customer satisfaction" not in plain_report  # every label was replaced


def test_report_without_bootstrap_has_every_section(plain_report: str) -> None:
    assert _h2(plain_report) == SECTIONS
    assert "not run: no standard errors" in plain_report
    assert "p_value" not in plain_report


def test_report_shows_why_indices_are_refused(plain_report: str) -> None:
    assert "Indices refused." in plain_report
    assert "Negative outer weight(s): IMAG1" in plain_report
    assert "Map not computed." in plain_report
    assert plain_report.count("<svg ") == 3  # diagram, cross-loadings, HTMT


def test_report_refuses_an_unknown_target(boot: csisem.PLSResult) -> None:
    with pytest.raises(OptionError, match=r"target='NOPE' is not a construct"):
        html_report(boot, target="NOPE")
    with pytest.raises(OptionError, match=r"target='IMAG' has no drivers"):
        html_report(boot, target="IMAG")


def test_report_needs_a_pls_result() -> None:
    with pytest.raises(OptionError, match=r"needs a PLS result .* got object"):
        html_report(object())  # type: ignore[arg-type]


def test_write_html_writes_the_same_document_again(boot: csisem.PLSResult, report: str,
                                                   tmp_path: FilePath) -> None:
    # rendering is deterministic: no dates, a fixed SVG hash salt
    path = write_html(boot, tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") == report


# ---- the Excel workbook ----------------------------------------------------------------------
def test_excel_has_a_sheet_per_table_equal_to_the_result(boot: csisem.PLSResult,
                                                         tmp_path: FilePath) -> None:
    path = write_excel(boot, tmp_path / "r.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert next(iter(sheets)) == "README"
    tidy = {"paths": boot.paths, "loadings": boot.loadings, "weights": boot.weights,
            "effects": boot.effects, "quality": boot.quality, "f_squared": boot.f_squared,
            "inner_vif": boot.inner_vif, "outer_vif": boot.outer_vif,
            "mediated_effects": boot.mediated_effects, "q_squared": boot.q_squared(7),
            "index": boot.index, "impacts": boot.impacts,
            "ipma_constructs": boot.ipma("CUSL").constructs,
            "ipma_indicators": boot.ipma("CUSL").indicators,
            **{f"boot_{k}": v for k, v in boot.bootstrap.tables.items()}}
    for name, expected in tidy.items():
        pd.testing.assert_frame_equal(sheets[name], expected.reset_index(drop=True),
                                      check_dtype=False, rtol=1e-12, obj=name)
    square = {"htmt": boot.htmt, "htmt2": boot.htmt2, "fornell_larcker": boot.fornell_larcker,
              "cross_loadings": boot.cross_loadings, "fit": boot.fit,
              "construct_correlations": boot.construct_correlations,
              "construct_scores": boot.scores}
    for name, expected in square.items():
        got = pd.read_excel(path, sheet_name=name, index_col=0)
        np.testing.assert_allclose(got.to_numpy(dtype=float), expected.to_numpy(dtype=float),
                                   rtol=1e-12, err_msg=name)
        assert list(got.columns) == [str(c) for c in expected.columns]
    readme = dict(zip(sheets["README"]["item"], sheets["README"]["value"], strict=True))
    assert readme["IPMA target"] == "CUSL"
    assert readme["Software"] == f"csisem {csisem.__version__}"
    listed = set(sheets["README"]["item"])
    assert set(sheets) - {"README"} <= listed


def test_excel_leaves_out_refused_indices_and_says_why(
        plain_workbook: dict[str, pd.DataFrame]) -> None:
    assert "index" not in plain_workbook
    assert "ipma_constructs" not in plain_workbook
    readme = plain_workbook["README"]
    items = dict(zip(readme["item"], readme["value"], strict=True))
    assert items["Indices"].startswith("not computed: Negative outer weight(s)")


def test_excel_keeps_text_starting_with_equals_as_text(
        plain_workbook: dict[str, pd.DataFrame]) -> None:
    wording = plain_workbook["data_summary"]["wording"]
    assert wording.iloc[0] == f"=1+2 {HOSTILE} IMAG1"


def test_sheet_names_are_safe_short_and_unique() -> None:
    used: set[str] = {"readme"}
    long = "boot_" + "x" * 40
    names = [sheet_name(n, used) for n in (long, long, "a/b:c*d?[e]", "README", "Readme")]
    assert all(len(n) <= SHEET_NAME_MAX for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[2] == "a_b_c_d__e_"
    assert not any(set(n) & set("[]:*?/\\'") for n in names)


def test_excel_without_openpyxl_names_the_extra(boot: csisem.PLSResult, tmp_path: FilePath,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'csisem\[excel\]'"):
        write_excel(boot, tmp_path / "r.xlsx")


# ---- the command line ------------------------------------------------------------------------
def test_cli_report_writes_html_and_excel_and_refuses_to_overwrite(
        tmp_path: FilePath, capsys: pytest.CaptureFixture[str]) -> None:
    html_path, xlsx = tmp_path / "report.html", tmp_path / "report.xlsx"
    code = main(["report", "ecsi", "--data", "mobi", "-o", str(html_path), "--excel", str(xlsx),
                 "--title", "Mobile <2005>"])
    assert code == 0, capsys.readouterr().err
    text = html_path.read_text(encoding="utf-8")
    assert _h2(text) == SECTIONS
    assert "<h1>Mobile &lt;2005&gt;</h1>" in text
    assert "README" in pd.read_excel(xlsx, sheet_name=None)
    assert "Report written to" in capsys.readouterr().out
    before = html_path.stat().st_mtime_ns
    assert main(["report", "ecsi", "--data", "mobi", "-o", str(html_path)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert html_path.stat().st_mtime_ns == before


@pytest.mark.parametrize(("argv", "message"), [
    ([], "give --output FILE.html and/or --excel FILE.xlsx"),
    (["-o", "r.txt"], "must end in .html"),
    (["--excel", "r.csv"], "must end in .xlsx"),
    (["-o", "r.html", "--target", "NOPE"], "--target 'NOPE' is not a construct"),
    (["-o", "r.html", "--target", "IMAG"], "--target 'IMAG' has no drivers"),
])
def test_cli_report_rejects_bad_options_before_fitting(
        argv: list[str], message: str, tmp_path: FilePath, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("csisem.cli.fit", lambda *a, **k: pytest.fail("fitted"))
    assert main(["report", "ecsi", "--data", "mobi", *argv]) == 2
    assert message in capsys.readouterr().err


# ---- in a real browser -----------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs a 'chromium' executable (Debian: apt-get install chromium)")
def test_report_renders_in_headless_chromium(report: str, tmp_path: FilePath) -> None:
    import matplotlib.image

    page, shot = tmp_path / "report.html", tmp_path / "shot.png"
    page.write_text(report, encoding="utf-8")
    command = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox",
               "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
               f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    colours = np.unique((pixels * 255).round().astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50                                  # text, tables, the diagram
    not_white = (pixels < 0.9).any(axis=-1).mean()
    assert 0.02 < not_white < 0.9
