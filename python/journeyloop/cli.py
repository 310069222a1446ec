"""The ``journeyloop`` command: attribution of a path table or an event log from a file.

Commands::

    journeyloop attribute FILE [--order K] [--methods M ...] [--teams FILE] [--ci 0.95]
                               [--out result.csv|.json|.html]
    journeyloop report FILE -o report.html [--teams FILE] [--ci 0.95]
    journeyloop demo

A user error (a missing file, a bad row, an unknown column) ends the command with status 2 and
one message naming the file, the row and the column; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: Exit status of a user error (bad file, bad row, bad option).
USER_ERROR = 2

_PATH_COLUMNS = ("path", "paths", "journey")
_EVENT_COLUMNS = ("customer", "time", "channel")

_ATTRIBUTE_EXAMPLES = """examples:
  journeyloop attribute paths.csv
  journeyloop attribute paths.parquet --order 2 --methods last_touch markov --out result.csv
  journeyloop attribute events.csv --conversion converted --teams teams.csv --by team
  journeyloop attribute paths.csv --ci 0.95 --out result.json

A path table has a column of paths ("a > b > c") and counts (conversions, nulls, value; their
usual names are found). An event log has the columns customer, time and channel (and a
conversion flag, and a value).
"""


class UserError(Exception):
    """A mistake in the command's input: reported in one line, without a traceback."""


