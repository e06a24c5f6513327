"""Kano: the evaluation table, categories, tie rule and better/worse, by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csisem.errors import DataError, OptionError
from csisem.measures import kano
from csisem.measures.kano import kano_category, read_pairs

# Berger et al. (1993) / Matzler & Hinterhuber (1998): rows functional, columns
# dysfunctional, both in the order like, must-be, neutral, live-with, dislike.
TABLE = """\
Q A A A O
R I I I M
R I I I M
R I I I M
R R R R Q"""


def answers() -> pd.DataFrame:
    """Seven respondents, three attributes (None: not answered)."""
    return pd.DataFrame({
        # checkin pairs: (1,5) O, (1,5) O, (1,3) A, (2,5) M, (3,3) I, (1,1) Q, (5,1) R
        "checkin_f": [1, 1, 1, 2, 3, 1, 5],
        "checkin_d": [5, 5, 3, 5, 3, 1, 1],
        # minibar pairs: (3,5) M, (4,5) M, (1,2) A, (1,4) A, (3,4) I, (2,2) I, missing
        "minibar_f": [3, 4, 1, 1, 3, 2, None],
        "minibar_d": [5, 5, 2, 4, 4, 2, 3],
        # wifi in words: like/dislike is one-dimensional for everyone
        "wifi_f": ["like"] * 7,
        "wifi_d": ["Dislike"] * 7,
    })


PAIRS = {"checkin": ("checkin_f", "checkin_d"), "minibar": ("minibar_f", "minibar_d"),
         "wifi": ("wifi_f", "wifi_d")}


def test_evaluation_table() -> None:
    rows = [" ".join(kano_category(f, d) for d in range(1, 6)) for f in range(1, 6)]
    assert "\n".join(rows) == TABLE


def test_categories_and_coefficients_by_hand() -> None:
    # checkin: O 2, A 1, M 1, I 1, Q 1, R 1 -> category O (the mode)
    #   better = (A + O) / (A + O + M + I) = 3 / 5 = .6; worse = -(O + M) / 5 = -.6
    # minibar (6 answered): M 2, A 2, I 2 -> a three-way tie, M by the rule M > O > A > I
    #   better = 2 / 6 = .333; worse = -2 / 6 = -.333
    # wifi: O 7 -> better 1, worse -1
    result = kano(answers(), PAIRS)
    t = result.attributes.set_index("attribute")
    assert t.loc["checkin", ["A", "O", "M", "I", "R", "Q"]].tolist() == [1, 2, 1, 1, 1, 1]
    assert list(t["category"]) == ["O", "M", "O"]
    assert list(t["category_name"]) == ["one-dimensional", "must-be", "one-dimensional"]
    assert list(t["n"]) == [7, 6, 7]
    np.testing.assert_allclose(t["better"], [0.6, 1 / 3, 1.0], rtol=1e-12)
    np.testing.assert_allclose(t["worse"], [-0.6, -1 / 3, -1.0], rtol=1e-12)
    assert list(result.respondents["checkin"]) == ["O", "O", "A", "M", "I", "Q", "R"]
    assert pd.isna(result.respondents.loc[6, "minibar"])


def test_tie_rule_order() -> None:
    # One O and one A: tie -> O (O before A); one A and one I -> A.
    data = pd.DataFrame({"f": [1, 1], "d": [5, 3], "g": [1, 3], "h": [3, 3]})
    t = kano(data, {"x": ("f", "d"), "y": ("g", "h")}).attributes
    assert list(t["category"]) == ["O", "A"]


def test_pairs_from_text_and_file(tmp_path: Path) -> None:
    assert read_pairs("checkin=checkin_f:checkin_d, wifi=wifi_f:wifi_d") == {
        "checkin": ("checkin_f", "checkin_d"), "wifi": ("wifi_f", "wifi_d")}
    path = tmp_path / "pairs.yaml"
    path.write_text("checkin: [checkin_f, checkin_d]\n"
                    "wifi: {functional: wifi_f, dysfunctional: wifi_d}\n", encoding="utf-8")
    assert kano(answers(), path).attributes["category"].tolist() == ["O", "O"]


def test_kano_errors() -> None:
    bad = answers().assign(checkin_d=[5, 5, 3, 5, 3, 1, 6])
    with pytest.raises(DataError, match=r"Kano column 'checkin_d': row 6 holds 6; answers are "
                                        r"1 like, 2 must-be"):
        kano(bad, PAIRS)
    with pytest.raises(DataError, match=r"Kano column 'wifi_f': row 0 holds 'maybe'"):
        kano(answers().assign(wifi_f="maybe"), PAIRS)
    with pytest.raises(DataError, match=r"Kano pairs: column\(s\) 'parking_d' not in the "
                                        r"data;"):
        kano(answers(), {"parking": ("checkin_f", "parking_d")})
    with pytest.raises(OptionError, match=r"Kano pair 'wifi=wifi_f' is not of the form "
                                          r"ATTRIBUTE=FUNCTIONAL:DYSFUNCTIONAL"):
        kano(answers(), "wifi=wifi_f")
    with pytest.raises(OptionError, match=r"Kano attribute 'wifi': give its functional and "
                                          r"dysfunctional columns as a pair"):
        kano(answers(), {"wifi": ["wifi_f"]})
