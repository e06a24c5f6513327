# Bootstrap reference values for the ECSI model on mobi from the PyPI package ``seminr`` 0.2.1
# (Python port of R seminr, GPL-3.0-only, https://github.com/sem-in-r/seminr-py).
#
# Run in a throw-away virtualenv (seminr is NOT a csisem dependency):
#
#     python3 -m venv /tmp/refenv
#     /tmp/refenv/bin/pip install seminr==0.2.1 pandas
#     /tmp/refenv/bin/python tests/reference/generate_seminr_bootstrap.py [path/to/mobi.csv]
#
# Model and estimation settings are those of generate_seminr.py (scheme "path" only):
# all seven constructs composite(..., weights=mode_A), inner_weights=path_weighting,
# max_it=300, stop_criterion=7.
#
# Bootstrap (seminr's bootstrap_model, read from seminr/bootstrap/{bootstrap,rng,summarize}.py):
#   * NBOOT = 5000 resamples of the 250 rows with replacement; SEED = 1 feeds seminr's
#     default resampler, ONE numpy Generator(PCG64(seed)) advanced across replications
#     (generator.integers(0, n, size=n) per replication). Not R-identical, not csisem's
#     stream (csisem draws multinomial counts from SeedSequence children), so csisem and
#     seminr agree only up to Monte Carlo error.
#   * each replication re-runs estimate_pls on the resampled rows (re-standardising them);
#     NO sign-change correction; a replication that raises ValueError/LinAlgError is
#     dropped and counted in `fails`.
#   * summary = seminr's summarize_pls_boot(boot, alpha=0.05): one row per nonzero original
#     cell; Bootstrap Mean = mean of the draws, Bootstrap SD = sample SD (ddof=1),
#     T Stat. = original / SD (HTMT: (1 - original) / SD), CI = PERCENTILE interval, the
#     alpha/2 and 1 - alpha/2 quantiles of the draws with R's type-7 (numpy "linear")
#     interpolation, alpha = 0.05 -> 2.5% / 97.5%; Bootstrap P Val =
#     2 * min(q, 1 - q) with q = share(draw <= 0) (HTMT: q = share(draw < 1)).
"""Generate seminr 0.2.1 bootstrap reference CSVs for ECSI on mobi (see header comment).

Writes to ``tests/reference/data/``:

* ``seminr_ecsi_bootstrap.csv``
  ``table,key_1,key_2,estimate,boot_mean,std_error,t_value,p_value,ci_lower,ci_upper``;
  ``table`` in paths | loadings | weights | total_effects | htmt; keys are
  ``source,target`` for paths and total_effects, ``construct,indicator`` for loadings and
  weights, ``construct_1,construct_2`` for htmt.
* ``seminr_ecsi_bootstrap_settings.csv``  ``setting,value`` (seed, nboot, boots, fails, ...).

Floats are written with ``%.17g``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import seminr
from ecsi_common import (
    BLOCKS,
    FLOAT_FORMAT,
    MAX_IT,
    OUT_DIR,
    PATHS,
    STOP_CRITERION,
    reachable,
    read_mobi,
)
from seminr import (
    bootstrap_model,
    composite,
    constructs,
    estimate_pls,
    mode_A,
    path_weighting,
    paths,
    relationships,
)
from seminr.bootstrap.summarize import summarize_pls_boot

NBOOT = 5000
SEED = 1
ALPHA = 0.05

ORDER = list(BLOCKS)
ITEMS = [(c, i) for c, items in BLOCKS.items() for i in items]
COLUMNS = ["table", "key_1", "key_2", "estimate", "boot_mean", "std_error", "t_value",
           "p_value", "ci_lower", "ci_upper"]


def _rows(table: str, summary, keys: list[tuple[str, str]], swap: bool) -> list[dict]:
    """Rows of a seminr summary table (labels ``"row  ->  col"``) in the order of ``keys``.

    ``swap``: seminr's outer matrices are indicator x construct, so a label reads
    ``"indicator  ->  construct"`` while our keys are ``(construct, indicator)``.
    """
    index = {label: i for i, label in enumerate(summary.rows)}
    cols = list(summary.cols)
    lo, hi = f"{100 * ALPHA / 2}% CI", f"{100 - 100 * ALPHA / 2}% CI"
    want = {"estimate": "Original Est.", "boot_mean": "Bootstrap Mean",
            "std_error": "Bootstrap SD", "t_value": "T Stat.", "p_value": "Bootstrap P Val",
            "ci_lower": lo, "ci_upper": hi}
    out = []
    for k1, k2 in keys:
        label = f"{k2}  ->  {k1}" if swap else f"{k1}  ->  {k2}"
        if label not in index:
            raise SystemExit(f"{table}: {label!r} not in seminr's summary ({summary.rows})")
        vals = summary.values[index[label]]
        out.append({"table": table, "key_1": k1, "key_2": k2,
                    **{ours: float(vals[cols.index(theirs)]) for ours, theirs in want.items()}})
    if len(out) != len(summary.rows):
        raise SystemExit(f"{table}: seminr has {len(summary.rows)} rows, expected {len(out)}")
    return out


def main(argv: list[str]) -> int:
    data = read_mobi(Path(argv[1]) if len(argv) > 1 else None)

    mm = constructs(*(composite(c, items, weights=mode_A) for c, items in BLOCKS.items()))
    sm = relationships(*(paths(s, t) for s, t in PATHS))
    model = estimate_pls(data, mm, sm, inner_weights=path_weighting, max_it=MAX_IT,
                         stop_criterion=STOP_CRITERION)
    if model.iterations >= MAX_IT:
        raise SystemExit("original fit did not converge")

    t0 = time.perf_counter()
    boot = bootstrap_model(model, nboot=NBOOT, seed=SEED)
    seconds = time.perf_counter() - t0
    summary = summarize_pls_boot(boot, alpha=ALPHA)

    # Diagnostics: replications that hit max_it are kept by seminr (it does not check);
    # a resample whose loadings sum to < 0 for some construct would be sign-flipped by
    # csisem (and SmartPLS's construct-level sign change) but not by seminr.
    flipped = sum(
        any(sum(rep.get(i, c) for i in BLOCKS[c]) < 0 for c in BLOCKS)
        for rep in boot.boot_loadings
    )

    reach = reachable()
    rows = (
        _rows("paths", summary.bootstrapped_paths, PATHS, swap=False)
        + _rows("loadings", summary.bootstrapped_loadings, ITEMS, swap=True)
        + _rows("weights", summary.bootstrapped_weights, ITEMS, swap=True)
        + _rows("total_effects", summary.bootstrapped_total_paths,
                [(s, t) for s in ORDER for t in ORDER if (s, t) in reach], swap=False)
        + _rows("htmt", summary.bootstrapped_htmt,
                [(a, b) for i, a in enumerate(ORDER) for b in ORDER[i + 1:]], swap=False)
    )
    table = pd.DataFrame(rows, columns=COLUMNS)
    bad = ~np.isfinite(table[COLUMNS[3:]].to_numpy()).all(axis=1)
    if bad.any():
        # expected: CUSCO's single-item weight/loading (SD ~1e-15 -> seminr sets t to NaN)
        print("non-finite values:\n" + table[bad].to_string())

    settings = [
        ("software", f"seminr {seminr.__version__}"),
        ("scheme", "path"),
        ("mode", "A (composite(..., weights=mode_A))"),
        ("max_it", MAX_IT),
        ("stop_criterion", f"1e-{STOP_CRITERION}"),
        ("nboot", NBOOT),
        ("seed", SEED),
        ("resampler", "numpy Generator(PCG64(seed)).integers(0, n, size=n) per replication"),
        ("boots", boot.boots),
        ("fails", boot.fails),
        ("sign_flip_resamples", flipped),
        ("std_error", "sample SD of the draws (ddof=1)"),
        ("ci", f"percentile, alpha={ALPHA}: type-7 quantiles at {ALPHA / 2} and {1 - ALPHA / 2}"),
        ("t_value", "estimate / std_error (htmt: (1 - estimate) / std_error)"),
        ("p_value", "2*min(q, 1-q), q = share(draw <= 0) (htmt: q = share(draw < 1))"),
    ]

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "seminr_ecsi_bootstrap.csv"
    table.to_csv(out, index=False, float_format=FLOAT_FORMAT, na_rep="NaN",
                 lineterminator="\n")
    pd.DataFrame(settings, columns=["setting", "value"]).to_csv(
        OUT_DIR / "seminr_ecsi_bootstrap_settings.csv", index=False, lineterminator="\n")
    print(f"{out.name}: {len(table)} rows ({table.table.value_counts().to_dict()})")
    print(f"boots={boot.boots} fails={boot.fails} sign_flip_resamples={flipped}")
    print(f"bootstrap_model(nboot={NBOOT}) wall clock: {seconds:.1f} s")
    print(
        f"seminr {seminr.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
