"""The ``journeyloop`` command: attribution, reports, simulation and scenarios from a file.

Commands (``journeyloop COMMAND --help`` shows every option, with examples)::

    journeyloop attribute FILE [--order K] [--methods M ...] [--by channel|team|stage]
                               [--teams FILE] [--stages FILE] [--form funnel|loop]
                               [--ci 0.95] [--out result.csv|.json|.html|.parquet]
    journeyloop report FILE -o report.html [--teams FILE] [--stages FILE] [--form loop]
    journeyloop simulate FILE [-n N] [--seed S] [--threads T] [--out sim.csv|.parquet]
    journeyloop scenario FILE [--name NAME] [--remove CH ...] [--scale FROM TO FACTOR]
                              [--set FROM TO P] [--redirect FROM TO SHARE]
                              [--scale-value FACTOR [CH]] [--set-value VALUE [CH]]
    journeyloop sensitivities FILE [--top N]
    journeyloop demo

A user error (a missing file, a bad row, an unknown column or channel) ends the command with
status 2 and one message naming the file, the row and the column; ``--debug`` shows the
traceback instead. Warnings about the data go to stderr, and progress too (a bar when stderr is
a terminal); ``--quiet`` silences both. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Exit status of a user error (bad file, bad row, bad option).
USER_ERROR = 2

_PATH_COLUMNS = ("path", "paths", "journey", "history")
# An event log's columns found by their usual names (any case) when no option names them.
_CUSTOMER_COLUMNS = ("customer", "customer_id", "user", "user_id", "visitor", "visitor_id",
                     "client_id", "cookie", "cookie_id")  # fmt: skip
_TIME_COLUMNS = ("time", "timestamp", "ts", "event_time", "datetime", "date")
_CHANNEL_COLUMNS = ("channel", "touchpoint", "touch_point", "touch")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")

_INPUT_HELP = """
A path table has a column of paths ("a > b > c") and counts (conversions, nulls, value; their
usual names are found). An event log has the columns customer, time and channel (and a
conversion flag, and a value). With --form loop the file holds loop histories: a path table
whose paths hold the purchase token ("a > purchase > b") with a customers (or count) column,
or an event log, one history per customer.
"""

_ATTRIBUTE_EXAMPLES = (
    """examples:
  journeyloop attribute paths.csv
  journeyloop attribute paths.parquet --order 2 --methods last_touch markov --out result.csv
  journeyloop attribute events.csv --conversion converted --teams teams.csv --by team
  journeyloop attribute paths.csv --stages stages.csv --by stage
  journeyloop attribute histories.csv --form loop --out loop.csv
  journeyloop attribute paths.csv --ci 0.95 --out result.json
"""
    + _INPUT_HELP
)

_REPORT_EXAMPLES = """examples:
  journeyloop report paths.csv -o report.html
  journeyloop report events.parquet --teams teams.csv --stages stages.csv --ci 0.95 -o report.html
  journeyloop report histories.csv --form loop -o loop.html
"""

_SIMULATE_EXAMPLES = """examples:
  journeyloop simulate paths.csv -n 100000 --seed 1 --out simulated.csv
  journeyloop simulate events.parquet --order 2 -n 50000 --threads 2 --out simulated.parquet
  journeyloop simulate histories.csv --form loop -n 1000 --seed 7

The model (Markov, or the loop model with --form loop) is fitted on the file, then n journeys
(customers) are drawn from it: one row each, a path table that `journeyloop attribute` reads.
"""

_SCENARIO_EXAMPLES = """examples:
  journeyloop scenario paths.csv --remove social
  journeyloop scenario paths.csv --scale demo CONVERSION 1.2 --set START search 0.5
  journeyloop scenario paths.csv --name "no c" --remove c --name "more c" --scale a c 1.5
  journeyloop scenario paths.csv --redirect b c 0.5 --scale-value 1.1 --simulate 100000
  journeyloop scenario histories.csv --form loop --scale PURCHASE b 2

