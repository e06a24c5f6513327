"""The SERVQUAL gap chart and the Kano better/worse diagram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from csisem.errors import OptionError
from csisem.measures import kano, servqual
from csisem.plotting._common import ACCENT, ALERT


@pytest.fixture(scope="module")
def gaps():  # type: ignore[no-untyped-def]
    data = pd.DataFrame({f"{kind}{k}": [5, 5] for kind in "EP" for k in range(1, 23)})
    data.loc[0, "P5"] = 2  # reliability item 5: gap -1.5 on average
    data.loc[0, "P1"] = 7  # tangibles item 1: gap +1
    return servqual(data)


def test_gap_chart_has_one_bar_per_item_coloured_by_sign(gaps) -> None:  # type: ignore[no-untyped-def]
    fig = gaps.plot()
    (ax,) = fig.axes
    bars = ax.patches
    assert len(bars) == 22
    widths = [b.get_width() for b in bars]
    np.testing.assert_allclose(widths, gaps.items["gap"])  # drawn top to bottom in order
    assert to_hex(bars[4].get_facecolor()) == ALERT       # item 5, negative gap
    assert to_hex(bars[0].get_facecolor()) == ACCENT      # item 1, positive gap
    labels = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()),
                      strict=True))
    assert (labels[21], labels[0]) == ("TAN P1", "EMP P22")  # item 1 on top
    assert ax.get_xlabel() == "Gap: perception - expectation"


def test_gap_chart_of_dimensions_and_level_check(gaps) -> None:  # type: ignore[no-untyped-def]
    ax = gaps.plot(level="dimensions").axes[0]
    assert len(ax.patches) == 5
    assert {t.get_text() for t in ax.get_yticklabels()} == {
        "Tangibles", "Reliability", "Responsiveness", "Assurance", "Empathy"}
    with pytest.raises(OptionError, match=r"level='respondents' is not supported"):
        gaps.plot(level="respondents")


def test_kano_plot_has_one_labelled_point_per_attribute() -> None:
    data = pd.DataFrame({"f1": [1, 1, 2], "d1": [5, 3, 5], "f2": [3, 3, 1], "d2": [3, 5, 3],
                         "f3": [1, 1, 1], "d3": [3, 3, 3]})
    result = kano(data, {"speed": ("f1", "d1"), "safety": ("f2", "d2"),
                         "style": ("f3", "d3")})
    fig = result.plot()
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    offsets = ax.collections[0].get_offsets()
    assert offsets.shape == (3, 2)
    np.testing.assert_allclose(offsets[:, 0], -result.attributes["worse"])
    np.testing.assert_allclose(offsets[:, 1], result.attributes["better"])
    assert [a.get_text() for a in ax.texts if a.get_text() in ("speed", "safety", "style")] \
        == ["speed", "safety", "style"]
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_ylim() == (0.0, 1.0)
