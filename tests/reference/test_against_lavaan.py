"""csisem's CB-SEM against R lavaan 0.6-14 (tests/reference/data/lavaan_*.csv).

The reference values and the R script that wrote them are described in
tests/reference/data/README.md (section ``lavaan_*.csv``); R is not needed here.

Tolerances, from issue 4 ("Done when") unless stated:

- estimates and standard errors: 1e-3 relative (ECSI on mobi, nearly unidentified: 1e-2);
- chi-square: 1e-3 relative; CFI, TLI, RMSEA and its CI, SRMR, GFI, AGFI, AIC, BIC: 1e-4
  relative. We hold every other fit measure lavaan reports to 1e-4 relative as well, except
  p-values, compared with an absolute 1e-6 (a p-value in the far tail magnifies differences
  in the statistic below the tolerances above; the README's advice). For lavaan's default
  ECSI/MLR solution 1e-5: its scaled statistics carry lavaan's own convergence error (4e-5
  relative against the polished solution, README *Convergence*).
- lavaan's default optimiser stops short of the optimum on ECSI (README, *Convergence*), so
  the ECSI cases are also checked against the polished ``*_tight`` solutions at 1e-4.
- defined parameters (indirect and total effects, ``:=``), the invariance table
  (``lavTestLRT``) and the method comparison: 1e-4 relative (they are functions of
  estimates, standard errors and fit measures held to the tolerances above).

Every row of every reference file is compared; measures csisem does not compute are listed
in ``NOT_COMPUTED`` with the reason, and their absence is asserted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import CSIWarning

DATA = Path(__file__).parent / "data"

POLDEM = (DATA / "political_democracy.lav").read_text(encoding="utf-8")
HS = """
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""

# case -> (model, data file or "mobi", fit options, rtol for estimates and SEs)
CASES = {
    "poldem_ml": ("poldem", "political_democracy.csv", {"method": "ml"}, 1e-3),
    "poldem_mlr": ("poldem", "political_democracy.csv", {"method": "mlr"}, 1e-3),
    "poldem_fiml": ("poldem", "political_democracy_missing.csv",
                    {"method": "ml", "missing": "fiml"}, 1e-3),
    "ecsi_ml": ("ecsi", "mobi", {"method": "ml"}, 1e-2),
    "ecsi_mlr": ("ecsi", "mobi", {"method": "mlr"}, 1e-2),
    "ecsi_lsi_ml": ("ecsi", "mobi", {"method": "ml"}, 1e-2),
    "ecsi_ml_tight": ("ecsi", "mobi", {"method": "ml"}, 1e-4),
    "ecsi_mlr_tight": ("ecsi", "mobi", {"method": "mlr"}, 1e-4),
    "ecsi_lsi_ml_tight": ("ecsi", "mobi", {"method": "ml"}, 1e-4),
    "hs_ml": ("hs", "holzinger_swineford.csv", {"method": "ml"}, 1e-3),
    "hs_mg_free": ("hs", "holzinger_swineford.csv", {"method": "ml", "group": "school"}, 1e-3),
    "hs_mg_loadings": ("hs", "holzinger_swineford.csv",
                       {"method": "ml", "group": "school", "group_equal": "loadings"}, 1e-3),
    "hs_mg_scalar": ("hs", "holzinger_swineford.csv",
                     {"method": "ml", "group": "school",
                      "group_equal": ("loadings", "intercepts")}, 1e-3),
    "poldem_gls": ("poldem", "political_democracy.csv", {"method": "gls"}, 1e-3),
    "poldem_wls": ("poldem", "political_democracy.csv", {"method": "wls"}, 1e-3),
    "poldem_dwls": ("poldem", "political_democracy.csv", {"method": "dwls"}, 1e-3),
}

