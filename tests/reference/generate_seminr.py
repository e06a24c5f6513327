# Reference values for the ECSI model on mobi from the PyPI package ``seminr`` 0.2.1
# (Python port of R seminr, GPL-3.0-only, https://github.com/sem-in-r/seminr-py).
#
# Generated with: seminr 0.2.1, numpy 2.4.6, scipy 1.17.1, pandas 3.1.1, CPython 3.11.7,
# in a throw-away virtualenv (seminr is NOT a csisem dependency):
#
#     python3 -m venv /tmp/refenv
#     /tmp/refenv/bin/pip install seminr==0.2.1 pandas
#     /tmp/refenv/bin/python tests/reference/generate_seminr.py [path/to/mobi.csv]
#
# Settings (seminr defaults, passed explicitly):
#   * all seven constructs composite(..., weights=mode_A)  -- classical Mode A PLS.
#     (seminr's reflective() would apply the PLSc correction; not used here.)
#   * max_it = 300, stop_criterion = 7: iterate until sum_{ij} |W_new - W_old| < 1e-7
#     (sum of absolute changes over the whole indicator-by-construct weight matrix).
#   * initial outer weights = 1 for every indicator (0/1 membership matrix).
#   * indicators z-scored with the n-1 SD; after each Mode A update the weights are
#     rescaled so each composite score has sum(score^2)/(n-1) = 1.
#   * missing = mean_replacement (mobi has no missing values).
#   * inner schemes: seminr's path_weighting ("path") and path_factorial ("factorial").
#     seminr has NO centroid scheme; "centroid" rows are seminr's estimate_pls run with
#     the user-supplied inner-weights function centroid_weighting() below
#     (sign(cor) masked by paths + t(paths)), i.e. not independent of this script.
"""Generate seminr 0.2.1 reference CSVs for the ECSI model on mobi (see header comment).

Writes to ``tests/reference/data/``:

* ``seminr_ecsi_paths.csv``          scheme,source,target,estimate
* ``seminr_ecsi_weights.csv``        scheme,construct,indicator,estimate
* ``seminr_ecsi_loadings.csv``       scheme,construct,indicator,estimate
* ``seminr_ecsi_r_squared.csv``      scheme,construct,r_squared,adj_r_squared
* ``seminr_ecsi_total_effects.csv``  scheme,source,target,estimate (reachable pairs only)
* ``seminr_ecsi_quality.csv``        scheme,construct,alpha,rho_a,rho_c,ave
* ``seminr_ecsi_htmt.csv``           construct_1,construct_2,htmt (data only; scheme-free)
* ``seminr_ecsi_f_squared.csv``      scheme,source,target,estimate
* ``seminr_ecsi_vif_items.csv``      construct,indicator,vif (data only; scheme-free)
* ``seminr_ecsi_vif_constructs.csv`` scheme,source,target,vif (inner-model VIFs)
* ``seminr_ecsi_convergence.csv``    scheme,iterations,weight_diff,max_it,stop_criterion

Floats are written with ``%.17g`` (round-trip exact).
"""

from __future__ import annotations

import sys
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
    composite,
    constructs,
    estimate_pls,
    htmt,
    mode_A,
    model_fsquares,
    path_factorial,
    path_weighting,
    paths,
    relationships,
    reliability_table,
    total_effects,
)
from seminr.evaluate.constructs_in_model import constructs_in_model
from seminr.evaluate.validity import item_vifs, pls_antecedent_vifs
from seminr.math.named_matrix import NamedMatrix


def centroid_weighting(sm_matrix, construct_scores, dependant, paths_matrix) -> NamedMatrix:
    """Centroid inner scheme (not part of seminr): sign(cor(scores)) on adjacent cells."""
    cors = np.corrcoef(construct_scores.values, rowvar=False)
    mask = paths_matrix.values + paths_matrix.values.T
    return NamedMatrix(paths_matrix.rows, paths_matrix.cols, np.sign(cors) * mask)


SCHEMES = {"path": path_weighting, "centroid": centroid_weighting, "factorial": path_factorial}


