"""Model -> semopy syntax (pure strings) and the CB-SEM parameter table (lavaan defaults)."""

from __future__ import annotations

import re
from pathlib import Path as FilePath

import pytest

import csisem
from csisem.errors import SpecError
from csisem.estimation.cbsem_spec import (
    build_independence_spec,
    build_saturated_spec,
    build_spec,
)
from csisem.estimation.cbsem_syntax import latent_names, to_semopy_syntax
from csisem.models import Construct, Covariance, Indicator, Mode, Model, Path

POLDEM = (FilePath(__file__).parents[1] / "reference" / "data" / "political_democracy.lav"
          ).read_text(encoding="utf-8")


def test_ecsi_syntax_renames_cusco_and_fixes_its_error_variance(ecsi):
    text = to_semopy_syntax(ecsi)
    assert "CUSCO__lv =~ 1*CUSCO\n" in text
    assert "CUSCO ~~ 0*CUSCO\n" in text
    assert "IMAG =~ 1*IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n" in text
    assert "CUSA ~ IMAG + CUEX + PERQ + PERV\n" in text
    assert "CUSL ~ IMAG + CUSA + CUSCO__lv\n" in text
    assert latent_names(ecsi)["CUSCO"] == "CUSCO__lv"
    assert latent_names(ecsi)["IMAG"] == "IMAG"


def test_poldem_syntax_keeps_residual_covariances():
    text = to_semopy_syntax(csisem.parse_lavaan(POLDEM))
    assert text == (
        "# measurement model\n"
        "ind60 =~ 1*x1 + x2 + x3\n"
        "dem60 =~ 1*y1 + y2 + y3 + y4\n"
        "dem65 =~ 1*y5 + y6 + y7 + y8\n"
        "# structural model\n"
        "dem60 ~ ind60\n"
        "dem65 ~ ind60 + dem60\n"
        "# variances and covariances\n"
        "y1 ~~ y5\ny2 ~~ y4\ny2 ~~ y6\ny3 ~~ y7\ny4 ~~ y8\ny6 ~~ y8\n")


def test_syntax_with_fixed_values_and_free_exogenous_covariances():
    model = csisem.parse_lavaan("A =~ a1 + 0.5*a2 + a3\nB =~ b1 + b2 + b3\n"
                                "C =~ c1 + c2 + c3\nC ~ A + 0.3*B\nA ~~ 1*A")
    text = to_semopy_syntax(model)
    # a fixed loading or a fixed variance is the construct's scale: no automatic marker
    assert "A =~ a1 + 0.5*a2 + a3\n" in text
    assert "B =~ 1*b1 + b2 + b3\n" in text
    assert "C ~ A + 0.3*B\n" in text
    assert "A ~~ 1*A\n" in text
    assert "A ~~ B\n" in text  # exogenous constructs covary (lavaan's auto.cov.lv.x)


def test_syntax_rejects_composites():
    model = Model(name="mixed", constructs=(
        Construct("A", (Indicator("a1"), Indicator("a2")), Mode.COMPOSITE_B),
        Construct("B", (Indicator("b1"), Indicator("b2"))),
        Construct("C", (Indicator("c1"), Indicator("c2")), Mode.COMPOSITE_A)),
        paths=(Path("A", "B"), Path("C", "B")))
    with pytest.raises(SpecError, match=re.escape(
            "CB-SEM needs reflective (common-factor) constructs, but model 'mixed' has "
            "composite construct(s) A (composite_b), C (composite_a)")):
        to_semopy_syntax(model)
    with pytest.raises(SpecError, match=r"or fit the model by PLS \(method='pls' or 'plsc'\)"):
        build_spec(model)