# Settings rather than measures (the H0 values of the RMSEA tests).
SETTINGS = {"rmsea.close.h0", "rmsea.notclose.h0"}
NOT_COMPUTED = {
    # FIML: the robust CFI/TLI/RMSEA of Zhang & Savalei (2023) are not implemented yet.
    "poldem_fiml": {"cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust",
                    "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                    "rmsea.notclose.pvalue.robust"},
}
# FIML GFI: lavaan weights the moments by an h1 information csisem does not reproduce;
# csisem uses the EM moments with the ML weight (the complete-data definition). The
# difference is documented here rather than skipped: it is below 1e-2 absolute.
KNOWN_DIFFERENT = {"poldem_fiml": {"gfi": 1e-2, "agfi": 1e-2, "pgfi": 1e-2}}


def _model(name: str) -> csisem.Model:
    if name == "poldem":
        return csisem.parse_lavaan(POLDEM)
    if name == "hs":
        return csisem.parse_lavaan(HS)
    return csisem.load_model(name)


@pytest.fixture(scope="module")
def fits() -> dict[tuple[object, ...], csisem.CBSEMResult]:
    """Fits shared by the tests of this module (one per model, data and options)."""
    return {}


def _fit(case: str, cache: dict[tuple[object, ...], csisem.CBSEMResult]) -> csisem.CBSEMResult:
    model_name, data_name, options, _ = CASES[case]
    key = (model_name, data_name, tuple(sorted(options.items())))
    if key not in cache:
        data = "mobi" if data_name == "mobi" else pd.read_csv(DATA / data_name)
        with warnings.catch_warnings():
            # near-singular construct correlations (ECSI, PoliticalDemocracy's dem60-dem65)
            # and the FIML note are expected here; tests/estimation checks them.
            warnings.simplefilter("ignore", CSIWarning)
            cache[key] = csisem.fit(_model(model_name), data, **options)
    return cache[key]


def _reference(case: str) -> pd.DataFrame:
    table = pd.read_csv(DATA / f"lavaan_{case}_estimates.csv", keep_default_na=False,
                        na_values=["NaN"])
    for col in ("lhs", "rhs"):
        # the LSI form's construct; lavaan cannot name it like its indicator
        table[col] = table[col].replace({"CUSCO_L": "CUSCO"})
    return table


def _match(case: str, result: csisem.CBSEMResult) -> pd.DataFrame:
    """Each lavaan row next to csisem's row for the same parameter (none left unmatched)."""
    ref = _reference(case)
    ours = result.parameters.copy()
    ours["rhs"] = ours["rhs"].fillna("")
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ours else [])
    rows = []
    for r in ref.to_dict(orient="records"):
        hit = ours
        for k in keys:
            hit = hit[hit[k] == r[k]]
        if len(hit) > 1:
            # CUSCO ~~ CUSCO: the construct's disturbance (lavaan's observed CUSCO or
            # CUSCO_L), or in the LSI form the indicator's error variance fixed at 0.
            lsi_indicator = "lsi" in case and r["lhs"] == "CUSCO" and r["est"] == 0
            hit = hit[hit["kind"] == ("error_variance" if lsi_indicator
                                      else "residual_variance")]
        assert len(hit) == 1, f"{case}: no csisem parameter for {r}"
        rows.append({**r, **{f"our_{k}": v for k, v in hit.iloc[0].items()}})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_standard_errors_match_lavaan(case, fits):
    result = _fit(case, fits)
    rtol = CASES[case][3]
    table = _match(case, result)
    np.testing.assert_allclose(table["our_estimate"], table["est"], rtol=rtol, atol=1e-8,
                               err_msg=f"{case}: estimates")
    free = table[table["se"] > 0]
    assert free["our_free"].all()
    np.testing.assert_allclose(free["our_std_error"], free["se"], rtol=rtol,
                               err_msg=f"{case}: standard errors")
    # std_all and CIs follow from the above; held to the same tolerance (absolute for
    # std_all, which is near 0 for some parameters).
    np.testing.assert_allclose(table["our_std_all"], table["std_all"], rtol=0,
                               atol=rtol, err_msg=f"{case}: std_all")
    np.testing.assert_allclose(free["our_ci_lower"], free["ci.lower"], rtol=rtol,
                               atol=rtol * free["se"].max())
    np.testing.assert_allclose(free["our_p_value"], free["pvalue"], rtol=0, atol=rtol)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(case, fits):
    result = _fit(case, fits)
    ref = pd.read_csv(DATA / f"lavaan_{case}_fit.csv").set_index("measure")["value"]
    missing = NOT_COMPUTED.get(case, set())
    known = KNOWN_DIFFERENT.get(case, {})
    for measure, value in ref.items():
        name = measure.replace(".", "_")
        if measure in SETTINGS:
            continue
        if measure in missing:
            assert name not in result.fit, f"{case}: {name} is now computed; test it"
            continue
        assert name in result.fit, f"{case}: csisem does not report {name}"
        ours = result.fit[name]
        if measure in known:
            assert abs(ours - value) < known[measure], (case, measure, ours, value)
        elif "pvalue" in measure:
            atol = 1e-5 if case == "ecsi_mlr" else 1e-6
            assert abs(ours - value) <= atol, (case, measure, ours, value)
        else:
            rtol = 1e-3 if measure == "chisq" else 1e-4
            np.testing.assert_allclose(ours, value, rtol=rtol, atol=1e-12,
                                       err_msg=f"{case}: {measure}")


