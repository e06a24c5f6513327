"""Command-line sub-commands of the classic measures: ``ahp``, ``servqual``, ``kano``, ``nps``.

Registered by :func:`add_measure_parsers` from :func:`csisem.cli.build_parser`; each command
only calls the public API (:mod:`csisem.measures`) and prints its text summary or JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path as FilePath
from typing import Any, TextIO

from ..errors import OptionError

__all__ = ["add_measure_parsers"]

CHART_SUFFIXES = (".png", ".svg", ".pdf")


def _emit_result(result: Any, args: argparse.Namespace, out: TextIO) -> None:
    from ..cli import _emit

    _emit(result.to_json() if args.format == "json" else result.summary().as_text(), args, out)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse existing ``--output``/``--chart`` files (without ``--force``) before any work."""
    from ..cli import _writable

    if args.output:
        _writable(args.output, args.force)
    chart = getattr(args, "chart", None)
    if chart:
        if FilePath(chart).suffix.lower() not in CHART_SUFFIXES:
            raise OptionError(f"--chart {chart!r}: the chart is written as .png, .svg or "
                              ".pdf; name the file accordingly.")
        if FilePath(chart).exists() and not args.force:
            raise OptionError(f"--chart {chart!r} already exists; pass --force to overwrite "
                              "it.")


def _write_chart(figure_of: Any, args: argparse.Namespace) -> None:
    """Save the figure made by ``figure_of()`` to ``--chart``, if given."""
    from ..plotting import save

    if not args.chart:
        return
    try:
        save(figure_of(), args.chart)
    except OSError as exc:
        raise OptionError(f"Cannot write the --chart file {args.chart!r}: "
                          f"{exc.strerror or exc}.") from exc


def _parse_mapping(text: str | None, option: str) -> dict[str, str] | None:
    """``A=x,B=y`` -> {"A": "x", "B": "y"}."""
    if text is None:
        return None
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, _, value = (s.strip() for s in part.partition("="))
        if not key or not value:
            raise OptionError(f"The {option} entry {part!r} is not of the form KEY=VALUE.")
        out[key] = value
    if not out:
        raise OptionError(f"The {option} option is empty.")
    return out


def _cmd_ahp(args: argparse.Namespace, out: TextIO) -> None:
    _check_outputs(args)
    from .ahp import ahp

    result = ahp(args.matrix, method=args.method, max_cr=args.max_cr,
                 inconsistent="warn" if args.allow_inconsistent else "error")
    _emit_result(result, args, out)


def _cmd_servqual(args: argparse.Namespace, out: TextIO) -> None:
    _check_outputs(args)
    from ..cli import _parse_columns
    from .servqual import servqual

    importance: dict[str, float | str] | None = None
    given = _parse_mapping(args.importance, "--importance")
    if given is not None:
        importance = {}
        for key, value in given.items():
            try:
                importance[key] = float(value)
            except ValueError:
                importance[key] = value  # a column of points
    result = servqual(args.data, args.spec, importance=importance,
                      columns=_parse_columns(args.columns))
    _write_chart(lambda: result.plot(level=args.level), args)
    _emit_result(result, args, out)


def _cmd_kano(args: argparse.Namespace, out: TextIO) -> None:
    _check_outputs(args)
    from .kano import kano

    result = kano(args.data, args.pairs)
    _write_chart(result.plot, args)
    _emit_result(result, args, out)


def _cmd_nps(args: argparse.Namespace, out: TextIO) -> None:
    _check_outputs(args)
    from .nps import nps

    _emit_result(nps(args.data, args.column, by=args.by, ci_level=args.ci_level), args, out)


def add_measure_parsers(sub: argparse._SubParsersAction[Any], data_help: str) -> None:
    """Add the ``ahp``, ``servqual``, ``kano`` and ``nps`` sub-commands to ``sub``."""

    def command(name: str, help: str, description: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an unexpected error")
        return p

    def output(p: argparse.ArgumentParser, chart: bool = False) -> None:
        p.add_argument("--format", choices=["text", "json"], default="text",
                       help="text summary (default) or one JSON object")
        p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
        if chart:
            p.add_argument("--chart", metavar="FILE",
                           help="also draw the chart to FILE (.png, .svg or .pdf)")
        p.add_argument("--force", action="store_true", help="overwrite existing output files")

    p = command("ahp", "AHP priorities and consistency ratio of a pairwise-comparison matrix",
                "Read a pairwise-comparison matrix (CSV: element names in the first row and "
                "column, judgements on Saaty's 1-9 scale such as 3 or 1/3; one triangle may "
                "be left empty) and print the priorities, lambda_max, CI and CR. Exits with "
                "an error when CR exceeds --max-cr.")
    p.add_argument("matrix", metavar="MATRIX", help="the matrix file (.csv)")
    p.add_argument("--method", choices=["eigenvector", "geometric_mean"],
                   default="eigenvector", help="priorities: principal eigenvector (default) or "
                   "normalised row geometric means")
    p.add_argument("--max-cr", type=float, default=0.1, dest="max_cr",
                   help="largest acceptable consistency ratio (default 0.1)")
    p.add_argument("--allow-inconsistent", action="store_true", dest="allow_inconsistent",
                   help="warn instead of failing when CR exceeds --max-cr")
    output(p)
    p.set_defaults(func=_cmd_ahp)

    p = command("servqual", "SERVQUAL gaps (perception - expectation)",
                "Gap scores P - E per item, per RATER dimension and overall, unweighted and "
                "importance-weighted, from paired items E1..E22 and P1..P22 (the catalogue "
                "template 'servqual', or --spec).")
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--spec", default="servqual", metavar="SPEC",
                   help="spec with the paired E/P items (default: servqual)")
    p.add_argument("--importance", metavar="WEIGHTS",
                   help="dimension weights: TAN=10,REL=30,... (numbers) or columns of points "
                        "per respondent (TAN=w_tan,...)")
    p.add_argument("--columns", metavar="MAP",
                   help="rename data columns to items: DATA_COL=ITEM,... or a YAML/JSON file")
    p.add_argument("--level", choices=["items", "dimensions"], default="items",
                   help="bars of the --chart (default: items)")
    output(p, chart=True)
    p.set_defaults(func=_cmd_servqual)

    p = command("kano", "Kano categories and better/worse coefficients",
                "Classify attributes by the Kano evaluation table from functional and "
                "dysfunctional answers (1 like, 2 must-be, 3 neutral, 4 live-with, 5 dislike).")
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--pairs", metavar="SPEC", required=True,
                   help="attribute pairs: a YAML/JSON file 'attribute: [functional, "
                        "dysfunctional]' or ATTR=FUNC_COL:DYSF_COL,...")
    output(p, chart=True)
    p.set_defaults(func=_cmd_kano)

    p = command("nps", "Net Promoter Score with a confidence interval",
                "Promoters (9-10), passives (7-8), detractors (0-6) and NPS = %P - %D from a "
                "0-10 recommendation question, with a normal-approximation interval.")
    p.add_argument("--data", metavar="FILE", required=True, help=data_help)
    p.add_argument("--column", required=True, metavar="COLUMN",
                   help="the 0-10 recommendation question")
    p.add_argument("--by", metavar="COLUMN", help="also per group of this column")
    p.add_argument("--ci-level", type=float, default=0.95, dest="ci_level",
                   help="confidence level (default 0.95)")
    output(p)
    p.set_defaults(func=_cmd_nps)