Changes apply in the order given; --name starts a new scenario (compared side by side with the
baseline and the others). FROM and TO are channels, state labels ("a > b" at order 2), START,
or the outcomes CONVERSION and NULL (PURCHASE and END in the loop); --remove takes teams too
(with --teams).
"""

_SENSITIVITIES_EXAMPLES = """examples:
  journeyloop sensitivities paths.csv
  journeyloop sensitivities paths.csv --order 2 --top 5 --out sensitivities.csv
  journeyloop sensitivities histories.csv --form loop --top 0
"""


class UserError(Exception):
    """A mistake in the command's input: reported in one line, without a traceback."""


def _where(file: str, row: int) -> str:
    """A row of ``file`` (from 0), with its line in a text file (the header is line 1)."""
    if Path(file).suffix.lower() in _TEXT_SUFFIXES:
        return f"row {row} (line {row + 2} of the file)"
    return f"row {row}"


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
        if suffix in _TEXT_SUFFIXES:
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
                f"{file}: {_where(file, row)}, column {column!r}: "
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
    # The usual names, in order, whatever their case ("Timestamp", "USER_ID").
    by_lower = {str(c).lower(): c for c in reversed(df.columns)}
    for c in candidates:
        if c in by_lower:
            return str(by_lower[c])
    return None


def _with_lines(file: str, err: Exception) -> UserError:
    """A library error about a row of ``file``: named with the file, and the row's line."""
    text = str(err)
    if Path(file).suffix.lower() in _TEXT_SUFFIXES:
        text = re.sub(
            r"\brow (\d+)\b(?! \(line)",
            lambda m: f"row {m.group(1)} (line {int(m.group(1)) + 2} of the file)",
            text,
            count=1,
        )
    return UserError(f"{file}: {text}")


def journeys_from(df: pd.DataFrame, args: argparse.Namespace) -> Any:
    """Journeys (or loop histories, ``--form loop``) from a path table or an event log, the
    kind of table told by its columns."""
    import journeyloop as jl

    loop = getattr(args, "form", "funnel") == "loop"
    path = _pick(df, args.path, _PATH_COLUMNS, "--path")
    try:
        if path is not None and args.channel is None:
            if loop:
                return jl.Histories.from_paths(
                    df,
                    path=path,
                    count=_pick(df, args.count, ("count", "customers"), "--count"),
                    value=_pick(df, args.value, ("value",), "--value"),
                    sep=args.sep,
                    purchase=args.purchase,
                )
            return jl.Journeys.from_paths(df, path=path, sep=args.sep)
        customer = _pick(df, args.customer, _CUSTOMER_COLUMNS, "--customer")
        time = _pick(df, args.time, _TIME_COLUMNS, "--time")
        channel = _pick(df, args.channel, _CHANNEL_COLUMNS, "--channel")
        if customer is None or time is None or channel is None:
            msg = (
                "the file is neither a path table (a 'path' column, or --path NAME) nor an event "
                f"log (customer, time and channel columns, or --customer/--time/--channel); its "
                f"columns are: {', '.join(map(str, df.columns))}"
            )
            raise UserError(msg)
        df = _parsed_times(df, time, args.file)
        conversion = _pick(
            df, args.conversion, ("conversion", "converted", "purchase"), "--conversion"
        )
        value = _pick(df, args.value, ("value", "conversion_value", "revenue"), "--value")
        if loop:
            if args.lookback is not None:
                msg = "--lookback cuts funnel journeys; a loop history keeps every touch"
                raise UserError(msg)
            return jl.Histories.from_events(
                df, customer, time, channel, conversion, value, purchase=args.purchase
            )
        return jl.Journeys.from_events(
            df, customer, time, channel, conversion, value, lookback=args.lookback
        )
    except jl.JourneyloopError as err:
        raise _with_lines(args.file, err) from err


