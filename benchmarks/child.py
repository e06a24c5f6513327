"""Time one csisem PLS fit in a fresh process, with its memory; print JSON on stdout.

Run by the benchmark runner with csisem's interpreter, one process per measurement, so that
the peak RSS belongs to that measurement alone::

    python benchmarks/child.py --spec ecsi --data benchmarks/.cache/ecsi_n1000000.parquet \\
        --source memory --repeats 3

``--source memory``: the Parquet file is read into a pandas DataFrame (outside the timer;
arrow's memory pool is then released, so the RSS after loading is the data's) and
``csisem.fit(spec, frame)`` is timed. ``--source parquet``: ``csisem.fit(spec, path)`` is
timed, reading included (csisem streams the file when it can). ``--source dask``:
``csisem.fit(spec, dask.dataframe.read_parquet(path))`` (lazy, so reading is included).
The protocol (warm-up on the first rows, RSS after imports, after loading, peak during the
timed fits) is ``common.measure``'s, the same as the peers'.
"""

from __future__ import annotations

import argparse
import sys

from common import WARMUP_ROWS, emit, measure, pls_fit_tables, watchdog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="catalogue name or spec file")
    parser.add_argument("--data", required=True, help="Parquet file")
    parser.add_argument("--source", choices=["memory", "parquet", "dask"], default="memory")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-mb", type=float, default=0,
                        help="abort when the RSS exceeds this many MB (0: no cap)")
    args = parser.parse_args(argv)
    if args.max_mb > 0:
        watchdog(args.max_mb)

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import csisem

    model = csisem.load_model(args.spec)

    def warm() -> None:
        head = pq.ParquetFile(args.data).read_row_group(0).slice(0, WARMUP_ROWS).to_pandas()
        csisem.fit(model, head)

    if args.source == "memory":
        def load():
            frame = pd.read_parquet(args.data)
            pa.default_memory_pool().release_unused()  # arrow's buffers: not the data's
            return frame
    elif args.source == "parquet":
        def load():
            return args.data
    else:
        import dask.dataframe as dd

        def load():
            return dd.read_parquet(args.data, split_row_groups=True)  # bounded partitions

    try:
        result, out = measure(load, lambda data: pls_fit_tables(lambda: csisem.fit(model, data)),
                              warm, args.repeats)
    except Exception as exc:  # report, never crash the runner
        emit({"status": "error", "detail": f"{type(exc).__name__}: {exc}"})
        return 0
    p = result.paths
    emit({"status": "ok", **out,
          "paths": {f"{s}->{t}": float(v)
                    for s, t, v in zip(p.source, p.target, p.estimate, strict=True)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
