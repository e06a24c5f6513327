# Reference values for consistent PLS (PLSc) of the ECSI model on mobi from the PyPI package
# ``seminr`` 0.2.1 (Python port of R seminr, GPL-3.0-only, https://github.com/sem-in-r/seminr-py).
#
# Generated with: seminr 0.2.1, numpy 2.4.6, scipy 1.17.1, pandas 3.1.1, CPython 3.11.7,
# in a throw-away virtualenv (seminr is NOT a csisem dependency):
#
#     python3 -m venv /tmp/refenv
#     /tmp/refenv/bin/pip install seminr==0.2.1 pandas
#     /tmp/refenv/bin/python tests/reference/generate_seminr_plsc.py [path/to/mobi.csv]
#
# Settings:
#   * all seven constructs declared with reflective(...): seminr estimates them with Mode A
#     weights and then applies its PLSc correction (seminr/estimate/consistent.py, a port of
#     R seminr's feature_consistent.R), automatically whenever a reflective construct exists:
#       - rho_A per construct = (w'w)^2 * w'(S - diag S)w / w'(ww' - diag ww')w, 1 for
#         single-item (CUSCO) and Mode B constructs;
#       - construct correlations divided by sqrt(rho_A_i * rho_A_j) (unit diagonal);
#       - per endogenous construct, OLS path coefficients and R^2 (= 1 - 1/inv[-1,-1]) from the
#         corrected correlations;
#       - loadings of reflective constructs = w * sqrt(rho_A) / (w'w).
#   * max_it = 300, stop_criterion = 7 (seminr defaults, passed explicitly), initial weights 1.
#   * inner schemes: seminr's path_weighting ("path") and path_factorial ("factorial").
#     seminr has no centroid scheme, so there are no centroid rows.
"""Generate seminr 0.2.1 PLSc reference CSVs for the ECSI model on mobi (see header comment).

Writes to ``tests/reference/data/``:

* ``seminr_ecsi_plsc_paths.csv``      scheme,source,target,estimate
* ``seminr_ecsi_plsc_loadings.csv``   scheme,construct,indicator,estimate
* ``seminr_ecsi_plsc_r_squared.csv``  scheme,construct,r_squared,adj_r_squared
* ``seminr_ecsi_plsc_rho_a.csv``      scheme,construct,rho_a

Floats are written with ``%.17g`` (round-trip exact).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import seminr
from ecsi_common import BLOCKS, FLOAT_FORMAT, MAX_IT, OUT_DIR, PATHS, STOP_CRITERION, read_mobi
from seminr import (
    constructs,
    estimate_pls,
    path_factorial,
    path_weighting,
    paths,
    reflective,
    relationships,
)
from seminr.estimate.consistent import rho_a

SCHEMES = {"path": path_weighting, "factorial": path_factorial}


def fit(data: pd.DataFrame, scheme: str):
    mm = constructs(*(reflective(c, items) for c, items in BLOCKS.items()))
    sm = relationships(*(paths(s, t) for s, t in PATHS))
    return estimate_pls(
        data, mm, sm, inner_weights=SCHEMES[scheme], max_it=MAX_IT,
        stop_criterion=STOP_CRITERION,
    )


def main(argv: list[str]) -> int:
    data = read_mobi(Path(argv[1]) if len(argv) > 1 else None)

    rows: dict[str, list[dict]] = {k: [] for k in ("paths", "loadings", "r_squared", "rho_a")}
    for scheme in SCHEMES:
        model = fit(data, scheme)
        if model.iterations >= MAX_IT:
            raise SystemExit(f"{scheme}: not converged after {MAX_IT} iterations")
        for s, t in PATHS:
            rows["paths"].append(
                {"scheme": scheme, "source": s, "target": t, "estimate": model.path_coef.get(s, t)})
        for c, items in BLOCKS.items():
            for ind in items:
                rows["loadings"].append({"scheme": scheme, "construct": c, "indicator": ind,
                                         "estimate": model.outer_loadings.get(ind, c)})
        for c in model.sm_matrix.all_endogenous():
            rows["r_squared"].append({"scheme": scheme, "construct": c,
                                      "r_squared": model.r_squared.get("Rsq", c),
                                      "adj_r_squared": model.r_squared.get("AdjRsq", c)})
        rho = rho_a(model, list(BLOCKS))
        for c in BLOCKS:
            rows["rho_a"].append({"scheme": scheme, "construct": c, "rho_a": rho.get(c, "rhoA")})

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, table in rows.items():
        out = OUT_DIR / f"seminr_ecsi_plsc_{name}.csv"
        pd.DataFrame(table).to_csv(
            out, index=False, float_format=FLOAT_FORMAT, na_rep="NaN", lineterminator="\n")
        print(f"{out.name}: {len(table)} rows")
    print(f"seminr {seminr.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
