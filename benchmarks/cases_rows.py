"""Case ``rows``: synthetic ECSI at 10^4 to 10^7 rows, fit time and peak memory.

Every measurement runs in a fresh process (``child.py`` for csisem, ``peers.py`` for seminr
and plspm) with the protocol of ``common.measure``, on the same cached Parquet files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import (
    Ctx,
    data_mb,
    fmt_mb,
    fmt_s,
    maxdiff,
    med,
    model_json,
    ok,
    ratio,
    run_child,
    run_peer,
    simulated,
    status_cell,
)

SPEED_TARGET = 20.0  # 10^6 rows: at least 20x faster than seminr
MEMORY_TARGET = 1.5  # 10^6 rows: peak at most 1.5x the data in memory
PARQUET_TARGET_MB = 1000.0  # 10^7 rows from Parquet: peak below 1 GB
RSS_CAP_MB = 8000.0  # above 10^6 rows a fit that does not stream is stopped here

LABELS = {("csisem", "memory"): "csisem, pandas DataFrame",
          ("csisem", "parquet"): "csisem, Parquet file",
          ("csisem", "dask"): "csisem, dask DataFrame (read_parquet)",
          ("seminr", "memory"): "seminr, pandas DataFrame",
          ("plspm", "memory"): "plspm, pandas DataFrame"}


def plan(quick: bool) -> list[tuple[str, str, int, int]]:
    """(tool, source, rows, repeats) in the order they run."""
    reps = ({10**4: 3, 10**5: 2, 10**6: 1} if quick else {10**4: 10, 10**5: 5, 10**6: 3})
    plspm_reps = {10**4: 2, 10**5: 1} if quick else {10**4: 3, 10**5: 2, 10**6: 1}
    out = []
    for n, r in reps.items():
        out += [("csisem", "memory", n, r), ("seminr", "memory", n, r)]
        if n in plspm_reps:
            out.append(("plspm", "memory", n, plspm_reps[n]))
    for n in (10**6,) if quick else (10**6, 10**7):
        out += [("csisem", "parquet", n, reps.get(n, 1)), ("csisem", "dask", n, reps.get(n, 1))]
    return out


def measure_one(ctx: Ctx, model: Any, tool: str, source: str, n: int,
                repeats: int) -> dict[str, Any]:
    """One cell, memoised in ``ctx.shared["rows"]`` (the curves reuse them)."""
    memo = ctx.shared.setdefault("rows", {})
    key = (model.name, tool, source, n)
    if key not in memo:
        path = simulated(model, n, ctx.seed)
        if tool == "csisem":
            # a spec file of the benchmarks' own, or a catalogue model by name
            spec = (model.source if model.source and Path(model.source).exists()
                    else model.name.lower())
            memo[key] = run_child(spec, path, source, repeats, timeout=3600,
                                  max_mb=RSS_CAP_MB if n > 10**6 else 0)
        else:
            memo[key] = run_peer(ctx, tool, "fit", model_json(model), path, timeout=3600,
                                 repeats=repeats)
        memo[key]["n"] = n
    return memo[key]


def run(ctx: Ctx) -> dict[str, Any]:
    import csisem

    model = csisem.load_model("ecsi")
    J = len(model.indicator_names)
    cells: dict[tuple[str, str, int], dict[str, Any]] = {}
    for tool, source, n, repeats in plan(ctx.quick):
        r = measure_one(ctx, model, tool, source, n, repeats)
        if source != "memory" and r.get("status") == "error":
            r = {**r, "status": "not available yet"}
        cells[(tool, source, n)] = r
    skipped = [] if not ctx.quick else ["10^7 rows (`--quick`)",
                                        "plspm at 10^6 rows (`--quick`)"]
    return {"cells": cells, "n_columns": J, "skipped": skipped}


def targets(res: dict[str, Any]) -> list[str]:
    """Rows of the targets table (target | measured | met?)."""
    cells, J = res["cells"], res["n_columns"]
    out = []
    cs, sem = cells.get(("csisem", "memory", 10**6)), cells.get(("seminr", "memory", 10**6))
    if ok(cs) and ok(sem):
        x = med(sem) / med(cs)
        out.append(f"| 10^6 rows: csisem ≥ {SPEED_TARGET:.0f}× faster than seminr (median "
                   f"fit, both from a DataFrame) | {ratio(x)} | "
                   f"{'yes' if x >= SPEED_TARGET else 'no'} |")
    for source in ("memory", "parquet", "dask"):
        r = cells.get(("csisem", source, 10**6))
        if ok(r):
            x = (r["peak_fit"] - r["rss_imports"]) / data_mb(10**6, J)
            out.append(f"| 10^6 rows, {LABELS[('csisem', source)]}: peak RSS above the "
                       f"after-imports baseline ≤ {MEMORY_TARGET}× the data in memory "
                       f"({fmt_mb(data_mb(10**6, J))}) | {x:.2f}× | "
                       f"{'yes' if x <= MEMORY_TARGET else 'no'} |")
    base = cells.get(("csisem", "memory", 10**6))
    others = [cells.get(("csisem", source, 10**6)) for source in ("parquet", "dask")]
    if ok(base) and all(ok(r) for r in others):
        diff = max(maxdiff(r["paths"], base["paths"]) for r in others)
        out.append("| the same fit from a DataFrame, a Parquet file and a dask DataFrame "
                   "(10^6 rows; max abs Δ of the 12 paths; on a `LocalCluster`: "
                   f"`tests/test_streaming.py`) agrees to 1e-10 | {diff:.1e} | "
                   f"{'yes' if diff <= 1e-10 else 'no'} |")
    for source in ("parquet", "dask"):
        r = cells.get(("csisem", source, 10**7))
        if r is None:
            continue
        if ok(r):
            out.append(f"| 10^7 rows, {LABELS[('csisem', source)]}: peak RSS of the whole "
                       f"process < 1 GB | {fmt_mb(r['peak_fit'])} (above baseline: "
                       f"{fmt_mb(r['peak_fit'] - r['rss_imports'])}) | "
                       f"{'yes' if r['peak_fit'] < PARQUET_TARGET_MB else 'no'} |")
        else:
            out.append(f"| 10^7 rows, {LABELS[('csisem', source)]}: peak RSS < 1 GB | "
                       f"{status_cell(r)} | not measured |")
    return out


def render(res: dict[str, Any]) -> list[str]:
    cells, J = res["cells"], res["n_columns"]
    lines = ["| rows | tool, input | median fit | repeats | ÷ csisem (DataFrame) | "
             "data in memory | RSS after imports | after loading | peak during fit | "
             "peak − after imports | ÷ data | max abs Δ path vs csisem |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (tool, source, n), r in sorted(cells.items(), key=lambda kv: (kv[0][2],)):
        label = LABELS[(tool, source)]
        if not ok(r):
            lines.append(f"| {n:.0e} | {label} | {status_cell(r)} | | | | | | | | | |")
            continue
        base = cells.get(("csisem", "memory", n))
        speed = ratio(med(r) / med(base)) if ok(base) else ""
        dpath = f"{maxdiff(r['paths'], base['paths']):.1e}" if ok(base) else ""
        size = data_mb(n, J)
        above = r["peak_fit"] - r["rss_imports"]
        lines.append(
            f"| {n:.0e} | {label} | {fmt_s(med(r))} | {len(r['times'])} | {speed} "
            f"| {fmt_mb(size)} | {fmt_mb(r['rss_imports'])} | {fmt_mb(r['rss_loaded'])} "
            f"| {fmt_mb(r['peak_fit'])} | {fmt_mb(above)} | {above / size:.2f}× | {dpath} |")
    return [
        *lines, "",
        f"- Data: ECSI ({J} indicators) simulated by `csisem.datasets.simulate(model, rows, "
        "seed=..., on_scale=True)` (1–10 integer items stored as float64) in chunks of "
        "2^17 rows, written to Parquet with one row group per chunk (`benchmarks/.cache`, "
        f"git-ignored). \"data in memory\" = rows × {J} × 8 bytes; MB = 10^6 bytes.",
        "- Each row of the table is a fresh process: imports, one untimed warm-up fit on the "
        "first 1000 rows, RSS (\"after imports\"), the data read into a pandas DataFrame "
        "(not for the Parquet and dask inputs, where reading is part of the timed fit), RSS "
        "(\"after loading\"), then the peak RSS is reset (`/proc/self/clear_refs`) and the "
        "timed fits run; \"peak during fit\" is the RSS high-water mark over them "
        "(VmHWM = `getrusage().ru_maxrss`). \"÷ data\" = (peak − after imports) ÷ data in "
        "memory, so a DataFrame input counts itself once (≥ 1×).",
        "- seminr and plspm read the same Parquet file into pandas (plspm's data are then "
        "z-scored outside the timer, see (a)); \"max abs Δ path\" compares the 12 path "
        "coefficients with csisem's from a DataFrame at the same rows.",
        "- Parquet and dask inputs are read by csisem inside the timed fit; csisem streams "
        "them when it can (row group by row group / partition by partition). Above 10^6 "
        f"rows the child process is stopped if its RSS passes {RSS_CAP_MB / 1000:.0f} GB "
        "(a fit that reads everything instead would show as \"aborted\").",
        *(f"- Skipped: {s}." for s in res["skipped"]),
    ]