def read_table(path: str) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame (by its extension)."""
    p = Path(path)
    if not p.exists():
        msg = f"{path}: no such file"
        raise UserError(msg)
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".tsv"):
            return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",")
    except (OSError, ValueError) as err:
        msg = f"{path}: cannot be read as {suffix[1:]}: {err}"
        raise UserError(msg) from err
    msg = f"{path}: unknown file type {suffix or '(none)'}; give a .csv or .parquet file"
    raise UserError(msg)


_NUMBER_COLUMNS = (
    "conversions", "total_conversions", "nulls", "total_null", "total_nulls", "value",
    "total_conversion_value", "conversion_value", "count", "customers", "conversion", "revenue",
)  # fmt: skip


def check_numbers(df: pd.DataFrame, file: str) -> None:
    """A CSV column of counts that holds text is read as text: name its first bad row."""
    for column in _NUMBER_COLUMNS:
        if column not in df.columns or pd.api.types.is_numeric_dtype(df[column]):
            continue
        values = df[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            msg = (
                f"{file}: row {row} (line {row + 2} of the file), column {column!r}: "
                f"{values.iloc[row]!r} is not a number"
            )
            raise UserError(msg)
        df[column] = numbers


def _pick(df: pd.DataFrame, given: str | None, candidates: Sequence[str], what: str) -> str | None:
    if given is not None:
        if given not in df.columns:
            columns = ", ".join(map(str, df.columns))
            msg = f"no column {given!r} for {what} (the columns are: {columns})"
            raise UserError(msg)
        return given
    for c in candidates:
        if c in df.columns:
            return c
    return None


def journeys_from(df: pd.DataFrame, args: argparse.Namespace) -> Any:
    """Journeys from a path table or an event log, the form told by the columns."""
    import journeyloop as jl

    path = _pick(df, args.path, _PATH_COLUMNS, "--path")
    if path is not None and args.channel is None:
        return jl.Journeys.from_paths(df, path=path, sep=args.sep)
    customer = _pick(df, args.customer, ("customer", "customer_id", "cookie", "user"), "--customer")
    time = _pick(df, args.time, ("time", "timestamp", "date"), "--time")
    channel = _pick(df, args.channel, ("channel", "touchpoint"), "--channel")
    if customer is None or time is None or channel is None:
        msg = (
            "the file is neither a path table (a 'path' column, or --path NAME) nor an event log "
            f"(customer, time and channel columns, or --customer/--time/--channel); its columns "
            f"are: {', '.join(map(str, df.columns))}"
        )
        raise UserError(msg)
    conversion = _pick(df, args.conversion, ("conversion", "converted", "purchase"), "--conversion")
    value = _pick(df, args.value, ("value", "conversion_value", "revenue"), "--value")
    return jl.Journeys.from_events(
        df,
        customer=customer,
        time=time,
        channel=channel,
        conversion=conversion,
        value=value,
        lookback=args.lookback,
    )


def teams_from(path: str | None) -> dict[str, str] | None:
    """A channel -> team map from a two-column file (channel, team)."""
    if path is None:
        return None
    df = read_table(path)
    if not {"channel", "team"} <= set(df.columns):
        msg = f"{path}: a teams file needs the columns channel and team"
        raise UserError(msg)
    return dict(zip(df["channel"].astype(str), df["team"].astype(str), strict=True))


def write(result: pd.DataFrame, out: str | None) -> None:
    """The result to the terminal (aligned) or to ``out`` (CSV, JSON or HTML by extension)."""
    if out is None:
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(result.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
        return
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        result.to_csv(out, index=False)
    elif suffix == ".json":
        result.to_json(out, orient="records", indent=1)
    elif suffix in (".html", ".htm"):
        Path(out).write_text(result.to_html(index=False), encoding="utf-8")
    else:
        msg = f"{out}: unknown output type {suffix or '(none)'}; use .csv, .json or .html"
        raise UserError(msg)
    print(f"wrote {out} ({len(result)} rows)", file=sys.stderr)


def attribute(args: argparse.Namespace) -> None:
    import journeyloop as jl

    df = read_table(args.file)
    check_numbers(df, args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", jl.DataWarning)
        journeys = journeys_from(df, args)
    for w in caught:
        if not args.quiet:
            print(f"{args.file}: warning: {w.message}", file=sys.stderr)
    result = jl.attribute(
        journeys,
        args.methods,
        by=args.by,
        teams=teams_from(args.teams),
        order=args.order,
        ci=args.ci,
        n_boot=args.n_boot,
        progress=None if args.quiet else (sys.stderr.isatty() or None),
    )
    write(result, args.out)


def report(args: argparse.Namespace) -> None:
    import journeyloop as jl

    df = read_table(args.file)
    check_numbers(df, args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", jl.DataWarning)
        journeys = journeys_from(df, args)
        jl.report(journeys, args.out, order=args.order, teams=teams_from(args.teams), ci=args.ci)
    for w in caught:
        if not args.quiet:
            print(f"{args.file}: warning: {w.message}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


def demo(args: argparse.Namespace) -> None:
    from . import demo as demo_module

    demo_module.main()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="journeyloop",
        description="Exact Markov attribution of customer journeys, from a file.",
        epilog="examples:\n  journeyloop attribute paths.csv\n  journeyloop demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = top.add_subparsers(dest="command", required=True)
    a = sub.add_parser(
        "attribute",
        help="attribute the conversions of a path table or an event log",
        description="Attribute the conversions and value of a path table or an event log with "
        "every method, by channel or team.",
        epilog=_ATTRIBUTE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("file", help="a .csv or .parquet file")
    a.add_argument("--methods", nargs="+", default=None, help="methods (default: all)")
    a.add_argument("--order", type=int, default=1, help="Markov order (default 1)")
    a.add_argument("--by", choices=["channel", "team"], default="channel")
    a.add_argument("--teams", help="a .csv or .parquet file with columns channel and team")
    a.add_argument("--ci", type=float, default=None, help="interval level, such as 0.95")
    a.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates for --ci")
    a.add_argument("--out", "-o", help="write to a .csv, .json or .html file")
    a.add_argument("--path", help="the path column of a path table (default: path)")
    a.add_argument("--sep", default=">", help="the separator in paths (default: >)")
    a.add_argument("--customer", help="the customer column of an event log")
    a.add_argument("--time", help="the time column of an event log")
    a.add_argument("--channel", help="the channel column of an event log")
    a.add_argument("--conversion", help="the conversion flag column of an event log")
    a.add_argument("--value", help="the conversion value column of an event log")
    a.add_argument("--lookback", default=None, help="event logs: the lookback, such as 30D")
    a.add_argument("--quiet", "-q", action="store_true", help="no progress or warnings")
    a.add_argument("--debug", action="store_true", help="show the traceback of an error")
    a.set_defaults(run=attribute)
    r = sub.add_parser(
        "report",
        help="write one self-contained HTML report of a path table or an event log",
        description="Write an HTML report (data, attribution by every method, by team, removal "
        "effects, transition probabilities; plots inline, no network needed).",
        epilog="examples:\n  journeyloop report paths.csv -o report.html\n"
        "  journeyloop report events.parquet --teams teams.csv --ci 0.95 -o report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("file", help="a .csv or .parquet file")
    r.add_argument("--out", "-o", required=True, help="the .html file to write")
    r.add_argument("--order", type=int, default=1, help="Markov order (default 1)")
    r.add_argument("--teams", help="a .csv or .parquet file with columns channel and team")
    r.add_argument("--ci", type=float, default=None, help="interval level, such as 0.95")
    for option, text in (("--path", "the path column"), ("--customer", "the customer column"),
                         ("--time", "the time column"), ("--channel", "the channel column"),
                         ("--conversion", "the conversion flag column"),
                         ("--value", "the value column"),
                         ("--lookback", "event logs: the lookback, such as 30D")):  # fmt: skip
        r.add_argument(option, help=text)
    r.add_argument("--sep", default=">", help="the separator in paths (default: >)")
    r.add_argument("--quiet", "-q", action="store_true", help="no warnings")
    r.add_argument("--debug", action="store_true", help="show the traceback of an error")
    r.set_defaults(run=report)
    d = sub.add_parser(
        "demo",
        help="attribute the bundled B2B sample with every method",
        epilog="example:\n  journeyloop demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.set_defaults(run=demo, debug=False)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status (0, or 2 for a user error)."""
    import journeyloop as jl

    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (UserError, jl.JourneyloopError, ValueError, KeyError) as err:
        if args.debug:
            traceback.print_exc()
        where = (
            f"{args.file}: "
            if getattr(args, "file", None) and not isinstance(err, UserError)
            else ""
        )
        print(f"journeyloop: error: {where}{err}", file=sys.stderr)
        return USER_ERROR
    return 0


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
