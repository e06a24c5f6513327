"""The runner's machinery shared by its case modules (csisem's interpreter).

Subprocesses (the csisem child, the peers in their virtualenv), the simulated-data cache,
the model files handed to the peers, and number formatting.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import MB, log

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
CHUNK = 2**17  # rows per simulated chunk and per Parquet row group
DATA_VERSION = 1  # bump when the way the cached data are simulated changes


@dataclass
class Ctx:
    """What every case needs: options, the peers' interpreter, results shared by cases."""

    quick: bool
    peer_python: Path | None
    seed: int = 1
    shared: dict[str, Any] = field(default_factory=dict)


def load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_json(cmd: list[str], label: str, timeout: float) -> dict[str, Any]:
    """Run a child that prints one JSON line; errors and timeouts become a status."""
    log(label)
    load = load1()
    try:
        proc = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout,
                              cwd=HERE)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "detail": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "detail": f"exit {proc.returncode}: {tail}"}
    return {**json.loads(lines[-1]), "load": load}


def run_peer(ctx: Ctx, tool: str, task: str, model: Path, data: Path, *, timeout: float,
             **opts: int) -> dict[str, Any]:
    """``peers.py tool task`` in the peers' virtualenv."""
    if ctx.peer_python is None:
        return {"status": "not installed", "detail": "no peers' interpreter"}
    cmd = [str(ctx.peer_python), str(HERE / "peers.py"), tool, task, "--model", str(model),
           "--data", str(data)]
    for k, v in opts.items():
        cmd += [f"--{k}", str(v)]
    return run_json(cmd, f"{tool} {task} {data.name} {opts} ...", timeout)


def run_child(spec: str | Path, data: Path, source: str, repeats: int, *,
              timeout: float, max_mb: float = 0) -> dict[str, Any]:
    """``child.py``: one csisem fit measurement in a fresh csisem process."""
    cmd = [sys.executable, str(HERE / "child.py"), "--spec", str(spec), "--data", str(data),
           "--source", source, "--repeats", str(repeats), "--max-mb", str(max_mb)]
    return run_json(cmd, f"csisem fit {data.name} from {source} x{repeats} ...", timeout)


# ------------------------------------------------------------------------------- data

def model_json(model: Any) -> Path:
    """Write ``model``'s constructs and paths for the peers (``common.read_model_json``)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{model.name.lower()}.json"
    spec = {"name": model.name,
            "blocks": {c.name: list(c.indicator_names) for c in model.constructs},
            "paths": [[p.source, p.target] for p in model.paths]}
    path.write_text(json.dumps(spec, indent=1))
    return path


def simulated(model: Any, n: int, seed: int) -> Path:
    """Parquet file of ``n`` rows simulated from ``model`` (cached in benchmarks/.cache).

    Written chunk by chunk (``CHUNK`` rows, one row group each, so memory stays bounded at
    any ``n``); chunk ``i`` is ``simulate(model, rows, seed=default_rng([seed, i]),
    on_scale=True)``, so a smaller data set is the first rows of a larger one.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from csisem.datasets import simulate

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{model.name.lower()}_n{n}_seed{seed}_v{DATA_VERSION}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
        return path
    log(f"simulating {n} rows of {model.name} -> {path.name} ...")
    tmp = path.with_suffix(".tmp")
    writer = None
    for i, start in enumerate(range(0, n, CHUNK)):
        rows = max(min(CHUNK, n - start), 2)
        frame = simulate(model, rows, seed=np.random.default_rng([seed, i]), on_scale=True)
        table = pa.Table.from_pandas(frame.iloc[: n - start], preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    assert writer is not None
    writer.close()
    tmp.replace(path)
    return path


def data_mb(n: int, n_columns: int) -> float:
    """Size of the data in memory as float64 (MB)."""
    return n * n_columns * 8 / MB


# ------------------------------------------------------------------------- formatting

def ok(r: dict[str, Any] | None) -> bool:
    return r is not None and r.get("status") == "ok"


def med(r: dict[str, Any], key: str = "times") -> float:
    return statistics.median(r[key])


def fmt_s(x: float) -> str:
    if not math.isfinite(x):
        return ""
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1000:.1f} ms"
    return f"{x * 1e6:.0f} µs"


def fmt_mb(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return ""
    return f"{x / 1000:.2f} GB" if x >= 1000 else f"{x:.0f} MB"


def ratio(x: float) -> str:
    if not math.isfinite(x):
        return ""
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×" if x >= 0.1 else f"{x:.2f}×"


def maxdiff(a: dict[str, float], b: dict[str, float]) -> float:
    """Largest |difference| over the keys the two share (NaN if they share none)."""
    keys = [k for k in a if k in b]
    return max((abs(a[k] - b[k]) for k in keys), default=float("nan"))


def maxrel(a: dict[str, float], b: dict[str, float]) -> float:
    keys = [k for k in a if k in b]
    return max((abs(a[k] / b[k] - 1) for k in keys), default=float("nan"))


def status_cell(r: dict[str, Any]) -> str:
    detail = str(r.get("detail", ""))[:100].replace("|", "/")
    return f"{r.get('status')}: {detail}" if detail else str(r.get("status"))