@pytest.mark.parametrize("case", [c for c in CASES if not c.endswith("_tight")])
def test_implied_moments_match_lavaan(case, fits):
    result = _fit(case, fits)
    ref = pd.read_csv(DATA / f"lavaan_{case}_implied.csv")
    groups = list(result.groups) if len(result.groups) > 1 else [""]
    rtol = CASES[case][3]
    for g in groups:
        block = ref[ref["group"] == g] if "group" in ref else ref
        names = list(block["variable"])
        expected = block[names].to_numpy(float)
        ours = (result.implied_covariance.loc[g] if g else result.implied_covariance)
        ours = ours.loc[names, names].to_numpy()
        np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * abs(expected).max())
    mean_file = DATA / f"lavaan_{case}_implied_mean.csv"
    if mean_file.exists():
        means = pd.read_csv(mean_file)
        for g, imp in zip(groups, result.implied, strict=True):
            block = means[means["group"] == g] if "group" in means else means
            order = [result.model.indicator_names.index(v) for v in block["variable"]]
            np.testing.assert_allclose(imp.mu[order], block["mean"], rtol=rtol)


def test_modification_indices_match_lavaan(fits):
    result = _fit("hs_ml", fits)
    ref = pd.read_csv(DATA / "lavaan_hs_modindices.csv")
    ours = result.modification_indices()
    assert len(ours) == len(ref)
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_lavaan", ""),
                       validate="one_to_one")
    assert len(merged) == len(ref)
    # MI, EPC and standardised EPC at the 1e-3 on estimates (small MIs carry
    # lavaan's own convergence error, 4e-5 relative).
    for col in ("mi", "epc", "sepc_all"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_lavaan"], rtol=1e-3,
                                   err_msg=col)


def test_single_indicator_construct_gives_lavaans_incremental_indices(fits):
    # ECSI's CUSCO is a single-indicator construct (error variance fixed at 0). semopy's
    # baseline becomes infinite there (CFI = 1.0, TLI/NFI = NaN); csisem's must not.
    result = _fit("ecsi_ml", fits)
    ref = pd.read_csv(DATA / "lavaan_ecsi_ml_fit.csv").set_index("measure")["value"]
    for name in ("cfi", "tli", "nfi", "baseline.chisq"):
        assert np.isfinite(result.fit[name.replace(".", "_")])
        np.testing.assert_allclose(result.fit[name.replace(".", "_")], ref[name], rtol=1e-4)
    assert result.fit["cfi"] < 0.9


