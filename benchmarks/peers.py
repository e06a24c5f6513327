"""Time one peer PLS package on ECSI/mobi inside a warm process and print JSON on stdout.

Run by ``benchmarks/run.py`` with the *peers'* interpreter (a virtualenv built from
``benchmarks/requirements-peers.txt``), never with csisem's, e.g.::

    benchmarks/.venv/bin/python benchmarks/peers.py seminr fit --data mobi.csv --repeats 20
    benchmarks/.venv/bin/python benchmarks/peers.py plspm boot --data mobi.csv --nboot 1000

Imports, reading the CSV and building the model specification happen before any timer
starts. ``fit``: one untimed warm-up call, then ``--repeats`` timed calls (the runner takes
the median). ``boot``: one timed run. Needs only the standard library until the peer package
is imported, so a missing package is reported as JSON ``{"status": "not installed"}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from importlib import metadata

BLOCKS = {
    "IMAG": [f"IMAG{i}" for i in range(1, 6)],
    "CUEX": [f"CUEX{i}" for i in range(1, 4)],
    "PERQ": [f"PERQ{i}" for i in range(1, 8)],
    "PERV": [f"PERV{i}" for i in range(1, 3)],
    "CUSA": [f"CUSA{i}" for i in range(1, 4)],
    "CUSCO": ["CUSCO"],
    "CUSL": [f"CUSL{i}" for i in range(1, 4)],
}
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


def _key(s: str, t: str) -> str:
    return f"{s}->{t}"


def _versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = "; ".join(
            f"{d.get('internal_api')} {d.get('version')} ({d.get('num_threads')} threads)"
            for d in threadpool_info() if d.get("user_api") == "blas")
    except Exception:  # threadpoolctl is optional
        pass
    return out


# --------------------------------------------------------------------------------- seminr

def seminr_task(args: argparse.Namespace) -> dict:
    import pandas as pd
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

    data = pd.read_csv(args.data)
    mm = constructs(*(composite(c, items, weights=mode_A) for c, items in BLOCKS.items()))
    sm = relationships(*(paths(s, t) for s, t in PATHS))

    def fit():
        return estimate_pls(data, mm, sm, inner_weights=path_weighting, max_it=300,
                            stop_criterion=7)

    model = fit()  # warm-up (and the model the bootstrap starts from)
    out: dict = {"versions": _versions("seminr", "numpy", "scipy", "pandas"),
                 "paths": {_key(s, t): float(model.path_coef.get(s, t)) for s, t in PATHS},
                 "iterations": int(model.iterations)}
    if args.task == "fit":
        times, cpu = [], []
        for _ in range(args.repeats):
            w0, c0 = clocks()
            fit()
            w1, c1 = clocks()
            times.append(w1 - w0)
            cpu.append(c1 - c0)
        out["times"], out["cpu"] = times, cpu
    else:
        w0, c0 = clocks()
        boot = bootstrap_model(model, nboot=args.nboot, seed=args.seed,
                               cores=args.cores if args.cores > 1 else None)
        w1, c1 = clocks()
        out["times"], out["cpu"] = [w1 - w0], [c1 - c0]
        out["n_resamples"] = args.nboot
        out["n_valid"] = int(boot.boots)
        import numpy as np

        draws = np.array([[rep.get(s, t) for s, t in PATHS] for rep in boot.boot_paths])
        out["path_se"] = {_key(s, t): float(v)
                          for (s, t), v in zip(PATHS, draws.std(axis=0, ddof=1), strict=True)}
    return out


# ---------------------------------------------------------------------------------- plspm

def plspm_task(args: argparse.Namespace) -> dict:
    import numpy as np
    import pandas as pd
    import plspm.config as c
    from plspm.mode import Mode
    from plspm.plspm import Plspm
    from plspm.scheme import Scheme

    # plspm refuses an indicator named like its construct: CUSCO -> CUSCO_mv.
    # plspm 0.5.7's Config(scaled=True) centres each column but divides ALL columns by one
    # pooled SD (config.treat), which is not PLS on standardised indicators; so the data are
    # z-scored here (n-1 SD, outside the timer) and passed with scaled=False.
    raw = pd.read_csv(args.data).rename(columns={"CUSCO": "CUSCO_mv"})
    blocks = {k: [("CUSCO_mv" if i == "CUSCO" else i) for i in v] for k, v in BLOCKS.items()}
    data = (raw - raw.mean()) / raw.std(ddof=1)
    structure = c.Structure()
    for s, t in PATHS:
        structure.add_path([s], [t])
    config = c.Config(structure.path(), scaled=False)  # Structure.path() works only once
    for lv, items in blocks.items():
        config.add_lv(lv, Mode.A, *(c.MV(i) for i in items))

    def fit(**kw):
        # tolerance is on sum((|w_old| - |w_new|)^2): 1e-14 ~ a 1e-7 change in the weights,
        # the same order as csisem's (max |dw| < 1e-7) and seminr's (sum |dw| < 1e-7).
        return Plspm(data, config, Scheme.PATH, iterations=300, tolerance=1e-14, **kw)

    model = fit()  # warm-up
    pc = model.path_coefficients()  # rows = targets, columns = sources
    out: dict = {"versions": _versions("plspm", "numpy", "scipy", "pandas", "statsmodels"),
                 "paths": {_key(s, t): float(pc.loc[t, s]) for s, t in PATHS}}
    if args.task == "fit":
        times, cpu = [], []
        for _ in range(args.repeats):
            w0, c0 = clocks()
            fit()
            w1, c1 = clocks()
            times.append(w1 - w0)
            cpu.append(c1 - c0)
        out["times"], out["cpu"] = times, cpu
    else:
        # plspm draws with the global np.random in forked worker processes; seeding the
        # parent makes a 1-process run reproducible. (With processes > 1 every forked worker
        # inherits the same state and draws the same resamples, so only 1 is used.)
        np.random.seed(args.seed)  # noqa: NPY002 (plspm draws from the legacy global RNG)
        w0, c0 = clocks()
        boot_model = fit(bootstrap=True, bootstrap_iterations=args.nboot, processes=1)
        w1, c1 = clocks()
        out["times"], out["cpu"] = [w1 - w0], [c1 - c0]
        out["n_resamples"] = args.nboot
        se = boot_model.bootstrap().paths()["std.error"]
        out["path_se"] = {_key(s, t): float(se.loc[f"{s} -> {t}"]) for s, t in PATHS}
    return out


TOOLS = {"seminr": ("seminr", seminr_task), "plspm": ("plspm", plspm_task)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("task", choices=["fit", "boot"])
    parser.add_argument("--data", required=True, help="mobi CSV (250 x 24)")
    parser.add_argument("--repeats", type=int, default=10, help="timed fits (task fit)")
    parser.add_argument("--nboot", type=int, default=1000, help="resamples (task boot)")
    parser.add_argument("--cores", type=int, default=1, help="seminr bootstrap cores")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    module, task = TOOLS[args.tool]
    try:
        __import__(module)
    except ImportError as exc:
        print(json.dumps({"status": "not installed", "detail": str(exc)}))
        return 0
    try:
        result = task(args)
    except Exception as exc:  # report, never crash the runner
        print(json.dumps({"status": "error", "detail": f"{type(exc).__name__}: {exc}"}))
        return 0
    print(json.dumps({"status": "ok", **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
