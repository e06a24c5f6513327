"""Regenerate the figures shown in the README: ``python docs/make_figures.py``."""

from __future__ import annotations

from pathlib import Path

import csisem
from csisem.plotting import save

HERE = Path(__file__).parent


def main() -> None:
    result = csisem.fit("ecsi", "mobi", bootstrap=5000, seed=1)
    save(result.plot(indicators=True, labels=True), HERE / "ecsi_path_diagram.png", dpi=110)
    save(result.ipma("CUSL").plot(), HERE / "ecsi_ipma_cusl.png", dpi=110)


if __name__ == "__main__":
    main()