def fit(data: pd.DataFrame, scheme: str):
    mm = constructs(*(composite(c, items, weights=mode_A) for c, items in BLOCKS.items()))
    sm = relationships(*(paths(s, t) for s, t in PATHS))
    return estimate_pls(
        data,
        mm,
        sm,
        inner_weights=SCHEMES[scheme],
        max_it=MAX_IT,
        stop_criterion=STOP_CRITERION,
    )


def main(argv: list[str]) -> int:
    data = read_mobi(Path(argv[1]) if len(argv) > 1 else None)

    rows: dict[str, list[dict]] = {
        k: []
        for k in (
            "paths",
            "weights",
            "loadings",
            "r_squared",
            "total_effects",
            "quality",
            "f_squared",
            "vif_constructs",
            "convergence",
        )
    }
    htmt_rows: list[dict] = []
    vif_item_rows: list[dict] = []

    order = list(BLOCKS)
    reach = reachable()
    for scheme in SCHEMES:
        model = fit(data, scheme)
        if model.iterations >= MAX_IT:
            raise SystemExit(f"{scheme}: not converged after {MAX_IT} iterations")
        rows["convergence"].append(
            {
                "scheme": scheme,
                "iterations": model.iterations,
                "weight_diff": model.weight_diff,
                "max_it": MAX_IT,
                "stop_criterion": f"1e-{STOP_CRITERION}",
            }
        )
        for s, t in PATHS:
            rows["paths"].append(
                {"scheme": scheme, "source": s, "target": t, "estimate": model.path_coef.get(s, t)}
            )
        for c, items in BLOCKS.items():
            for ind in items:
                rows["weights"].append(
                    {
                        "scheme": scheme,
                        "construct": c,
                        "indicator": ind,
                        "estimate": model.outer_weights.get(ind, c),
                    }
                )
                rows["loadings"].append(
                    {
                        "scheme": scheme,
                        "construct": c,
                        "indicator": ind,
                        "estimate": model.outer_loadings.get(ind, c),
                    }
                )
        for c in model.sm_matrix.all_endogenous():
            rows["r_squared"].append(
                {
                    "scheme": scheme,
                    "construct": c,
                    "r_squared": model.r_squared.get("Rsq", c),
                    "adj_r_squared": model.r_squared.get("AdjRsq", c),
                }
            )
        te = total_effects(model.path_coef)
        for s in order:
            for t in order:
                if (s, t) in reach:
                    rows["total_effects"].append(
                        {"scheme": scheme, "source": s, "target": t, "estimate": te.get(s, t)}
                    )
        rel = reliability_table(model)
        for c in order:
            rows["quality"].append(
                {
                    "scheme": scheme,
                    "construct": c,
                    "alpha": rel.get(c, "alpha"),
                    "rho_a": rel.get(c, "rhoA"),
                    "rho_c": rel.get(c, "rhoC"),
                    "ave": rel.get(c, "AVE"),
                }
            )
        f2 = model_fsquares(model)
        for s, t in PATHS:
            rows["f_squared"].append(
                {"scheme": scheme, "source": s, "target": t, "estimate": f2.get(s, t)}
            )
        mc = constructs_in_model(model)
        for t, by_source in pls_antecedent_vifs(model, mc).items():
            for s, vif in by_source.items():
                rows["vif_constructs"].append(
                    {"scheme": scheme, "source": s, "target": t, "vif": vif}
                )

        if scheme == "path":  # data-only statistics: identical for every scheme
            h = htmt(model)
            for i, a in enumerate(h.rows):
                for b in h.cols[i + 1 :]:
                    htmt_rows.append({"construct_1": a, "construct_2": b, "htmt": h.get(a, b)})
            for c, by_item in item_vifs(model, mc).items():
                for ind, vif in by_item.items():
                    vif_item_rows.append({"construct": c, "indicator": ind, "vif": vif})

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tables = {**rows, "htmt": htmt_rows, "vif_items": vif_item_rows}
    for name, table in tables.items():
        out = OUT_DIR / f"seminr_ecsi_{name}.csv"
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
    sys.exit(main(sys.argv))
