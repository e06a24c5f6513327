# Reference values for the ECSI model on mobi with missing cells, from the PyPI package
# ``seminr`` 0.2.1 (Python port of R seminr, GPL-3.0-only, https://github.com/sem-in-r/seminr-py).
#
# Generated with: seminr 0.2.1, numpy 2.4.6, scipy 1.17.1, pandas 3.1.1, CPython 3.11.7,
# in a throw-away virtualenv (seminr is NOT a csisem dependency):
#
#     python3 -m venv /tmp/refenv
#     /tmp/refenv/bin/pip install seminr==0.2.1 pandas
#     /tmp/refenv/bin/python tests/reference/generate_seminr_missing.py
#
# Step 1 -- the data set ``data/mobi_missing.csv`` (recipe, see make_missing()):
#   * start from mobi exactly as csisem.datasets.load_mobi() returns it (that function reads
#     csisem/datasets/mobi.csv, sha256 checked below; 250 rows x 24 indicator columns);
#   * rng = numpy.random.default_rng(2026);
#     cells = rng.choice(250 * 24, size=180, replace=False)   # 180 = 3% of 6000 cells
#     each flat index k is the cell (row k // 24, column k % 24) in the file's column order
#     (row-major), and is set to missing. MCAR: the choice ignores the values.
#   * written with pandas' nullable Int64 so observed cells stay integers and missing cells
#     are empty; the resulting file's sha256 is checked (MISSING_SHA256) so a numpy version
#     whose Generator.choice stream differs cannot silently change the data.
#
# Step 2 -- seminr fits of ECSI on that file (read back with pandas.read_csv: empty -> NaN),
# settings as in generate_seminr.py: all seven constructs composite(..., weights=mode_A),
# inner_weights=path_weighting, max_it=300, stop_criterion=7, initial weights 1, twice:
#   * missing=na_omit          -> rows "listwise"
#   * missing=mean_replacement -> rows "mean" (seminr's default)
# What seminr 0.2.1 does (seminr/estimate/estimate_pls.py, estimate_pls() / na_omit() /
# mean_replacement()): the data are first subset to the measurement-model items (here all
# 24 columns), then the missing strategy runs on the RAW (unstandardised) values, and only
# afterwards simple_pls() z-scores the cleaned data (means and n-1 SDs of the cleaned data):
#   * na_omit: keep = ~isnan(values).any(axis=1); drop every row with a NaN in any item.
#   * mean_replacement: per column, col[isnan] = np.mean(col[~isnan]) -- the mean of that
#     column's observed raw values over all rows (before any row is dropped, before
#     standardisation); a column with > 5% missing only adds a text warning. Complete
#     columns are untouched.
"""Generate ``mobi_missing.csv`` and seminr 0.2.1 ECSI references on it (see header comment).

Writes to ``tests/reference/data/``:

* ``mobi_missing.csv``                   mobi with 180 MCAR cells empty
* ``seminr_ecsi_missing_paths.csv``      missing,source,target,estimate
* ``seminr_ecsi_missing_weights.csv``    missing,construct,indicator,estimate
* ``seminr_ecsi_missing_loadings.csv``   missing,construct,indicator,estimate

``missing`` is ``listwise`` (seminr ``na_omit``) or ``mean`` (seminr ``mean_replacement``).
Floats are written with ``%.17g`` (round-trip exact).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import seminr
from ecsi_common import (
    BLOCKS,
    FLOAT_FORMAT,
    HERE,
    MAX_IT,
    OUT_DIR,
    PATHS,
    STOP_CRITERION,
    read_mobi,
    sha256,
)
from seminr import (
    composite,
    constructs,
    estimate_pls,
    mean_replacement,
    mode_A,
    na_omit,
    path_weighting,
    paths,
    relationships,
)

MOBI = HERE / ".." / ".." / "csisem" / "datasets" / "mobi.csv"  # what load_mobi() reads
MISSING_CSV = OUT_DIR / "mobi_missing.csv"
MISSING_SHA256 = "414d389c71baf331ff5a88ffaa4d87dcdd4b22604ddcaa92966656671f302e30"
SEED = 2026
N_MISSING = 180  # 3% of 250 x 24 cells

POLICIES = {"listwise": na_omit, "mean": mean_replacement}


def make_missing(mobi: pd.DataFrame) -> pd.DataFrame:
    """mobi with N_MISSING cells (default_rng(SEED), without replacement) set to missing."""
    n, p = mobi.shape
    cells = np.random.default_rng(SEED).choice(n * p, size=N_MISSING, replace=False)
    values = mobi.to_numpy(dtype=float)
    values[cells // p, cells % p] = np.nan
    return pd.DataFrame(values, columns=mobi.columns).astype("Int64")


def fit(data: pd.DataFrame, policy: str):
    mm = constructs(*(composite(c, items, weights=mode_A) for c, items in BLOCKS.items()))
    sm = relationships(*(paths(s, t) for s, t in PATHS))
    return estimate_pls(
        data,
        mm,
        sm,
        inner_weights=path_weighting,
        missing=POLICIES[policy],
        max_it=MAX_IT,
        stop_criterion=STOP_CRITERION,
    )


def main() -> int:
    mobi = read_mobi(MOBI)
    assert sorted(mobi.columns) == sorted(i for items in BLOCKS.values() for i in items)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    make_missing(mobi).to_csv(MISSING_CSV, index=False, na_rep="", lineterminator="\n")
    digest = sha256(MISSING_CSV)
    if digest != MISSING_SHA256:
        raise SystemExit(f"{MISSING_CSV}: sha256 {digest} != {MISSING_SHA256} (recipe changed?)")

    data = pd.read_csv(MISSING_CSV)  # exactly what the tests read; empty cells -> NaN
    isnan = data.isna().to_numpy()
    print(
        f"{MISSING_CSV.name}: {int(isnan.sum())} missing cells in "
        f"{int(isnan.any(axis=1).sum())} of {len(data)} rows; "
        f"per column {int(isnan.sum(axis=0).min())}-{int(isnan.sum(axis=0).max())}"
    )

    rows: dict[str, list[dict]] = {"paths": [], "weights": [], "loadings": []}
    for policy in POLICIES:
        model = fit(data, policy)
        if model.iterations >= MAX_IT:
            raise SystemExit(f"{policy}: not converged after {MAX_IT} iterations")
        print(
            f"{policy}: n = {model.data.values.shape[0]}, iterations {model.iterations}, "
            f"weight_diff {model.weight_diff:.3g}"
        )
        for s, t in PATHS:
            rows["paths"].append(
                {"missing": policy, "source": s, "target": t, "estimate": model.path_coef.get(s, t)}
            )
        for c, items in BLOCKS.items():
            for ind in items:
                for name, matrix in (
                    ("weights", model.outer_weights),
                    ("loadings", model.outer_loadings),
                ):
                    rows[name].append(
                        {
                            "missing": policy,
                            "construct": c,
                            "indicator": ind,
                            "estimate": matrix.get(ind, c),
                        }
                    )

    for name, table in rows.items():
        out = OUT_DIR / f"seminr_ecsi_missing_{name}.csv"
        pd.DataFrame(table).to_csv(
            out, index=False, float_format=FLOAT_FORMAT, na_rep="NaN", lineterminator="\n"
        )
        print(f"{out.name}: {len(table)} rows")
    print(
        f"seminr {seminr.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
