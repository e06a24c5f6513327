"""Figures for fitted and unfitted models (matplotlib, no Graphviz, no pyplot state).

- :func:`path_diagram` / :func:`layout`: the structural model drawn left to right;
- :func:`bootstrap_histograms`: bootstrap distributions of chosen parameters;
- :func:`heatmap`, :func:`htmt_heatmap`, :func:`loadings_heatmap`: matrices as heatmaps;
- :func:`index_plot`: 0-100 indices with intervals, per construct or per group;
- :func:`ipma_plot`: the importance-performance map;
- :func:`save`: write a figure as PNG, SVG or PDF (chosen by the file extension).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing
global changes: figures can be made headless and in several threads at once. In a notebook a
returned figure displays itself; in a script, :func:`save` it.
"""

from ._common import save
from .diagram import path_diagram
from .figures import (
    bootstrap_histograms,
    heatmap,
    htmt_heatmap,
    index_plot,
    ipma_plot,
    loadings_heatmap,
    row_labels,
)
from .nodes import layout

__all__ = [
    "bootstrap_histograms",
    "heatmap",
    "htmt_heatmap",
    "index_plot",
    "ipma_plot",
    "layout",
    "loadings_heatmap",
    "path_diagram",
    "row_labels",
    "save",
]
