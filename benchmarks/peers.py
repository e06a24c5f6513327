"""Time one peer PLS package (PyPI seminr or plspm) in a fresh process; print JSON on stdout.

Run by ``benchmarks/run.py`` with the *peers'* interpreter (a virtualenv built from
``benchmarks/requirements-peers.txt``), never with csisem's, e.g.::

    benchmarks/.venv/bin/python benchmarks/peers.py seminr fit --model ecsi.json \\
        --data mobi.csv --repeats 20
    benchmarks/.venv/bin/python benchmarks/peers.py plspm boot --model ecsi.json \\
        --data mobi.csv --nboot 1000

``--model`` is the JSON file the runner writes from csisem's spec (constructs with their
indicators, paths); ``--data`` a CSV or Parquet file. Every construct is estimated as a
Mode A composite with path weighting, as csisem's PLS does.

``fit``: imports, one untimed warm-up fit on the first rows, the RSS after that, reading
the data, the RSS after that, then ``--repeats`` timed fits and the peak RSS during them
(``common.measure``). ``boot``: the data, one untimed fit (the model the bootstrap starts
from), then one timed bootstrap. ``versions``: the versions of the package and its stack.
Only the standard library is imported until the peer package is, so a missing package is
reported as JSON ``{"status": "not installed"}``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata
from pathlib import Path

from common import WARMUP_ROWS, clocks, emit, measure, read_model_json


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


def read_data(path: str, nrows: int | None = None):
    """The data file as a DataFrame (all rows, or the first ``nrows``)."""
    import pandas as pd

    if Path(path).suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if nrows is not None:
            return pq.ParquetFile(path).read_row_group(0).slice(0, nrows).to_pandas()
        frame = pd.read_parquet(path)
        pa.default_memory_pool().release_unused()  # arrow's buffers: not the data's
        return frame
    return pd.read_csv(path, nrows=nrows)


def _fit_task(args: argparse.Namespace, prepare, fit, paths_of) -> dict:
    """The ``fit`` protocol: warm-up on the first rows, then timed fits with memory."""
    def warm():
        fit(prepare(read_data(args.data, WARMUP_ROWS)))

    result, out = measure(lambda: prepare(read_data(args.data)), fit, warm, args.repeats)
    return {**out, "paths": paths_of(result)}


# --------------------------------------------------------------------------------- seminr

def seminr_task(args: argparse.Namespace) -> dict:
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

    blocks, path_list = read_model_json(args.model)
    mm = constructs(*(composite(c, items, weights=mode_A) for c, items in blocks.items()))
    sm = relationships(*(paths(s, t) for s, t in path_list))

    def fit(data):
        return estimate_pls(data, mm, sm, inner_weights=path_weighting, max_it=300,
                            stop_criterion=7)

    def paths_of(model) -> dict[str, float]:
        return {_key(s, t): float(model.path_coef.get(s, t)) for s, t in path_list}

    out: dict = {"versions": _versions("seminr", "numpy", "scipy", "pandas")}
    if args.task == "fit":
        return {**out, **_fit_task(args, lambda d: d, fit, paths_of)}
    model = fit(read_data(args.data))  # the model the bootstrap starts from, untimed
    w0, c0 = clocks()
    boot = bootstrap_model(model, nboot=args.nboot, seed=args.seed,
                           cores=args.cores if args.cores > 1 else None)
    w1, c1 = clocks()
    import numpy as np

    draws = np.array([[rep.get(s, t) for s, t in path_list] for rep in boot.boot_paths])
    return {**out, "paths": paths_of(model), "times": [w1 - w0], "cpu": [c1 - c0],
            "n_resamples": args.nboot, "n_valid": int(boot.boots),
            "path_se": {_key(s, t): float(v) for (s, t), v in
                        zip(path_list, draws.std(axis=0, ddof=1), strict=True)}}


# ---------------------------------------------------------------------------------- plspm

def plspm_task(args: argparse.Namespace) -> dict:
    import numpy as np
    import plspm.config as c
    from plspm.mode import Mode
    from plspm.plspm import Plspm
    from plspm.scheme import Scheme

    blocks, path_list = read_model_json(args.model)
    # plspm refuses an indicator named like its construct (ECSI's CUSCO): add "_mv".
    rename = {i: f"{i}_mv" for items in blocks.values() for i in items if i in blocks}
    structure = c.Structure()
    for s, t in path_list:
        structure.add_path([s], [t])
    config = c.Config(structure.path(), scaled=False)  # Structure.path() works only once
    for lv, items in blocks.items():
        config.add_lv(lv, Mode.A, *(c.MV(rename.get(i, i)) for i in items))

    def prepare(raw):
        # plspm 0.5.7's Config(scaled=True) centres each column but divides ALL columns by
        # one pooled SD (config.treat), which is not PLS on standardised indicators; so the
        # data are z-scored here (n-1 SD, outside the timer) and passed with scaled=False.
        raw = raw.rename(columns=rename)
        return (raw - raw.mean()) / raw.std(ddof=1)

    def fit(data, **kw):
        # tolerance is on sum((|w_old| - |w_new|)^2): 1e-14 ~ a 1e-7 change in the weights,
        # the same order as csisem's (max |dw| < 1e-7) and seminr's (sum |dw| < 1e-7).
        return Plspm(data, config, Scheme.PATH, iterations=300, tolerance=1e-14, **kw)

    def paths_of(model) -> dict[str, float]:
        pc = model.path_coefficients()  # rows = targets, columns = sources
        return {_key(s, t): float(pc.loc[t, s]) for s, t in path_list}

    out: dict = {"versions": _versions("plspm", "numpy", "scipy", "pandas", "statsmodels")}
    if args.task == "fit":
        return {**out, **_fit_task(args, prepare, fit, paths_of)}
    data = prepare(read_data(args.data))
    model = fit(data)
    # plspm draws with the global np.random in forked worker processes; seeding the parent
    # makes a 1-process run reproducible. (With processes > 1 every forked worker inherits
    # the same state and draws the same resamples, so only 1 is used.)
    np.random.seed(args.seed)  # noqa: NPY002 (plspm draws from the legacy global RNG)
    w0, c0 = clocks()
    boot_model = fit(data, bootstrap=True, bootstrap_iterations=args.nboot, processes=1)
    w1, c1 = clocks()
    se = boot_model.bootstrap().paths()["std.error"]
    return {**out, "paths": paths_of(model), "times": [w1 - w0], "cpu": [c1 - c0],
            "n_resamples": args.nboot,
            "path_se": {_key(s, t): float(se.loc[f"{s} -> {t}"]) for s, t in path_list}}


TOOLS = {"seminr": ("seminr", seminr_task), "plspm": ("plspm", plspm_task)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("task", choices=["fit", "boot", "versions"])
    parser.add_argument("--model", help="model JSON written by run.py")
    parser.add_argument("--data", help="CSV or Parquet file")
    parser.add_argument("--repeats", type=int, default=10, help="timed fits (task fit)")
    parser.add_argument("--nboot", type=int, default=1000, help="resamples (task boot)")
    parser.add_argument("--cores", type=int, default=1, help="seminr bootstrap cores")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    module, task = TOOLS[args.tool]
    try:
        __import__(module)
    except ImportError as exc:
        emit({"status": "not installed", "detail": str(exc)})
        return 0
    if args.task == "versions":
        import numpy  # noqa: F401 (so that threadpoolctl sees its BLAS)

        emit({"status": "ok", "versions": _versions(module, "numpy", "scipy", "pandas",
                                                    "pyarrow")})
        return 0
    if not (args.model and args.data):
        parser.error(f"task {args.task} needs --model and --data")
    try:
        result = task(args)
    except Exception as exc:  # report, never crash the runner
        emit({"status": "error", "detail": f"{type(exc).__name__}: {exc}"})
        return 0
    emit({"status": "ok", **result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
