"""The journeyloop command: attribute files, clear errors, no traceback for a user error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import journeyloop as jl
from journeyloop import cli

PATHS = pd.DataFrame(
    {
        "path": ["a > b", "b", "a > c"],
        "total_conversions": [1, 0, 2],
        "total_null": [1, 2, 0],
        "total_conversion_value": [10.0, 0.0, 30.0],
    }
)


def test_attribute_a_path_table_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "paths.csv"
    PATHS.to_csv(f, index=False)
    assert cli.main(["attribute", str(f), "--methods", "last_touch", "markov", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["method", "channel", "conversions", "value", "share"]
    rows = [line.split() for line in out[1:]]
    assert rows[0][:3] == ["last_touch", "a", "0.0000"]
    expected = jl.attribute(jl.Journeys.from_paths(PATHS), ["markov"])
    markov = [r for r in rows if r[0] == "markov"]
    assert [float(r[2]) for r in markov] == pytest.approx(expected["conversions"].round(4).tolist())


def test_attribute_events_to_csv_json_html_with_teams(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3, 3],
            "time": [0, 1, 2, 0, 1, 0, 1],
            "channel": ["email", "demo", None, "email", None, "demo", None],
            "conversion": [0, 0, 1, 0, 0, 0, 1],
        }
    )
    f = tmp_path / "events.parquet"
    events.to_parquet(f)
    teams = tmp_path / "teams.csv"
    pd.DataFrame({"channel": ["email", "demo"], "team": ["marketing", "sales"]}).to_csv(
        teams, index=False
    )
    for suffix in (".csv", ".json", ".html"):
        out = tmp_path / f"result{suffix}"
        code = cli.main(
            ["attribute", str(f), "--by", "team", "--teams", str(teams), "--out", str(out), "-q",
             "--methods", "linear", "markov"]
        )  # fmt: skip
        assert code == 0
        assert out.exists()
    got = pd.read_csv(tmp_path / "result.csv")
    assert set(got["team"]) == {"marketing", "sales"}
    assert got.groupby("method")["conversions"].sum().tolist() == pytest.approx([2, 2])
    records = json.loads((tmp_path / "result.json").read_text())
    assert len(records) == 4
    assert "<table" in (tmp_path / "result.html").read_text()


def test_intervals_on_the_command_line(tmp_path: Path) -> None:
    f = tmp_path / "paths.csv"
    PATHS.to_csv(f, index=False)
    out = tmp_path / "ci.csv"
    assert cli.main(["attribute", str(f), "--methods", "markov", "--ci", "0.9", "--n-boot",
                     "50", "-o", str(out), "-q"]) == 0  # fmt: skip
    got = pd.read_csv(out)
    assert {"lower", "upper"} <= set(got.columns)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "no such file"),
        (
            "path,total_conversions\na > b,1\nb,x\n",
            [],
            "row 1 (line 3 of the file), column 'total_conversions': 'x' is not a number",
        ),
        ("x,y\n1,2\n", [], "neither a path table"),
        ("path,total_conversions\na,1\n", ["--methods", "nope"], "unknown method 'nope'"),
        ("path,total_conversions\na,1\n", ["--path", "route"], "no column 'route'"),
        ("path,total_conversions\na,1\n", ["--out", "x.xlsx"], "unknown output type"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    args: list[str],
    message: str,
) -> None:
    f = tmp_path / "in.csv"
    if content is not None:
        f.write_text(content)
    assert cli.main(["attribute", str(f), "-q", *args]) == cli.USER_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("journeyloop: error: ")
    assert message in err[0]
    assert "Traceback" not in err[0]


def test_the_console_script_and_help(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "journeyloop"
    assert script.exists(), "the package installs the journeyloop command"
    help_text = subprocess.run(
        [str(script), "attribute", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "journeyloop attribute paths.csv" in help_text
    bad = subprocess.run(
        [str(script), "attribute", str(tmp_path / "missing.csv")], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "no such file" in bad.stderr
    debug = subprocess.run(
        [str(script), "attribute", str(tmp_path / "missing.csv"), "--debug"],
        capture_output=True,
        text=True,
    )
    assert "Traceback" in debug.stderr
