"""Figures: the path diagram's geometry and labels, the other plots, saving."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

import csisem
from csisem import plotting
from csisem.errors import OptionError
from csisem.models import Construct, Indicator, Model, Path
from csisem.plotting import _common

CATALOGUE = ("acsi", "ccsi", "csi6", "ecsi", "epsi", "ncsb", "scsb")


@pytest.fixture(scope="module")
def fitted() -> csisem.PLSResult:
    return csisem.fit("ecsi", "mobi")


@pytest.fixture(scope="module")
def boot() -> csisem.PLSResult:
    return csisem.fit("ecsi", "mobi", bootstrap=100, seed=1)


def _render(fig: Figure) -> object:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _node_boxes(fig: Figure) -> dict[str, Bbox]:
    """Window extent of every construct ellipse and indicator box, by gid."""
    renderer = _render(fig)
    ax = fig.axes[0]
    return {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches
            if (p.get_gid() or "").startswith(("construct:", "indicator:"))}


def _overlapping(boxes: dict[str, Bbox]) -> list[tuple[str, str]]:
    def hit(a: Bbox, b: Bbox) -> bool:
        return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1

    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2)
            if hit(ba, bb)]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ---- path diagram ----------------------------------------------------------------------------
@pytest.mark.parametrize("indicators", [False, True])
def test_ecsi_diagram_node_boxes_do_not_overlap(boot: csisem.PLSResult, indicators: bool
                                                ) -> None:
    fig = plotting.path_diagram(boot.model, boot, indicators=indicators, labels=True)
    boxes = _node_boxes(fig)
    n_expected = 7 + (len(boot.model.indicator_names) if indicators else 0)
    assert len(boxes) == n_expected
    assert _overlapping(boxes) == []


@pytest.mark.parametrize("name", CATALOGUE)
def test_catalogue_diagrams_with_indicators_do_not_overlap(name: str) -> None:
    fig = plotting.path_diagram(csisem.load_model(name), indicators=True, labels=True)
    assert _overlapping(_node_boxes(fig)) == []


def test_ecsi_diagram_arrows_carry_the_fitted_coefficients(fitted: csisem.PLSResult) -> None:
    fig = plotting.path_diagram(fitted.model, fitted)
    labels = {t.get_gid(): t.get_text() for t in fig.axes[0].texts
              if (t.get_gid() or "").startswith("label:")}
    assert len(labels) == len(fitted.paths)
    for row in fitted.paths.itertuples():
        assert labels[f"label:{row.source}->{row.target}"] == f"{row.estimate:.3f}"
    assert "0.505" in _texts(fig)  # IMAG -> CUEX on mobi
    arrows = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("path:")]
    assert len(arrows) == len(fitted.paths)


def test_ecsi_diagram_shows_r_squared_inside_endogenous_constructs(
        fitted: csisem.PLSResult) -> None:
    texts = _texts(plotting.path_diagram(fitted.model, fitted))
    for name, r2 in fitted.r_squared.items():
        assert f"R² = {r2:.3f}" in texts, name
    assert sum(t.startswith("R²") for t in texts) == len(fitted.model.endogenous)


def test_bootstrapped_diagram_adds_significance_stars(boot: csisem.PLSResult) -> None:
    fig = plotting.path_diagram(boot.model, boot)
    texts = _texts(fig)
    for row in boot.paths.itertuples():
        assert f"{row.estimate:.3f}{_common.stars(row.p_value)}" in texts
    assert any(t.endswith("***") for t in texts)
    assert any("p < .001" in t for t in texts)  # the legend
    plain = _texts(plotting.path_diagram(boot.model, boot, stars=False))
    assert not any(t.endswith("*") for t in plain)


def test_stars_thresholds() -> None:
    assert [_common.stars(p) for p in (0.0001, 0.005, 0.03, 0.05, 0.2, float("nan"), None)] \
        == ["***", "**", "*", "", "", "", ""]


def test_coefficient_labels_do_not_overlap_each_other_or_nodes(boot: csisem.PLSResult) -> None:
    for indicators in (False, True):
        fig = plotting.path_diagram(boot.model, boot, indicators=indicators)
        renderer = _render(fig)
        labels = {t.get_gid(): t.get_window_extent(renderer) for t in fig.axes[0].texts
                  if (t.get_gid() or "").startswith("label:")}
        assert _overlapping(labels) == []
        nodes = _node_boxes(fig)
        crossing = [(a, b) for a, ba in labels.items() for b, bb in nodes.items()
                    if _overlapping({a: ba, b: bb}) and b.startswith("indicator:")]
        assert crossing == []


def test_bare_model_diagram_has_structure_but_no_numbers(ecsi: Model) -> None:
    fig = plotting.path_diagram(ecsi, indicators=True)
    texts = _texts(fig)
    assert not any(t.startswith("R²") for t in texts)
    assert not [t for t in fig.axes[0].texts if (t.get_gid() or "").startswith("label:")]
    arrows = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("path:")]
    assert len(arrows) == len(ecsi.paths)
    assert set(ecsi.construct_names) <= set(texts)
    assert _overlapping(_node_boxes(fig)) == []


def test_diagram_option_errors(fitted: csisem.PLSResult) -> None:
    with pytest.raises(OptionError, match="decimals=-1 is not supported"):
        plotting.path_diagram(fitted.model, fitted, decimals=-1)
    with pytest.raises(OptionError, match=r"result= is a fit of model 'ECSI'.*'ACSI'"):
        plotting.path_diagram(csisem.load_model("acsi"), fitted)


def test_layout_runs_left_to_right_and_is_deterministic(ecsi: Model) -> None:
    pos = plotting.layout(ecsi)
    assert pos == plotting.layout(ecsi)
    assert set(pos) == set(ecsi.construct_names)
    for p in ecsi.paths:
        assert pos[p.source][0] < pos[p.target][0]


def test_diagram_draws_into_a_given_axes(fitted: csisem.PLSResult) -> None:
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    assert plotting.path_diagram(fitted.model, fitted, ax=ax) is fig
    assert "0.505" in [t.get_text() for t in ax.texts]


def test_labels_with_markup_or_dollars_render_literally(tmp_path: object) -> None:
    hostile = "<script>alert(1)</script> costs $5 and $x$"
    model = Model(name="odd", constructs=(
        Construct("A", (Indicator("a1"), Indicator("a2")), label=hostile),
        Construct("B", (Indicator("b1"),), label="100% $$ sure")),
        paths=(Path("A", "B"),))
    fig = plotting.path_diagram(model, indicators=True, labels=True, title=hostile)
    _render(fig)  # a mathtext parse error would be raised here
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert any(r"\$5" in t for t in shown)
    assert all("$" not in t.replace(r"\$", "") for t in shown)
    svg = plotting.save(fig, tmp_path / "odd.svg").read_bytes()  # type: ignore[operator]
    assert b"<script" not in svg


def test_diagrams_can_be_made_in_threads(ecsi: Model) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        figs = list(pool.map(lambda k: plotting.path_diagram(ecsi, indicators=k % 2 == 0),
                             range(4)))
    for fig in figs:
        _render(fig)
    assert all(isinstance(f, Figure) for f in figs)


# ---- saving -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<svg"),
                                               (".pdf", b"%PDF"), (".PNG", b"\x89PNG")])
def test_save_writes_the_format_of_the_extension(fitted: csisem.PLSResult, tmp_path: object,
                                                 suffix: str, magic: bytes) -> None:
    fig = plotting.path_diagram(fitted.model, fitted)
    out = plotting.save(fig, tmp_path / f"ecsi{suffix}")  # type: ignore[operator]
    data = out.read_bytes()
    assert len(data) > 1000
    assert magic in data[:400]


def test_save_rejects_other_extensions(ecsi: Model, tmp_path: object) -> None:
    fig = plotting.path_diagram(ecsi)
    with pytest.raises(OptionError, match=r"'ecsi\.jpg'.*\.png, \.svg, \.pdf"):
        plotting.save(fig, tmp_path / "ecsi.jpg")  # type: ignore[operator]


# ---- other figures ----------------------------------------------------------------------------
def test_bootstrap_histograms_one_axes_per_parameter(boot: csisem.PLSResult) -> None:
    fig = plotting.bootstrap_histograms(boot)
    assert len(fig.axes) == len(boot.paths)
    for ax in fig.axes:
        assert len(ax.lines) == 3  # estimate and the two interval ends
        assert len(ax.patches) == 30  # histogram bars
    some = plotting.bootstrap_histograms(boot, "loadings", ["IMAG -> IMAG1", "CUSL -> CUSL2"],
                                         ci="bca", bins=10)
    assert len(some.axes) == 2
    row = boot.bootstrap.tables["loadings"].iloc[0]
    assert sorted(some.axes[0].lines[k].get_xdata()[0] for k in (1, 2)) == pytest.approx(
        sorted([row["bca_lower"], row["bca_upper"]]))


def test_bootstrap_histograms_errors(fitted: csisem.PLSResult, boot: csisem.PLSResult) -> None:
    with pytest.raises(OptionError, match="no bootstrap draws"):
        plotting.bootstrap_histograms(fitted)
    with pytest.raises(OptionError, match="table='nope' was not bootstrapped"):
        plotting.bootstrap_histograms(boot, "nope")
    with pytest.raises(OptionError, match=r"unknown paths parameter.*'A -> B'.*IMAG -> CUEX"):
        plotting.bootstrap_histograms(boot, which=["A -> B"])
    with pytest.raises(OptionError, match="ci='student'"):
        plotting.bootstrap_histograms(boot, ci="student")


def test_row_labels_name_each_bootstrap_family(boot: csisem.PLSResult) -> None:
    tables = boot.bootstrap.tables
    assert plotting.row_labels(tables["paths"])[0] == "IMAG -> CUEX"
    assert plotting.row_labels(tables["loadings"])[0] == "IMAG -> IMAG1"
    assert plotting.row_labels(tables["htmt"])[0] == "IMAG ~ CUEX"
    assert plotting.row_labels(tables["r_squared"])[0] == "CUEX"


def test_htmt_heatmap_marks_the_thresholds(fitted: csisem.PLSResult) -> None:
    fig = plotting.htmt_heatmap(fitted)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # heatmap and colour bar
    values = fitted.htmt.to_numpy()[np.tril_indices(7, -1)]
    assert len(ax.texts) == len(values) == 21
    assert len(ax.patches) == int(np.sum(values >= 0.85))  # one frame per cell above 0.85
    bold = [t for t in ax.texts if t.get_fontweight() == "bold"]
    assert len(bold) == int(np.sum(values >= 0.85))
    assert "0.85" in ax.get_title()
    with pytest.raises(OptionError, match="kind='htmt3'"):
        plotting.htmt_heatmap(fitted, kind="htmt3")


def test_heatmap_of_a_rectangular_frame_shows_every_cell(fitted: csisem.PLSResult) -> None:
    fig = plotting.loadings_heatmap(fitted)
    ax = fig.axes[0]
    assert len(ax.texts) == fitted.cross_loadings.size
    assert len(ax.patches) == len(fitted.model.indicator_names)  # own construct framed
    fig2 = plotting.heatmap(pd.DataFrame([[1.0, np.nan], [0.5, 2.0]], index=["$a", "b"],
                                         columns=["c", "d"]), title="costs in $")
    _render(fig2)
    assert len(fig2.axes[0].texts) == 3


def test_index_plot_per_construct_and_per_group(boot: csisem.PLSResult) -> None:
    index = boot.index
    fig = plotting.index_plot(index, title="ECSI")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(index["construct"])
    assert len(ax.collections) == 1  # the interval bars
    assert len(ax.texts) == len(index)

    two = pd.concat([index.assign(segment="new"),
                     index.assign(segment="loyal", estimate=index["estimate"] - 2)])
    fig = plotting.index_plot(two, "segment")
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # interval bars, one set per group
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["new", "loyal"]

    groups = pd.DataFrame({"segment": ["A", "B", "C"], "estimate": [70.0, 72.0, 68.5],
                           "ci_lower": [68.0, 70.0, 66.0], "ci_upper": [72.0, 74.0, 71.0]})
    fig = plotting.index_plot(groups, "segment")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["A", "B", "C"]

    with pytest.raises(OptionError, match=r"lacks column.*construct"):
        plotting.index_plot(groups)


def test_ipma_plot_reuses_the_ipma_figure(fitted: csisem.PLSResult) -> None:
    fig = plotting.ipma_plot(fitted, "CUSL")
    assert len(fig.axes) == 1
    assert "CUSL" in fig.axes[0].get_title()
