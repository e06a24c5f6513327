"""Extract SmartPLS 2.0.M3 reference values for the ECSI model on mobi into tidy CSVs.

Source
------
``/work/shared/data/mobi_ecsi_smartpls.json`` (see ``/work/shared/data/PROVENANCE.md``):
SmartPLS 2.0.M3 output for the ECSI model on the 250 x 24 ``mobi`` data, taken from the
test files of the R package semPLS 1.0-10 (GPL-2; GitHub cran/semPLS at commit
96f0d593d824078adaff386fc3a5a4c6bf0683d2,
``tests/SmartPLS/results/ecsi/{pathWeighting,centroid,factorial}/*.txt``), which
semPLS checks itself against in ``tests/regtest_SmartPLS.R``. SmartPLS settings recorded
there: indicators standardised (mean 0, var 1), initial weights 1.0, abort criterion
1.0E-7, maximum iterations 34.

Output (``tests/reference/data/``), numbers copied verbatim as printed in the JSON
(8 decimals, no float round-trip):

* ``smartpls_ecsi_paths.csv``          scheme,source,target,estimate
* ``smartpls_ecsi_weights.csv``        scheme,construct,indicator,estimate
* ``smartpls_ecsi_loadings.csv``       scheme,construct,indicator,estimate
* ``smartpls_ecsi_total_effects.csv``  scheme,source,target,estimate
* ``smartpls_ecsi_settings.csv``       scheme,setting,value  (parsed from the SmartPLS
  settings text: software_version, data_file, weighting_scheme, data_metric,
  max_iterations, abort_criterion, initial_weights, and converged_after_iterations
  where SmartPLS reported it -- only for the path scheme)

The JSON holds no R-squared, reliability or other tables. Construct names are mapped
Image/Expectation/Quality/Value/Satisfaction/Complaints/Loyalty ->
IMAG/CUEX/PERQ/PERV/CUSA/CUSCO/CUSL; schemes pathWeighting/centroid/factorial ->
path/centroid/factorial.

Usage::

    python tests/reference/extract_smartpls.py [path/to/mobi_ecsi_smartpls.json]

Requires only the standard library and pandas.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / ".." / ".." / ".." / "shared" / "data" / "mobi_ecsi_smartpls.json"
OUT_DIR = HERE / "data"

CONSTRUCTS = {
    "Image": "IMAG",
    "Expectation": "CUEX",
    "Quality": "PERQ",
    "Value": "PERV",
    "Satisfaction": "CUSA",
    "Complaints": "CUSCO",
    "Loyalty": "CUSL",
}
BLOCKS = {
    "IMAG": [f"IMAG{i}" for i in range(1, 6)],
    "CUEX": [f"CUEX{i}" for i in range(1, 4)],
    "PERQ": [f"PERQ{i}" for i in range(1, 8)],
    "PERV": [f"PERV{i}" for i in range(1, 3)],
    "CUSA": [f"CUSA{i}" for i in range(1, 4)],
    "CUSCO": ["CUSCO"],
    "CUSL": [f"CUSL{i}" for i in range(1, 4)],
}
INDICATOR_TO_CONSTRUCT = {ind: c for c, inds in BLOCKS.items() for ind in inds}
PATHS = {
    ("IMAG", "CUEX"), ("IMAG", "CUSA"), ("IMAG", "CUSL"),
    ("CUEX", "PERQ"), ("CUEX", "PERV"), ("CUEX", "CUSA"),
    ("PERQ", "PERV"), ("PERQ", "CUSA"), ("PERV", "CUSA"),
    ("CUSA", "CUSCO"), ("CUSA", "CUSL"), ("CUSCO", "CUSL"),
}  # fmt: skip
SCHEMES = {
    "SmartPLS_2.0.M3_pathWeighting": "path",
    "SmartPLS_2.0.M3_centroid": "centroid",
    "SmartPLS_2.0.M3_factorial": "factorial",
}
KNOWN_TABLES = {"path_coefficients", "outer_weights", "loadings", "total_effects", "settings"}


def _edges(scheme: str, table: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for key, value in table.items():
        source, target = key.split("->")
        rows.append(
            {
                "scheme": scheme,
                "source": CONSTRUCTS[source.strip()],
                "target": CONSTRUCTS[target.strip()],
                "estimate": value,
            }
        )
    return rows


def _indicators(scheme: str, table: dict[str, str]) -> list[dict[str, str]]:
    if set(table) != set(INDICATOR_TO_CONSTRUCT):
        raise ValueError(f"{scheme}: unexpected indicator set {sorted(table)}")
    return [
        {
            "scheme": scheme,
            "construct": INDICATOR_TO_CONSTRUCT[ind],
            "indicator": ind,
            "estimate": value,
        }
        for ind, value in table.items()
    ]


SETTING_PATTERNS = {
    "software_version": r"Version:\s*Version:\s*([^)\s]+)",
    "data_file": r"Data File:\s*(\S+)",
    "weighting_scheme": r"Weigthing Scheme:\s*(.+)",
    "data_metric": r"Data Metric:\s*(.+)",
    "max_iterations": r"Maximum Iterations:\s*(\S+)",
    "abort_criterion": r"Abort Criterion:\s*(\S+)",
    "initial_weights": r"Initial Weights:\s*(\S+)",
    "converged_after_iterations": r"Converged after\s+(\d+)\s+iterations",
}


def _settings(scheme: str, text: str) -> list[dict[str, str]]:
    rows = []
    for setting, pattern in SETTING_PATTERNS.items():
        match = re.search(pattern, text)
        if match:
            rows.append({"scheme": scheme, "setting": setting, "value": match.group(1).strip()})
    return rows


def extract(json_path: Path, out_dir: Path = OUT_DIR) -> dict[str, pd.DataFrame]:
    # parse_float=str keeps every number exactly as printed in the JSON
    with open(json_path, encoding="utf-8") as fh:
        raw = json.load(fh, parse_float=str, parse_int=str)

    tables: dict[str, list[dict[str, str]]] = {
        "paths": [],
        "weights": [],
        "loadings": [],
        "total_effects": [],
        "settings": [],
    }
    for block_name, block in raw.items():
        if block_name.startswith("_"):
            continue
        scheme = SCHEMES[block_name]
        unknown = set(block) - KNOWN_TABLES
        if unknown:
            raise ValueError(f"{block_name}: unhandled tables {sorted(unknown)}")
        paths = _edges(scheme, block["path_coefficients"])
        if {(r["source"], r["target"]) for r in paths} != PATHS:
            raise ValueError(f"{block_name}: path set differs from the ECSI model")
        tables["paths"] += paths
        tables["weights"] += _indicators(scheme, block["outer_weights"])
        tables["loadings"] += _indicators(scheme, block["loadings"])
        tables["total_effects"] += _edges(scheme, block["total_effects"])
        tables["settings"] += _settings(scheme, block["settings"])

    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {}
    for name, rows in tables.items():
        df = pd.DataFrame(rows, dtype=str)
        df.to_csv(out_dir / f"smartpls_ecsi_{name}.csv", index=False, lineterminator="\n")
        frames[name] = df
    return frames


def main(argv: list[str]) -> int:
    json_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_JSON
    frames = extract(json_path.resolve())
    for name, df in frames.items():
        print(f"smartpls_ecsi_{name}.csv: {len(df)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
