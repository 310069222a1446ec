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


# -- stages, loop form, simulate, scenarios -------------------------------------------------

HISTORIES = pd.DataFrame(
    {
        "history": ["a > purchase > b > purchase", "a > b", "b > purchase"],
        "customers": [1, 1, 2],
        "value": [30.0, 0.0, 60.0],
    }
)


def _files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "paths": tmp_path / "paths.csv",
        "histories": tmp_path / "histories.csv",
        "stages": tmp_path / "stages.csv",
        "teams": tmp_path / "teams.parquet",
    }
    PATHS.to_csv(files["paths"], index=False)
    HISTORIES.to_csv(files["histories"], index=False)
    pd.DataFrame(
        {
            "channel": ["a", "b", "c", "b"],
            "stage": ["awareness", "decision", "decision", "decision"],
        }
    ).to_csv(files["stages"], index=False)
    pd.DataFrame({"channel": ["a", "b", "c"], "team": ["marketing", "sales", "sales"]}).to_parquet(
        files["teams"]
    )
    return files


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _user_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a user error prints (and its status is 2)."""
    code, _, err = _run(argv, capsys)
    assert code == cli.USER_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("journeyloop: error: ")
    return lines[0]


def test_attribute_by_stage_hand_worked(tmp_path: Path) -> None:
    # Stages: a is awareness, b and c decision (b listed twice with the same stage: kept once).
    # Removing awareness (a) leaves START -> b 1/3, b -> CONVERSION 1/4: p = 1/12 of 1/2, an
    # effect of 5/6; its value per journey 10/12 of 40/6, an effect of 7/8. Removing decision
    # leaves nothing: effects 1. Shares 5/11, 6/11 of 3 conversions; 7/15, 8/15 of 40.
    f = _files(tmp_path)
    out = tmp_path / "stage.csv"
    argv = ["attribute", str(f["paths"]), "--stages", str(f["stages"]), "--by", "stage"]
    assert cli.main([*argv, "--methods", "linear", "markov", "-o", str(out), "-q"]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["method", "stage", "conversions", "value", "share"]
    markov = got[got["method"] == "markov"].set_index("stage")
    assert markov.loc["awareness", "conversions"] == pytest.approx(15 / 11, abs=1e-12)
    assert markov.loc["decision", "conversions"] == pytest.approx(18 / 11, abs=1e-12)
    assert markov.loc["awareness", "value"] == pytest.approx(56 / 3, abs=1e-12)
    assert markov.loc["decision", "value"] == pytest.approx(64 / 3, abs=1e-12)
    # Linear: a > b gives each 1/2 (of 1 conversion, 10), a > c each 1/2 (of 2, 30).
    linear = got[got["method"] == "linear"].set_index("stage")
    assert linear.loc["awareness", "conversions"] == pytest.approx(1.5, abs=1e-12)
    assert linear.loc["decision", "value"] == pytest.approx(20.0, abs=1e-12)
    # The same as teams that are the stages.
    stages = {"a": "awareness", "b": "decision", "c": "decision"}
    expected = jl.attribute(jl.Journeys.from_paths(PATHS), ["markov"], by="team", teams=stages)
    assert markov["conversions"].tolist() == pytest.approx(expected["conversions"].tolist())


def test_teams_and_stages_together_and_by_team(tmp_path: Path) -> None:
    f = _files(tmp_path)
    out = tmp_path / "team.csv"
    argv = ["attribute", str(f["paths"]), "--teams", str(f["teams"]), "--stages", str(f["stages"])]
    assert cli.main([*argv, "--by", "team", "--methods", "markov", "-o", str(out), "-q"]) == 0
    got = pd.read_csv(out)
    assert got["team"].tolist() == ["marketing", "sales"]
    # The same players as the stages: a alone, then b and c.
    assert got["conversions"].tolist() == pytest.approx([15 / 11, 18 / 11], abs=1e-12)


def test_stages_missing_a_channel_warn_unless_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _files(tmp_path)
    partial = tmp_path / "partial.csv"
    pd.DataFrame({"channel": ["a"], "stage": ["awareness"]}).to_csv(partial, index=False)
    argv = ["attribute", str(f["paths"]), "--stages", str(partial), "--by", "stage",
            "--methods", "linear"]  # fmt: skip
    code, out, err = _run(argv, capsys)
    assert code == 0
    assert "unassigned" in out
    assert "warning: 2 channel(s) have no metadata and count as 'unassigned': b, c" in err
    code, out, err = _run([*argv, "--quiet"], capsys)
    assert code == 0
    assert err == ""


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--stages", "channel,phase\na,x\n", "needs the columns channel and stage; there is no "
         "column 'stage' (its columns are: channel, phase)"),
        ("--stages", "channel,stage\na,x\nb,y\nb,z\n", "row 2 (line 4 of the file), column "
         "'stage': channel 'b' is given two stages, 'y' (row 1) and 'z'"),
        ("--stages", "channel,stage\na,x\n,y\n", "row 1 (line 3 of the file), column 'channel': "
         "the channel is empty"),
        ("--stages", "channel,stage\na,x\nb, \n", "row 1 (line 3 of the file), column 'stage': "
         "the stage is empty"),
        ("--stages", "channel,stage\n", "the stages file has no rows"),
        ("--teams", "channel,team\na,x\na,y\n", "row 1 (line 3 of the file), column 'team': "
         "channel 'a' is given two teams, 'x' (row 0) and 'y'"),
        ("--teams", "team\nx\n", "there is no column 'channel'"),
    ],
)  # fmt: skip
def test_bad_teams_and_stages_files_name_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, content: str, message: str
) -> None:
    f = _files(tmp_path)
    meta = tmp_path / "meta.csv"
    meta.write_text(content)
    for command in (["attribute"], ["report", "-o", str(tmp_path / "r.html")]):
        line = _user_error([*command, str(f["paths"]), option, str(meta)], capsys)
        assert f"{meta}: " in line
        assert message in line
    assert not (tmp_path / "r.html").exists()


def test_by_team_or_stage_needs_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _files(tmp_path)
    for by, option in (("team", "--teams"), ("stage", "--stages")):
        line = _user_error(["attribute", str(f["paths"]), "--by", by], capsys)
        assert f"--by {by} needs {option} FILE" in line
        line = _user_error(["attribute", str(f["histories"]), "--form", "loop", "--by", by], capsys)
        assert f"--by {by} needs {option} FILE" in line


def test_attribute_loop_histories(tmp_path: Path) -> None:
    # docs/loop.md's hand-worked chain: h = 13/16. Without a, h = 1/2 * 3/4 = 3/8 (an effect
    # of 7/13 on h); without b, h = 1/2 * 1/2 = 1/4 (an effect of 9/13): the 3 buyers' first
    # purchases are shared 7/16 : 9/16, that is 21/16 and 27/16. Every repeat purchase comes
    # through b.
    f = _files(tmp_path)
    out = tmp_path / "loop.csv"
    assert cli.main(["attribute", str(f["histories"]), "--form", "loop", "-o", str(out), "-q"]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == [
        "method", "channel", "purchases", "value", "share", "first_purchases", "repeat_purchases",
    ]  # fmt: skip
    assert got["method"].tolist() == ["markov", "markov", "shapley", "shapley"]
    markov = got[got["method"] == "markov"].set_index("channel")
    assert markov["first_purchases"].tolist() == pytest.approx([21 / 16, 27 / 16], abs=1e-12)
    assert markov["repeat_purchases"].tolist() == pytest.approx([0.0, 1.0], abs=1e-12)
    assert markov["purchases"].sum() == pytest.approx(4.0, abs=1e-12)
    assert markov["value"].sum() == pytest.approx(90.0, abs=1e-12)
    histories = jl.Histories.from_paths(HISTORIES, path="history")
    model = jl.MarkovModel().fit(histories)
    expected = model.attribution()
    assert markov["purchases"].tolist() == pytest.approx(expected["purchases"].tolist(), abs=1e-12)
    shapley = got[got["method"] == "shapley"]
    assert shapley["purchases"].tolist() == pytest.approx(
        model.shapley()["purchases"].tolist(), abs=1e-12
    )


def test_attribute_loop_events_by_stage(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 1, 2, 2, 3],
            "time": [0, 1, 2, 3, 0, 1, 0],
            "channel": ["a", "b", "a", "c", "a", "c", "b"],
            "conversion": [0, 1, 0, 1, 0, 1, 0],
        }
    )
    f = tmp_path / "events.parquet"
    events.to_parquet(f)
    files = _files(tmp_path)
    out = tmp_path / "loop.json"
    argv = ["attribute", str(f), "--form", "loop", "--stages", str(files["stages"]), "--by",
            "stage", "--methods", "markov", "-o", str(out), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    got = pd.DataFrame(json.loads(out.read_text()))
    histories = jl.Histories.from_events(events, conversion="conversion")
    expected = (
        jl.MarkovModel()
        .fit(histories)
        .attribution("team", {"a": "awareness", "b": "decision", "c": "decision"})
    )
    assert got["stage"].tolist() == expected["team"].tolist()
    assert got["purchases"].tolist() == pytest.approx(expected["purchases"].tolist(), abs=1e-12)
    assert got["purchases"].sum() == pytest.approx(3.0, abs=1e-12)


def test_loop_form_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    line = _user_error(
        ["attribute", str(f["histories"]), "--form", "loop", "--methods", "linear"], capsys
    )
    assert "methods markov and shapley, not 'linear'" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("history,customers\na > purchase,1\nb,x\n")
    line = _user_error(["attribute", str(bad), "--form", "loop"], capsys)
    assert "row 1 (line 3 of the file), column 'customers': 'x' is not a number" in line
    bad.write_text("history,customers\na > purchase,1\nb,-1\n")
    line = _user_error(["attribute", str(bad), "--form", "loop"], capsys)
    assert f"{bad}: row 1 (line 3 of the file), column" in line
    events = tmp_path / "events.csv"
    events.write_text("customer,time,channel,conversion\n1,0,a,0\n1,1,b,1\n2.5,0,a,0\n")
    line = _user_error(["attribute", str(events), "--form", "loop"], capsys)
    assert f"{events}: row 2 (line 4 of the file), column 'customer'" in line
    line = _user_error(["attribute", str(events), "--form", "loop", "--lookback", "3"], capsys)
    assert "--lookback cuts funnel journeys" in line


def test_report_with_stages_and_loop_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    f = _files(tmp_path)
    page = tmp_path / "report.html"
    code, _, err = _run(
        ["report", str(f["paths"]), "--stages", str(f["stages"]), "--teams", str(f["teams"]),
         "-o", str(page)], capsys,
    )  # fmt: skip
    assert code == 0
    assert err.strip() == f"wrote {page}"
    assert page.read_text().startswith("<!DOCTYPE html>")
    loop_page = tmp_path / "loop.html"
    assert (
        cli.main(["report", str(f["histories"]), "--form", "loop", "-o", str(loop_page), "-q"]) == 0
    )
    assert "first and repeat purchases" in loop_page.read_text()
    line = _user_error(["report", str(f["paths"]), "-o", str(tmp_path / "r.pdf")], capsys)
    assert "unknown output type .pdf" in line


def test_simulate_funnel_and_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    out1, out2 = tmp_path / "sim1.csv", tmp_path / "sim2.parquet"
    argv = ["simulate", str(f["paths"]), "-n", "20000", "--seed", "3", "-q"]
    assert cli.main([*argv, "--threads", "1", "-o", str(out1)]) == 0
    assert cli.main([*argv, "--threads", "2", "-o", str(out2)]) == 0
    one, two = pd.read_csv(out1), pd.read_parquet(out2)
    # The same seed gives the same journeys whatever the threads; the library's own draw.
    pd.testing.assert_frame_equal(one, two)
    model = jl.MarkovModel().fit(jl.Journeys.from_paths(PATHS))
    pd.testing.assert_frame_equal(one, model.simulate(20000, seed=3).to_frame())
    assert list(one.columns) == ["path", "conversions", "nulls", "value"]
    assert len(one) == 20000
    # The conversion rate is 1/2: within 4 standard errors (sqrt(1/4 / 20000)).
    assert abs(one["conversions"].mean() - 0.5) < 4 * (0.25 / 20000) ** 0.5
    # The simulated table is a path table the command reads back.
    code, out, _ = _run(["attribute", str(out1), "--methods", "last_touch", "-q"], capsys)
    assert code == 0
    assert "last_touch" in out
    # Loop form: histories with customers and purchases.
    loop_out = tmp_path / "loop.csv"
    argv = ["simulate", str(f["histories"]), "--form", "loop", "-n", "5000", "--seed", "2", "-q",
            "-o", str(loop_out)]  # fmt: skip
    assert cli.main(argv) == 0
    loop = pd.read_csv(loop_out)
    expected = jl.MarkovModel().fit(jl.Histories.from_paths(HISTORIES, path="history"))
    pd.testing.assert_frame_equal(loop, expected.simulate(5000, seed=2).to_frame())
    assert list(loop.columns) == ["path", "customers", "purchases", "value"]
    # To the terminal: an aligned table.
    code, out, _ = _run(["simulate", str(f["paths"]), "-n", "3", "--seed", "1", "-q"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["path", "conversions", "nulls", "value"]
    assert len(out.splitlines()) == 4


def test_simulate_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    line = _user_error(["simulate", str(f["paths"]), "-n", "-1"], capsys)
    assert line == "journeyloop: error: -n must be an integer >= 0, got -1"
    line = _user_error(["attribute", str(f["paths"]), "--order", "0"], capsys)
    assert line == "journeyloop: error: --order must be an integer >= 1, got 0"
    line = _user_error(["simulate", str(f["paths"]), "--threads", "0"], capsys)
    assert line == "journeyloop: error: --threads must be an integer >= 1, got 0"
    line = _user_error(["sensitivities", str(f["paths"]), "--top", "-2"], capsys)
    assert line == "journeyloop: error: --top must be an integer >= 0, got -2"
    line = _user_error(["scenario", str(f["paths"]), "--remove", "c", "--simulate", "0"], capsys)
    assert line == "journeyloop: error: --simulate must be an integer >= 1, got 0"
    line = _user_error(["simulate", str(f["paths"]), "-o", str(tmp_path / "x.xlsx")], capsys)
    assert "unknown output type .xlsx" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("path,total_conversions\na > b,1\nb,oops\n")
    line = _user_error(["simulate", str(bad)], capsys)
    assert "row 1 (line 3 of the file), column 'total_conversions': 'oops' is not a number" in line


def test_progress_on_a_terminal_and_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _files(tmp_path)
    argv = ["simulate", str(f["paths"]), "-n", "40000", "-o", str(tmp_path / "s.csv")]
    code, _, err = _run(argv, capsys)  # stderr is no terminal: no progress
    assert code == 0
    assert err.strip() == f"wrote {tmp_path / 's.csv'} (40000 rows)"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = _run(argv, capsys)
    assert code == 0
    assert "simulation" in err  # tqdm's bar, or plain lines without tqdm
    code, _, err = _run([*argv, "--quiet"], capsys)
    assert code == 0
    assert err == ""


def test_scenario_hand_worked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/scenarios.md: p = 1/2; without c 1/6; a -> c scaled by 1.5: 5/8; half of b's
    # traffic to c: 3/4; the value per journey 40/6 times 1.1.
    f = _files(tmp_path)
    out = tmp_path / "scenarios.csv"
    argv = ["scenario", str(f["paths"]), "--name", "no c", "--remove", "c",
            "--name", "more c", "--scale", "a", "c", "1.5",
            "--name", "half of b to c", "--redirect", "b", "c", "0.5",
            "--name", "prices", "--scale-value", "1.1", "--name", "b closes half", "--set", "b",
            "CONVERSION", "0.5", "-o", str(out), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    got = pd.read_csv(out).set_index("scenario")
    assert got.index.tolist() == ["baseline", "no c", "more c", "half of b to c", "prices",
                                  "b closes half"]  # fmt: skip
    p = got["conversion_probability"]
    assert p.tolist() == pytest.approx([1 / 2, 1 / 6, 5 / 8, 3 / 4, 1 / 2, 2 / 3], abs=1e-12)
    assert got.loc["prices", "value_per_journey"] == pytest.approx(44 / 6, abs=1e-12)
    assert got.loc["more c", "expected_conversions"] == pytest.approx(3.75, abs=1e-12)
    # Changes without --name make one scenario, in the order given: a -> c set to 1/2 after
    # scaling it by 1.5 leaves it at 1/2.
    code, out_text, _ = _run(
        ["scenario", str(f["paths"]), "--scale", "a", "c", "1.5", "--set", "a", "c", "0.5", "-q"],
        capsys,
    )
    assert code == 0
    rows = [line.split() for line in out_text.splitlines()]
    assert rows[0] == ["scenario", "conversion_probability", "expected_conversions",
                       "value_per_journey"]  # fmt: skip
    assert rows[2][:2] == ["scenario", "0.5000"]


def test_scenario_loop_teams_and_simulate(tmp_path: Path) -> None:
    f = _files(tmp_path)
    out = tmp_path / "loop.csv"
    argv = ["scenario", str(f["histories"]), "--form", "loop", "--name", "onboarding",
            "--scale", "PURCHASE", "b", "2", "--name", "no b", "--remove", "b", "-o", str(out),
            "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    got = pd.read_csv(out)
    assert got["expected_purchases"].tolist() == pytest.approx([1.0, 1.3, 0.25], abs=1e-12)
    assert got["repeat_probability"].tolist() == pytest.approx([0.1875, 0.375, 0.0], abs=1e-12)
    # --remove takes a team with --teams: sales is b and c.
    argv = ["scenario", str(f["paths"]), "--teams", str(f["teams"]), "--remove", "sales",
            "--simulate", "20000", "--seed", "1", "-o", str(out), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    got = pd.read_csv(out)
    assert got["conversion_probability"].tolist() == pytest.approx([0.5, 0.0], abs=1e-12)
    sim = got["conversion_probability_simulated"][0]
    assert abs(sim - 0.5) < 4 * got["conversion_probability_se"][0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (["--remove", "zz"], "scenario 'scenario', --remove: unknown channel 'zz'; the model's "
         "channels are: a, b, c (and START, CONVERSION, NULL)"),
        (["--name", "x", "--scale", "a", "zz", "2"], "scenario 'x', --scale: unknown channel 'zz'"),
        (["--redirect", "zz", "c", "0.5"], "--redirect: unknown channel 'zz'"),
        (["--scale-value", "2", "zz"], "--scale-value: unknown channel 'zz'"),
        (["--scale-value", "2", "a", "b"], "--scale-value takes a number and at most one channel"),
        (["--scale", "a", "c", "x"], "--scale: the factor 'x' is not a number"),
        (["--set", "c", "CONVERSION", "0.5"], "the row of 'c' cannot be renormalised"),
        (["--set", "a", "c", "1.5"], "must be a probability in [0, 1]"),
        ([], "give at least one change"),
        (["--name", "baseline", "--remove", "a"], "--name 'baseline'"),
    ],
)  # fmt: skip
def test_scenario_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: list[str], message: str
) -> None:
    f = _files(tmp_path)
    line = _user_error(["scenario", str(f["paths"]), *changes], capsys)
    assert message in line


def test_sensitivities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/scenarios.md: dp/dP(b -> CONVERSION) = y(b) (1 - x(b)) / (1 - 1/4) = 2/3.
    f = _files(tmp_path)
    out = tmp_path / "s.csv"
    assert cli.main(["sensitivities", str(f["paths"]), "--top", "2", "-o", str(out), "-q"]) == 0
    got = pd.read_csv(out, keep_default_na=False)  # the state NULL is no missing value
    assert got[["from", "to"]].to_numpy().tolist() == [["b", "CONVERSION"], ["b", "NULL"]]
    assert got["sensitivity"].tolist() == pytest.approx([2 / 3, -2 / 3], abs=1e-12)
    code, text, _ = _run(["sensitivities", str(f["histories"]), "--form", "loop", "--top", "0",
                          "-q"], capsys)  # fmt: skip
    assert code == 0
    model = jl.MarkovModel().fit(jl.Histories.from_paths(HISTORIES, path="history"))
    assert len(text.splitlines()) == len(model.sensitivities(top=None)) + 1
    line = _user_error(["sensitivities", str(tmp_path / "missing.csv")], capsys)
    assert "missing.csv: no such file" in line


def test_debug_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.csv")
    for argv in (["--debug", "simulate", missing], ["scenario", missing, "--debug"]):
        assert cli.main(argv) == cli.USER_ERROR
        err = capsys.readouterr().err
        assert "Traceback" in err
        assert err.strip().splitlines()[-1].endswith("missing.csv: no such file")


COMMANDS = ["attribute", "report", "simulate", "scenario", "sensitivities", "demo"]


def test_every_command_through_the_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "journeyloop"
    assert script.exists(), "the package installs the journeyloop command"
    # The script's own lines, run by this interpreter (its first line names the interpreter
    # of the environment it was installed in).
    run = [sys.executable, str(script)]
    top = subprocess.run([*run, "--help"], capture_output=True, text=True, check=True).stdout
    for command in COMMANDS:
        assert command in top
        text = subprocess.run(
            [*run, command, "--help"], capture_output=True, text=True, check=True
        ).stdout
        assert f"\n  journeyloop {command}" in text, f"{command} --help shows an example"
        assert "--quiet" in text
        assert "--debug" in text
    f = _files(tmp_path)
    ok = subprocess.run(
        [*run, "scenario", str(f["paths"]), "--remove", "c", "-q"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split("\n")[2].split()[:2] == ["scenario", "0.1667"]
    sim = subprocess.run(
        [*run, "simulate", str(f["histories"]), "--form", "loop", "-n", "10", "-q"],
        capture_output=True,
        text=True,
    )
    assert sim.returncode == 0, sim.stderr
    assert len(sim.stdout.splitlines()) == 11
    bad = subprocess.run(
        [*run, "attribute", str(f["paths"]), "--stages", str(f["paths"])],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "there is no column 'channel'" in bad.stderr


def test_an_event_log_in_csv_with_usual_names_and_text_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Names in other cases and the usual synonyms; times as text, as every CSV holds them.
    events = pd.DataFrame(
        {
            "User_ID": ["u1", "u1", "u2", "u2", "u3"],
            "TS": ["2026-01-05 10:00", "2026-01-06 09:30", "2026-01-05 08:00",
                   "2026-01-07 12:00", "2026-01-08"],
            "Touchpoint": ["email", "demo", "demo", "email", "email"],
            "Converted": [0, 1, 0, 1, 0],
            "Revenue": [0.0, 120.0, 0.0, 80.0, 0.0],
        }
    )  # fmt: skip
    f = tmp_path / "events.csv"
    events.to_csv(f, index=False)
    code, out, _ = _run(["attribute", str(f), "--methods", "last_touch", "first_touch"], capsys)
    assert code == 0
    table = [line.split() for line in out.strip().splitlines()[1:]]
    # Last touch: u1's demo, u2's email; first touch: u1's email, u2's demo.
    got = {(r[0], r[1]): (float(r[2]), float(r[3].replace(",", ""))) for r in table}
    assert got == {
        ("last_touch", "demo"): (1.0, 120.0),
        ("last_touch", "email"): (1.0, 80.0),
        ("first_touch", "demo"): (1.0, 80.0),
        ("first_touch", "email"): (1.0, 120.0),
    }
    # A time that is not one names its row, and the row's line in the file.
    events.loc[3, "TS"] = "next tuesday"
    events.to_csv(f, index=False)
    line = _user_error(["attribute", str(f)], capsys)
    assert "row 3 (line 5 of the file), column 'TS': 'next tuesday' is not a date" in line