def _parsed_times(df: pd.DataFrame, time: str, file: str) -> pd.DataFrame:
    """The event log with its time column as datetimes when a text file gave it as text
    ("2026-01-05 10:00:00"); the first value that is not a date is a user error naming its row.
    Numbers and datetimes are left as they are."""
    column = df[time]
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return df
    try:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        parsed = pd.Series(pd.NaT, index=column.index)
    bad = parsed.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        where = (
            f" (line {row + 2} of the file)" if Path(file).suffix.lower() in _TEXT_SUFFIXES else ""
        )
        msg = (
            f"{file}: row {row}{where}, column {time!r}: {column.iloc[row]!r} is not a date "
            "or a time (give ISO dates such as 2026-01-05 10:00, or numbers)"
        )
        raise UserError(msg)
    out = df.copy()
    out[time] = parsed
    return out


def _empty(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or not str(x).strip()


def channel_map(path: str, kind: str) -> dict[str, str]:
    """A channel -> ``kind`` (team or stage) map from a file with columns channel and ``kind``.

    Every row is checked: a missing column, an empty name, or a channel given two different
    teams (stages) is a user error naming the file, the row and the column. A channel listed
    twice with the same team is kept once.
    """
    df = read_table(path)
    for column in ("channel", kind):
        if column not in df.columns:
            msg = (
                f"{path}: a {kind}s file needs the columns channel and {kind}; there is no "
                f"column {column!r} (its columns are: {', '.join(map(str, df.columns))})"
            )
            raise UserError(msg)
    mapping: dict[str, str] = {}
    first: dict[str, int] = {}
    for row, (channel, name) in enumerate(zip(df["channel"], df[kind], strict=True)):
        for column, x in (("channel", channel), (kind, name)):
            if _empty(x):
                msg = f"{path}: {_where(path, row)}, column {column!r}: the {column} is empty"
                raise UserError(msg)
        c, v = str(channel).strip(), str(name).strip()
        if c in mapping and mapping[c] != v:
            msg = (
                f"{path}: {_where(path, row)}, column {kind!r}: channel {c!r} is given two "
                f"{kind}s, {mapping[c]!r} (row {first[c]}) and {v!r}"
            )
            raise UserError(msg)
        mapping[c] = v
        first.setdefault(c, row)
    if not mapping:
        msg = f"{path}: the {kind}s file has no rows"
        raise UserError(msg)
    return mapping


def teams_from(path: str | None) -> dict[str, str] | None:
    """A channel -> team map from a two-column file (channel, team)."""
    return None if path is None else channel_map(path, "team")


def with_metadata(journeys: Any, args: argparse.Namespace) -> Any:
    """The journeys with the teams (``--teams``) and stages (``--stages``) as channel metadata."""
    teams = teams_from(getattr(args, "teams", None))
    stages_file = getattr(args, "stages", None)
    stages = None if stages_file is None else channel_map(stages_file, "stage")
    if teams is None and stages is None:
        return journeys
    meta: dict[str, dict[str, str]] = {}
    for kind, mapping in (("team", teams), ("stage", stages)):
        for c, v in (mapping or {}).items():
            meta.setdefault(c, {})[kind] = v
    return journeys.with_channels(meta)


def read_journeys(args: argparse.Namespace) -> Any:
    """The file of ``args`` as journeys (or histories), with their channel metadata."""
    _at_least(args.order, 1, "--order")
    df = read_table(args.file)
    check_numbers(df, args.file)
    return with_metadata(journeys_from(df, args), args)


def progress(args: argparse.Namespace) -> bool | None:
    """``progress=`` of the library's long work: a bar (tqdm when installed, else plain
    lines) when stderr is a terminal, nothing otherwise or with ``--quiet``."""
    if args.quiet:
        return None
    return sys.stderr.isatty() or None


def _at_least(value: int | None, minimum: int, option: str) -> None:
    """An option's number checked before the file is read (its message names the option)."""
    if value is not None and value < minimum:
        msg = f"{option} must be an integer >= {minimum}, got {value}"
        raise UserError(msg)


def fit(journeys: Any, args: argparse.Namespace) -> Any:
    """The model of ``--order`` fitted on the journeys (a LoopModel for histories)."""
    import journeyloop as jl

    try:
        return jl.MarkovModel(order=args.order).fit(journeys)
    except jl.JourneyloopError as err:
        raise UserError(f"{args.file}: {err}") from err


def write(result: pd.DataFrame, out: str | None, quiet: bool = False) -> None:
    """The result to the terminal (aligned) or to ``out`` (CSV, JSON, HTML or Parquet by its
    extension)."""
    if out is None:
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(result.to_string(index=False, float_format=lambda x: f"{x:,.4f}"))
        return
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        result.to_csv(out, index=False)
    elif suffix == ".json":
        result.to_json(out, orient="records", indent=1, double_precision=15)
    elif suffix in (".html", ".htm"):
        Path(out).write_text(result.to_html(index=False), encoding="utf-8")
    elif suffix in (".parquet", ".pq"):
        result.to_parquet(out, index=False)
    else:
        msg = f"{out}: unknown output type {suffix or '(none)'}; use .csv, .json, .html or .parquet"
        raise UserError(msg)
    if not quiet:
        print(f"wrote {out} ({len(result)} rows)", file=sys.stderr)


def _check_out(out: str | None, suffixes: Sequence[str]) -> None:
    """Refuses an output file of the wrong type before any long work."""
    if out is not None and Path(out).suffix.lower() not in suffixes:
        kinds = ", ".join(suffixes)
        msg = f"{out}: unknown output type {Path(out).suffix or '(none)'}; use {kinds}"
        raise UserError(msg)


_TABLE_OUT = (".csv", ".json", ".html", ".htm", ".parquet", ".pq")


# -- attribute -------------------------------------------------------------------------------


def _grouping(journeys: Any, by: str) -> dict[str, str] | None:
    """The channel -> group map of ``--by`` (None for channels)."""
    if by == "channel":
        return None
    mapping = journeys.teams if by == "team" else journeys.stages
    if mapping is None:
        option = "--teams" if by == "team" else "--stages"
        msg = f"--by {by} needs {option} FILE (a .csv or .parquet file with columns channel, {by})"
        raise UserError(msg)
    return dict(mapping)


def _rename(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Stages are attributed as teams are (each stage's channels removed at once): the team
    column is renamed."""
    return frame.rename(columns={"team": "stage"}) if by == "stage" else frame


def attribute_loop(histories: Any, args: argparse.Namespace) -> pd.DataFrame:
    """The loop model's attribution of purchases, value, first and repeat purchases (method
    ``markov``: by removal effects; ``shapley``: Shapley values), one tidy table."""
    import journeyloop as jl

    loop_methods = ("markov", "shapley")
    methods = list(args.methods) if args.methods is not None else list(loop_methods)
    for m in methods:
        if m not in loop_methods:
            msg = (
                f"--form loop attributes with the loop model: methods markov and shapley, not "
                f"{m!r} (the heuristics attribute funnel journeys)"
            )
            raise UserError(msg)
    groups = _grouping(histories, args.by)
    model = fit(histories, args)
    key = "channel" if groups is None else "team"
    players = len(model.channels_) if groups is None else len(set(groups.values()))
    if args.methods is None and players > jl._core.max_shapley_players:
        methods.remove("shapley")  # asked for by name, it is sampled
    frames = []
    for m in methods:
        ci = {"ci": args.ci, "n_boot": args.n_boot, "progress": progress(args)}
        if m == "markov":
            frame = model.attribution(key, groups, **ci)
        else:
            frame = model.shapley(key, groups, **ci)
        frames.append(frame.assign(method=m))
    result = pd.concat(frames, ignore_index=True)
    result = result[["method", *[c for c in result.columns if c != "method"]]]
    return _rename(result, args.by)


def attribute(args: argparse.Namespace) -> None:
    import journeyloop as jl

    _check_out(args.out, _TABLE_OUT)
    journeys = read_journeys(args)
    if args.form == "loop":
        write(attribute_loop(journeys, args), args.out, args.quiet)
        return
    groups = _grouping(journeys, args.by)
    result = jl.attribute(
        journeys,
        args.methods,
        by="channel" if groups is None else "team",
        teams=groups,
        order=args.order,
        ci=args.ci,
        n_boot=args.n_boot,
        progress=progress(args),
    )
    write(_rename(result, args.by), args.out, args.quiet)


# -- report ----------------------------------------------------------------------------------


def report(args: argparse.Namespace) -> None:
    import journeyloop as jl

    _check_out(args.out, (".html", ".htm"))
    journeys = read_journeys(args)
    # Teams and stages travel as channel metadata on the journeys, which the report reads.
    jl.report(journeys, args.out, order=args.order, ci=args.ci)
    if not args.quiet:
        print(f"wrote {args.out}", file=sys.stderr)


# -- simulate --------------------------------------------------------------------------------


def simulate(args: argparse.Namespace) -> None:
    _check_out(args.out, _TABLE_OUT)
    _at_least(args.n, 0, "-n")
    _at_least(args.threads, 1, "--threads")
    _at_least(args.max_touches, 1, "--max-touches")
    model = fit(read_journeys(args), args)
    simulated = model.simulate(
        args.n,
        seed=args.seed,
        threads=args.threads,
        max_touches=args.max_touches,
        progress=progress(args),
    )
    write(simulated.to_frame(), args.out, args.quiet)


# -- scenario and sensitivities --------------------------------------------------------------


class _NewScenario(argparse.Action):
    """``--name NAME``: the changes after it make a new scenario."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        scenarios = list(getattr(namespace, "scenarios", None) or [])
        scenarios.append((str(values), []))
        namespace.scenarios = scenarios


class _Change(argparse.Action):
    """A change of the current scenario, kept in the order given on the command line."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        scenarios = list(getattr(namespace, "scenarios", None) or [])
        if not scenarios:
            scenarios.append(("scenario", []))
        scenarios[-1][1].append((self.dest, str(option), list(values)))
        namespace.scenarios = scenarios


def _number(text: str, what: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"{option}: the {what} {text!r} is not a number"
        raise UserError(msg) from None


_OUTCOMES = ("START", "CONVERSION", "NULL", "PURCHASE", "END")


def _check_name(name: str, model: Any, option: str, known: set[str], scenario: str) -> None:
    """An unknown channel in a scenario: named with the channels the model knows."""
    if name in known:
        return
    loop = bool(getattr(model, "is_loop_", False))
    outcomes = "START, PURCHASE, END" if loop else "START, CONVERSION, NULL"
    msg = (
        f"scenario {scenario!r}, {option}: unknown channel {name!r}; the model's channels are: "
        f"{', '.join(model.channels_)} (and {outcomes})"
    )
    raise UserError(msg)


def scenarios_from(args: argparse.Namespace, model: Any) -> dict[str, Any]:
    """The scenarios of the command line, their names checked against the model."""
    import journeyloop as jl

    given = getattr(args, "scenarios", None) or []
    if not any(changes for _, changes in given):
        msg = (
            "give at least one change: --remove, --scale, --set, --redirect, --scale-value "
            "or --set-value"
        )
        raise UserError(msg)
    states = set(model._labels()) | set(model.channels_) | set(_OUTCOMES)
    teams = set((model.teams_ or {}).values())
    out: dict[str, Any] = {}
    for name, changes in given:
        if name in out or name == "baseline":
            msg = f"--name {name!r}: two scenarios have this name (or it is 'baseline')"
            raise UserError(msg)
        s = jl.Scenario(name)
        for kind, option, values in changes:
            if kind == "remove":
                for v in values:
                    _check_name(v, model, option, states | teams, name)
                s = s.remove(*values)
            elif kind in ("scale", "set", "redirect"):
                what = {"scale": "factor", "set": "probability", "redirect": "share"}[kind]
                src, dst, amount = values
                for v in (src, dst):
                    _check_name(v, model, option, states, name)
                s = getattr(s, kind)(src, dst, _number(amount, what, option))
            else:  # scale_value, set_value
                if len(values) > 2:
                    msg = f"{option} takes a number and at most one channel, got {values}"
                    raise UserError(msg)
                what = "factor" if kind == "scale_value" else "value"
                channel = values[1] if len(values) == 2 else None
                if channel is not None:
                    _check_name(channel, model, option, set(model.channels_), name)
                s = getattr(s, kind)(_number(values[0], what, option), channel)
        out[name] = s
    return out


def scenario(args: argparse.Namespace) -> None:
    import journeyloop as jl

    _check_out(args.out, _TABLE_OUT)
    _at_least(args.simulate, 1, "--simulate")
    _at_least(args.threads, 1, "--threads")
    model = fit(read_journeys(args), args)
    table = jl.compare(
        model,
        scenarios_from(args, model),
        simulate=args.simulate,
        seed=args.seed,
        threads=args.threads,
    )
    write(table, args.out, args.quiet)


def sensitivities(args: argparse.Namespace) -> None:
    _check_out(args.out, _TABLE_OUT)
    _at_least(args.top, 0, "--top")
    model = fit(read_journeys(args), args)
    write(model.sensitivities(top=args.top or None), args.out, args.quiet)


# -- demo ------------------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> None:
    from . import demo as demo_module

    demo_module.main()


# -- the parser ------------------------------------------------------------------------------


def _flags() -> argparse.ArgumentParser:
    """--quiet and --debug, on every command (also before it)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
        help="no progress, warnings or notes on stderr",
    )  # fmt: skip
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )  # fmt: skip
    return p


