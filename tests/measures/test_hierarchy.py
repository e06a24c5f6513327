"""The expert-weighted hierarchical index: hand example, AHP/Delphi weights, PLS comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataError, OptionError, OutOfScaleWarning
from csisem.indices import normalised_weights
from csisem.measures import Hierarchy, ahp, delphi, weighted_index

SMALL_SPEC = """\
name: small
scale: [1, 5]
constructs:
  QUAL:
    label: Quality
    indicators: [q1, q2]
  SAT:
    label: Satisfaction
    indicators: [s1]
paths:
  SAT: [QUAL]
"""


@pytest.fixture(scope="module")
def small() -> csisem.Model:
    return csisem.parse_spec(SMALL_SPEC)


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return pd.DataFrame({"q1": [5, 1], "q2": [3, 1], "s1": [4, 2]})


def test_weighted_index_by_hand(small: csisem.Model, answers: pd.DataFrame) -> None:
    # Weights: index <- QUAL, SAT by AHP [[1, 3], [1/3, 1]] -> .75, .25 (a 2 x 2 matrix is
    # consistent: w = (3, 1) / 4); QUAL <- q1, q2 given as 2 : 1 -> 2/3, 1/3; SAT <- s1: 1.
    # Rescaling on the 1-5 scale: 100 (x - 1) / 4.
    #   respondent 1: q1 5 -> 100, q2 3 -> 50, s1 4 -> 75
    #     QUAL = 2/3 * 100 + 1/3 * 50 = 83.333;  SAT = 75
    #     index = .75 * 83.333 + .25 * 75 = 62.5 + 18.75 = 81.25
    #   respondent 2: q1 1 -> 0, q2 1 -> 0, s1 2 -> 25
    #     QUAL = 0;  SAT = 25;  index = .25 * 25 = 6.25
    # Overall index = (81.25 + 6.25) / 2 = 43.75. Global weights: q1 .75 * 2/3 = .5,
    # q2 .25, s1 .25 (and 100 (.5*5 + .25*3 + .25*4 - 1) / 4 = 81.25 again).
    result = weighted_index(answers, small, {"index": ahp([[1, 3], [1 / 3, 1]],
                                                          ["QUAL", "SAT"]),
                                             "QUAL": {"q1": 2, "q2": 1}})
    np.testing.assert_allclose(result.scores["index"], [81.25, 6.25], rtol=1e-12)
    np.testing.assert_allclose(result.scores["QUAL"], [250 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(result.scores["SAT"], [75.0, 25.0], rtol=1e-12)
    assert result.index == pytest.approx(43.75, rel=1e-12)
    w = result.weights.set_index("node")
    np.testing.assert_allclose(w.loc[["QUAL", "SAT", "q1", "q2", "s1"], "global_weight"],
                               [0.75, 0.25, 0.5, 0.25, 0.25], rtol=1e-12)
    assert list(w.loc[["QUAL", "q1", "s1"], "source"]) == ["ahp", "given", "equal"]
    assert list(result.overall["node"]) == ["index", "QUAL", "SAT"]
    assert "Index        43.8 (0-100)" in str(result)


def test_question_level_and_delphi_weights(small: csisem.Model) -> None:
    # q1 is asked as two questions a, b weighted by a Delphi panel (.6, .4); q2 by c.
    # Respondent: a 5 -> 100, b 1 -> 0, c 3 -> 50, s1 5 -> 100 (equal weights elsewhere).
    #   q1 = .6 * 100 + .4 * 0 = 60; q2 = 50; QUAL = (60 + 50) / 2 = 55; SAT = 100
    #   index = (55 + 100) / 2 = 77.5
    panel = delphi({1: {"e1": {"a": 6, "b": 4}, "e2": {"a": 6, "b": 4}}})
    data = pd.DataFrame({"a": [5], "b": [1], "c": [3], "s1": [5]})
    result = weighted_index(data, small, {"q1": panel},
                            questions={"q1": ["a", "b"], "q2": ["c"]})
    assert result.hierarchy.levels == ("index", "construct", "indicator", "question")
    assert result.scores.loc[0, "q1"] == pytest.approx(60.0, rel=1e-12)
    assert result.scores.loc[0, "QUAL"] == pytest.approx(55.0, rel=1e-12)
    assert result.index == pytest.approx(77.5, rel=1e-12)
    assert result.weights.set_index("node").loc["a", "source"] == "delphi"


def test_hierarchy_from_dict_needs_a_scale() -> None:
    tree = Hierarchy.from_dict({"A": ["x", "y"], "B": {"B1": ["z"]}}, root="csi")
    assert tree.leaves == ["x", "y", "z"]
    assert tree.levels == ("index", "level_1", "level_2", "level_3")
    data = pd.DataFrame({"x": [1, 3], "y": [3, 3], "z": [2, 2]})
    with pytest.raises(OptionError, match=r"The item scale is unknown: pass scale="):
        weighted_index(data, tree)
    # scale 1-3: x (0, 100), y 100, z 50 -> A (50, 100), B (50, 50), csi (50, 75)
    result = weighted_index(data, tree, scale=(1, 3))
    np.testing.assert_allclose(result.scores["csi"], [50.0, 75.0], rtol=1e-12)


def test_pls_indicator_weights_reproduce_the_acsi_indices(mobi: pd.DataFrame) -> None:
    # With the PLS fit's normalised index weights at indicator level, each construct's mean
    # score is the fit's 0-100 index (Fornell et al. 1996): the same formula, reused.
    fit = csisem.fit("ecsi", mobi)
    design = fit.design
    w = fit.weights.set_index("indicator")["estimate"].reindex(design.indicators).to_numpy()
    sd = fit.indicator_std.reindex(design.indicators).to_numpy()
    w_tilde, _ = normalised_weights(design, w, sd)
    by_construct: dict[str, dict[str, float]] = {}
    for j, name in enumerate(design.indicators):
        by_construct.setdefault(design.names[design.owner[j]], {})[name] = w_tilde[j]
    result = weighted_index(mobi, "ecsi", by_construct)
    means = result.overall.set_index("node")["mean"]
    index = fit.index.set_index("construct")["estimate"]
    np.testing.assert_allclose(means[list(index.index)], index, rtol=1e-10)

    table = result.compare_pls(fit)
    indicators = table[table["level"] == "indicator"]
    np.testing.assert_allclose(indicators["difference"], 0.0, atol=1e-12)
    constructs = table[table["level"] == "construct"].set_index("node")
    # Target CUSA (ECSI's satisfaction construct): its drivers share the PLS weight.
    drivers = ["IMAG", "CUEX", "PERQ", "PERV"]
    assert constructs.loc[drivers, "pls_weight"].sum() == pytest.approx(1.0, rel=1e-12)
    assert constructs.loc[["CUSA", "CUSCO", "CUSL"], "pls_weight"].isna().all()
    importance = fit.ipma("CUSA").constructs.set_index("construct")["importance"]
    np.testing.assert_allclose(constructs.loc[drivers, "pls_weight"],
                               importance[drivers] / importance.sum(), rtol=1e-12)


def test_weight_and_hierarchy_errors(small: csisem.Model, answers: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match=r"weights=: 'QAUL' is not an inner node of the "
                                          r"hierarchy .* Did you mean 'QUAL'\?"):
        weighted_index(answers, small, {"QAUL": {"q1": 1, "q2": 1}})
    with pytest.raises(OptionError, match=r"weights\['QUAL'\] must weigh exactly the children "
                                          r"of 'QUAL' \(missing: q2; not children: q3\)"):
        weighted_index(answers, small, {"QUAL": {"q1": 1, "q3": 1}})
    with pytest.raises(OptionError, match=r"weights\['QUAL'\]: weights must be numbers of at "
                                          r"least 0"):
        weighted_index(answers, small, {"QUAL": [1, -1]})
    with pytest.raises(OptionError, match=r"holds a weight that is not a number"):
        weighted_index(answers, small, {"QUAL": {"q1": "high", "q2": 1}})
    with pytest.raises(OptionError, match=r"give the questions of every indicator of "
                                          r"construct 'QUAL' or of none \(missing: q2\)"):
        weighted_index(answers, small, questions={"q1": ["a"]})
    with pytest.raises(DataError, match=r"Weighted index: column\(s\) 's1' not in the data"):
        weighted_index(answers.drop(columns="s1"), small)
    with pytest.warns(OutOfScaleWarning, match=r"outside the item scale 1 to 5 in: q1 \(1\)"):
        weighted_index(answers.assign(q1=[9, 1]), small)
    tree = Hierarchy.from_dict({"A": ["q1", "q2"]})
    with pytest.raises(OptionError, match=r"compare_pls\(\) needs an index built from a "
                                          r"model"):
        weighted_index(answers, tree, scale=(1, 5)).compare_pls()
    with pytest.raises(OptionError, match=r"Hierarchy node 'A' mixes data columns and "
                                          r"sub-nodes"):
        Hierarchy(root="i", nodes=(("i", "A"), ("A", "B")), columns=(("A", "x"), ("B", "y")),
                  levels=("i", "a", "b", "c"))
