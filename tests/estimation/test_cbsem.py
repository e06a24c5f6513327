"""CB-SEM estimator: population recovery, FIML, bad input, warnings, options and result views.

Agreement with lavaan is in tests/reference/test_against_lavaan.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import (
    ConvergenceWarning,
    CSIWarning,
    DataError,
    DataWarning,
    EstimationError,
    InadmissibleSolutionWarning,
    OptionError,
    SpecError,
)
from csisem.models import Construct, Covariance, Indicator, Mode, Model

DATA = Path(__file__).parents[1] / "reference" / "data"
POLDEM = (DATA / "political_democracy.lav").read_text(encoding="utf-8")
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

# The ACSI population (datasets.population): standardised, loadings 0.8, paths
# 0.5 / sqrt(number of predictors). COMP has one indicator, COMP1 = 0.8 COMP + error, while
# CB-SEM fixes a single indicator's error variance at 0 (the construct is its item): the
# CB-SEM model's COMP is COMP1. Its paths into LOY therefore differ from the population's
# (computed below); every other parameter is the population's.
ACSI = dataclasses.replace(csisem.load_model("acsi"), scale=None)


def _quiet_fit(*args: object, **kwargs: object) -> csisem.CBSEMResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CSIWarning)
        return csisem.fit(*args, **kwargs)  # type: ignore[arg-type]


def _loy_paths(pop: csisem.datasets.Population) -> dict[tuple[str, str], float]:
    """Unstandardised ACSI -> LOY and COMP -> LOY of the CB-SEM model in the population.

    With marker loadings 0.8 the constructs ACSI and LOY are 0.8 times the population's;
    COMP is the item COMP1 = 0.8 COMP + e (variance 1). Regress 0.8 LOY on (0.8 ACSI, COMP1).
    """
    R = pop.construct_correlations
    cov_x = np.array([[0.64, 0.64 * R.loc["ACSI", "COMP"]],
                      [0.64 * R.loc["ACSI", "COMP"], 1.0]])
    cov_xy = np.array([0.64 * R.loc["ACSI", "LOY"], 0.64 * R.loc["COMP", "LOY"]])
    b = np.linalg.solve(cov_x, cov_xy)
    return {("ACSI", "LOY"): float(b[0]), ("COMP", "LOY"): float(b[1])}


@pytest.fixture(scope="module")
def acsi_exact() -> pd.DataFrame:
    return csisem.datasets.simulate(ACSI, 500, seed=1, exact=True)


@pytest.mark.parametrize("method", ["ml", "gls", "uls", "wls", "dwls"])
def test_exact_moment_acsi_is_recovered(acsi_exact, method):
    # Exact sample moments: every consistent estimator returns the population model to the
    # optimiser's precision; 1e-6 is issue 4's tolerance.
    pop = csisem.datasets.population(ACSI)
    result = _quiet_fit(ACSI, acsi_exact, method=method, tol=1e-14)
    assert result.converged
    assert result.admissible
    truth = pop.paths.set_index(["source", "target"])["value"].to_dict()
    truth.update(_loy_paths(pop))
    paths = result.paths.set_index(["source", "target"])["estimate"]
    np.testing.assert_allclose(paths.to_numpy(), [truth[k] for k in paths.index], atol=1e-6)
    loadings = result.loadings
    multi = loadings[loadings["construct"] != "COMP"]
    np.testing.assert_allclose(multi["estimate"], 1.0, atol=1e-6)  # all population 0.8
    np.testing.assert_allclose(multi["std_all"], 0.8, atol=1e-6)
    assert result.fit["chisq"] == pytest.approx(0.0, abs=1e-8)
    assert result.fit["rmsea"] == pytest.approx(0.0, abs=1e-6)
    r2 = pop.r_squared.drop(["COMP", "LOY"])
    np.testing.assert_allclose(result.r_squared[r2.index], r2, atol=1e-6)


@pytest.mark.slow
def test_million_row_exact_sample_is_recovered_far_inside_one_standard_error():
    # semopy's tolerance is not scaled to N: at n = 10^6 its estimates were 0.4 SE off.
    # csisem's criterion is N g'I^-1 g, so the error stays a tiny fraction of an SE.
    pop = csisem.datasets.population(ACSI)
    data = csisem.datasets.simulate(ACSI, 10**6, seed=2, exact=True)
    result = _quiet_fit(ACSI, data, method="ml")
    paths = result.paths.set_index(["source", "target"]).drop([("ACSI", "LOY"),
                                                               ("COMP", "LOY")])
    truth = pop.paths.set_index(["source", "target"])["value"][paths.index]
    assert ((paths["estimate"] - truth).abs() / paths["std_error"]).max() < 1e-6


def test_fiml_with_20_percent_mcar_recovers_the_population():
    pop = csisem.datasets.population(ACSI)
    data = csisem.datasets.simulate(ACSI, 300, seed=11)
    rng = np.random.default_rng(5)
    cells = rng.choice(data.size, size=data.size // 5, replace=False)  # 20% MCAR
    mask = np.zeros(data.size, dtype=bool)
    mask[cells] = True
    incomplete = data.mask(mask.reshape(data.shape))
    assert incomplete.isna().to_numpy().mean() == pytest.approx(0.20, abs=1e-3)
    assert not incomplete.isna().all(axis=1).any()
    with pytest.warns(DataWarning, match=r"missing cell\(s\) in .* are handled by "
                                         r"full-information maximum likelihood"):
        result = _fit_warned(incomplete)
    assert result.converged
    assert result.data_info.missing == "fiml"
    assert result.n_obs == 300
    # Within sampling error: |estimate - truth| < 4 standard errors, for the loadings
    # (population 1 after marking) and the paths not attenuated by COMP's error.
    truth = pop.paths.set_index(["source", "target"])["value"]
    paths = result.paths.set_index(["source", "target"]).drop([("ACSI", "LOY"),
                                                               ("COMP", "LOY")])
    z = (paths["estimate"] - truth[paths.index]) / paths["std_error"]
    assert (z.abs() < 4).all(), z
    free = result.loadings.dropna(subset=["std_error"])
    assert ((free["estimate"] - 1).abs() / free["std_error"] < 4).all()
    # ... and close to ML on the complete data (the same rows before deletion)
    complete = _quiet_fit(ACSI, data, method="ml")
    diff = result.paths["estimate"] - complete.paths["estimate"]
    assert (diff.abs() < 2 * result.paths["std_error"]).all()


def _fit_warned(data: pd.DataFrame) -> csisem.CBSEMResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InadmissibleSolutionWarning)
        return csisem.fit(ACSI, data, method="ml", missing="fiml")


def test_fiml_on_complete_data_equals_ml_with_a_mean_structure():
    data = csisem.datasets.simulate(ACSI, 200, seed=3)
    ml = _quiet_fit(ACSI, data, method="ml")
    fiml = _quiet_fit(ACSI, data, method="ml", missing="fiml")
    np.testing.assert_allclose(fiml.paths["estimate"], ml.paths["estimate"], rtol=1e-6)
    assert fiml.fit["chisq"] == pytest.approx(ml.fit["chisq"], rel=1e-6)
    assert fiml.fit["df"] == ml.fit["df"]  # intercepts are saturated
    assert fiml.fit["npar"] == ml.fit["npar"] + len(ACSI.indicator_names)
    intercepts = fiml.parameters[fiml.parameters["op"] == "~1"]
    assert set(intercepts["kind"]) == {"intercept", "mean"}


# ---- bad input: clear errors (exit code 2 from the CLI, see test_cbsem_cli.py) -----------

def _two_blocks(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 2))
    cols = {f"a{k}": f[:, 0] + 0.6 * rng.standard_normal(n) for k in (1, 2)}
    cols.update({f"b{k}": f[:, 1] + 0.6 * rng.standard_normal(n) for k in (1, 2, 3)})
    return pd.DataFrame(cols)


UNIDENTIFIED = Model(
    name="unidentified",
    constructs=(Construct("A", (Indicator("a1"), Indicator("a2"))),
                Construct("B", (Indicator("b1"), Indicator("b2"), Indicator("b3")))),
    covariances=(Covariance("A", "B", fixed=0.0),))


def test_unidentified_model_is_an_estimation_error():
    # A two-indicator construct with no link to the rest: loading, variance and error
    # variances cannot be separated (semopy would report pseudo-inverse standard errors).
    with pytest.raises(EstimationError, match=re.escape(
            "Model 'unidentified' is not identified: the information matrix is singular")) \
            as info:
        csisem.fit(UNIDENTIFIED, _two_blocks(), method="ml")
    assert "A =~ a2" in str(info.value)
    assert "A ~~ A" in str(info.value)


def test_more_parameters_than_moments_is_an_estimation_error():
    model = Model(name="tiny", constructs=(Construct("A", (Indicator("a1"), Indicator("a2"))),))
    with pytest.raises(EstimationError, match=re.escape(
            "Model 'tiny' is not identified: it has 4 free parameters but the data give only "
            "3 sample moments (df = -1).")):
        csisem.fit(model, _two_blocks(), method="ml")


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.assign(CUEX2=d["CUEX1"]),
     r"indicators 'CUEX1' and 'CUEX2' are perfectly correlated \(r = \+1\.000000\)"),
    (lambda d: d.assign(CUEX3=(d["CUEX1"] + d["CUEX2"]) / 2),
     r"indicators 'CUEX3', 'CUEX2', 'CUEX1' are linearly dependent"),
    (lambda d: d.head(20), r"there are 20 rows but 24 indicators"),
])
def test_non_positive_definite_covariance_is_a_data_error(mobi, change, message):
    # semopy silently replaces such a matrix by a nearby positive definite one.
    with pytest.raises(DataError, match=r"^The indicator covariance matrix is not positive "
                                        r"definite .*" + message):
        csisem.fit("ecsi", change(mobi), method="ml")


def test_composite_constructs_are_a_spec_error(ecsi):
    model = dataclasses.replace(ecsi, constructs=tuple(
        dataclasses.replace(c, mode=Mode.COMPOSITE_B) if c.name == "IMAG" else c
        for c in ecsi.constructs))
    with pytest.raises(SpecError, match=r"CB-SEM needs reflective \(common-factor\) "
                                        r"constructs, but model 'ECSI' has composite "
                                        r"construct\(s\) IMAG \(composite_b\)"):
        csisem.fit(model, "mobi", method="ml")


def test_non_convergence_warns_and_flags_the_result():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = csisem.fit("ecsi", "mobi", method="ml", max_iter=2)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert re.match(r"The CB-SEM fit of model 'ECSI' did not converge: reached max_iter=2 "
                    r"iterations", str(convergence[0].message))
    assert result.converged is False
    assert any("did not converge" in w for w in result.warnings)
    assert "Converged     NO after 2 iterations" in str(result)


def test_heywood_case_warns_and_flags_the_result():
    # One factor, three items with r12 = r13 = 0.8, r23 = 0.5: the ML loading of x1 is
    # sqrt(0.8 * 0.8 / 0.5) = 1.13 > 1, so its error variance is negative.
    R = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    rng = np.random.default_rng(3)
    z = rng.standard_normal((200, 3))
    z -= z.mean(axis=0)
    z = np.linalg.solve(np.linalg.cholesky(np.cov(z.T)), z.T).T @ np.linalg.cholesky(R).T
    model = Model(name="heywood", constructs=(
        Construct("F", (Indicator("x1"), Indicator("x2"), Indicator("x3"))),))
    with pytest.warns(InadmissibleSolutionWarning, match=r"The solution of model 'heywood' is "
                      r"inadmissible: negative variance estimate\(s\) \(Heywood case\): "
                      r"x1 ~~ x1 = -0\.2"):
        result = csisem.fit(model, pd.DataFrame(z, columns=["x1", "x2", "x3"]), method="ml")
    assert result.admissible is False
    assert "Admissible    NO" in str(result)


def test_near_singular_construct_correlations_warn_on_ecsi():
    # lavaan prints nothing for ECSI on mobi, whose CUEX-PERQ correlation is 0.995.
    with pytest.warns(InadmissibleSolutionWarning, match=r"Near-singular construct "
                      r"correlations in model 'ECSI' \(\|r\| > 0\.95\): .*CUEX-PERQ = 0\.995"):
        result = csisem.fit("ecsi", "mobi", method="ml")
    assert result.near_singular is True
    assert result.admissible is True  # near-singular, but every variance is positive
    assert result.construct_correlations.loc["CUEX", "PERQ"] == pytest.approx(0.9948, abs=1e-4)


# ---- options ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_jobs": 2, "ci_method": "bca"}, r"Option\(s\) n_jobs=, ci_method= do not apply to "
                                        r"method='ml': they are PLS options"),
    ({"bootstrap": -1}, r"bootstrap=-1 must be a non-negative integer"),
    ({"scheme": "centroid"}, r"Option\(s\) scheme= do not apply to method='ml'"),
    ({"weights": "CUSL1"}, r"Option\(s\) weights= do not apply"),
    ({"missing": "mean"}, r"missing='mean' is not available for CB-SEM"),
    ({"group_equal": ["loadings"]}, r"group_equal= .* needs group="),
    ({"group_equal": ["loading"]}, r"group_equal='loading' is not supported\. Did you mean "
                                   r"'loadings'\?"),
])
def test_options_that_do_not_apply_to_cbsem_raise(kwargs, message):
    with pytest.raises(OptionError, match=message):
        csisem.fit("ecsi", "mobi", method="ml", **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"group": "x"}, r"Option\(s\) group= do not apply to method='pls': they are "
                     r"covariance-based SEM options"),
    ({"missing": "fiml"}, r"Option\(s\) missing='fiml' do not apply to method='plsc'"),
])
def test_cbsem_options_with_pls_raise(kwargs, message):
    method = "plsc" if kwargs.get("missing") else "pls"
    with pytest.raises(OptionError, match=message):
        csisem.fit("ecsi", "mobi", method=method, **kwargs)


def test_fiml_needs_a_likelihood():
    with pytest.raises(OptionError, match=r"missing='fiml' needs a likelihood: use "
                                          r"method='ml' or 'mlr', not 'gls'"):
        csisem.fit("ecsi", "mobi", method="gls", missing="fiml")
    with pytest.raises(OptionError, match=r"missing='fiml' needs a likelihood: use "
                                          r"method='ml' or 'mlr', not 'wls'"):
        csisem.fit("ecsi", "mobi", method="wls", missing="fiml")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "dwls", "group": "g"}, r"group= \(multi-group\) is available with "
                                       r"method='ml' or 'mlr', not 'dwls'"),
    ({"method": "wls", "bootstrap": 10}, r"bootstrap= is available with method='ml' or "
                                         r"'mlr', not 'wls'"),
    ({"method": "fiml", "missing": "mean"}, r"missing='mean' is not available for CB-SEM"),
])
def test_least_squares_and_fiml_option_errors(kwargs, message):
    with pytest.raises(OptionError, match=message):
        csisem.fit("ecsi", "mobi", **kwargs)


def test_wls_with_fewer_rows_than_covariances_is_a_data_error():
    # ECSI has 24 indicators, so 300 (co)variances, and mobi 250 rows: Gamma is singular.
    with pytest.raises(DataError, match=r"method='wls' needs the asymptotic covariance matrix "
                                        r"of the 300 sample \(co\)variances to be invertible, "
                                        r"but it is singular with 250 rows"):
        csisem.fit("ecsi", "mobi", method="wls")


def test_method_fiml_is_an_alias():
    estimator = csisem.CBSEMEstimator(method="fiml")
    assert estimator.method is csisem.options.Method.ML
    assert estimator.full_information is True
    assert repr(estimator) == "CBSEMEstimator(method='fiml', tol=1e-12, max_iter=500)"


def test_measurement_invariance_needs_a_likelihood():
    with pytest.raises(OptionError, match=r"measurement_invariance\(\) compares likelihood "
                                          r"fits: use method='ml', 'mlr' or 'fiml', not 'uls'"):
        csisem.measurement_invariance("ecsi", "mobi", group="x", method="uls")


def test_estimator_rejects_pls_methods_and_bad_values():
    with pytest.raises(OptionError, match=r"method='pls' is not a CB-SEM method"):
        csisem.CBSEMEstimator(method="pls")
    with pytest.raises(OptionError, match=r"tol=2 must be a number between 0 and 1"):
        csisem.CBSEMEstimator(tol=2)
    with pytest.raises(OptionError, match=r"max_iter=0 must be a positive integer"):
        csisem.CBSEMEstimator(max_iter=0)


def test_group_column_errors():
    hs = pd.DataFrame({f"x{k}": np.arange(10.0) * k % 7 for k in (1, 2, 3)}).assign(g="a")
    model = csisem.parse_lavaan("F =~ x1 + x2 + x3")
    with pytest.raises(DataError, match=r"group='grp' is not a column of the data\."):
        csisem.fit(model, hs, method="ml", group="grp")
    with pytest.raises(DataError, match=r"The group column 'g' has a single value \('a'\)"):
        csisem.fit(model, hs, method="ml", group="g")


# ---- result views -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def poldem_mlr() -> csisem.CBSEMResult:
    return _quiet_fit(csisem.parse_lavaan(POLDEM), pd.read_csv(DATA / "political_democracy.csv"),
                      method="mlr")


def test_result_tables_are_tidy(poldem_mlr):
    r = poldem_mlr
    assert list(r.paths.columns) == ["source", "target", "estimate", "std_error", "z_value",
                                     "p_value", "ci_lower", "ci_upper", "std_all"]
    assert list(r.loadings.columns[:2]) == ["construct", "indicator"]
    assert list(r.parameters.columns) == ["lhs", "op", "rhs", "kind", "label", "free",
                                          "estimate", "std_error", "z_value", "p_value",
                                          "ci_lower", "ci_upper", "std_all"]
    assert r.vcov.shape == (31, 31)
    assert list(r.r_squared.index) == ["dem60", "dem65"]
    for name in ("chisq", "df", "pvalue", "cfi", "tli", "nfi", "rmsea", "rmsea_ci_lower",
                 "rmsea_ci_upper", "rmsea_pvalue", "srmr", "gfi", "agfi", "logl", "aic", "bic",
                 "chisq_scaled", "chisq_scaling_factor", "cfi_robust", "rmsea_robust"):
        assert name in r.fit.index
    assert r.backend is not None
    assert type(r.backend).__module__.startswith("semopy")


def test_summary_and_json_views(poldem_mlr):
    r = poldem_mlr
    text = str(r)
    for title in ("Model fit", "Paths", "R²", "Loadings", "Variances, covariances and means"):
        assert f"\n{title}\n" in text
    assert "Maximum likelihood, robust (MLR)" in text
    assert "<h4>Model fit</h4>" in r._repr_html_()
    doc = json.loads(r.to_json())
    # the keys PLSResult.to_dict() also has mean the same thing
    for key in ("model", "method", "n_obs", "converged", "n_iter", "paths", "loadings",
                "r_squared", "fit"):
        assert key in doc
    assert doc["method"] == "mlr"
    assert doc["n_obs"] == 75
    assert doc["fit"]["chisq"] == pytest.approx(38.1252, abs=1e-4)
    assert set(doc["paths"][0]) >= {"source", "target", "estimate", "std_error"}
    assert repr(r).startswith("<CBSEMResult model: mlr, n=75, converged")


def test_multi_group_result_is_indexed_by_group():
    hs = pd.read_csv(DATA / "holzinger_swineford.csv")
    r = _quiet_fit(csisem.parse_lavaan(HS), hs, method="ml", group="school",
                   group_equal="loadings")
    assert r.groups == ("Pasteur", "Grant-White")
    assert r.group_sizes == (156, 145)
    assert list(r.paths.columns[:1]) == list(r.loadings.columns[:1]) == ["group"]
    assert r.r_squared.empty
    assert r.construct_correlations.loc["Pasteur"].shape == (3, 3)
    doc = json.loads(r.to_json())
    assert doc["groups"] == [{"group": "Pasteur", "n_obs": 156},
                             {"group": "Grant-White", "n_obs": 145}]
    assert doc["group_equal"] == ["loadings"]
    assert "Pasteur: 156" in str(r)


def test_fit_changes_neither_the_model_nor_the_data(ecsi, mobi):
    before = mobi.copy()
    estimator = csisem.CBSEMEstimator(method="ml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CSIWarning)
        estimator.fit(ecsi, mobi)
    pd.testing.assert_frame_equal(mobi, before)
    assert repr(estimator) == "CBSEMEstimator(method='ml', tol=1e-12, max_iter=500)"


def test_import_csisem_does_not_import_semopy():
    code = "import sys, csisem; print('semopy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bootstrap_is_reproducible_and_close_to_the_analytic_errors():
    data = csisem.datasets.simulate(ACSI, 300, seed=7)
    first = _quiet_fit(ACSI, data, method="ml", bootstrap=60, seed=3)
    again = _quiet_fit(ACSI, data, method="ml", bootstrap=60, seed=3)
    boot = first.bootstrap
    assert boot is not None
    assert (boot.n_valid, boot.n_failed) == (60, 0)
    pd.testing.assert_frame_equal(boot.table, again.bootstrap.table)
    # normal data: bootstrap and expected-information SEs estimate the same thing; with 60
    # resamples the Monte Carlo error of an SE is about 1/sqrt(120) = 9%, so allow 40%
    paths = boot.table[boot.table["op"] == "~"]
    ratio = paths["std_error"].to_numpy() / first.paths["std_error"].to_numpy()
    assert np.all((ratio > 0.6) & (ratio < 1.4)), ratio
    assert (paths["ci_lower"] < paths["estimate"]).all()
    assert (paths["estimate"] < paths["ci_upper"]).all()
    assert "\nBootstrap\n" in str(first)
    doc = json.loads(first.to_json())
    assert doc["bootstrap"]["n_valid"] == 60
    # indirect and total effects from the same draws, close to the delta method
    effects = boot.effects.set_index(["source", "target"])
    delta = first.effects.set_index(["source", "target"])
    has = delta["indirect_std_error"].notna()
    assert has.sum() >= 2
    ratio = effects.loc[has, "indirect_std_error"] / delta.loc[has, "indirect_std_error"]
    assert np.all((ratio > 0.6) & (ratio < 1.4)), ratio
    np.testing.assert_allclose(effects["total"], delta["total"], rtol=1e-12)
    assert effects.loc[~has, "indirect_std_error"].isna().all()
    assert "\nBootstrap: indirect and total effects\n" in str(first)
    assert len(doc["bootstrap"]["effects"]) == len(first.effects)


def test_effects_follow_the_paths_with_several_groups():
    # Two groups with the structural paths held equal: the effects (and their delta-method
    # errors, from the shared parameters) are the same in both groups.
    rng = np.random.default_rng(4)
    data = pd.concat([csisem.datasets.simulate(ACSI, 250, seed=8).assign(g="a"),
                      csisem.datasets.simulate(ACSI, 250, seed=9).assign(g="b")])
    result = _quiet_fit(ACSI, data.sample(frac=1, random_state=rng.integers(1000)),
                        method="ml", group="g", group_equal="regressions")
    e = result.effects
    assert list(e.columns[:3]) == ["group", "source", "target"]
    a, b = (e[e["group"] == g].reset_index(drop=True) for g in ("a", "b"))
    np.testing.assert_allclose(a["total"], b["total"], rtol=1e-10)
    np.testing.assert_allclose(a["total_std_error"], b["total_std_error"], rtol=1e-10)
    # total = direct + indirect, and (I - B)^-1 - I by the paths of the result
    np.testing.assert_allclose(e["total"], e["direct"] + e["indirect"], rtol=1e-12)
    paths = result.paths[result.paths["group"] == "a"]
    names = list(ACSI.construct_names)
    B = np.zeros((len(names), len(names)))
    for src, tgt, est in zip(paths["source"], paths["target"], paths["estimate"], strict=True):
        B[names.index(tgt), names.index(src)] = est
    T = np.linalg.inv(np.eye(len(names)) - B) - np.eye(len(names))
    expected = [T[names.index(t), names.index(s)] for s, t in zip(a["source"], a["target"],
                                                                  strict=True)]
    np.testing.assert_allclose(a["total"], expected, rtol=1e-10)


def test_modification_indices_of_a_structural_model(poldem_mlr):
    mi = poldem_mlr.modification_indices(minimum=4)
    assert list(mi.columns) == ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]
    assert (mi["mi"] >= 4).all()
    # candidates are fixed parameters only: none of the model's own residual covariances
    assert not ((mi["lhs"] == "y1") & (mi["op"] == "~~") & (mi["rhs"] == "y5")).any()
