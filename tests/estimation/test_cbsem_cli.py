"""``csisem fit --method ml|mlr|gls|uls`` on the command line, run in-process.

User errors (bad spec, data or option; unidentified model) exit with code 2 and one
``csisem: error: ...`` line; warnings go to stderr and the fit still exits 0.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.cli import main

DATA = Path(__file__).parents[1] / "reference" / "data"
POLDEM = (DATA / "political_democracy.lav").read_text(encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def poldem_spec(tmp_path: Path) -> Path:
    path = tmp_path / "poldem.lav"
    path.write_text(POLDEM, encoding="utf-8")
    return path


def test_fit_ecsi_by_ml_as_json(capsys):
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi", "--method", "ml",
                         "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["model"], doc["method"], doc["n_obs"], doc["converged"]) == ("ECSI", "ml", 250,
                                                                             True)
    assert doc["fit"]["df"] == 241
    assert doc["fit"]["chisq"] == pytest.approx(575.5713, abs=1e-3)  # lavaan 575.571
    assert doc["near_singular"] is True
    assert "csisem: warning: Near-singular construct correlations in model 'ECSI'" in err


def test_fit_mlr_text_summary(capsys, poldem_spec):
    code, out, _err = run(capsys, "fit", poldem_spec, "--data",
                         DATA / "political_democracy.csv", "--method", "mlr")
    assert code == 0
    assert out.startswith("csisem — covariance-based SEM\n")
    assert "Maximum likelihood, robust (MLR)" in out
    assert "Chi-square" in out
    assert "41.401" in out


def test_fit_multi_group_and_fiml_options(capsys, tmp_path):
    spec = tmp_path / "hs.lav"
    spec.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n")
    code, out, _ = run(capsys, "fit", spec, "--data", DATA / "holzinger_swineford.csv",
                       "--method", "ml", "--group", "school", "--group-equal", "loadings",
                       "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["fit"]["df"] == 54
    assert doc["group_equal"] == ["loadings"]


def test_fiml_from_the_command_line(capsys, poldem_spec):
    code, out, err = run(capsys, "fit", poldem_spec, "--data",
                         DATA / "political_democracy_missing.csv", "--method", "ml",
                         "--missing", "fiml", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["fit"]["chisq"] == pytest.approx(31.7171, abs=1e-3)  # lavaan 31.717
    assert "full-information maximum likelihood" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--method", "ml", "--jobs", "2"], r"Option\(s\) n_jobs= do not apply to method='ml'"),
    (["--method", "ml", "--scheme", "centroid"], r"Option\(s\) scheme= do not apply"),
    (["--method", "pls", "--missing", "fiml"], r"Option\(s\) missing='fiml' do not apply"),
    (["--method", "pls", "--group", "x"], r"Option\(s\) group= do not apply"),
    (["--method", "ml", "--missing", "mean"], r"missing='mean' is not available for CB-SEM"),
    (["--method", "ml", "--group-equal", "loadings"], r"needs group="),
])
def test_option_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("csisem: error: ")
    assert re.search(message, err)


def test_non_positive_definite_data_exits_2(capsys, tmp_path):
    data = csisem.datasets.load_mobi().assign(CUEX2=lambda d: d["CUEX1"])
    path = tmp_path / "dup.csv"
    data.to_csv(path, index=False)
    code, _, err = run(capsys, "fit", "ecsi", "--data", path, "--method", "ml")
    assert code == 2
    assert "csisem: error: The indicator covariance matrix is not positive definite" in err
    assert "indicators 'CUEX1' and 'CUEX2' are perfectly correlated" in err


def test_unidentified_model_exits_2(capsys, tmp_path):
    spec = tmp_path / "unid.lav"
    spec.write_text("A =~ a1 + a2\nB =~ b1 + b2 + b3\nA ~~ 0*B\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    f = rng.standard_normal((200, 2))
    data = pd.DataFrame({"a1": f[:, 0] + rng.standard_normal(200),
                         "a2": f[:, 0] + rng.standard_normal(200),
                         **{f"b{k}": f[:, 1] + rng.standard_normal(200) for k in (1, 2, 3)}})
    path = tmp_path / "unid.csv"
    data.to_csv(path, index=False)
    code, _, err = run(capsys, "fit", spec, "--data", path, "--method", "ml")
    assert code == 2
    assert "csisem: error: Model 'unid' is not identified: the information matrix is " \
           "singular" in err


def test_composite_spec_exits_2(capsys, tmp_path):
    spec = tmp_path / "comp.lav"
    spec.write_text("A <~ a1 + a2\nB =~ b1 + b2 + b3\nB ~ A\n", encoding="utf-8")
    path = tmp_path / "d.csv"
    pd.DataFrame(np.random.default_rng(1).standard_normal((50, 5)),
                 columns=["a1", "a2", "b1", "b2", "b3"]).to_csv(path, index=False)
    code, _, err = run(capsys, "fit", spec, "--data", path, "--method", "ml")
    assert code == 2
    assert "CB-SEM needs reflective (common-factor) constructs" in err


def test_non_convergence_warns_and_exits_0(capsys):
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi", "--method", "ml",
                         "--max-iter", "2", "--format", "json")
    assert code == 0
    assert json.loads(out)["converged"] is False
    assert "csisem: warning: The CB-SEM fit of model 'ECSI' did not converge" in err


# ---- the JSON of a CB-SEM fit (issue 4: "JSON for CB-SEM results") ----------------------

FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "nfi", "gfi", "agfi", "rmsea",
            "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "loglik", "aic", "bic")
ROW_KEYS = {"estimate", "std_error", "z_value", "p_value", "std_estimate"}


def test_fit_json_has_the_documented_keys(capsys, poldem_spec):
    code, out, _ = run(capsys, "fit", poldem_spec, "--data", DATA / "political_democracy.csv",
                       "--method", "ml", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    # top-level keys shared with PLS
    for key in ("model", "method", "n_obs", "converged", "paths", "loadings", "r_squared"):
        assert key in doc
    assert (doc["model"], doc["method"], doc["n_obs"]) == ("poldem", "ml", 75)
    assert set(doc["r_squared"]) == {"dem60", "dem65"}
    lavaan = pd.read_csv(DATA / "lavaan_poldem_ml_fit.csv").set_index("measure")["value"]
    for key in FIT_KEYS:
        expected = lavaan["logl" if key == "loglik" else key.replace("_", ".")]
        assert doc["fit"][key] == pytest.approx(expected, rel=1e-4), key
    for row in doc["paths"] + doc["loadings"]:
        assert set(row) >= ROW_KEYS
    paths = {(r["source"], r["target"]): r for r in doc["paths"]}
    assert paths[("ind60", "dem60")]["estimate"] == pytest.approx(1.483, abs=1e-3)
    assert paths[("ind60", "dem60")]["std_estimate"] == pytest.approx(0.447, abs=1e-3)
    loadings = {(r["construct"], r["indicator"]): r for r in doc["loadings"]}
    marker = loadings[("ind60", "x1")]  # fixed at 1: unstandardised estimate, no inference
    assert marker["estimate"] == 1.0
    assert marker["std_error"] is marker["z_value"] is marker["p_value"] is None
    assert marker["std_estimate"] == pytest.approx(0.920, abs=1e-3)
    assert loadings[("ind60", "x2")]["estimate"] == pytest.approx(2.180, abs=1e-3)
    covs = {(r["lhs"], r["rhs"]): r for r in doc["covariances"]}
    assert covs[("y1", "y5")]["estimate"] == pytest.approx(0.624, abs=1e-3)
    assert covs[("y1", "y5")]["std_error"] == pytest.approx(0.358, abs=1e-3)
    # variances, residual variances and error variances are there too
    assert {("x1", "x1"), ("ind60", "ind60"), ("dem65", "dem65")} <= set(covs)
    assert all(set(r) >= ROW_KEYS for r in doc["covariances"])
    effects = {(r["source"], r["target"]): r for r in doc["effects"]}
    assert effects[("ind60", "dem65")]["indirect_std_error"] == pytest.approx(0.3554, abs=1e-4)


def test_fit_by_wls_from_the_command_line(capsys, poldem_spec):
    code, out, _ = run(capsys, "fit", poldem_spec, "--data", DATA / "political_democracy.csv",
                       "--method", "wls", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["method"] == "wls"
    assert doc["fit"]["chisq"] == pytest.approx(69.9677, abs=1e-3)  # lavaan 69.968
    assert doc["fit"]["loglik"] is None  # no likelihood


# ---- csisem compare -----------------------------------------------------------------------

def test_compare_matches_seminr_and_lavaan(capsys):
    # PLS and PLSc paths as seminr's, ML std_all as lavaan's (ECSI on mobi; lavaan's
    # polished solution, which csisem's optimiser reaches, see test_against_lavaan.py).
    code, out, err = run(capsys, "compare", "ecsi", "--data", "mobi", "--format", "json")
    assert code == 0
    assert "csisem: warning: ml: Near-singular construct correlations" in err
    doc = json.loads(out)
    assert doc["methods"] == ["pls", "plsc", "ml"]
    assert doc["n_obs"] == {"pls": 250, "plsc": 250, "ml": 250}
    paths = pd.DataFrame(doc["paths"]).set_index(["source", "target"])
    assert len(paths) == 12
    for method, name in (("pls", "seminr_ecsi_paths.csv"),
                         ("plsc", "seminr_ecsi_plsc_paths.csv")):
        ref = pd.read_csv(DATA / name).query("scheme == 'path'")
        ref = ref.set_index(["source", "target"])["estimate"]
        np.testing.assert_allclose(paths.loc[ref.index, method], ref, rtol=1e-5, atol=1e-8)
    lavaan = pd.read_csv(DATA / "lavaan_ecsi_ml_tight_estimates.csv")
    regressions = lavaan[lavaan["op"] == "~"].set_index(["rhs", "lhs"])["std_all"]
    np.testing.assert_allclose(paths.loc[regressions.index, "ml"], regressions, rtol=1e-4)
    r2 = pd.DataFrame(doc["r_squared"]).set_index("construct")
    ref = pd.read_csv(DATA / "seminr_ecsi_r_squared.csv").query("scheme == 'path'")
    ref = ref.set_index("construct")["r_squared"]
    np.testing.assert_allclose(r2.loc[ref.index, "pls"], ref, rtol=1e-5)
    # lavaan: R² = 1 - std_all of the residual variance
    residual = lavaan[(lavaan["op"] == "~~") & (lavaan["lhs"] == lavaan["rhs"])
                      & lavaan["lhs"].isin(r2.index)].set_index("lhs")["std_all"]
    np.testing.assert_allclose(r2.loc[residual.index, "ml"], 1 - residual, rtol=1e-4)


def test_compare_text_and_errors(capsys, poldem_spec):
    code, out, _ = run(capsys, "compare", "ecsi", "--data", "mobi", "--methods", "pls,plsc")
    assert code == 0
    assert out.startswith("csisem — method comparison\n")
    assert "Standardised path coefficients" in out
    assert re.search(r"IMAG\s+CUEX\s+0\.505\s+0\.863", out)
    code, _, err = run(capsys, "compare", "ecsi", "--data", "mobi", "--methods", "pls,pls")
    assert code == 2
    assert "csisem: error: methods= names 'pls' more than once." in err
    code, _, err = run(capsys, "compare", "ecsi", "--data", "mobi", "--methods", "pls,mle")
    assert code == 2
    assert "methods='mle' is not supported. Did you mean 'ml'?" in err