def _inputs(p: argparse.ArgumentParser, *, metadata: bool = True) -> None:
    """The input file and how to read it."""
    p.add_argument("file", help="a .csv or .parquet file: a path table or an event log")
    p.add_argument(
        "--form", choices=["funnel", "loop"], default="funnel",
        help="funnel journeys (the default) or loop histories of repeat purchases",
    )  # fmt: skip
    p.add_argument("--order", type=int, default=1, help="Markov order (default 1)")
    if metadata:
        p.add_argument("--teams", help="a .csv or .parquet file with columns channel and team")
        p.add_argument("--stages", help="a .csv or .parquet file with columns channel and stage")
    g = p.add_argument_group("columns (found under their usual names when not given)")
    g.add_argument("--path", help="the path column of a path table (default: path)")
    g.add_argument("--sep", default=">", help="the separator in paths (default: >)")
    g.add_argument("--customer", help="the customer column of an event log")
    g.add_argument("--time", help="the time column of an event log")
    g.add_argument("--channel", help="the channel column of an event log")
    g.add_argument("--conversion", help="the conversion flag column of an event log")
    g.add_argument("--value", help="the conversion value column")
    g.add_argument("--lookback", default=None, help="event logs: the lookback, such as 30D")
    g.add_argument("--count", help="--form loop path tables: the customers column")
    g.add_argument(
        "--purchase", default="purchase", help="--form loop: the purchase token (default purchase)"
    )


