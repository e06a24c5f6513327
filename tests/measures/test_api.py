"""The measures are reachable from ``csisem`` without slowing ``import csisem`` down."""

from __future__ import annotations

import subprocess
import sys

import csisem
import csisem.measures


def test_top_level_names_are_the_measures_functions() -> None:
    for name in ("ahp", "delphi", "kano", "nps", "satisfaction_ratio", "servqual",
                 "weighted_index"):
        assert name in csisem.__all__
        assert getattr(csisem, name) is getattr(csisem.measures, name)
    assert csisem.measures is sys.modules["csisem.measures"]


def test_import_csisem_does_not_import_the_measures_or_matplotlib() -> None:
    code = ("import sys, csisem; print(any(m.startswith(('csisem.measures', 'matplotlib')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
