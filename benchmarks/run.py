"""Benchmark csisem against PyPI seminr, plspm and semopy; write BENCHMARKS.md.

Usage (from the repository root, in csisem's environment)::

    python benchmarks/run.py                     # everything (~25 min on 2 shared cores)
    python benchmarks/run.py --quick             # a few minutes: fewer repeats/resamples
    python benchmarks/run.py --cases rows,cbsem  # only some cases
    python benchmarks/run.py --rerender          # rewrite the Markdown from the last run

Cases, all in the same run on this machine:

``fit``        (a) one ECSI fit on mobi, warm process, median of repeats;
``boot``       (a) the 5000-resample bootstrap on mobi (peers with fewer, extrapolated);
``rows``       (b) synthetic ECSI at 10^4..10^7 rows: fit time and peak memory, one fresh
               process per measurement (csisem from a DataFrame, from Parquet, from dask;
               seminr and plspm from a DataFrame);
``cbsem``      (c) ACSI by CB-SEM ML at n = 250 and 10^6: csisem against raw semopy;
``companies``  (d) 400 companies × 250 respondents × 1000 resamples (``fit_groups``);
``curves``     (e) fit time against rows, indicators and resamples; a log-log figure.

csisem runs in this interpreter (``child.py`` for fresh-process measurements); seminr and
plspm run as subprocesses (``peers.py``) in a separate virtualenv, by default
``benchmarks/.venv``, created on first use from ``benchmarks/requirements-peers.txt``
(``--no-setup`` skips that; ``--peer-python`` picks another interpreter). A peer that cannot
be imported is reported as "not installed". Simulated data are cached as Parquet in
``benchmarks/.cache`` (git-ignored). A full run (all cases, no ``--quick``) writes
``BENCHMARKS.md``, ``benchmarks/results/benchmark_curves.png`` and
``benchmarks/results/benchmarks.json``; any other run writes to ``benchmarks/.cache`` unless
``--output`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cases_cbsem
import cases_companies
import cases_mobi
import cases_rows
import curves
from common import log
from harness import CACHE, RESULTS, ROOT, Ctx, fmt_s, med, ok, ratio, run_json

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements-peers.txt"
CASES = ("fit", "boot", "rows", "cbsem", "companies", "curves")
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(peer_python: Path | None) -> dict[str, str]:
    import numpy as np
    import pandas
    import scipy

    import csisem

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    info = {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "RAM": _ram(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python (csisem)": platform.python_version(),
        "csisem": f"{csisem.__version__} (git {_git()})",
        "numpy / scipy / pandas (csisem)": f"{np.__version__} / {scipy.__version__} / "
                                           f"{pandas.__version__}",
        "semopy / pyarrow / dask (csisem)": " / ".join(
            _version(n) for n in ("semopy", "pyarrow", "dask")),
        "BLAS (csisem)": _blas(),
        "thread env (every process)": ", ".join(f"{k}={os.environ[k]}" for k in BLAS_VARS
                                                if k in os.environ)
                                      or "none set (library defaults)",
    }
    for tool in ("seminr", "plspm"):
        if peer_python is None:
            info[f"{tool} (peers' venv)"] = "not installed"
            continue
        r = run_json([str(peer_python), str(HERE / "peers.py"), tool, "versions"],
                     f"{tool} versions ...", 300)
        info[f"{tool} (peers' venv)"] = (", ".join(f"{k} {v}" for k, v in
                                                   r["versions"].items())
                                         if ok(r) else r.get("status", ""))
    info["peers' interpreter"] = str(peer_python) if peer_python else "none"
    return info


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


# ---------------------------------------------------------------------------- document

def summary(results: dict[str, Any]) -> list[str]:
    """The issue-7 targets, each with what this run measured."""
    rows = []
    fit = results.get("fit")
    if fit and ok(fit.get("csisem_arrays")) and ok(fit.get("seminr")):
        # The measure: in-process fit against in-process fit. seminr's estimate_pls
        # returns labelled NumPy matrices (its NamedMatrix), as csisem's fit returns labelled
        # arrays; csisem's pandas tables are built on first read and reported beside it.
        x = med(fit["seminr"]) / med(fit["csisem_arrays"])
        tables = (f" (with paths, loadings, weights and R² read as DataFrames inside the "
                  f"timer: {ratio(med(fit['seminr']) / med(fit['csisem']))})"
                  if ok(fit.get("csisem")) else "")
        rows.append(f"| one ECSI fit on mobi ≥ 20× faster than seminr (median wall, in-process "
                    f"`fit` vs `estimate_pls`) | {ratio(x)}{tables} | "
                    f"{'yes' if x >= 20 else 'no'} |")
    boot = results.get("boot")
    if boot and ok(boot.get("cs1")) and ok(boot.get("sem1")):
        # seminr may run fewer resamples than csisem: both per 5000, one core each
        per = {k: med(boot[k]) * cases_mobi.TARGET / boot[k]["n_resamples"]
               for k in ("cs1", "sem1")}
        x = per["sem1"] / per["cs1"]
        rows.append(f"| {cases_mobi.TARGET}-resample bootstrap on mobi ≥ 100× faster than "
                    f"seminr (median wall, one core each) | {ratio(x)} "
                    f"({fmt_s(per['cs1'])} vs {fmt_s(per['sem1'])}) | "
                    f"{'yes' if x >= 100 else 'no'} |")
    if "rows" in results:
        rows += cases_rows.targets(results["rows"])
    comp = results.get("companies")
    if comp and ok(comp["csisem"]["cold"]):
        wall = cases_companies.estimate_400(comp)
        extra = "" if comp["n_companies"] == cases_companies.N_COMPANIES else " (estimated)"
        rows.append(f"| 400 companies × 250 × 1000 resamples (`fit_groups`, n_jobs=2) "
                    f"< 60 s | {wall:.0f} s{extra} | {'yes' if wall < 60 else 'no'} |")
    if not rows:
        return []
    return ["## Targets (issue 7)", "", "| target | measured | met? |", "|---|---:|---|",
            *rows, ""]


def caveats(meta: dict[str, Any], results: dict[str, Any]) -> list[str]:
    """What this run extrapolated or skipped, collected from the cases."""
    out = []
    boot = results.get("boot")
    if boot:
        for key, tool in (("sem1", "seminr, cores=1"), ("sem2", "seminr, cores=2"),
                          ("pls1", "plspm")):
            r = boot[key]
            if ok(r) and r["n_resamples"] != cases_mobi.TARGET:
                out.append(f"(a) {tool}: {r['n_resamples']} resamples run, times scaled "
                           f"linearly to {cases_mobi.TARGET}.")
    rows = results.get("rows")
    if rows:
        out += [f"(b) {s}" for s in rows["skipped"]]
        for (tool, source, n), r in rows["cells"].items():
            if not ok(r):
                out.append(f"(b) {cases_rows.LABELS[(tool, source)]} at {n:.0e} rows: "
                           f"{r.get('status')} — {r.get('detail', '')}")
        out.append("(b) 10^7 rows: csisem only (from Parquet / dask); seminr and plspm "
                   "not run there by design.")
    comp = results.get("companies")
    if comp:
        if comp["n_companies"] != cases_companies.N_COMPANIES:
            out.append(f"(d) csisem: {comp['n_companies']} companies run; 400 estimated as "
                       "the first call + (400/n − 1) × the second.")
        k = len(comp["seminr"])
        out.append(f"(d) seminr: {k} {'company' if k == 1 else 'companies'} run, scaled to "
                   f"{cases_companies.N_COMPANIES}; its 2-core figure assumes perfect "
                   "parallelism.")
    if "curves" in results:
        out.append("(e) plspm is on the rows curve only where (b) measured it; seminr's "
                   "bootstrap curve stops at 1000 resamples (plus (a)'s 5000, when run).")
    if meta["quick"]:
        out.append("`--quick`: fewer repeats and resamples everywhere; single runs are noisy.")
    return ["## Extrapolated or skipped", "", *(f"- {x}" for x in out), ""] if out else []


def render(meta: dict[str, Any], info: dict[str, str], results: dict[str, Any],
           image: str) -> str:
    machine_lines = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    ran = [c for c in CASES if c in results]
    out = [
        "# Benchmarks: csisem vs seminr, plspm and semopy",
        "",
        "Generated by `benchmarks/run.py`; do not edit by hand — re-run it instead. All",
        "numbers below come from one run on one machine; timings on a shared machine vary,",
        "so read the ratios, not the third digit.",
        "",
        f"- Command: `{meta['command']}` (from the repository root, csisem's virtualenv)",
        f"- Date: {meta['start']}; whole run {meta['total'] / 60:.1f} min"
        + (" (`--quick`: fewer repeats and resamples, no 10^7 rows, 20 companies)"
           if meta["quick"] else ""),
        f"- Cases run: {', '.join(ran)}"
        + (f"; not run: {', '.join(c for c in CASES if c not in results)}"
           if len(ran) < len(CASES) else ""),
        "- Models: ECSI (7 constructs, 24 indicators, 12 paths), all Mode A, path weighting,",
        "  on `mobi` (250 × 24, bundled with csisem) or on data simulated from the spec; ACSI",
        "  (6 constructs, 14 indicators) for CB-SEM.",
        "",
        "## Machine",
        "",
        *machine_lines,
        "",
        *summary(results),
    ]
    if "fit" in results:
        out += ["## (a) ECSI on mobi: one fit (warm process)", "",
                *cases_mobi.render_fit(results["fit"]), ""]
    if "boot" in results:
        out += [f"## (a) ECSI on mobi: bootstrap ({cases_mobi.TARGET} resamples)", "",
                *cases_mobi.render_boot(results["boot"]), ""]
    if "rows" in results:
        out += ["## (b) Synthetic ECSI, 10^4 to 10^7 rows: fit time and peak memory", "",
                *cases_rows.render(results["rows"]), ""]
    if "cbsem" in results:
        out += ["## (c) ACSI by CB-SEM (ML): csisem vs raw semopy", "",
                *cases_cbsem.render(results["cbsem"]), ""]
    if "companies" in results:
        out += ["## (d) 400 companies × 250 respondents × 1000 resamples", "",
                *cases_companies.render(results["companies"]), ""]
    if "curves" in results:
        out += ["## (e) Scaling curves", "", *curves.render(results["curves"], image), ""]
    out += caveats(meta, results)
    out += ["## How it was measured", "",
            *cases_mobi.notes(meta["seminr_nboot"], meta["plspm_nboot"],
                              meta.get("blas_threads", 0)), ""]
    return "\n".join(out)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {(k if isinstance(k, str) else "|".join(map(str, k)) if isinstance(k, tuple)
                 else str(k)): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and resamples; no 10^7 rows; 20 companies")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated subset of {','.join(CASES)} (default: all)")
    parser.add_argument("--peer-python", help="interpreter with seminr/plspm installed")
    parser.add_argument("--no-setup", action="store_true",
                        help=f"do not create {VENV.relative_to(ROOT)} when it is missing")
    parser.add_argument("--seminr-nboot", type=int, help="seminr resamples on mobi "
                        "(default 5000, 1000 with --quick)")
    parser.add_argument("--plspm-nboot", type=int, help="plspm resamples on mobi "
                        "(default 1000, 100 with --quick)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS/OpenMP threads in every process (default 1; 0: the "
                             "libraries' defaults, one per core)")
    parser.add_argument("--output", help="Markdown file to write (default: BENCHMARKS.md "
                        "for a full run, else benchmarks/.cache/BENCHMARKS.partial.md)")
    parser.add_argument("--rerender", action="store_true",
                        help="only write the Markdown again from the last run's numbers "
                             "(benchmarks/.cache/last_run.pkl)")
    args = parser.parse_args(argv)
    if args.rerender:
        with open(CACHE / "last_run.pkl", "rb") as fh:
            last = pickle.load(fh)
        return write(last["meta"], last["info"], last["results"], last["output"],
                     last["image"])
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {', '.join(unknown)}; choose from {', '.join(CASES)}")

    if args.blas_threads > 0:  # before numpy is imported here or in any child
        for var in BLAS_VARS:
            os.environ[var] = str(args.blas_threads)

    full = not args.quick and set(cases) == set(CASES)
    out_dir = RESULTS if full else CACHE
    output = Path(args.output) if args.output else (
        ROOT / "BENCHMARKS.md" if full else CACHE / "BENCHMARKS.partial.md")
    image = out_dir / "benchmark_curves.png"
    seminr_nboot = args.seminr_nboot or (1000 if args.quick else cases_mobi.TARGET)
    plspm_nboot = args.plspm_nboot or (100 if args.quick else 1000)
    command = "python " + " ".join(shlex.quote(a) for a in
                                   [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    CACHE.mkdir(exist_ok=True)

    start = dt.datetime.now(dt.timezone.utc)
    load_before = _loadavg()
    t_start = time.perf_counter()
    py = peer_python(args)
    ctx = Ctx(quick=args.quick, peer_python=py)
    info = machine(py)
    info["load average (1/5/15 min) at start"] = load_before

    results: dict[str, Any] = {}
    runners = {
        "fit": lambda: cases_mobi.run_fit(ctx),
        "boot": lambda: cases_mobi.run_boot(ctx, seminr_nboot, plspm_nboot),
        "rows": lambda: cases_rows.run(ctx),
        "cbsem": lambda: cases_cbsem.run(ctx),
        "companies": lambda: cases_companies.run(ctx),
        "curves": lambda: curves.run(ctx),
    }
    for case in CASES:
        if case in cases:
            t0 = time.perf_counter()
            results[case] = runners[case]()
            log(f"case {case} done in {time.perf_counter() - t0:.0f} s")
    info["load average (1/5/15 min) at end"] = _loadavg()
    total = time.perf_counter() - t_start

    meta = {"command": command, "start": start.strftime("%Y-%m-%d %H:%M UTC"), "total": total,
            "quick": args.quick, "seminr_nboot": seminr_nboot, "plspm_nboot": plspm_nboot,
            "blas_threads": args.blas_threads}
    # the raw numbers first, so that a rendering problem loses nothing
    (out_dir / "benchmarks.json").write_text(json.dumps(
        _jsonable({"meta": meta, "machine": info, "results": results}), indent=1))
    with open(CACHE / "last_run.pkl", "wb") as fh:
        pickle.dump({"meta": meta, "info": info, "results": results, "output": output,
                     "image": image}, fh)
    return write(meta, info, results, output, image)


def write(meta: dict[str, Any], info: dict[str, str], results: dict[str, Any], output: Path,
          image: Path) -> int:
    if "curves" in results:
        curves.figure(results["curves"], image)
    md = render(meta, info, results, os.path.relpath(image, output.resolve().parent))
    output.write_text(md)
    body = md.split("## Machine", 1)[1]
    print("## Machine" + body.split("## How it was measured", 1)[0])
    log(f"wrote {output} (total {meta['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
