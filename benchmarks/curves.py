"""Case ``curves``: fit time against rows, number of indicators and bootstrap resamples.

csisem throughout, seminr where it is cheap, on the same data; one log-log figure
(``benchmarks/results/benchmark_curves.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cases_rows import measure_one
from common import clocks, log, pls_fit_tables
from harness import CACHE, Ctx, fmt_s, med, model_json, ok, run_peer, status_cell

INDICATOR_ROWS = 10**4


def spec_with_indicators(k: int) -> Path:
    """ECSI's constructs and paths with ``k`` reflective indicators per construct (YAML)."""
    import csisem

    ecsi = csisem.load_model("ecsi")
    lines = [f"name: ECSI_K{k}", f"title: ECSI structure, {k} indicators per construct",
             "scale: [1, 10]", "constructs:"]
    for c in ecsi.constructs:
        items = ", ".join(f"{c.name}_{i}" for i in range(1, k + 1))
        lines += [f"  {c.name}:", "    mode: reflective", f"    indicators: [{items}]"]
    lines.append("paths:")
    for target in ecsi.construct_names:
        sources = ecsi.predecessors(target)
        if sources:
            lines.append(f"  {target}: [{', '.join(sources)}]")
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"ecsi_k{k}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows_axis(ctx: Ctx) -> dict[str, dict[int, dict[str, Any]]]:
    import csisem

    model = csisem.load_model("ecsi")
    grid = ([10**3, 10**4, 10**5] if ctx.quick else
            [10**3, 3 * 10**3, 10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6])
    reps = (lambda n: 3 if n <= 10**4 else 2 if n <= 10**5 else 1) if ctx.quick else \
        (lambda n: 5 if n <= 10**4 else 3)
    out: dict[str, dict[int, dict[str, Any]]] = {"csisem, DataFrame": {}, "seminr": {}}
    for n in grid:
        out["csisem, DataFrame"][n] = measure_one(ctx, model, "csisem", "memory", n, reps(n))
        out["seminr"][n] = measure_one(ctx, model, "seminr", "memory", n, reps(n))
    # Measured by the rows case, if it ran: not repeated here.
    for (name, tool, source, n), r in ctx.shared.get("rows", {}).items():
        label = {("csisem", "parquet"): "csisem, Parquet file",
                 ("plspm", "memory"): "plspm"}.get((tool, source))
        if name == "ECSI" and label:
            out.setdefault(label, {})[n] = r
    return out


def _indicator_axis(ctx: Ctx) -> dict[str, dict[int, dict[str, Any]]]:
    import csisem

    ks = [3, 6, 12] if ctx.quick else [3, 4, 6, 8, 10, 12]
    out: dict[str, dict[int, dict[str, Any]]] = {"csisem": {}, "seminr": {}}
    for k in ks:
        model = csisem.load_model(spec_with_indicators(k))
        J = len(model.indicator_names)
        out["csisem"][J] = measure_one(ctx, model, "csisem", "memory", INDICATOR_ROWS, 3)
        out["seminr"][J] = measure_one(ctx, model, "seminr", "memory", INDICATOR_ROWS, 3)
    return out


def _boot_axis(ctx: Ctx) -> dict[str, dict[int, dict[str, Any]]]:
    import csisem
    from csisem.datasets import load_dataset

    model, data = csisem.load_model("ecsi"), load_dataset("mobi")
    mobi = Path(csisem.datasets.__file__).parent / "mobi.csv"
    grid = [100, 1000] if ctx.quick else [100, 300, 1000, 3000, 10000]
    out: dict[str, dict[int, dict[str, Any]]] = {"csisem, n_jobs=1": {}, "seminr, cores=1": {}}
    for b in grid:
        log(f"csisem bootstrap={b} (curve) ...")
        times = []
        for _ in range(1 if b > 1000 or ctx.quick else 3):
            w0, _ = clocks()
            pls_fit_tables(lambda b=b: csisem.fit(model, data, bootstrap=b, seed=ctx.seed,
                                                  n_jobs=1, progress=False))
            times.append(clocks()[0] - w0)
        out["csisem, n_jobs=1"][b] = {"status": "ok", "times": times}
    for b in [100] if ctx.quick else [100, 300, 1000]:
        out["seminr, cores=1"][b] = run_peer(ctx, "seminr", "boot", model_json(model), mobi,
                                             timeout=3600, nboot=b, cores=1, seed=ctx.seed)
    prior = ctx.shared.get("boot_seminr1")
    if ok(prior):
        out["seminr, cores=1"][prior["n_resamples"]] = prior
    return out


def run(ctx: Ctx) -> dict[str, Any]:
    return {"rows": _rows_axis(ctx), "indicators": _indicator_axis(ctx),
            "resamples": _boot_axis(ctx)}


def figure(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    titles = {"rows": ("ECSI fit time vs rows", "rows"),
              "indicators": (f"Fit time vs indicators ({INDICATOR_ROWS:,} rows, "
                             "7 constructs)", "indicators (7 × per construct)"),
              "resamples": ("ECSI bootstrap on mobi vs resamples", "resamples")}
    for ax, (axis, (title, xlabel)) in zip(axes, titles.items(), strict=True):
        for series, points in res[axis].items():
            xs = sorted(x for x, r in points.items() if ok(r))
            if xs:
                ax.plot(xs, [med(points[x]) for x in xs], marker="o", label=series)
        ax.set_xscale("log")
        ax.set_yscale("log")
        if axis == "indicators":  # a short range: label the points themselves
            ticks = sorted({x for points in res[axis].values() for x in points})
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("median wall-clock seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(res: dict[str, Any], image: str) -> list[str]:
    out = [f"![fit time vs rows, indicators and resamples]({image})", ""]
    for axis, xlabel in (("rows", "rows"), ("indicators", "indicators"),
                         ("resamples", "resamples")):
        series = res[axis]
        xs = sorted({x for points in series.values() for x in points})
        out += [f"| {xlabel} | " + " | ".join(series) + " | seminr ÷ csisem |",
                "|---:|" + "---:|" * (len(series) + 1)]
        names = list(series)
        for x in xs:
            cells, vals = [], {}
            for name in names:
                r = series[name].get(x)
                if r is None:
                    cells.append("")
                elif ok(r):
                    vals[name] = med(r)
                    cells.append(fmt_s(vals[name]))
                else:
                    cells.append(status_cell(r))
            cs = next((v for k, v in vals.items() if k.startswith("csisem")), None)
            sem = next((v for k, v in vals.items() if k.startswith("seminr")), None)
            speed = f"{sem / cs:.1f}×" if cs and sem else ""
            out.append(f"| {x:,} | " + " | ".join(cells) + f" | {speed} |")
        out.append("")
    return [
        *out,
        "- Rows and indicators: every point is a fresh process with the protocol of (b) "
        "(median of the repeats; the Parquet and plspm points are (b)'s own). Indicators: "
        f"ECSI's 7 constructs and 12 paths with 3 to 12 reflective indicators each, "
        f"{INDICATOR_ROWS:,} simulated rows. Resamples: csisem in the runner's process "
        "(median of 3 up to 1000 resamples, then 1 run), seminr `bootstrap_model` with "
        "cores=1 in a fresh process (one run each; the 5000 point is (a)'s, when it ran).",
        "- \"seminr ÷ csisem\" compares with the first csisem column.",
    ]