@pytest.mark.parametrize("method", ["ml", "mlr"])
def test_indirect_and_total_effects_match_lavaans_defined_parameters(method, fits):
    # lavaan: dem60 ~ a*ind60; dem65 ~ c*ind60 + b*dem60; ind := a*b; total := c + a*b,
    # delta-method standard errors from the ML (expected information) or MLR (sandwich)
    # covariance matrix of the estimates.
    result = _fit(f"poldem_{method}", fits)
    ref = pd.read_csv(DATA / f"lavaan_poldem_effects_{method}_defined.csv").set_index("lhs")
    row = result.effects.set_index(["source", "target"]).loc[("ind60", "dem65")]
    for name in ("indirect", "total"):
        key = "ind" if name == "indirect" else "total"
        ours = [row[name], row[f"{name}_std_error"], row[f"{name}_z_value"],
                row[f"{name}_ci_lower"], row[f"{name}_ci_upper"], row[f"{name}_std_all"]]
        theirs = ref.loc[key, ["est", "se", "z", "ci.lower", "ci.upper", "std_all"]]
        np.testing.assert_allclose(ours, theirs.to_numpy(float), rtol=1e-4, err_msg=name)
        assert row[f"{name}_p_value"] == pytest.approx(ref.loc[key, "pvalue"], abs=1e-6)


def test_method_fiml_is_ml_with_missing_fiml(fits):
    result = _fit("poldem_fiml", fits)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CSIWarning)
        alias = csisem.fit(csisem.parse_lavaan(POLDEM),
                           pd.read_csv(DATA / "political_democracy_missing.csv"),
                           method="fiml")
    assert any("full-information maximum likelihood" in str(w.message) for w in caught)
    assert (alias.method, alias.data_info.missing) == ("ml", "fiml")
    pd.testing.assert_frame_equal(alias.parameters, result.parameters, rtol=1e-10)
    assert alias.fit["chisq"] == pytest.approx(result.fit["chisq"], rel=1e-10)


@pytest.mark.parametrize(("method", "reference"), [("ml", "lavaan_hs_invariance.csv"),
                                                   ("mlr", "lavaan_hs_invariance_mlr.csv")])
def test_measurement_invariance_matches_lavtestlrt(method, reference):
    # lavTestLRT(configural, metric, scalar): ML chi-square differences, MLR Satorra-Bentler
    # (2001) scaled differences; CFI/RMSEA of each model from fitMeasures().
    hs = pd.read_csv(DATA / "holzinger_swineford.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CSIWarning)
        table = csisem.measurement_invariance(_model("hs"), hs, group="school", method=method)
    ref = pd.read_csv(DATA / reference)
    assert list(table["model"]) == list(ref["model"]) == ["configural", "metric", "scalar"]
    columns = {"npar": "npar", "chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli",
               "rmsea": "rmsea", "srmr": "srmr", "aic": "aic", "bic": "bic",
               "delta_chisq": "chisq_diff", "delta_df": "df_diff"}
    if method == "mlr":
        columns.update(chisq_scaled="chisq_scaled",
                       chisq_scaling_factor="chisq_scaling_factor",
                       cfi_robust="cfi_robust", rmsea_robust="rmsea_robust")
    for ours, theirs in columns.items():
        np.testing.assert_allclose(table[ours], ref[theirs], rtol=1e-4, err_msg=ours)
    # MLR: c_d = (d0 c0 - d1 c1) / (d0 - d1) is a difference of nearly equal numbers, which
    # magnifies lavaan's convergence error in the scaling factors (~1e-6, README
    # *Convergence*) sevenfold; the scaled difference then agrees to 7e-6 and p to 5e-6.
    np.testing.assert_allclose(table["p_value"], ref["pvalue_diff"], rtol=0,
                               atol=1e-6 if method == "ml" else 1e-5)
    np.testing.assert_allclose(table["delta_cfi"].iloc[1:], ref["cfi"].diff().iloc[1:],
                               rtol=1e-4)
    np.testing.assert_allclose(table["delta_rmsea"].iloc[1:], ref["rmsea"].diff().iloc[1:],
                               rtol=1e-4)