def _command(
    sub: Any, name: str, run: Callable[[argparse.Namespace], None], text: str, epilog: str
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_flags()],
    )
    p.set_defaults(run=run)
    return p


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="journeyloop",
        description="Exact Markov attribution of customer journeys, from a file.",
        epilog="examples:\n  journeyloop attribute paths.csv\n"
        "  journeyloop report paths.csv -o report.html\n"
        "  journeyloop simulate paths.csv -n 10000 --out simulated.csv\n"
        "  journeyloop scenario paths.csv --remove social\n"
        "  journeyloop sensitivities paths.csv --top 5\n"
        "  journeyloop demo\n\n"
        "journeyloop COMMAND --help shows the options of a command, with examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--quiet", "-q", action="store_true", help="no progress or warnings")
    top.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = top.add_subparsers(dest="command", required=True)

    a = _command(
        sub, "attribute", attribute,
        "attribute the conversions of a path table or an event log with every method, by "
        "channel, team or stage", _ATTRIBUTE_EXAMPLES,
    )  # fmt: skip
    _inputs(a)
    a.add_argument("--methods", nargs="+", default=None, help="methods (default: all)")
    a.add_argument(
        "--by", choices=["channel", "team", "stage"], default="channel",
        help="attribute by channel (default), team (needs --teams) or stage (needs --stages)",
    )  # fmt: skip
    a.add_argument("--ci", type=float, default=None, help="interval level, such as 0.95")
    a.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates for --ci")
    a.add_argument("--out", "-o", help="write to a .csv, .json, .html or .parquet file")

    r = _command(
        sub, "report", report,
        "write one self-contained HTML report of a path table or an event log (data, "
        "attribution by every method, by team, removal effects, transitions; plots inline)",
        _REPORT_EXAMPLES,
    )  # fmt: skip
    _inputs(r)
    r.add_argument("--out", "-o", required=True, help="the .html file to write")
    r.add_argument("--ci", type=float, default=None, help="interval level, such as 0.95")

    s = _command(
        sub, "simulate", simulate,
        "fit a Markov model (or the loop model) on a file and simulate journeys from it",
        _SIMULATE_EXAMPLES,
    )  # fmt: skip
    _inputs(s)
    s.add_argument("-n", type=int, default=10_000, help="journeys (customers) to draw (10000)")
    s.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    s.add_argument("--threads", type=int, default=None, help="threads (default: the library's)")
    s.add_argument(
        "--max-touches", type=int, default=10_000, help="the runaway guard (default 10000)"
    )
    s.add_argument("--out", "-o", help="write to a .csv, .parquet, .json or .html file")

    c = _command(
        sub, "scenario", scenario,
        "compare what-if scenarios with the fitted model, exactly (before and after)",
        _SCENARIO_EXAMPLES,
    )  # fmt: skip
    _inputs(c)
    ch = c.add_argument_group("changes (in the order given)")
    ch.add_argument("--name", action=_NewScenario, help="start a new scenario of this name")
    ch.add_argument("--remove", action=_Change, nargs="+", metavar="CH", dest="remove",
                    help="remove channels (or teams, with --teams)")  # fmt: skip
    ch.add_argument("--scale", action=_Change, nargs=3, metavar=("FROM", "TO", "FACTOR"),
                    dest="scale", help="P(FROM -> TO) times FACTOR, the rest of the row "
                    "renormalised")  # fmt: skip
    ch.add_argument("--set", action=_Change, nargs=3, metavar=("FROM", "TO", "P"), dest="set",
                    help="P(FROM -> TO) = P, the rest of the row renormalised")  # fmt: skip
    ch.add_argument("--redirect", action=_Change, nargs=3, metavar=("FROM", "TO", "SHARE"),
                    dest="redirect",
                    help="a SHARE of the transitions into FROM go to TO")  # fmt: skip
    ch.add_argument("--scale-value", action=_Change, nargs="+", metavar=("FACTOR", "CH"),
                    dest="scale_value", help="the value per conversion times FACTOR (of the "
                    "conversions from CH)")  # fmt: skip
    ch.add_argument("--set-value", action=_Change, nargs="+", metavar=("VALUE", "CH"),
                    dest="set_value", help="the value per conversion set to VALUE (of the "
                    "conversions from CH)")  # fmt: skip
    c.add_argument("--simulate", type=int, default=None, metavar="N",
                   help="also simulate N journeys of each model: estimates and standard errors "
                   "beside the exact figures")  # fmt: skip
    c.add_argument("--seed", type=int, default=0, help="the seed of --simulate (default 0)")
    c.add_argument("--threads", type=int, default=None, help="threads (default: the library's)")
    c.add_argument("--out", "-o", help="write to a .csv, .json, .html or .parquet file")

    v = _command(
        sub, "sensitivities", sensitivities,
        "the transitions whose probability matters most to the conversion probability (the "
        "expected purchases in the loop)", _SENSITIVITIES_EXAMPLES,
    )  # fmt: skip
    _inputs(v, metadata=False)
    v.add_argument("--top", type=int, default=20, help="rows to show (default 20; 0: all)")
    v.add_argument("--out", "-o", help="write to a .csv, .json, .html or .parquet file")

    _command(
        sub, "demo", demo, "attribute the bundled B2B sample with every method",
        "example:\n  journeyloop demo\n",
    )  # fmt: skip
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status (0, or 2 for a user error)."""
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # the output was piped into a command that stopped reading
        sys.stderr.close()
        return 0


def _run(args: argparse.Namespace) -> int:
    import journeyloop as jl

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
    if not args.quiet:
        for w in caught:
            where = f"{args.file}: " if getattr(args, "file", None) else ""
            print(f"{where}warning: {w.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
