"""What the benchmark runner, its csisem child and the peers' script share (stdlib only).

Imported by ``benchmarks/run.py`` and its case modules (csisem's interpreter) and by
``benchmarks/peers.py`` and ``benchmarks/child.py``, which run as scripts (their folder is on
``sys.path``). It must not import csisem, numpy or pandas: ``peers.py`` runs in the peers'
virtualenv, where csisem is not installed, and must report a missing peer package as JSON.

The model travels between the two environments as JSON (:func:`read_model_json`): csisem's
runner writes it from the spec (``benchmarks/run.py: model_json``), so the ECSI model is
defined once, in ``specs/ecsi.yaml``.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1e6  # memory is reported in MB = 10^6 bytes
WARMUP_ROWS = 1000  # the untimed warm-up fit uses the first rows of the data


def pls_fit_tables(fit: Callable[[], Any]) -> Any:
    """``fit()`` and then the estimate tables a PLS fit is read for.

    csisem's ``fit`` computes every estimate as labelled arrays (as seminr's ``estimate_pls``
    returns its NamedMatrix objects) and builds the pandas tables ``paths``, ``loadings``,
    ``weights`` and ``r_squared`` on first use; this reads them inside the timer, for the
    "fit + tables" row beside the plain fit. Construct scores are left out (lazy in
    csisem, computed by seminr).
    """
    result = fit()
    for name in ("paths", "loadings", "weights", "r_squared"):
        getattr(result, name)
    return result


def clocks() -> tuple[float, float]:
    """(wall clock, CPU seconds of this process and its reaped children, all threads)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + ru.ru_utime + ru.ru_stime


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emit(payload: dict[str, Any]) -> None:
    """The one JSON line a child process prints on stdout for the runner."""
    print(json.dumps(payload), flush=True)


def read_model_json(path: str | Path) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """(blocks ``{construct: [indicators]}``, paths ``[(source, target)]``) of a model file."""
    spec = json.loads(Path(path).read_text())
    return ({c: list(v) for c, v in spec["blocks"].items()},
            [(s, t) for s, t in spec["paths"]])


# ---------------------------------------------------------------------------- memory

def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Current resident set size (MB); the peak so far where /proc is missing."""
    now = _status_mb("VmRSS")
    return now if now is not None else peak_mb()


def peak_mb() -> float:
    """Peak resident set size (MB) since the process started or :func:`reset_peak`."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / MB * (1 if sys.platform == "darwin" else 1024)  # macOS: bytes


def reset_peak() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0: ``clear_refs`` value 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def watchdog(limit_mb: float, interval: float = 0.05) -> None:
    """Abort this process (JSON status "aborted") if its RSS exceeds ``limit_mb``.

    Guards the shared machine when a fit that should stream reads everything instead.
    """
    import os
    import threading

    def watch() -> None:
        while True:
            now = rss_mb()
            if now > limit_mb:
                emit({"status": "aborted",
                      "detail": f"RSS {now:.0f} MB exceeded the {limit_mb:.0f} MB cap"})
                os._exit(0)
            time.sleep(interval)

    threading.Thread(target=watch, daemon=True).start()


def measure(load: Callable[[], Any], fit: Callable[[Any], Any], warm: Callable[[], Any],
            repeats: int) -> tuple[Any, dict[str, Any]]:
    """Time ``fit(load())`` and record the memory around it, in this (fresh) process.

    ``warm()`` runs one untimed fit on a small slice first (lazy imports, first-call
    caches). Then: RSS after imports and warm-up; ``load()`` (the data in memory, or nothing
    for a fit that reads a file itself); RSS after loading; the peak is reset and ``fit``
    runs ``repeats`` times; the peak RSS over those fits. Returns the last fit's result
    and the measurements (MB, seconds).
    """
    warm()
    gc.collect()
    rss_imports = rss_mb()
    data = load()
    gc.collect()
    rss_loaded = rss_mb()
    peak_load = peak_mb()
    exact = reset_peak()
    times, cpu, result = [], [], None
    for _ in range(repeats):
        result = None
        gc.collect()
        w0, c0 = clocks()
        result = fit(data)
        w1, c1 = clocks()
        times.append(w1 - w0)
        cpu.append(c1 - c0)
    return result, {"times": times, "cpu": cpu, "rss_imports": rss_imports,
                    "rss_loaded": rss_loaded, "peak_load": peak_load, "peak_fit": peak_mb(),
                    "peak_reset": exact}
