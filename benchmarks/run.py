"""Benchmark csisem against PyPI peers (seminr, plspm) on the ECSI model and the mobi data.

Usage (from the repository root, in csisem's environment)::

    python benchmarks/run.py            # full: 5000-resample bootstraps (plspm: 1000)
    python benchmarks/run.py --quick    # fewer repeats; seminr 1000 and plspm 100 resamples

What is timed, all in the same run on this machine:

(a) one ECSI fit (PLS, path weighting, Mode A) inside a warm process: imports, data loading
    and model building stay outside the timer; one untimed warm-up, then the median of
    several timed fits;
(b) the bootstrap on mobi: csisem with n_jobs=1 and 2, seminr's ``bootstrap_model`` with
    cores=1 and 2, plspm's bootstrap with 1 process. Runs with fewer than 5000 resamples
    are extrapolated linearly to 5000 and marked as such.

csisem runs in this interpreter. The peers run as subprocesses (``benchmarks/peers.py``) in a
separate virtualenv, by default ``benchmarks/.venv``, created on first use from
``benchmarks/requirements-peers.txt`` (``--no-setup`` skips that; ``--peer-python`` picks
another interpreter). A peer that cannot be imported is reported as "not installed".
Each peer's path coefficients are compared with csisem's (max |difference|), and the
bootstrap standard errors of the 12 paths with csisem's n_jobs=1 run (max relative
difference), so the comparison is like for like.

Writes the tables, the machine and the exact command to ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements-peers.txt"
TARGET = 5000  # resamples the bootstrap times are reported for

PATHS = [
    ("IMAG", "CUEX"), ("IMAG", "CUSA"), ("IMAG", "CUSL"),
    ("CUEX", "PERQ"), ("CUEX", "PERV"), ("CUEX", "CUSA"),
    ("PERQ", "PERV"), ("PERQ", "CUSA"), ("PERV", "CUSA"),
    ("CUSA", "CUSCO"), ("CUSA", "CUSL"), ("CUSCO", "CUSL"),
]  # fmt: skip


def clocks() -> tuple[float, float]:
    """(wall clock, CPU seconds of this process and its reaped children, all threads)."""
    cpu = time.process_time()
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += ru.ru_utime + ru.ru_stime
    except ImportError:  # not Unix
        pass
    return time.perf_counter(), cpu


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------- machine

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        return "; ".join(
            f"{d.get('internal_api')} {d.get('version')} ({d.get('num_threads')} threads)"
            for d in threadpool_info() if d.get("user_api") == "blas") or "unknown"
    except Exception:
        return "unknown (threadpoolctl not installed)"


def _git() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine() -> dict[str, str]:
    import pandas
    import scipy

    import csisem

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "RAM": _ram(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python (csisem)": platform.python_version(),
        "csisem": f"{csisem.__version__} (git {_git()})",
        "numpy / scipy / pandas (csisem)": f"{np.__version__} / {scipy.__version__} / "
                                           f"{pandas.__version__}",
        "BLAS (csisem)": _blas(),
        "thread env": ", ".join(f"{k}={os.environ[k]}" for k in
                                ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                                if k in os.environ) or "none set (library defaults)",
    }


# --------------------------------------------------------------------------------- peers

def peer_python(args: argparse.Namespace) -> Path | None:
    if args.peer_python:
        path = Path(args.peer_python)
        return path if path.exists() else None
    py = VENV / "bin" / "python"
    if py.exists() or args.no_setup:
        return py if py.exists() else None
    log(f"creating {VENV} from {REQUIREMENTS.name} (first run only)")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                       check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        log(f"could not set up the peers' virtualenv: {exc}")
    return py if py.exists() else None


def run_peer(py: Path | None, tool: str, task: str, data: Path, *, timeout: float,
             **opts: int) -> dict:
    if py is None:
        return {"status": "not installed", "detail": "no peers' interpreter"}
    cmd = [str(py), str(HERE / "peers.py"), tool, task, "--data", str(data)]
    for k, v in opts.items():
        cmd += [f"--{k}", str(v)]
    log(f"{tool} {task} {opts} ...")
    load = _load1()
    try:
        proc = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "error", "detail": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "detail": f"exit {proc.returncode}: {tail}"}
    return {**json.loads(lines[-1]), "load": load}


# -------------------------------------------------------------------------------- csisem

def csisem_fit(model, data, repeats: int) -> dict:
    import csisem

    result = csisem.fit(model, data)  # warm-up
    load = _load1()
    times, cpu = [], []
    for _ in range(repeats):
        w0, c0 = clocks()
        csisem.fit(model, data)
        w1, c1 = clocks()
        times.append(w1 - w0)
        cpu.append(c1 - c0)
    p = result.paths
    return {"status": "ok", "times": times, "cpu": cpu, "load": load,
            "paths": {f"{s}->{t}": float(v) for s, t, v in zip(p.source, p.target, p.estimate,
                                                               strict=True)}}


def csisem_boot(model, data, nboot: int, n_jobs: int, repeats: int, seed: int) -> dict:
    import csisem

    log(f"csisem bootstrap={nboot} n_jobs={n_jobs} x{repeats} ...")
    load = _load1()
    times, cpu = [], []
    for _ in range(repeats):
        w0, c0 = clocks()
        result = csisem.fit(model, data, bootstrap=nboot, seed=seed, n_jobs=n_jobs,
                            progress=False)
        w1, c1 = clocks()
        times.append(w1 - w0)
        cpu.append(c1 - c0)
    tab = result.bootstrap.tables["paths"]
    return {"status": "ok", "times": times, "cpu": cpu, "load": load, "n_resamples": nboot,
            "n_valid": result.bootstrap.n_valid,
            "paths": {f"{s}->{t}": float(v)
                      for s, t, v in zip(tab.source, tab.target, tab.estimate, strict=True)},
            "path_se": {f"{s}->{t}": float(v)
                        for s, t, v in zip(tab.source, tab.target, tab.std_error, strict=True)}}


# ------------------------------------------------------------------------------- tables

def _fmt_s(x: float) -> str:
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    return f"{x * 1000:.1f} ms"


def _maxdiff(a: dict, b: dict) -> float:
    return max(abs(a[f"{s}->{t}"] - b[f"{s}->{t}"]) for s, t in PATHS)


def _maxrel(a: dict, b: dict) -> float:
    return max(abs(a[f"{s}->{t}"] / b[f"{s}->{t}"] - 1) for s, t in PATHS)


def _ratio(x: float) -> str:
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def fit_table(rows: list[tuple[str, dict]], ref: dict) -> list[str]:
    base = statistics.median(ref["times"])
    base_cpu = statistics.median(ref["cpu"])
    out = ["| tool | median wall | min wall | median CPU | repeats | wall ÷ csisem | "
           "CPU ÷ csisem | load (1 min) | max abs Δ path vs csisem |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        if r.get("status") != "ok":
            out.append(f"| {name} | {r.get('status')} | | | | | | | "
                       f"{r.get('detail', '')[:80]} |")
            continue
        med, cpu = statistics.median(r["times"]), statistics.median(r["cpu"])
        out.append(f"| {name} | {_fmt_s(med)} | {_fmt_s(min(r['times']))} | {_fmt_s(cpu)} "
                   f"| {len(r['times'])} | {_ratio(med / base)} | {_ratio(cpu / base_cpu)} "
                   f"| {r.get('load', float('nan')):.1f} "
                   f"| {_maxdiff(r['paths'], ref['paths']):.1e} |")
    return out


def boot_table(rows: list[tuple[str, dict, dict | None]], ref_se: dict | None) -> list[str]:
    """rows: (label, result, csisem result with the same number of cores or None)."""
    out = [f"| tool | resamples run | wall clock | wall per {TARGET} | CPU per {TARGET} | "
           "wall ÷ csisem (same cores) | CPU ÷ csisem (same cores) | load (1 min) | "
           "max abs Δ path vs csisem | max rel Δ SE (12 paths) vs csisem n_jobs=1 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r, base in rows:
        if r.get("status") != "ok":
            out.append(f"| {name} | {r.get('status')} | | | | | | | | "
                       f"{r.get('detail', '')[:80]} |")
            continue
        n = r["n_resamples"]
        scale = TARGET / n
        wall, cpu = statistics.median(r["times"]), statistics.median(r["cpu"])
        extra = "" if n == TARGET else f" (extrapolated ×{scale:g})"
        ratio = cpu_ratio = dpath = ""
        if base is not None and base.get("status") == "ok":
            b_scale = TARGET / base["n_resamples"]
            ratio = _ratio(wall * scale / (statistics.median(base["times"]) * b_scale))
            cpu_ratio = _ratio(cpu * scale / (statistics.median(base["cpu"]) * b_scale))
            dpath = f"{_maxdiff(r['paths'], base['paths']):.1e}"
        reps = f" (median of {len(r['times'])})" if len(r["times"]) > 1 else ""
        dse = f"{_maxrel(r['path_se'], ref_se):.1%}" if ref_se and "path_se" in r else ""
        out.append(f"| {name} | {n} | {_fmt_s(wall)}{reps} | {_fmt_s(wall * scale)}{extra} "
                   f"| {_fmt_s(cpu * scale)}{extra} | {ratio} | {cpu_ratio} "
                   f"| {r.get('load', float('nan')):.1f} | {dpath} | {dse} |")
    return out


# ---------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats; seminr 1000 and plspm 100 resamples, extrapolated")
    parser.add_argument("--peer-python", help="interpreter with seminr/plspm installed")
    parser.add_argument("--no-setup", action="store_true",
                        help=f"do not create {VENV.relative_to(ROOT)} when it is missing")
    parser.add_argument("--seminr-nboot", type=int, help="seminr resamples (default 5000, "
                        "1000 with --quick)")
    parser.add_argument("--plspm-nboot", type=int, help="plspm resamples (default 1000, "
                        "100 with --quick)")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)

    import csisem
    from csisem.datasets import load_dataset

    quick = args.quick
    fit_reps = {"csisem": 10 if quick else 30, "seminr": 10 if quick else 30,
                "plspm": 3 if quick else 7}
    boot_reps = 1 if quick else 3
    seminr_nboot = args.seminr_nboot or (1000 if quick else TARGET)
    plspm_nboot = args.plspm_nboot or (100 if quick else 1000)
    seed = 1
    command = "python " + " ".join(shlex.quote(a) for a in
                                   [os.path.relpath(__file__, ROOT), *sys.argv[1:]])

    data_path = Path(csisem.datasets.__file__).parent / "mobi.csv"
    model = csisem.load_model("ecsi")
    data = load_dataset("mobi")
    start = dt.datetime.now(dt.timezone.utc)
    load_before = _loadavg()
    t_start = time.perf_counter()
    info = machine()
    py = peer_python(args)
    long = 4 * 3600.0

    # (a) one fit
    log("csisem fit ...")
    fits = {"csisem": csisem_fit(model, data, fit_reps["csisem"])}
    for tool in ("seminr", "plspm"):
        fits[tool] = run_peer(py, tool, "fit", data_path, timeout=600,
                              repeats=fit_reps[tool])

    # (b) bootstrap
    cs1 = csisem_boot(model, data, TARGET, 1, boot_reps, seed)
    cs2 = csisem_boot(model, data, TARGET, 2, boot_reps, seed)
    sem1 = run_peer(py, "seminr", "boot", data_path, timeout=long, nboot=seminr_nboot,
                    cores=1, seed=seed)
    sem2 = run_peer(py, "seminr", "boot", data_path, timeout=long, nboot=seminr_nboot,
                    cores=2, seed=seed)
    pls1 = run_peer(py, "plspm", "boot", data_path, timeout=long, nboot=plspm_nboot, seed=seed)
    load_after = _loadavg()
    total = time.perf_counter() - t_start

    peer_versions = {tool: r.get("versions", {}) for tool, r in fits.items() if tool != "csisem"}
    for tool, v in peer_versions.items():
        info[f"{tool} (peers' venv)"] = ", ".join(f"{k} {x}" for k, x in v.items()) or \
            fits[tool].get("status", "")
    info["peers' interpreter"] = str(py) if py else "none"
    info["load average (1/5/15 min) at start"] = load_before
    info["load average (1/5/15 min) at end"] = load_after

    fit_lines = fit_table([("csisem `fit`", fits["csisem"]),
                           ("seminr `estimate_pls`", fits["seminr"]),
                           ("plspm `Plspm`", fits["plspm"])], fits["csisem"])
    boot_lines = boot_table([
        ("csisem, n_jobs=1", cs1, cs1),
        ("csisem, n_jobs=2", cs2, cs2),
        ("seminr `bootstrap_model`, cores=1", sem1, cs1),
        ("seminr `bootstrap_model`, cores=2", sem2, cs2),
        ("plspm `Plspm(bootstrap=True)`, 1 process", pls1, cs1),
    ], cs1.get("path_se"))

    print("\n## (a) One ECSI fit on mobi (warm process)\n")
    print("\n".join(fit_lines))
    print(f"\n## (b) Bootstrap on mobi ({TARGET} resamples)\n")
    print("\n".join(boot_lines))

    md = render(command, start, total, info, fit_lines, boot_lines, quick,
                seminr_nboot, plspm_nboot)
    Path(args.output).write_text(md)
    log(f"wrote {args.output} (total {total:.0f} s)")
    return 0


def render(command: str, start: dt.datetime, total: float, info: dict[str, str],
           fit_lines: list[str], boot_lines: list[str], quick: bool, seminr_nboot: int,
           plspm_nboot: int) -> str:
    machine_lines = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    return "\n".join([
        "# Benchmarks: csisem vs seminr and plspm (ECSI on mobi)",
        "",
        "Generated by `benchmarks/run.py`; do not edit by hand — re-run it instead. All",
        "numbers below come from one run on one machine; timings on a shared machine vary,",
        "so read the ratios, not the third digit.",
        "",
        f"- Command: `{command}` (from the repository root, csisem's virtualenv)",
        f"- Date: {start.strftime('%Y-%m-%d %H:%M UTC')}; whole run {total / 60:.1f} min"
        + (" (`--quick`)" if quick else ""),
        "- Model: ECSI (7 constructs, 24 indicators, 12 paths), all Mode A, path weighting;",
        "  data `mobi` (250 × 24, bundled with csisem, sha256 eeedf61c…).",
        "",
        "## Machine",
        "",
        *machine_lines,
        "",
        "## (a) One ECSI fit on mobi (warm process)",
        "",
        *fit_lines,
        "",
        f"## (b) Bootstrap on mobi ({TARGET} resamples)",
        "",
        *boot_lines,
        "",
        "## How it was measured",
        "",
        "- **Warm process.** Imports, reading the data and building the model specification",
        "  are outside the timers; one untimed warm-up fit precedes the timed fits; the fit",
        "  time is the median of the repeats. csisem runs in the runner's interpreter; seminr",
        "  and plspm run as subprocesses (`benchmarks/peers.py`) in their own virtualenv and",
        "  time themselves the same way.",
        "- **csisem**: `csisem.fit(model, data)` with the model (`load_model('ecsi')`) and the",
        "  DataFrame loaded beforehand; defaults (path scheme, tol 1e-7 on max |Δw|).",
        f"  Bootstrap: `csisem.fit(model, data, bootstrap={TARGET}, seed=1, n_jobs=1|2)` — the",
        "  time includes the original fit and everything csisem reports with it: SEs, t/p,",
        "  percentile and BCa intervals (with the jackknife BCa needs), for paths, loadings,",
        "  weights, total and indirect effects, R² and HTMT. n_jobs=2 uses 2 threads.",
        "- **seminr 0.2.1**: `estimate_pls(..., inner_weights=path_weighting, max_it=300,",
        "  stop_criterion=7)` with every construct `composite(..., weights=mode_A)`. Bootstrap:",
        f"  `bootstrap_model(model, nboot={seminr_nboot}, seed=1, cores=1|2)` (cores=2 is its",
        "  spawn-based process pool; the pool start-up is inside the timer), which keeps",
        "  paths, loadings, weights, HTMT and total effects per resample; the original fit is",
        "  outside the timer.",
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
        "  paths against csisem n_jobs=1 (5000 resamples). The resampling streams differ, so",
        "  this is Monte Carlo noise: the relative MC SD of one bootstrap SE from B resamples",
        "  is ≈ √((κ−1)/(4B)) (κ = kurtosis of the draws; 1/√(2B) = 1.0% for B = 5000 and",
        "  normal draws), of a difference of two independent ones √2 times that (1.4%); the",
        "  largest of 12 independent such differences has median ≈1.9× that (2.7%) and 95th",
        "  percentile ≈2.9× (4.0%); with B = 1000 (plspm) all about 1.7 times more.",
        "- **Wall and CPU.** \"wall\" is `time.perf_counter()`; \"CPU\" is the CPU time of",
        "  the timed process, all its threads, plus that of its finished child processes",
        "  (`process_time()` + `getrusage(RUSAGE_CHILDREN)`, so seminr's pool workers and",
        "  plspm's forked worker are counted). The machine has 2 cores and was shared with",
        "  other jobs (\"load (1 min)\" = the 1-minute load average when each measurement",
        "  started; see also the load at start and end above): with load > 2 the wall clock",
        "  of a long run is inflated by waiting for a core, the CPU time much less, so compare",
        "  CPU ratios when the loads of two rows differ. BLAS threads were left at the",
        "  libraries' defaults (2) in every process.",
        "- csisem's `fit` stops at max |Δw| < 1e-7, so its path coefficients are 2.8e-10 from",
        "  the fully converged values that seminr and plspm (stricter criteria) reach; the",
        "  `estimate` column of csisem's bootstrap tables agrees with them to ~1e-15.",
        "",
    ])


if __name__ == "__main__":
    sys.exit(main())