def test_parameter_table_of_poldem_has_lavaans_31_parameters():
    spec = build_spec(csisem.parse_lavaan(POLDEM))
    assert spec.n_free == 31  # lavaan npar (lavaan_poldem_ml_fit.csv)
    assert spec.n_moments() - spec.n_free == 35  # lavaan df
    kinds = spec.table.groupby("kind")["free"].apply(lambda f: int((f >= 0).sum())).to_dict()
    assert kinds == {"loading": 8, "path": 3, "error_covariance": 6, "error_variance": 11,
                     "variance": 1, "residual_variance": 2}
    markers = spec.table[(spec.table["kind"] == "loading") & (spec.table["free"] < 0)]
    assert list(markers["rhs"]) == ["x1", "y1", "y5"]
    assert (markers["value"] == 1).all()


def test_parameter_table_of_ecsi_has_lavaans_59_parameters(ecsi):
    spec = build_spec(ecsi)
    assert spec.n_free == 59  # lavaan npar, both ECSI forms
    assert spec.n_moments() - spec.n_free == 241
    cusco = spec.table[(spec.table["lhs"] == "CUSCO") & (spec.table["rhs"] == "CUSCO")]
    assert dict(zip(cusco["kind"], cusco["free"] >= 0, strict=True)) == {
        "loading": False, "error_variance": False, "residual_variance": True}
    assert dict(zip(cusco["kind"], cusco["value"].fillna(-1), strict=True)) == {
        "loading": 1.0, "error_variance": 0.0, "residual_variance": -1}


def test_pure_endogenous_constructs_covary_by_default():
    # two outcomes that predict nothing: lavaan's auto.cov.y frees their residual covariance
    model = csisem.parse_lavaan("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nC =~ c1 + c2 + c3\n"
                                "B ~ A\nC ~ A")
    table = build_spec(model).table
    row = table[(table["lhs"] == "B") & (table["op"] == "~~") & (table["rhs"] == "C")]
    assert list(row["kind"]) == ["residual_covariance"]
    assert (row["free"] >= 0).all()


def test_multi_group_table_with_equal_loadings_and_intercepts():
    model = csisem.parse_lavaan("F =~ x1 + x2 + x3")
    spec = build_spec(model, groups=("a", "b"), meanstructure=True,
                      group_equal=[csisem.options.GroupEqual.LOADINGS,
                                   csisem.options.GroupEqual.INTERCEPTS])
    t = spec.table
    loadings = t[(t["kind"] == "loading") & (t["free"] >= 0)]
    assert loadings.groupby("rhs")["free"].nunique().eq(1).all()  # shared across groups
    means = t[t["kind"] == "mean"]
    # latent means: fixed in the first group, free in the others when intercepts are equal
    assert list(means["free"] >= 0) == [False, True]
    # 2 loadings + 3 intercepts shared; 3 error variances + 1 variance per group; 1 mean
    assert spec.n_free == 2 + 3 + 2 * 4 + 1


def test_labels_make_parameters_equal():
    model = csisem.parse_lavaan("F =~ x1 + a*x2 + a*x3")
    spec = build_spec(model)
    free = spec.table[spec.table["label"] == "a"]["free"]
    assert free.nunique() == 1
    assert (free >= 0).all()


def test_independence_and_saturated_specs():
    names = ("x1", "x2", "x3")
    assert build_independence_spec(names).n_free == 3
    assert build_independence_spec(names, groups=("a", "b"), meanstructure=True).n_free == 12
    assert build_saturated_spec(names).n_free == 6 + 3


def test_single_indicator_error_variance_can_be_given():
    model = Model(name="m", constructs=(
        Construct("A", (Indicator("a1"), Indicator("a2"), Indicator("a3"))),
        Construct("B", (Indicator("b1"),))),
        paths=(Path("A", "B"),), covariances=(Covariance("b1", "b1", fixed=0.5),))
    text = to_semopy_syntax(model)
    assert "b1 ~~ 0.5*b1\n" in text
    assert "b1 ~~ 0*b1" not in text
    table = build_spec(model).table
    assert list(table[(table["lhs"] == "b1") & (table["op"] == "~~")]["value"]) == [0.5]
