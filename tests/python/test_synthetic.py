"""jl.synthetic: deterministic data, an exact ground truth (checked by hand on a small process
and against simulation), data that loads as it was made, data losses that change exactly what
they report, the bundled sample regenerated, and a small run of the study script."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl
from journeyloop import synthetic
from journeyloop.synthetic import _exact_truth, _Process, _Segment, _simulate

REPO = Path(__file__).resolve().parents[2]
STRUCTURAL = ["short", "long", "retargeting", "sales_followup", "loyalty"]


# ---------------------------------------------------------------------------
# determinism


@pytest.mark.parametrize("regime", [*STRUCTURAL, "b2b", "b2b_loop"])
def test_the_same_seed_gives_the_same_data(regime: str) -> None:
    a = synthetic.generate(400, regime=regime, seed=11, truth=not regime.startswith("b2b"))
    b = synthetic.generate(400, regime=regime, seed=11, truth=not regime.startswith("b2b"))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.paths, b.paths)
    pd.testing.assert_frame_equal(a.histories, b.histories)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = synthetic.generate(400, regime=regime, seed=12, truth=False)
    assert not c.events.equals(a.events)


# ---------------------------------------------------------------------------
# the ground truth, by hand


def tiny_process() -> _Process:
    """One class; the journey is a then b (2 touches, no drop-out). a: immediate effect 0.2,
    raises the interest level with probability 0.5, lift 0.1 per level; b: effect 0.5, no
    warming. Values are 100 exactly (sigma 0)."""
    segment = _Segment(
        start=np.array([[1.0, 0.0]]),
        transitions=np.array([[[0.0, 1.0], [0.0, 1.0]]]),
        drop=np.zeros((1, 2)),
        effect=np.array([0.2, 0.5]),
        warm=np.array([0.5, 0.0]),
        gap_days=np.ones(2),
        max_touches=2,
        fatigue_onset=5,
        fatigue=0.0,
        lift=0.1,
        levels=1,
    )
    return _Process(
        channels=["a", "b"],
        class_names=("all",),
        class_share=np.array([1.0]),
        response=np.array([1.0]),
        first=segment,
        repeat=None,
        max_purchases=1,
        first_median=np.array([100.0]),
        repeat_median=np.array([100.0]),
        value_sigma=0.0,
    )


def test_the_truth_of_a_small_process_by_hand() -> None:
    # Touch 1 (a): level 1 w.p. 1/2; converts w.p. 1/2 * 0.3 + 1/2 * 0.2 = 0.25.
    # Touch 2 (b): reached at level 1 w.p. 0.35, level 0 w.p. 0.4: 0.35 * 0.6 + 0.4 * 0.5 = 0.41.
    # All on 0.66; a off 0.5; b off 0.25 + 0.35 * 0.1 = 0.285; both off 0.
    truth, teams, expected = _exact_truth(tiny_process(), 1, {"a": "x", "b": "y"})
    assert expected["conversions"] == pytest.approx(0.66, abs=1e-14)
    assert expected["value"] == pytest.approx(66.0, abs=1e-12)
    assert expected["conversions_all_off"] == 0.0
    t = truth.set_index("channel")
    assert t.loc["a", "conversions"] == pytest.approx(0.16, abs=1e-14)
    assert t.loc["b", "conversions"] == pytest.approx(0.375, abs=1e-14)
    assert t.loc["a", "value"] == pytest.approx(16.0, abs=1e-12)
    assert t.loc["a", "share"] == pytest.approx(0.16 / 0.535, abs=1e-14)
    # Shapley: a = (0.285 - 0) / 2 + (0.66 - 0.5) / 2; b = 0.5 / 2 + (0.66 - 0.285) / 2.
    assert t.loc["a", "shapley_conversions"] == pytest.approx(0.2225, abs=1e-14)
    assert t.loc["b", "shapley_conversions"] == pytest.approx(0.4375, abs=1e-14)
    # The effects are not additive: the two drops sum to less than the conversions.
    assert t["conversions"].sum() == pytest.approx(0.535, abs=1e-14)
    # One channel a team: each team's truth is its channel's.
    np.testing.assert_allclose(
        teams[["conversions", "value", "shapley_conversions"]].to_numpy(),
        truth[["conversions", "value", "shapley_conversions"]].to_numpy(),
        rtol=0,
        atol=1e-14,
    )


def test_the_small_process_simulates_its_truth() -> None:
    n = 200_000
    events = _simulate(tiny_process(), n, seed=5)
    converted = events["conversion"].to_numpy()
    p = 0.66
    assert abs(converted.sum() - n * p) < 4 * math.sqrt(n * p * (1 - p))
    # conversions at the first touch: 0.25 of the customers
    first = events.groupby("customer").head(1)
    q = 0.25
    assert abs(first["conversion"].sum() - n * q) < 4 * math.sqrt(n * q * (1 - q))
    assert events.loc[events["conversion"], "value"].eq(100.0).all()


@pytest.mark.parametrize("regime", STRUCTURAL)
def test_simulated_conversions_and_value_match_the_exact_expectation(regime: str) -> None:
    n = 20_000
    data = synthetic.generate(n, regime=regime, seed=3)
    per = data.events.groupby("customer").agg(
        purchases=("conversion", "sum"), value=("value", "sum")
    )
    purchases = per["purchases"].reindex(range(n), fill_value=0).to_numpy(dtype=float)
    value = per["value"].reindex(range(n), fill_value=0.0).to_numpy(dtype=float)
    se = purchases.std(ddof=1) * math.sqrt(n)
    assert abs(purchases.sum() - data.expected["conversions"]) < 4 * se
    se_value = value.std(ddof=1) * math.sqrt(n)
    # Values are rounded to cents: at most half a cent a purchase besides the noise.
    assert abs(value.sum() - data.expected["value"]) < 4 * se_value + 0.005 * purchases.sum()
    first = data.events.groupby("customer")["conversion"].any().sum()
    p = data.expected["first_conversions"] / n
    assert abs(first - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_the_no_effect_channel_has_no_truth() -> None:
    data = synthetic.generate(3_000, regime="retargeting", seed=2)
    row = data.truth.set_index("channel").loc["retargeting"]
    for column in ("conversions", "value", "share", "shapley_conversions", "shapley_value"):
        assert row[column] == 0.0
    # ... yet it is often on converting journeys, and more often than on the others.
    journeys = data.paths.assign(retargeted=data.paths["path"].str.contains("retargeting"))
    converting = journeys.groupby("retargeted")[["conversions", "nulls"]].sum()
    rate = converting["conversions"] / (converting["conversions"] + converting["nulls"])
    assert rate[True] > 1.5 * rate[False]
    # A channel planted with no effect in another regime also gets 0.
    quiet = synthetic.generate(
        500, regime="short", seed=2, effects={"email": 0}, warming={"email": 0}
    )
    assert quiet.truth.set_index("channel").loc["email", "conversions"] == 0.0
    assert quiet.truth.set_index("channel").loc["demo", "conversions"] > 0


@pytest.mark.parametrize("regime", STRUCTURAL)
def test_the_truth_sums(regime: str) -> None:
    data = synthetic.generate(1_000, regime=regime, seed=4)
    e = data.expected
    planted = e["conversions"] - e["conversions_all_off"]
    assert e["conversions_all_off"] == 0.0
    assert data.truth["shapley_conversions"].sum() == pytest.approx(planted, rel=1e-12)
    assert data.team_truth["shapley_conversions"].sum() == pytest.approx(planted, rel=1e-12)
    value = e["value"] - e["value_all_off"]
    assert data.truth["shapley_value"].sum() == pytest.approx(value, rel=1e-12)
    assert data.team_truth["shapley_value"].sum() == pytest.approx(value, rel=1e-12)
    assert data.truth["share"].sum() == pytest.approx(1.0, abs=1e-12)
    # A team removes its channels at once: at least what any one of them removes.
    for team, row in data.team_truth.set_index("team").iterrows():
        members = data.truth[data.truth["channel"].map(data.teams) == team]
        assert row["conversions"] >= members["conversions"].max() - 1e-9
        assert members["conversions"].sum() >= 0
    np.testing.assert_allclose(
        data.truth["first_conversions"] + data.truth["repeat_conversions"],
        data.truth["conversions"],
        rtol=0,
        atol=1e-9,
    )
    if regime != "loyalty":
        assert (data.truth["repeat_conversions"].abs() < 1e-9).all()
    else:  # the service team is onboarding alone
        service = data.team_truth.set_index("team").loc["service"]
        onboarding = data.truth.set_index("channel").loc["onboarding"]
        assert service["conversions"] == pytest.approx(onboarding["conversions"], rel=1e-12)
        assert onboarding["first_conversions"] == 0.0


# ---------------------------------------------------------------------------
# the data loads as it was made


@pytest.mark.parametrize("regime", STRUCTURAL)
def test_the_event_log_and_the_path_tables_agree(regime: str) -> None:
    data = synthetic.generate(3_000, regime=regime, seed=6)
    journeys = data.journeys()
    report = journeys.report
    assert report is not None
    assert report.rows_rejected == 0 and report.rows_used == len(data.events)
    paths = jl.Journeys.from_paths(
        data.paths, path="path", conversions="conversions", nulls="nulls", value="value"
    )
    assert journeys.total_conversions == paths.total_conversions == data.events["conversion"].sum()
    assert journeys.total_nulls == paths.total_nulls
    assert journeys.total_value == pytest.approx(paths.total_value, rel=1e-12)
    from_events = (
        journeys.to_frame().groupby("path")[["conversions", "nulls", "value"]].sum().sort_index()
    )
    table = data.paths.set_index("path").sort_index()
    np.testing.assert_array_equal(from_events.index, table.index)
    np.testing.assert_array_equal(from_events["conversions"], table["conversions"])
    np.testing.assert_array_equal(from_events["nulls"], table["nulls"])
    np.testing.assert_allclose(from_events["value"], table["value"], rtol=1e-12, atol=1e-6)

    histories = data.loop_histories()
    table_h = jl.Journeys.from_paths(
        data.histories, path="history", count="customers", value="value", form="loop"
    )
    assert histories.total_customers == table_h.total_customers == 3_000
    assert histories.total_purchases == table_h.total_purchases == data.events["conversion"].sum()
    assert histories.total_value == pytest.approx(table_h.total_value, rel=1e-12)
    assert set(journeys.channels) == set(data.teams) == set(data.stages)


def test_the_b2b_regime_is_the_bundled_sample() -> None:
    data = synthetic.generate(60_000, regime="b2b", seed=20240531, truth=False)
    pd.testing.assert_frame_equal(data.paths, jl.datasets.load_b2b_paths())
    assert data.teams == jl.datasets.b2b_teams()
    assert data.stages == jl.datasets.b2b_stages()
    journeys = data.journeys()
    assert journeys.report is not None and journeys.report.rows_rejected == 0
    assert journeys.total_conversions == 3963


def test_the_b2b_loop_regime_is_the_bundled_histories() -> None:
    data = synthetic.generate(20_000, regime="b2b_loop", seed=20240532, truth=False)
    pd.testing.assert_frame_equal(data.histories, jl.datasets.load_b2b_histories())
    loop_channels = jl.datasets.load_b2b_loop_channels()
    assert data.teams == dict(zip(loop_channels["channel"], loop_channels["team"]))
    histories = data.loop_histories()
    assert histories.report is not None and histories.report.rows_rejected == 0
    assert histories.total_purchases == data.events["conversion"].sum()


def test_the_b2b_loop_truth_splits_first_and_repeat_purchases() -> None:
    data = synthetic.generate(1_000, regime="b2b_loop", seed=9)
    t = data.truth.set_index("channel")
    np.testing.assert_allclose(
        t["first_conversions"] + t["repeat_conversions"], t["conversions"], atol=1e-9
    )
    # the post-purchase channels act on repeat purchases only
    for channel in ("onboarding", "support_ticket", "nurture_email", "account_review"):
        assert t.loc[channel, "first_conversions"] == 0.0
    e = data.expected
    assert data.team_truth["shapley_conversions"].sum() == pytest.approx(
        e["conversions"] - e["conversions_all_off"], rel=1e-12
    )
    assert data.team_truth["shapley_value"].sum() == pytest.approx(
        e["value"] - e["value_all_off"], rel=1e-12
    )


def test_the_b2b_truth_is_estimated_with_its_error() -> None:
    data = synthetic.generate(1_500, regime="b2b", seed=7)
    t = data.truth.set_index("channel")
    assert (t["conversions_se"] >= 0).all() and t["conversions_se"].max() > 0
    # demo and sales_email close the deals: switching either off loses conversions
    assert t.loc["demo", "conversions"] > 4 * t.loc["demo", "conversions_se"]
    teams = data.team_truth
    e = data.expected
    assert teams["shapley_conversions"].sum() == pytest.approx(
        e["conversions"] - e["conversions_all_off"], rel=1e-12
    )
    assert e["conversions_all_off"] == 0.0


# ---------------------------------------------------------------------------
# data losses


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return synthetic.generate(3_000, regime="loyalty", seed=8, truth=False).events


def test_split_identities_changes_only_what_it_reports(events: pd.DataFrame) -> None:
    lost = synthetic.split_identities(events, 0.3, seed=1)
    out = lost.events
    pd.testing.assert_frame_equal(out.drop(columns="customer"), events.drop(columns="customer"))
    moved = out["customer"].to_numpy() != events["customer"].to_numpy()
    assert moved.sum() == lost.changed["rows_moved"] > 0
    assert (
        out["customer"].nunique() == events["customer"].nunique() + lost.changed["customers_split"]
    )
    assert not set(out.loc[moved, "customer"]) & set(events["customer"])
    # the moved rows of a customer are its last rows, and it keeps at least one
    for _, rows in pd.DataFrame({"c": events["customer"], "m": moved}).groupby("c"):
        m = rows["m"].to_numpy()
        if m.any():
            assert not m[0] and m[np.argmax(m) :].all()
    again = synthetic.split_identities(events, 0.3, seed=1)
    pd.testing.assert_frame_equal(again.events, out)
    assert synthetic.split_identities(events, 0.0, seed=1).changed["rows_moved"] == 0
    strings = events.assign(customer="c" + events["customer"].astype(str))
    split = synthetic.split_identities(strings, 0.3, seed=1)
    assert split.changed == lost.changed
    assert split.events["customer"].str.endswith("~split").sum() == lost.changed["rows_moved"]


def test_drop_touches_changes_only_what_it_reports(events: pd.DataFrame) -> None:
    lost = synthetic.drop_touches(events, 0.25, seed=2)
    out, changed = lost
    assert len(events) - len(out) == changed["touches_dropped"] > 0
    assert out["conversion"].sum() == events["conversion"].sum()
    merged = events.merge(out, how="left", indicator=True)
    assert (merged["_merge"] == "left_only").sum() == changed["touches_dropped"]
    assert not merged.loc[merged["_merge"] == "left_only", "conversion"].any()
    expected = len(events[~events["conversion"]]) * 0.25
    assert abs(changed["touches_dropped"] - expected) < 4 * math.sqrt(expected * 0.75)
    pd.testing.assert_frame_equal(synthetic.drop_touches(events, 0.25, seed=2).events, out)


def test_drop_conversions_changes_only_what_it_reports(events: pd.DataFrame) -> None:
    lost = synthetic.drop_conversions(events, 0.4, seed=3)
    out = lost.events
    flipped = events["conversion"].to_numpy() & ~out["conversion"].to_numpy()
    assert flipped.sum() == lost.changed["conversions_dropped"] > 0
    assert not (out["conversion"] & ~events["conversion"]).any()
    assert lost.changed["value_dropped"] == pytest.approx(
        events.loc[flipped, "value"].sum(), rel=1e-12
    )
    assert out.loc[flipped, "value"].isna().all()
    kept = ~flipped
    pd.testing.assert_frame_equal(out[kept], events[kept])
    pd.testing.assert_frame_equal(
        out.drop(columns=["conversion", "value"]), events.drop(columns=["conversion", "value"])
    )


def test_stop_tracking_changes_only_what_it_reports(events: pd.DataFrame) -> None:
    cutoff = pd.Timestamp("2025-02-10")
    lost = synthetic.stop_tracking(events, "demo", cutoff)
    out = lost.events
    hit = (events["channel"] == "demo") & (events["time"] >= cutoff)
    assert lost.changed["touches_dropped"] == (hit & ~events["conversion"]).sum() > 0
    assert lost.changed["conversions_untracked"] == (hit & events["conversion"]).sum() > 0
    assert len(events) - len(out) == lost.changed["touches_dropped"]
    assert not ((out["channel"] == "demo") & (out["time"] >= cutoff)).any()
    assert out["channel"].isna().sum() == lost.changed["conversions_untracked"]
    assert out["conversion"].sum() == events["conversion"].sum()
    pd.testing.assert_frame_equal(
        out[~out["channel"].isna()].reset_index(drop=True), events[~hit].reset_index(drop=True)
    )
    # The degraded log still loads, every conversion kept
    j = jl.Journeys.from_events(out, conversion="conversion", value="value")
    assert j.total_conversions == events["conversion"].sum()


def test_bad_arguments_are_refused(events: pd.DataFrame) -> None:
    bad = [
        lambda: synthetic.generate(0),
        lambda: synthetic.generate(10, regime="medium"),
        lambda: synthetic.generate(10, seed=-1),
        lambda: synthetic.generate(10, effects={"tv": 0.1}),
        lambda: synthetic.generate(10, effects={"email": 1.5}),
        lambda: synthetic.generate(10, effects={"email": float("nan")}),
        lambda: synthetic.generate(10, repeat_effects={"email": 0.1}),
        lambda: synthetic.generate(10, regime="b2b", effects={"email": 0.1}),
        lambda: synthetic.split_identities(events, 1.5),
        lambda: synthetic.drop_touches(events, float("nan")),
        lambda: synthetic.drop_conversions(events.drop(columns="conversion"), 0.1),
        lambda: synthetic.drop_touches([1, 2], 0.1),
        lambda: synthetic.stop_tracking(events, "tv", "2025-02-01"),
        lambda: synthetic.stop_tracking(events, "email", "not a date"),
    ]
    for call in bad:
        with pytest.raises(jl.InvalidInputError):
            call()
    with pytest.raises(jl.InvalidInputError, match="unknown channel 'tv'"):
        synthetic.generate(10, effects={"tv": 0.1})


# ---------------------------------------------------------------------------
# the study


def test_study_quick_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "study.py"),
            "--quick",
            "--customers",
            "800",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    tables = (tmp_path / "study_tables.md").read_text(encoding="utf-8")
    for method in ("first_touch", "time_decay", "markov_4", "shapley", "loop_markov"):
        assert f"`{method}`" in tables
    assert (tmp_path / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(x) for x in (tmp_path / "study.jsonl").read_text().splitlines()]
    assert {x["kind"] for x in lines} == {"error", "loss"}
    assert all(x["commit"] and x["customers"] == 800 for x in lines)
    errors = [x for x in lines if x["kind"] == "error"]
    assert {x["regime"] for x in errors} == set(STRUCTURAL)
    assert all(0.0 <= x["error"] <= 2.0 + 1e-12 for x in errors)


def test_the_study_names_the_plot_extra_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("study", REPO / "bench" / "study.py")
    assert spec is not None and spec.loader is not None
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    empty = pd.DataFrame(columns=["regime", "method", "error", "loss", "movement"])
    with pytest.raises(ImportError, match=r"journeyloop\[plot\]"):
        study.plot(empty, empty, Path("unused.png"))


def test_the_docstring_examples_run() -> None:
    import doctest

    result = doctest.testmod(synthetic, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0
