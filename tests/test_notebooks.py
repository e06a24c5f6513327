"""The notebooks in ``notebooks/`` run from top to bottom, without error, in under a minute each.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (ipykernel of this
interpreter) with ``notebooks/`` as working directory, as Jupyter would run it; the notebooks'
own ``assert`` cells check their numbers (e.g. csisem against SmartPLS). The notebooks are
stored without outputs; nothing is written back. The kernel gets ``MPLBACKEND=Agg``, so no
display is needed (the notebooks' ``%matplotlib inline`` renders figures to PNG, headless).

Run only these: ``pytest tests/test_notebooks.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["ecsi_tenenhaus2005.ipynb", "acsi_index.ipynb", "pls_vs_cbsem.ipynb",
         "write_your_own_spec.ipynb"]
CELL_TIMEOUT = 120   # seconds per cell
BUDGET = 60.0        # seconds per notebook, kernel start-up included


def _same_interpreter_cell() -> object:
    """A first cell that fails unless the kernel runs this interpreter (so it tests this
    csisem, not another installation)."""
    prefix = os.path.realpath(sys.prefix)
    return nbformat.v4.new_code_cell(
        "import os, sys\n"
        f"assert os.path.realpath(sys.prefix) == {prefix!r}, "
        "f'the python3 kernel runs {sys.executable}, not the test interpreter'")


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{name} is stored with outputs; clear them before committing")
    nb.cells.insert(0, _same_interpreter_cell())
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    client.execute()   # raises CellExecutionError, with the cell and traceback, on any error
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET, f"{name} took {elapsed:.1f} s (budget {BUDGET:.0f} s)"
