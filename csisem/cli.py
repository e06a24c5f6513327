"""The ``csisem`` command line: a thin layer over the public API.

Commands: ``models`` (the catalogue), ``show`` (describe a model, or print it as YAML or
lavaan syntax), ``validate`` (check a spec, and data against it), ``fit`` (text summary or
JSON; ``--by`` fits per group), ``compare`` (one model by several methods) and
``aggregate`` (industry, sector and national indices).
Run ``csisem --help`` or ``csisem COMMAND --help`` for the options.

Exit codes: 0 on success; 2 for a user error (bad spec, data or option, and bad command-line
arguments), printed as one ``csisem: error: ...`` message on stderr; 1 for an unexpected
internal error, with a short message (``--debug`` shows the traceback). Warnings go to stderr
as ``csisem: warning: ...``; results go to stdout (or ``--output FILE``).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path as FilePath
from typing import Any, NoReturn, TextIO

import yaml

from . import __version__
from .api import fit, resolve_data
from .data import prepare_data
from .errors import CSIError, CSIWarning, OptionError
from .measures.cli import add_measure_parsers
from .models.catalogue import list_models, load_model
from .models.model import Model
from .options import CIMethod, GroupEqual, InnerScheme, Method, MissingPolicy

__all__ = ["main"]


def _parse_columns(text: str | None) -> dict[str, str] | None:
    """``q1=IMAG1,q2=IMAG2`` or the path of a YAML/JSON file holding that mapping."""
    if text is None:
        return None
    if not text.strip():
        raise OptionError("The --columns option is empty; give DATA_COLUMN=INDICATOR pairs "
                          "(e.g. --columns q1=IMAG1,q2=IMAG2) or a YAML/JSON mapping file.")
    path = FilePath(text)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.is_file():
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            detail = str(exc).strip().rstrip(".")
            raise OptionError(f"Cannot read the --columns mapping file {text!r}: {detail}.") \
                from exc
        if not isinstance(mapping, dict):
            raise OptionError(f"The --columns file {text!r} must hold a mapping "
                              "data_column: indicator.")
        return {str(k): str(v) for k, v in mapping.items()}
    out: dict[str, str] = {}
    for part in text.split(","):
        key, _, value = (s.strip() for s in part.partition("="))
        if not key or not value:
            raise OptionError(f"The --columns entry {part.strip()!r} is not of the form "
                              "DATA_COLUMN=INDICATOR (e.g. --columns q1=IMAG1,q2=IMAG2).")
        if key in out:
            raise OptionError(f"The --columns option maps data column {key!r} twice.")
        out[key] = value
    return out


def _describe(model: Model) -> str:
    lines = [f"{model.name}" + (f": {model.title}" if model.title else "")]
    if model.citation:
        lines.append(f"Citation: {model.citation}")
    if model.scale:
        lines.append(f"Item scale: {model.scale[0]:g} to {model.scale[1]:g}")
    lines.append("")
    lines.append("Constructs")
    for c in model.constructs:
        label = f" ({c.label})" if c.label else ""
        lines.append(f"  {c.name}{label} [{c.mode.value}]")
        for i in c.indicators:
            wording = f": {i.wording}" if i.wording else ""
            lines.append(f"    {i.name}{wording}")
    lines.append("")
    lines.append("Structural paths")
    for t in model.endogenous:
        lines.append(f"  {t} <- {', '.join(model.predecessors(t))}")
    if model.covariances:
        lines.append("")
        lines.append("Covariances")
        lines += [f"  {cv.left} ~~ {cv.right}" for cv in model.covariances]
    return "\n".join(lines)


def _cmd_models(args: argparse.Namespace, out: TextIO) -> None:
    table = list_models()
    header = ("name", "constructs", "indicators", "paths", "title")
    rows = [header] + [(str(r.name), str(r.constructs), str(r.indicators), str(r.paths),
                        str(r.title or "")) for r in table.itertuples()]
    widths = [max(len(row[k]) for row in rows) for k in range(len(header) - 1)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:],
                                                                        strict=True)]
        out.write(("  ".join([*cells, row[-1]])).rstrip() + "\n")


def _writable(path: str, force: bool) -> FilePath:
    """``path`` as a Path, refusing to overwrite an existing file unless ``--force``."""
    target = FilePath(path)
    if target.exists() and not force:
        raise OptionError(f"--output {path!r} already exists; pass --force to overwrite it.")
    return target


def _cmd_ipma(args: argparse.Namespace, out: TextIO) -> None:
    result = fit(args.spec, args.data, scheme=args.scheme,
                 columns=_parse_columns(args.columns), missing=args.missing,
                 missing_codes=_parse_codes(args.missing_codes), weights=args.weights)
    ipma = result.ipma(args.target)
    if args.output:
        target = _writable(args.output, args.force)
        if target.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise OptionError(f"--output {args.output!r}: the map is written as .png, .svg or "
                              ".pdf; name the file accordingly.")
        try:
            ipma.plot(level=args.level).savefig(target, dpi=150)
        except OSError as exc:
            raise OptionError(f"Cannot write the --output file {args.output!r}: "
                              f"{exc.strerror or exc}.") from exc
        out.write(f"Importance-performance map written to {args.output}.\n")
    out.write(ipma.summary().as_text() + "\n")


def _parse_codes(text: str | None) -> list[float] | None:
    """``98,99`` -> [98.0, 99.0]."""
    if not text:
        return None
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise OptionError(f"--missing-codes: {text!r} must be numbers separated by commas, "
                          "e.g. --missing-codes 98,99.") from None


def _cmd_show(args: argparse.Namespace, out: TextIO) -> None:
    model = load_model(args.spec)
    if args.format == "yaml":
        out.write(model.to_yaml())
    elif args.format == "lavaan":
        out.write(model.to_lavaan())
    else:
        out.write(_describe(model) + "\n")


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> None:
    if args.columns is not None and not args.data:
        raise OptionError("The --columns option only applies with --data.")
    model = load_model(args.spec)
    out.write(f"Spec OK: {model.name}: {len(model.constructs)} constructs, "
              f"{len(model.indicator_names)} indicators, {len(model.paths)} paths.\n")
    if args.data:
        prepared = prepare_data(model, resolve_data(args.data),
                                columns=_parse_columns(args.columns), missing=args.missing)
        out.write(f"Data OK: {prepared.n_obs} usable rows of {prepared.n_total}; all "
                  f"{len(model.indicator_names)} indicators present and numeric.\n")


def _parse_group_equal(text: str | None) -> list[str] | None:
    """``loadings,intercepts`` -> ["loadings", "intercepts"]."""
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _cmd_fit(args: argparse.Namespace, out: TextIO) -> None:
    result = fit(args.spec, args.data, method=args.method, scheme=args.scheme,
                 columns=_parse_columns(args.columns), missing=args.missing,
                 missing_codes=_parse_codes(args.missing_codes), weights=args.weights,
                 tol=args.tol, max_iter=args.max_iter, bootstrap=args.bootstrap,
                 seed=args.seed, n_jobs=args.jobs, ci_level=args.ci_level,
                 ci_method=args.ci_method,
                 progress=False if args.quiet and not Method(args.method).is_cbsem else None,
                 negative_weights=args.negative_weights, max_ci_width=args.max_ci_width,
                 group=args.group, group_equal=_parse_group_equal(args.group_equal),
                 out_of_scale=args.out_of_scale)
    text = result.to_json() if args.format == "json" else result.summary().as_text()
    if args.output:
        try:
            _writable(args.output, args.force).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise OptionError(f"Cannot write the --output file {args.output!r}: "
                              f"{exc.strerror or exc}.") from exc
    else:
        out.write(text + "\n")


# ---- one model by several methods (csisem.compare) ------------------------------------------
def _cmd_compare(args: argparse.Namespace, out: TextIO) -> None:
    from .estimation.cbsem_compare import compare

    methods = [part.strip() for part in args.methods.split(",") if part.strip()]
    result = compare(args.spec, args.data, methods=methods,
                     columns=_parse_columns(args.columns), missing=args.missing,
                     missing_codes=_parse_codes(args.missing_codes))
    _emit(result.to_json() if args.format == "json" else result.summary().as_text(), args,
          out)


def _add_compare_parser(sub: argparse._SubParsersAction[Any],
                        spec_help: str, data_help: str, columns_help: str) -> None:
    p = sub.add_parser(
        "compare", help="fit one model by several methods and compare paths and R²",
        description="Fit SPEC to --data by each of --methods and print the standardised "
        "path coefficients (PLS estimates; std_all for CB-SEM) and R² side by side.")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an unexpected error")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--methods", default="pls,plsc,ml", metavar="METHODS",
                   help="comma-separated methods (default pls,plsc,ml; any of "
                        + ", ".join(m.value for m in Method) + ")")
    p.add_argument("--columns", metavar="MAP", help=columns_help)
    p.add_argument("--missing", choices=[m.value for m in MissingPolicy], default="listwise",
                   help="missing-value handling for every method (default: listwise)")
    p.add_argument("--missing-codes", metavar="CODES", dest="missing_codes",
                   help="values meaning missing, e.g. 98,99")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text tables (default) or one JSON object")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.set_defaults(func=_cmd_compare)


# ---- per-group fits and aggregation (csisem.fit_groups, csisem.aggregate) --------------------
def _emit(text: str, args: argparse.Namespace, out: TextIO) -> None:
    """Write ``text`` to ``--output`` (refusing to overwrite without ``--force``) or ``out``."""
    if not args.output:
        out.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        _writable(args.output, args.force).write_text(
            text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise OptionError(f"Cannot write the --output file {args.output!r}: "
                          f"{exc.strerror or exc}.") from exc


def _cmd_fit_or_groups(args: argparse.Namespace, out: TextIO) -> None:
    if args.by:
        _cmd_fit_groups(args, out)
    elif args.format == "csv":
        raise OptionError("--format csv writes the per-group table; it needs --by COLUMN.")
    else:
        _cmd_fit(args, out)


def _cmd_fit_groups(args: argparse.Namespace, out: TextIO) -> None:
    from .groups import fit_groups

    if getattr(args, "group", None):
        raise OptionError("--group is the CB-SEM multi-group fit; --by fits a PLS model per "
                          "group. Use one of them.")
    by = [part.strip() for part in args.by.split(",") if part.strip()]
    options = {"method": args.method, "scheme": args.scheme,
               "columns": _parse_columns(args.columns), "missing": args.missing,
               "missing_codes": _parse_codes(args.missing_codes), "weights": args.weights,
               "tol": args.tol, "max_iter": args.max_iter, "bootstrap": args.bootstrap,
               "ci_level": args.ci_level, "ci_method": args.ci_method,
               "negative_weights": args.negative_weights, "max_ci_width": args.max_ci_width}
    fits = fit_groups(args.spec, args.data, by[0] if len(by) == 1 else by, min_n=args.min_n,
                      n_jobs=args.jobs, seed=args.seed,
                      **{k: v for k, v in options.items() if v is not None})
    if args.format == "json":
        _emit(fits.to_json(), args, out)
    elif args.format == "csv":
        _emit(str(fits.to_csv()), args, out)
    else:
        _emit(fits.summary().as_text(), args, out)


def _read_table(path: str, what: str) -> Any:
    from .data import read_data
    from .errors import DataError

    try:
        return read_data(path)
    except DataError as exc:
        raise DataError(f"{what}: {exc}") from exc


def _cmd_aggregate(args: argparse.Namespace, out: TextIO) -> None:
    import json

    from .aggregate import aggregate
    from .errors import DataError

    source: Any
    if FilePath(args.indices).suffix.lower() == ".json":
        try:
            source = json.loads(FilePath(args.indices).read_text(encoding="utf-8"))
        except OSError as exc:
            raise DataError(f"--indices: cannot read {args.indices!r}: "
                            f"{exc.strerror or exc}.") from exc
        except json.JSONDecodeError as exc:
            raise DataError(f"--indices: {args.indices!r} is not valid JSON (line "
                            f"{exc.lineno}: {exc.msg}).") from exc
        if not isinstance(source, dict):
            raise DataError(f"--indices: {args.indices!r} does not hold the JSON object "
                            "written by 'csisem fit --by ... --format json'.")
    else:
        source = _read_table(args.indices, "--indices")
    weights = _read_table(args.weights, "--weights")
    gdp = _read_table(args.gdp, "--gdp") if args.gdp else None
    result = aggregate(source, weights, gdp, construct=args.construct,
                       failed="exclude" if args.exclude_failed else "error",
                       ci_level=args.ci_level)
    if args.format == "json":
        _emit(result.to_json(), args, out)
    elif args.format == "csv":
        _emit(str(result.to_csv()), args, out)
    else:
        _emit(result.summary().as_text(), args, out)


def _add_group_options(p: argparse.ArgumentParser) -> None:
    """``fit --by COLUMN[,COLUMN]`` and ``--min-n`` (see csisem.fit_groups)."""
    p.add_argument("--by", metavar="COLUMNS",
                   help="fit once per group of this column (e.g. company, or company,quarter); "
                        "--jobs then fits groups in parallel; --format json also writes each "
                        "group's bootstrap draws for 'csisem aggregate'")
    p.add_argument("--min-n", type=int, default=30, dest="min_n", metavar="N",
                   help="with --by: groups with fewer rows are reported, not fitted (default 30)")
    p.set_defaults(func=_cmd_fit_or_groups)


def _add_aggregate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "aggregate", help="industry, sector and national indices from company indices",
        description="Industry = company indices weighted by revenue; sector = industries "
        "weighted by revenue; national = sectors weighted by GDP share (--gdp). Uncertainty "
        "is propagated from the company bootstrap draws in the JSON of 'csisem fit --by "
        "company --bootstrap N --format json'; a CSV of company index and std_error is "
        "propagated as independent normal estimates.")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an unexpected error")
    p.add_argument("--indices", metavar="FILE", required=True,
                   help="company fits: JSON from 'csisem fit --by company --format json' "
                        "(with draws) or a CSV with company, construct, index, std_error")
    p.add_argument("--weights", metavar="FILE", required=True,
                   help="CSV with company, industry, sector, revenue")
    p.add_argument("--gdp", metavar="FILE", help="CSV with sector, gdp_share (national index)")
    p.add_argument("--construct", help="construct to aggregate (default: satisfaction)")
    p.add_argument("--exclude-failed", action="store_true", dest="exclude_failed",
                   help="leave out companies whose fit failed (default: refuse)")
    p.add_argument("--ci-level", type=float, default=0.95, dest="ci_level",
                   help="confidence level (default 0.95)")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.set_defaults(func=_cmd_aggregate)


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in the same ``csisem: error: ...`` form as the others."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        text = message[:1].upper() + message[1:]
        self.exit(2, f"csisem: error: {text.rstrip('.')} (see '{self.prog} --help').\n")


EPILOG = """\
examples:
  csisem models                                   list the model catalogue
  csisem show ecsi                                describe the ECSI model
  csisem show ecsi --format yaml > my.yaml        start your own spec from a catalogue one
  csisem show ecsi --format lavaan > my.lav       the same model in lavaan syntax
  csisem validate my.yaml --data survey.csv       check a spec and data without fitting
  csisem fit ecsi --data mobi                     fit ECSI to the bundled mobi data
  csisem fit ecsi --data mobi --bootstrap 5000 --seed 1     with bootstrap inference
  csisem fit ecsi --data mobi --method ml         covariance-based SEM (lavaan's numbers)
  csisem fit my.lav --data survey.csv --method mlr --missing fiml    robust ML, FIML
  csisem compare ecsi --data mobi --methods pls,plsc,ml     paths and R² by method
  csisem ipma ecsi --data mobi --target CUSL -o map.png     importance-performance map
  csisem fit ecsi --data survey.csv --by company --bootstrap 1000 --seed 1 --jobs 2 \
      --format json -o fits.json                  one fit per company (with draws)
  csisem aggregate --indices fits.json --weights weights.csv --gdp gdp.csv
                                                  industry, sector and national indices
  csisem fit my.yaml --data survey.csv --columns q1=IMAG1,q2=IMAG2 --format json -o fit.json
  csisem fit ecsi --data waves/                   a Parquet file or directory, read in slices
  csisem ahp criteria.csv                         AHP priorities and consistency ratio
  csisem servqual --data survey.csv               SERVQUAL gaps P - E by RATER dimension
  csisem kano --data survey.csv --pairs pairs.yaml          Kano categories, better/worse
  csisem nps --data survey.csv --column q10       net promoter score with its interval

SPEC is a catalogue name (see 'csisem models') or a .yaml/.lav file; --data is a CSV file
(comma, semicolon or tab separated, header row), an .xlsx, .sav, .dta or .parquet file, a
directory of .parquet files, or a bundled data set name (mobi).
exit codes: 0 ok, 2 user error (spec, data, option), 1 internal error (rerun with --debug).
"""


def _add_ipma_parser(sub: argparse._SubParsersAction, spec_help: str, data_help: str,
                     columns_help: str) -> None:
    p = sub.add_parser("ipma", help="importance-performance map of a target construct",
                       description="Importance (total effect per index point) and performance "
                       "(0-100 index) of every driver of --target; -o writes the map.")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--target", required=True, help="the construct whose drivers are mapped")
    p.add_argument("--level", choices=["constructs", "indicators"], default="constructs")
    p.add_argument("--scheme", choices=[s.value for s in InnerScheme], default="path")
    p.add_argument("--columns", metavar="MAP", help=columns_help)
    p.add_argument("--missing", choices=[m.value for m in MissingPolicy
                                         if m is not MissingPolicy.FIML], default="listwise")
    p.add_argument("--missing-codes", metavar="CODES", dest="missing_codes")
    p.add_argument("--weights", metavar="COLUMN")
    p.add_argument("--output", "-o", metavar="FILE", help="write the map (.png, .svg, .pdf)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.set_defaults(func=_cmd_ipma)


# ---- report: one HTML file and/or an Excel workbook (csisem.report) --------------------------
def _cmd_report(args: argparse.Namespace, out: TextIO) -> None:
    from .report import write_excel, write_html
    from .report.excel import require_openpyxl
    from .results import PLSResult

    # Every option is checked before fitting: a bootstrap can take minutes.
    if not args.output and not args.excel:
        raise OptionError("Nothing to write: give --output FILE.html and/or --excel FILE.xlsx.")
    if args.output and FilePath(args.output).suffix.lower() not in (".html", ".htm"):
        raise OptionError(f"--output {args.output!r}: the report is one HTML file; its name "
                          "must end in .html.")
    if args.excel:
        if FilePath(args.excel).suffix.lower() != ".xlsx":
            raise OptionError(f"--excel {args.excel!r}: the workbook's name must end in .xlsx.")
        if FilePath(args.excel).exists() and not args.force:
            raise OptionError(f"--excel {args.excel!r} already exists; pass --force to "
                              "overwrite it.")
        require_openpyxl()
    html_path = _writable(args.output, args.force) if args.output else None
    model = load_model(args.spec)
    if args.target is not None:
        if args.target not in model.construct_names:
            raise OptionError(f"--target {args.target!r} is not a construct; constructs: "
                              f"{', '.join(model.construct_names)}.")
        if not model.predecessors(args.target):
            raise OptionError(f"--target {args.target!r} has no drivers (no path leads into "
                              "it); choose an endogenous construct.")
    result = fit(model, args.data, method=args.method, scheme=args.scheme,
                 columns=_parse_columns(args.columns), missing=args.missing,
                 missing_codes=_parse_codes(args.missing_codes), weights=args.weights,
                 bootstrap=args.bootstrap, seed=args.seed, n_jobs=args.jobs,
                 progress=False if args.quiet else None,
                 negative_weights=args.negative_weights)
    if not isinstance(result, PLSResult):  # cannot happen: --method is pls or plsc
        raise OptionError("The report needs a PLS fit; use --method pls or plsc.")
    if html_path is not None:
        write_html(result, html_path, title=args.title, target=args.target)
        out.write(f"Report written to {args.output}.\n")
    if args.excel:
        write_excel(result, args.excel, target=args.target)
        out.write(f"Workbook written to {args.excel}.\n")


def _add_report_parser(sub: argparse._SubParsersAction[Any], spec_help: str, data_help: str,
                       columns_help: str) -> None:
    p = sub.add_parser(
        "report", help="fit a PLS model and write an HTML report and/or an Excel workbook",
        description="Fit SPEC to --data by PLS (or PLSc) and write one self-contained HTML "
        "file (data summary, path diagram, measurement and structural model, fit, indices, "
        "impacts, importance-performance map; figures embedded as SVG, opens offline) and/or "
        "an Excel workbook with every result table on its own sheet.")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an unexpected error")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--output", "-o", metavar="FILE", help="the HTML report to write (.html)")
    p.add_argument("--excel", metavar="FILE", help="also write every table to this .xlsx")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--title", help="heading of the report (default: the model's title)")
    p.add_argument("--target", metavar="CONSTRUCT",
                   help="construct of the importance-performance map (default: the last "
                        "endogenous construct, e.g. CUSL)")
    p.add_argument("--method", choices=["pls", "plsc"], default="pls",
                   help="pls (default) or plsc (consistent PLS)")
    p.add_argument("--scheme", choices=[s.value for s in InnerScheme], default=None,
                   help="PLS inner weighting scheme (default: path)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap resamples for standard errors and intervals (e.g. 5000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (reproducible)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="parallel bootstrap workers (-1: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--columns", metavar="MAP", help=columns_help)
    p.add_argument("--missing", choices=[m.value for m in MissingPolicy
                                         if m is not MissingPolicy.FIML], default="listwise",
                   help="missing-value handling (default: listwise)")
    p.add_argument("--missing-codes", metavar="CODES", dest="missing_codes",
                   help="values meaning missing, e.g. 98,99")
    p.add_argument("--weights", metavar="COLUMN", help="column of survey (case) weights")
    p.add_argument("--negative-weights", choices=["error", "warn"], default=None,
                   dest="negative_weights",
                   help="0-100 indices with a negative outer weight: refuse (default; the "
                        "report says why) or warn")
    p.set_defaults(func=_cmd_report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="csisem", description="Structural equation models for customer-satisfaction "
        "indices: fit catalogue or user specs by PLS path modelling or covariance-based "
        "SEM.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"csisem {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        # --debug also after the command; SUPPRESS keeps a --debug given before it.
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an unexpected error")
        return p

    p = add_command("models", "list the model catalogue")
    p.set_defaults(func=_cmd_models)

    spec_help = "catalogue name (e.g. ecsi) or path of a .yaml spec or .lav lavaan-syntax file"
    p = add_command("show", "describe a model, or print it as YAML or lavaan syntax")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--format", choices=["text", "yaml", "lavaan"], default="text",
                   help="text description (default), YAML spec or lavaan model syntax")
    p.set_defaults(func=_cmd_show)

    data_help = ("data file (.csv, .xlsx, .sav, .dta, .parquet) or bundled data set name "
                 "(mobi)")
    columns_help = ("rename data columns to indicators: DATA_COL=INDICATOR,... or a YAML/JSON "
                    "file with that mapping")
    missing_choices = [m.value for m in MissingPolicy if m is not MissingPolicy.FIML]

    p = add_command("validate", "check a spec (and optionally data against it)")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--data", metavar="FILE", help=data_help)
    p.add_argument("--columns", metavar="MAP", help=columns_help)
    p.add_argument("--missing", choices=missing_choices, default="listwise",
                   help="missing-value handling (default: listwise)")
    p.set_defaults(func=_cmd_validate)

    p = add_command("fit", "fit a model to data")
    p.add_argument("spec", metavar="SPEC", help=spec_help)
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--method", choices=[m.value for m in Method], default="pls",
                   help="pls (default), plsc, or covariance-based SEM: ml, mlr (robust), gls, "
                        "uls, wls (distribution free), dwls, fiml (ml with --missing fiml)")
    p.add_argument("--scheme", choices=[s.value for s in InnerScheme], default=None,
                   help="PLS inner weighting scheme (default: path)")
    p.add_argument("--columns", metavar="MAP", help=columns_help)
    p.add_argument("--missing", choices=[m.value for m in MissingPolicy], default="listwise",
                   help="missing-value handling (default: listwise; fiml: CB-SEM ml/mlr)")
    p.add_argument("--missing-codes", metavar="CODES", dest="missing_codes",
                   help="values meaning missing, e.g. 98,99 (don't know, refused)")
    p.add_argument("--weights", metavar="COLUMN", help="column of survey (case) weights")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap resamples for standard errors and intervals (e.g. 5000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (reproducible)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="parallel bootstrap workers (-1: all cores)")
    p.add_argument("--ci-level", type=float, default=0.95, dest="ci_level",
                   help="confidence level (default 0.95)")
    p.add_argument("--ci-method", choices=[m.value for m in CIMethod], default=None,
                   dest="ci_method", help="bootstrap interval (default percentile)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--negative-weights", choices=["error", "warn"], default=None,
                   dest="negative_weights",
                   help="0-100 indices with a negative outer weight: refuse (default) or warn")
    p.add_argument("--max-ci-width", type=float, default=None, dest="max_ci_width",
                   help="flag indices whose interval is wider than this (points; default 4)")
    p.add_argument("--out-of-scale", choices=["warn", "error"], default="warn",
                   dest="out_of_scale",
                   help="values outside the spec's item scale: warn (default) or error")
    p.add_argument("--tol", type=float, default=None,
                   help="convergence tolerance (PLS 1e-7, CB-SEM 1e-12)")
    p.add_argument("--max-iter", type=int, default=None, dest="max_iter",
                   help="iteration limit (PLS 300, CB-SEM 500)")
    p.add_argument("--group", metavar="COLUMN",
                   help="CB-SEM: data column defining groups (multi-group fit)")
    p.add_argument("--group-equal", metavar="KINDS", dest="group_equal",
                   help="CB-SEM with --group: parameters equal across groups, comma separated ("
                        + ", ".join(g.value for g in GroupEqual) + ")")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text",
                   help="text summary (default) or one JSON object (the result's to_dict); "
                        "csv: the per-group table (with --by)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.set_defaults(func=_cmd_fit)
    _add_group_options(p)
    _add_ipma_parser(sub, spec_help, data_help, columns_help)
    _add_report_parser(sub, spec_help, data_help, columns_help)
    _add_aggregate_parser(sub)
    _add_compare_parser(sub, spec_help, data_help, columns_help)
    add_measure_parsers(sub, data_help)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that flushing at exit raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 internal error, 2 user error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help/--version (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CSIWarning)
        try:
            args.func(args, sys.stdout)
            code = 0
        except CSIError as exc:
            sys.stderr.write(f"csisem: error: {exc}\n")
            code = 2
        except KeyboardInterrupt:
            sys.stderr.write("csisem: interrupted\n")
            code = 130
        except BrokenPipeError:  # e.g. `csisem show ecsi | head`: the reader left early
            _silence_stdout()
            code = 1
        except Exception as exc:  # an internal error: short message unless --debug
            if args.debug:
                raise
            sys.stderr.write(f"csisem: internal error ({type(exc).__name__}: {exc}). Please "
                             "report it; rerun with --debug for the traceback.\n")
            code = 1
    seen = set()
    for w in caught:
        text = str(w.message)
        if not issubclass(w.category, CSIWarning):
            text = f"{w.category.__name__}: {text}"
        if text not in seen:
            seen.add(text)
            sys.stderr.write(f"csisem: warning: {text}\n")
    return code


if __name__ == "__main__":  # pragma: no cover  (python -m csisem.cli)
    sys.exit(main())
