"""One PLS fit per group (company, quarter, company x quarter): ``csisem.fit_groups``.

National CSI studies fit the same model to every company's respondents and report each
company's 0-100 index (ACSI; EPSI). :func:`fit_groups` does that in one call and returns one
tidy table, with every group in it: a group too small to estimate, or whose fit fails, is a
row with a ``status`` and a ``message``, never a missing row.

Reproducibility: each group's bootstrap seed is derived from ``seed`` and the group's key
(``SeedSequence(seed, spawn_key=<SHA-256 of the key's string form>)``), so a group's numbers
depend neither on ``n_jobs``, nor on which other groups are in the data, nor on their order;
``groups["seed"]`` holds it, and ``csisem.fit(model, that_group, bootstrap=B, seed=it)``
repeats the group's fit exactly.

Parallelism: groups run on ``n_jobs`` threads, or, with a dask.distributed ``client``, as
tasks on its cluster (:func:`csisem.estimation.bootstrap.run_on_cluster`). BLAS is held to one
thread in every case (with threadpoolctl, when installed): a multi-threaded BLAS adds in a
different order, which would change the last digits with ``n_jobs``; the matrices are small,
so it is not slower either. Threads, not processes: measured on 2 cores, 400 companies x 250
respondents x 1000 resamples of ECSI, two threads took 32-46 s and two loky processes 29-48 s
(one process: 50 s); the two are within noise of each other, and processes add start-up,
pickling of every result and a second copy of the data, and need every option picklable.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path as FilePath
from typing import Any, cast

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .errors import DataError, DataWarning, EstimationError, OptionError
from .estimation.bootstrap import SharedContext, check_client, one_blas_thread, run_on_cluster
from .models.model import Model
from .results import PLSResult, _plain
from .summary import Section, Summary, SummaryMixin

__all__ = ["GroupFits", "GroupStatus", "fit_groups", "satisfaction_construct"]

DEFAULT_MIN_N = 30  # below this a company index is too noisy to publish (ACSI asks ~250)
TABLE_COLUMNS = ["construct", "index", "std_error", "ci_lower", "ci_upper", "wide_ci", "n",
                 "r_squared", "converged", "status"]
SATISFACTION_NAMES = ("CUSA", "ACSI", "SAT")  # the satisfaction constructs of the catalogue


class GroupStatus(str, Enum):
    """What happened to a group.

    ``ok``: fitted, converged, indices computed. ``not_converged``: fitted, but PLS stopped at
    ``max_iter`` (the indices are shown, flagged, and :func:`csisem.aggregate` treats the
    group as failed). ``too_small``: fewer than ``min_n`` rows, not fitted. ``failed``: the fit
    or the index raised a data or estimation error (see ``message``).
    """

    OK = "ok"
    NOT_CONVERGED = "not_converged"
    TOO_SMALL = "too_small"
    FAILED = "failed"


def satisfaction_construct(model: Model) -> str | None:
    """The construct whose label says "satisfaction" (or named CUSA, ACSI, SAT), if exactly one."""
    labelled = [c.name for c in model.constructs
                if c.label and "satisfaction" in c.label.lower()]
    if len(labelled) == 1:
        return labelled[0]
    named = [c for c in model.construct_names if c in SATISFACTION_NAMES]
    return named[0] if len(named) == 1 and not labelled else None


def _json_value(value: Any) -> Any:
    """A JSON-safe group value: numbers and strings as they are, anything else as text."""
    if value is pd.NA:
        return None
    value = _plain(value)
    return value if value is None or isinstance(value, str | int | float) else str(value)


def _key_label(by: tuple[str, ...], key: tuple[Any, ...]) -> str:
    return ", ".join(f"{b}={_json_value(k)!r}" for b, k in zip(by, key, strict=True))


def group_seed(root: int, key: tuple[Any, ...]) -> int:
    """The bootstrap seed of the group ``key`` (a stable hash, unlike Python's ``hash``)."""
    text = json.dumps([str(_json_value(k)) for k in key], ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    spawn_key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    return int(np.random.SeedSequence(root, spawn_key=spawn_key).generate_state(1)[0])


# ---- warnings raised inside group fits ------------------------------------------------------
_LOCAL = threading.local()


@contextlib.contextmanager
def _warnings_by_thread() -> Iterator[None]:
    """Send each worker thread's warnings to that thread's ``_LOCAL.sink``.

    ``catch_warnings`` is not thread-safe, so it is entered once (see
    :class:`~csisem.estimation.bootstrap.SharedContext`), and
    ``showwarning`` dispatches by thread. "always" makes the same warning in two groups
    count twice; while this runs it also applies to warnings of unrelated threads.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        original = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: Any = None, line: str | None = None) -> None:
            sink = getattr(_LOCAL, "sink", None)
            if sink is None:
                original(message, category, filename, lineno, file, line)
            else:
                sink.append((category, str(message)))

        warnings.showwarning = show
        yield


_route_warnings = SharedContext(_warnings_by_thread)


@dataclass(frozen=True)
class _Outcome:
    status: GroupStatus
    message: str
    result: PLSResult | None
    index: pd.DataFrame | None
    n_rows: int
    warned: tuple[tuple[type[Warning], str], ...]


def _fit_group(model: Model, frame: pd.DataFrame, seed: int, min_n: int,
               options: dict[str, Any]) -> _Outcome:
    from .api import fit

    n_rows = len(frame)
    if n_rows < min_n:
        return _Outcome(GroupStatus.TOO_SMALL, f"{n_rows} rows, fewer than min_n={min_n}.",
                        None, None, n_rows, ())
    sink: list[tuple[type[Warning], str]] = []
    _LOCAL.sink = sink
    result: PLSResult | None = None
    try:
        fitted = fit(model, frame, seed=seed, n_jobs=1, progress=False, **options)
        if not isinstance(fitted, PLSResult):  # pragma: no cover - rejected before fitting
            raise OptionError("fit_groups fits PLS models only.")
        result = fitted
        if result.n_obs < min_n:
            return _Outcome(GroupStatus.TOO_SMALL, f"{result.n_obs} complete rows of {n_rows}, "
                            f"fewer than min_n={min_n}.", None, None, n_rows, tuple(sink))
        index = result.index
    except (DataError, EstimationError) as exc:
        return _Outcome(GroupStatus.FAILED, str(exc), result, None, n_rows, tuple(sink))
    finally:
        _LOCAL.sink = None
    status = GroupStatus.OK if result.converged else GroupStatus.NOT_CONVERGED
    message = "; ".join(dict.fromkeys(text for _, text in sink))
    return _Outcome(status, message, result, index, n_rows, tuple(sink))


def _fit_group_remote(model: Model, frame: pd.DataFrame, seed: int, min_n: int,
                     options: dict[str, Any]) -> _Outcome:
    """:func:`_fit_group` as a task on a dask worker, which has its own warnings and BLAS
    state to set up (several tasks may share a worker process)."""
    with _route_warnings, one_blas_thread:
        return _fit_group(model, frame, seed, min_n, options)


# ---- the result -----------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class GroupFits(SummaryMixin):
    """Per-group PLS fits.

    ``table``: tidy, one row per group x construct: the ``by`` column(s), construct, index
    (0-100), std_error, ci_lower, ci_upper, wide_ci (bootstrap columns are NaN/NA without
    ``bootstrap``), n (rows used in the fit; rows in the group when not fitted), r_squared
    (NaN for exogenous constructs), converged, status (:class:`GroupStatus`). Unfitted groups
    keep their rows, with NaN values.

    ``groups``: one row per group: the ``by`` column(s), n_rows, n, seed, n_resamples (valid
    bootstrap resamples), converged, status, message (the error, or the fit's warnings).

    ``results``: group key -> :class:`PLSResult`, or None when the group was not fitted. A key
    is the value of ``by`` for one column, a tuple of values for several. Treat it as
    read-only.
    """

    model: Model
    by: tuple[str, ...]
    table: pd.DataFrame
    groups: pd.DataFrame
    results: dict[Any, PLSResult | None]
    seed: int
    bootstrap: int
    min_n: int
    n_unassigned: int = 0

    @property
    def failures(self) -> pd.DataFrame:
        """The ``groups`` rows whose status is not ``ok``."""
        return self.groups[self.groups["status"] != GroupStatus.OK.value].reset_index(drop=True)

    @property
    def constructs(self) -> tuple[str, ...]:
        """The model's constructs, in the order of the draws."""
        return self.model.construct_names

    @property
    def satisfaction(self) -> str | None:
        """The satisfaction construct (see :func:`satisfaction_construct`)."""
        return satisfaction_construct(self.model)

    def draws(self, construct: str) -> dict[Any, FloatArray]:
        """Bootstrap draws (valid resamples, in resample order) of ``construct``'s index per
        fitted group with a bootstrap; groups without draws are absent.

        Raises
        ------
        OptionError
            If ``construct`` is not a construct of the model.
        """
        k = self._construct_position(construct)
        out: dict[Any, FloatArray] = {}
        for key, result in self.results.items():
            boot = None if result is None else result.bootstrap
            if boot is not None and "index" in boot.draws:
                out[key] = boot.draws["index"][:, k]
        return out

    def _construct_position(self, construct: str) -> int:
        names = list(self.model.construct_names)
        if construct not in names:
            close = difflib.get_close_matches(construct, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise OptionError(f"construct={construct!r} is not a construct of model "
                              f"{self.model.name!r}.{hint} Constructs: {', '.join(names)}.")
        return names.index(construct)

    def summary(self) -> Summary:
        """Index by group (all constructs), the satisfaction index with its interval, and the
        groups that were not estimated or warned."""
        counts = self.groups["status"].value_counts()
        status = ", ".join(f"{int(n)} {str(s).replace('_', ' ')}" for s, n in counts.items())
        header = {"Model": self.model.name, "Groups by": ", ".join(self.by),
                  "Groups": f"{len(self.groups)} ({status})",
                  "Minimum rows": str(self.min_n)}
        if self.bootstrap:
            header["Bootstrap"] = (f"{self.bootstrap} resamples per group; seed {self.seed} "
                                   "(each group's seed is derived from it and its key)")
        if self.n_unassigned:
            header["Not in a group"] = f"{self.n_unassigned} rows (missing group value)"
        keys = list(self.by)
        wide = self.table.pivot_table(index=keys, columns="construct", values="index",
                                      sort=False, dropna=False)
        wide = wide[list(self.model.construct_names)].reset_index()
        wide = wide.merge(self.groups[[*keys, "n", "status"]], on=keys, how="left")
        sections = [Section("Index (0-100) by group", wide)]
        sat = self.satisfaction
        if self.bootstrap and sat is not None:
            rows = self.table[self.table["construct"] == sat]
            sections.append(Section(
                f"{sat}: index with bootstrap interval",
                rows[[*keys, "index", "std_error", "ci_lower", "ci_upper", "r_squared"]]))
        noted = self.groups[(self.groups["status"] != GroupStatus.OK.value)
                            | (self.groups["message"] != "")]
        if len(noted):
            sections.append(Section("Groups not estimated, flagged or with warnings",
                                    noted[[*keys, "status", "message"]]))
        return Summary(title="csisem — PLS fits by group", header=header,
                       sections=tuple(sections))

    def __repr__(self) -> str:
        ok = int((self.groups["status"] == GroupStatus.OK.value).sum())
        return (f"<GroupFits {self.model.name} by {', '.join(self.by)}: {len(self.groups)} "
                f"groups, {ok} ok>")

    def to_dict(self, draws: bool = True) -> dict[str, Any]:
        """A JSON-compatible dict; with ``draws`` each group's index bootstrap draws too
        (what ``csisem aggregate`` needs for propagated intervals)."""
        keys = list(self.by)
        K = len(self.model.construct_names)
        out_groups = []
        for i, (row, result) in enumerate(zip(self.groups.to_dict(orient="records"),
                                              self.results.values(), strict=True)):
            rows = self.table.iloc[i * K:(i + 1) * K]
            entry: dict[str, Any] = {
                "key": {k: _json_value(row[k]) for k in keys},
                **{c: _json_value(row[c]) for c in ("n_rows", "n", "seed", "n_resamples",
                                               "converged", "status", "message")},
                "index": {r["construct"]: {c: _json_value(r[c]) for c in
                                           ("index", "std_error", "ci_lower", "ci_upper",
                                            "wide_ci", "r_squared")}
                          for r in rows.to_dict(orient="records")},
            }
            boot = None if result is None else result.bootstrap
            if draws and boot is not None:
                entry["draws"] = {c: boot.draws["index"][:, k].tolist()
                                  for k, c in enumerate(self.model.construct_names)}
            out_groups.append(entry)
        return {"kind": "csisem.group_fits", "model": self.model.name, "by": keys,
                "constructs": list(self.model.construct_names),
                "satisfaction": self.satisfaction, "bootstrap": self.bootstrap,
                "seed": self.seed, "min_n": self.min_n, "n_unassigned": self.n_unassigned,
                "groups": out_groups}

    def to_json(self, indent: int | None = 2, draws: bool = True) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(draws=draws), indent=indent, ensure_ascii=False)

    def to_csv(self, path: str | FilePath | None = None) -> str | None:
        """``table`` as CSV (no draws): returned as text, or written to ``path``."""
        if path is None:
            return str(self.table.to_csv(index=False))
        self.table.to_csv(path, index=False)
        return None


# ---- fit_groups -----------------------------------------------------------------------------
def _check_by(by: str | Sequence[str], frame: pd.DataFrame, model: Model) -> tuple[str, ...]:
    names = (by,) if isinstance(by, str) else tuple(by)
    if not names or not all(isinstance(b, str) and b for b in names):
        raise OptionError(f"by={by!r} must be a column name or a list of column names.")
    if len(set(names)) < len(names):
        raise OptionError(f"by={list(names)!r} names a column twice.")
    columns = [str(c) for c in frame.columns]
    for b in names:
        if b not in columns:
            close = difflib.get_close_matches(b, columns, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            more = f" and {len(columns) - 12} more" if len(columns) > 12 else ""
            raise DataError(f"by={b!r} is not a column of the data.{hint} The data have "
                            f"{len(columns)} columns: {', '.join(columns[:12])}{more}.")
        if b in model.indicator_names:
            raise OptionError(f"by={b!r} is an indicator of model {model.name!r}; group by a "
                              "column that identifies the company or period.")
    return names


def _check_options(options: dict[str, Any]) -> None:
    import inspect

    from .api import fit
    from .options import Method, coerce

    reserved = {"seed", "n_jobs", "progress"} & set(options)
    if reserved:
        raise OptionError(f"Pass {', '.join(sorted(reserved))} to fit_groups itself, not as "
                          "fit options (progress is off for group fits).")
    allowed = [p for p in inspect.signature(fit).parameters if p not in ("model", "data")]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise OptionError(f"fit_groups got unknown fit option(s) {', '.join(unknown)}; "
                          f"options of csisem.fit: {', '.join(allowed)}.")
    method = coerce(Method, options.get("method", Method.PLS), arg="method")
    if method not in (Method.PLS, Method.PLSC):
        raise OptionError(f"method={method.value!r}: fit_groups computes 0-100 indices, which "
                          "need PLS weights; use method='pls' or 'plsc'.")


def fit_groups(
    model: Any,
    data: Any,
    by: str | Sequence[str],
    *,
    min_n: int = DEFAULT_MIN_N,
    n_jobs: int = 1,
    seed: int | None = None,
    client: Any = None,
    **fit_options: Any,
) -> GroupFits:
    """Fit ``model`` to each group of rows of ``data`` and tabulate indices per group.

    Parameters
    ----------
    model : as :func:`csisem.fit`: a catalogue name, a spec path or a Model.
    data : a DataFrame, bundled data set name or CSV path, with the ``by`` column(s).
    by : the column defining the groups (``"company"``), or several (``["company",
        "quarter"]``: one fit per company and quarter). Rows with a missing ``by`` value
        belong to no group; they are counted (``n_unassigned``) and warned about.
    min_n : groups with fewer rows (or fewer complete rows) are not fitted and are reported
        with status ``too_small`` (default 30).
    n_jobs : groups fitted in parallel (threads; -1: all cores). The output does not depend
        on it.
    client : a ``dask.distributed.Client``: each group is fitted as a task on its cluster
        (``n_jobs`` is then not used), with the same output as locally. The workers need
        csisem installed; dask is imported only when a client is given.
    seed : root of every group's bootstrap seed (drawn from the OS when None, and reported
        as ``seed`` of the result).
    **fit_options : passed to :func:`csisem.fit` for every group (``bootstrap``,
        ``weights``, ``missing``, ``method='pls'|'plsc'``, ``ci_level``, ...).

    Returns
    -------
    GroupFits

    Warns
    -----
    DataWarning
        For rows without a group, and (prefixed with the groups) for warnings of group fits;
        a group's warnings are also in its ``message``.

    Raises
    ------
    DataError
        If a ``by`` column is missing (close names are suggested) or no row has a group.
    OptionError
        For invalid options (checked once, before any fit), including CB-SEM methods, and a
        ``client`` that is not a ``distributed.Client``.
    SpecError
        If the model is invalid.
    """
    from .api import resolve_data
    from .models.catalogue import load_model

    model = load_model(model)
    frame = resolve_data(data)
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    names = _check_by(by, frame, model)
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise OptionError(f"min_n={min_n!r} must be a positive integer.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise OptionError(f"n_jobs={n_jobs!r} must be a positive number of workers or -1 "
                          "(all cores).")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise OptionError(f"seed={seed!r} must be a non-negative integer.")
    _check_options(fit_options)
    client = check_client(client)
    root = int(cast(int, np.random.SeedSequence().entropy)) if seed is None else int(seed)

    unassigned = frame[list(names)].isna().any(axis=1)
    n_unassigned = int(unassigned.sum())
    if n_unassigned == len(frame):
        raise DataError(f"No row has a value in by={list(names)!r}; there are no groups.")
    if n_unassigned:
        warnings.warn(f"{n_unassigned} of {len(frame)} rows have no value in "
                      f"{', '.join(names)} and belong to no group.", DataWarning, stacklevel=2)
    try:
        grouped = list(frame[~unassigned].groupby(list(names), sort=True))
    except TypeError:  # unorderable mixed key types: keep the order of appearance
        grouped = list(frame[~unassigned].groupby(list(names), sort=False))
    keys = [k if isinstance(k, tuple) else (k,) for k, _ in grouped]
    seeds = [group_seed(root, k) for k in keys]
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    workers = max(1, min(workers, len(grouped)))

    calls = [(model, f, s, int(min_n), fit_options)
             for (_, f), s in zip(grouped, seeds, strict=True)]
    with _route_warnings, one_blas_thread:
        if client is not None:
            outcomes = run_on_cluster(client, _fit_group_remote, calls)
        elif workers == 1:
            outcomes = [_fit_group(*call) for call in calls]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures: list[Future[_Outcome]] = [pool.submit(_fit_group, *call)
                                                   for call in calls]
                try:
                    outcomes = [fut.result() for fut in futures]
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    _reissue(names, keys, outcomes)
    return _assemble(model, names, keys, seeds, outcomes, root, fit_options, int(min_n),
                     n_unassigned)


def _reissue(names: tuple[str, ...], keys: list[tuple[Any, ...]],
             outcomes: list[_Outcome]) -> None:
    """Warn once per distinct warning, naming the groups it came from."""
    seen: dict[tuple[type[Warning], str], list[str]] = {}
    for key, outcome in zip(keys, outcomes, strict=True):
        for category, text in dict.fromkeys(outcome.warned):
            seen.setdefault((category, text), []).append(_key_label(names, key))
    for (category, text), where in seen.items():
        listing = "; ".join(where[:5]) + (f"; and {len(where) - 5} more" if len(where) > 5
                                          else "")
        warnings.warn(f"In {len(where)} group(s) ({listing}): {text}", category, stacklevel=3)


def _assemble(model: Model, names: tuple[str, ...], keys: list[tuple[Any, ...]],
              seeds: list[int], outcomes: list[_Outcome], root: int,
              options: dict[str, Any], min_n: int, n_unassigned: int) -> GroupFits:
    constructs = list(model.construct_names)
    positions = pd.Index(constructs)
    K = len(constructs)
    size = K * len(keys)
    # Column arrays filled group by group (a dict per row and .at lookups cost more than
    # the fits' own tables for hundreds of groups).
    values = {col: np.full(size, np.nan) for col in ("index", "std_error", "ci_lower",
                                                     "ci_upper", "r_squared")}
    wide: list[bool | None] = [None] * size
    n_col: list[int] = []
    converged_col: list[bool | None] = []
    status_col: list[str] = []
    group_rows: list[dict[str, Any]] = []
    for g, (key, seed, out) in enumerate(zip(keys, seeds, outcomes, strict=True)):
        key_cols = dict(zip(names, key, strict=True))
        res = out.result  # None when not fitted (too small, or the fit raised)
        n = out.n_rows if res is None else res.n_obs
        converged = None if res is None else bool(res.converged)
        boot = None if res is None else res.bootstrap
        group_rows.append({**key_cols, "n_rows": out.n_rows, "n": n, "seed": seed,
                           "n_resamples": None if boot is None else boot.n_valid,
                           "converged": converged, "status": out.status.value,
                           "message": out.message})
        rows = slice(g * K, (g + 1) * K)
        if out.index is not None:
            at = positions.get_indexer(pd.Index(out.index["construct"]))
            for col, target in (("estimate", "index"), ("std_error", "std_error"),
                                ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper")):
                if col in out.index:
                    values[target][rows][at] = out.index[col].to_numpy(dtype=float)
            if "wide_ci" in out.index:
                for j, flag in zip(at, out.index["wide_ci"], strict=True):
                    wide[g * K + j] = bool(flag)
        if res is not None:
            r2 = res.r_squared
            values["r_squared"][rows] = r2.reindex(constructs).to_numpy(dtype=float)
        n_col += [n] * K
        converged_col += [converged] * K
        status_col += [out.status.value] * K
    table = pd.DataFrame({
        **{b: [k[i] for k in keys for _ in range(K)] for i, b in enumerate(names)},
        "construct": constructs * len(keys), **{c: values[c] for c in
                                                ("index", "std_error", "ci_lower", "ci_upper")},
        "wide_ci": wide, "n": n_col, "r_squared": values["r_squared"],
        "converged": converged_col, "status": status_col},
        columns=[*names, *TABLE_COLUMNS])
    groups = pd.DataFrame(group_rows, columns=[*names, "n_rows", "n", "seed", "n_resamples",
                                               "converged", "status", "message"])
    for frame in (table, groups):
        frame["converged"] = frame["converged"].astype("boolean")
    table["wide_ci"] = table["wide_ci"].astype("boolean")
    groups["n_resamples"] = groups["n_resamples"].astype("Int64")
    results = {(k[0] if len(names) == 1 else k): o.result
               for k, o in zip(keys, outcomes, strict=True)}
    return GroupFits(model=model, by=names, table=table, groups=groups, results=results,
                     seed=root, bootstrap=int(options.get("bootstrap", 0) or 0), min_n=min_n,
                     n_unassigned=n_unassigned)
