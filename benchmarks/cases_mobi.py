"""Cases ``fit`` and ``boot``: ECSI on mobi, one fit and the 5000-resample bootstrap.

csisem runs in the runner's (warm) interpreter; seminr and plspm in ``peers.py``.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from common import clocks, log, pls_fit_tables
from harness import (
    Ctx,
    fmt_s,
    load1,
    maxdiff,
    maxrel,
    model_json,
    ok,
    ratio,
    run_peer,
    status_cell,
)

TARGET = 5000  # resamples the bootstrap times are reported for


def _ecsi() -> tuple[Any, Any, Path]:
    import csisem
    from csisem.datasets import load_dataset

    return (csisem.load_model("ecsi"), load_dataset("mobi"),
            Path(csisem.datasets.__file__).parent / "mobi.csv")


def _paths(table: Any) -> dict[str, float]:
    return {f"{s}->{t}": float(v)
            for s, t, v in zip(table.source, table.target, table.estimate, strict=True)}


def csisem_fit(model: Any, data: Any, repeats: int, tables: bool = True) -> dict[str, Any]:
    """Median of ``repeats`` fits; ``tables``: read the estimate tables inside the timer."""
    import csisem

    def fit() -> Any:
        if tables:
            return pls_fit_tables(lambda: csisem.fit(model, data))
        return csisem.fit(model, data)

    log(f"csisem fit x{repeats} (tables: {tables}) ...")
    result = pls_fit_tables(lambda: csisem.fit(model, data))  # warm-up
    load = load1()
    times, cpu = [], []
    for _ in range(repeats):
        w0, c0 = clocks()
        fit()
        w1, c1 = clocks()
        times.append(w1 - w0)
        cpu.append(c1 - c0)
    return {"status": "ok", "times": times, "cpu": cpu, "load": load,
            "paths": _paths(result.paths)}


def csisem_boot(model: Any, data: Any, nboot: int, n_jobs: int, repeats: int,
                seed: int) -> dict[str, Any]:
    import csisem

    log(f"csisem bootstrap={nboot} n_jobs={n_jobs} x{repeats} ...")
    load = load1()
    times, cpu = [], []
    for _ in range(repeats):
        w0, c0 = clocks()
        result = pls_fit_tables(lambda: csisem.fit(model, data, bootstrap=nboot, seed=seed,
                                                   n_jobs=n_jobs, progress=False))
        w1, c1 = clocks()
        times.append(w1 - w0)
        cpu.append(c1 - c0)
    tab = result.bootstrap.tables["paths"]
    return {"status": "ok", "times": times, "cpu": cpu, "load": load, "n_resamples": nboot,
            "n_valid": result.bootstrap.n_valid, "paths": _paths(tab),
            "path_se": {f"{s}->{t}": float(v)
                        for s, t, v in zip(tab.source, tab.target, tab.std_error, strict=True)}}


def run_fit(ctx: Ctx) -> dict[str, Any]:
    model, data, mobi = _ecsi()
    # A csisem fit takes a fraction of a millisecond: hundreds of repeats (under 0.2 s in
    # all) keep one slow repeat from moving the median; seminr gets 100 (about 0.5 s).
    reps = ({"csisem": 30, "seminr": 20, "plspm": 3} if ctx.quick else
            {"csisem": 300, "seminr": 100, "plspm": 7})
    out = {"csisem": csisem_fit(model, data, reps["csisem"]),
           "csisem_arrays": csisem_fit(model, data, reps["csisem"], tables=False)}
    for tool in ("seminr", "plspm"):
        out[tool] = run_peer(ctx, tool, "fit", model_json(model), mobi, timeout=600,
                             repeats=reps[tool])
    return out


def run_boot(ctx: Ctx, seminr_nboot: int, plspm_nboot: int) -> dict[str, Any]:
    model, data, mobi = _ecsi()
    reps = 1 if ctx.quick else 3
    spec, long = model_json(model), 4 * 3600.0
    out = {
        "cs1": csisem_boot(model, data, TARGET, 1, reps, ctx.seed),
        "cs2": csisem_boot(model, data, TARGET, 2, reps, ctx.seed),
        "sem1": run_peer(ctx, "seminr", "boot", spec, mobi, timeout=long, nboot=seminr_nboot,
                         cores=1, seed=ctx.seed),
        "sem2": run_peer(ctx, "seminr", "boot", spec, mobi, timeout=long, nboot=seminr_nboot,
                         cores=2, seed=ctx.seed),
        "pls1": run_peer(ctx, "plspm", "boot", spec, mobi, timeout=long, nboot=plspm_nboot,
                         seed=ctx.seed),
        "seminr_nboot": seminr_nboot, "plspm_nboot": plspm_nboot,
    }
    ctx.shared["boot_seminr1"] = out["sem1"]
    return out


def render_fit(res: dict[str, Any]) -> list[str]:
    # Ratios against csisem's plain fit (the measure), which comes first.
    ref = res["csisem_arrays"] if ok(res.get("csisem_arrays")) else res["csisem"]
    res = dict(sorted(res.items(), key=lambda kv: kv[0] != "csisem_arrays"))
    base, base_cpu = statistics.median(ref["times"]), statistics.median(ref["cpu"])
    out = ["| tool | median wall | min wall | median CPU | repeats | wall ÷ csisem | "
           "CPU ÷ csisem | load (1 min) | max abs Δ path vs csisem |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = {"csisem": "csisem `fit` + reading the tables",
             "csisem_arrays": "csisem `fit` alone (tables not built)",
             "seminr": "seminr `estimate_pls`",
             "plspm": "plspm `Plspm`"}
    for tool, r in res.items():
        if not ok(r):
            out.append(f"| {names[tool]} | {status_cell(r)} | | | | | | | |")
            continue
        wall, cpu = statistics.median(r["times"]), statistics.median(r["cpu"])
        out.append(f"| {names[tool]} | {fmt_s(wall)} | {fmt_s(min(r['times']))} | "
                   f"{fmt_s(cpu)} | {len(r['times'])} | {ratio(wall / base)} | "
                   f"{ratio(cpu / base_cpu)} | {r.get('load', float('nan')):.1f} | "
                   f"{maxdiff(r['paths'], ref['paths']):.1e} |")
    return out


def render_boot(res: dict[str, Any]) -> list[str]:
    cs1, cs2 = res["cs1"], res["cs2"]
    rows = [("csisem, n_jobs=1", cs1, cs1), ("csisem, n_jobs=2", cs2, cs2),
            ("seminr `bootstrap_model`, cores=1", res["sem1"], cs1),
            ("seminr `bootstrap_model`, cores=2", res["sem2"], cs2),
            ("plspm `Plspm(bootstrap=True)`, 1 process", res["pls1"], cs1)]
    ref_se = cs1.get("path_se")
    out = [f"| tool | resamples run | wall clock | wall per {TARGET} | CPU per {TARGET} | "
           "wall ÷ csisem (same cores) | CPU ÷ csisem (same cores) | load (1 min) | "
           "max abs Δ path vs csisem | max rel Δ SE (12 paths) vs csisem n_jobs=1 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r, base in rows:
        if not ok(r):
            out.append(f"| {name} | {status_cell(r)} | | | | | | | | |")
            continue
        n = r["n_resamples"]
        scale = TARGET / n
        wall, cpu = statistics.median(r["times"]), statistics.median(r["cpu"])
        extra = "" if n == TARGET else f" (extrapolated ×{scale:g})"
        speed = cpu_speed = dpath = ""
        if ok(base):
            b_scale = TARGET / base["n_resamples"]
            speed = ratio(wall * scale / (statistics.median(base["times"]) * b_scale))
            cpu_speed = ratio(cpu * scale / (statistics.median(base["cpu"]) * b_scale))
            dpath = f"{maxdiff(r['paths'], base['paths']):.1e}"
        reps = f" (median of {len(r['times'])})" if len(r["times"]) > 1 else ""
        dse = f"{maxrel(r['path_se'], ref_se):.1%}" if ref_se and "path_se" in r else ""
        out.append(f"| {name} | {n} | {fmt_s(wall)}{reps} | {fmt_s(wall * scale)}{extra} "
                   f"| {fmt_s(cpu * scale)}{extra} | {speed} | {cpu_speed} "
                   f"| {r.get('load', float('nan')):.1f} | {dpath} | {dse} |")
    return out


def blas_note(blas_threads: int) -> list[str]:
    if blas_threads <= 0:
        return ["- **BLAS threads** were left at the libraries' defaults (one per core) in",
                "  every process."]
    return [
        f"- **BLAS threads**: {blas_threads} in every process (csisem's and the peers'),",
        "  set by the runner (`--blas-threads`, 0 = the libraries' defaults) through",
        "  OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS. Why: on this shared",
        "  2-core machine OpenBLAS with 2 threads (numpy 2.4's 0.3.31) often takes ~300 ms",
        "  of CPU for a product that takes ~1 ms with 1 thread (`Xc.T @ Xc` of a",
        "  10^4 × 24 array, reproduced with numpy alone: runs of slow calls, then fast",
        "  ones), so with the defaults the small-data timings of csisem and seminr were",
        "  bimodal noise. csisem's `n_jobs` and seminr's `cores` parallelise on their own.",
    ]


def notes(seminr_nboot: int, plspm_nboot: int, blas_threads: int) -> list[str]:
    """How (a) was measured (the peers' settings hold for every case)."""
    return [
        "- **Warm process.** Imports, reading the data and building the model specification",
        "  are outside the timers; one untimed warm-up fit precedes the timed fits; the fit",
        "  time is the median of the repeats. csisem runs in the runner's interpreter; seminr",
        "  and plspm run as subprocesses (`benchmarks/peers.py`) in their own virtualenv and",
        "  time themselves the same way. The model reaches the peers as JSON written from",
        "  csisem's spec (`specs/ecsi.yaml`), so it is defined once.",
        "- **csisem**: `csisem.fit(model, data)` with the model (`load_model('ecsi')`) and the",
        "  DataFrame loaded beforehand; defaults (path scheme, tol 1e-7 on max |Δw|). `fit`",
        "  computes every estimate as labelled arrays, as seminr's `estimate_pls` returns",
        "  labelled NumPy matrices (its NamedMatrix); csisem's pandas tables are built on",
        "  first use, so the first row also reads `paths`, `loadings`, `weights` and",
        "  `r_squared` inside the timer. Construct scores are left out (lazy in csisem,",
        "  computed by seminr). Every other csisem PLS timing below includes the tables.",
        f"  Bootstrap: `csisem.fit(model, data, bootstrap={TARGET}, seed=1, n_jobs=1|2)` — the",
        "  time includes the original fit and everything csisem reports with it: SEs, t/p,",
        "  percentile and BCa intervals (with the jackknife BCa needs), for paths, loadings,",
        "  weights, total and indirect effects, R² and HTMT. n_jobs=2 uses 2 threads.",
        "- **seminr 0.2.1** (PyPI): `estimate_pls(..., inner_weights=path_weighting,",
        "  max_it=300, stop_criterion=7)` with every construct `composite(..., weights=mode_A)`.",
        f"  Bootstrap: `bootstrap_model(model, nboot={seminr_nboot}, seed=1, cores=1|2)`",
        "  (cores=2 is its spawn-based process pool; the pool start-up is inside the timer),",
        "  which keeps paths, loadings, weights, HTMT and total effects per resample; the",
        "  original fit is outside the timer.",
        "- **plspm 0.5.7** (needs pandas < 3: with pandas 3 its inner model fails with",
        "  `zip() argument 2 is longer than argument 1`): `Plspm(data, config, Scheme.PATH,",
        "  iterations=300, tolerance=1e-14)` (its tolerance is on Σ(|w_old|−|w_new|)², so 1e-14",
        "  ~ a 1e-7 change). Two workarounds needed for the same model: the single indicator",
        "  CUSCO is renamed CUSCO_mv (plspm rejects an indicator named like its construct), and",
        "  the data are z-scored beforehand and passed with `scaled=False`, because plspm's",
        "  `scaled=True` divides every column by one pooled SD (`Config.treat`), which gives",
        "  different estimates (e.g. IMAG→CUEX 0.4936 instead of 0.5049). Bootstrap:",
        f"  `Plspm(..., bootstrap=True, bootstrap_iterations={plspm_nboot}, processes=1)`; the",
        "  time includes one fit (~0.5 s) and up to 1 s of plspm's polling sleep. It resamples",
        "  the pre-standardised rows (the other two re-standardise each resample) and drops",
        "  failed resamples silently, so its SEs agree with the others' only roughly. One",
        "  process only: plspm's workers are forked and draw from the inherited global",
        "  `np.random` state, so with processes=2 both workers draw the same resamples.",
        f"- Runs with fewer than {TARGET} resamples are scaled linearly to {TARGET}",
        "  (\"extrapolated\"); the bootstrap cost is linear in the number of resamples for all",
        "  three (no per-resample state grows, except plspm's `pd.concat` of its results, so",
        "  its extrapolation is if anything optimistic).",
        "- **Agreement columns.** \"max abs Δ path\": largest |difference| of the 12 path",
        "  coefficients from csisem's (original-sample estimates, so ~1e-8 means the same",
        "  model was fitted). \"max rel Δ SE\": largest |SE_peer / SE_csisem − 1| over the 12",
        f"  paths against csisem n_jobs=1 ({TARGET} resamples). The resampling streams differ,",
        "  so this is Monte Carlo noise: the relative MC SD of one bootstrap SE from B",
        "  resamples is ≈ √((κ−1)/(4B)) (κ = kurtosis of the draws; 1/√(2B) = 1.0% for",
        "  B = 5000 and normal draws), of a difference of two independent ones √2 times that",
        "  (1.4%); the largest of 12 independent such differences has median ≈1.9× that",
        "  (2.7%) and 95th percentile ≈2.9× (4.0%); with B = 1000 (plspm) all about 1.7 times",
        "  more.",
        "- **Wall and CPU.** \"wall\" is `time.perf_counter()`; \"CPU\" is the CPU time of",
        "  the timed process, all its threads, plus that of its finished child processes",
        "  (`process_time()` + `getrusage(RUSAGE_CHILDREN)`, so seminr's pool workers and",
        "  plspm's forked worker are counted). The machine has 2 cores and was shared with",
        "  other jobs (\"load (1 min)\" = the 1-minute load average when each measurement",
        "  started; see also the load at start and end above): with load > 2 the wall clock",
        "  of a long run is inflated by waiting for a core, the CPU time much less, so compare",
        "  CPU ratios when the loads of two rows differ.",
        *blas_note(blas_threads),
        "- csisem's `fit` stops at max |Δw| < 1e-7, so its path coefficients are ~3e-10 from",
        "  the fully converged values that seminr and plspm (stricter criteria) reach; the",
        "  `estimate` column of csisem's bootstrap tables agrees with them to ~1e-15.",
    ]
