"""jl.calibrate: an attribution against lift tests, and calibrated to them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl


def attribution() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["a", "b", "c"],
            "conversions": [60.0, 30.0, 10.0],
            "value": [600.0, 300.0, 100.0],
        }
    )


def lift_tests(*rows: tuple[str, float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["channel", "incremental_conversions", "lower", "upper"])


def test_by_hand() -> None:
    r = jl.calibrate(attribution(), lift_tests(("a", 30, 20, 40)))
    assert list(r.report.columns) == [
        "channel",
        "attributed",
        "attributed_lower",
        "attributed_upper",
        "experiment",
        "lower",
        "upper",
        "ratio",
        "disagrees",
    ]
    assert r.report.iloc[0].tolist() == ["a", 60.0, 60.0, 60.0, 30.0, 20.0, 40.0, 2.0, True]
    a = r.attribution
    assert list(a.columns) == ["channel", "conversions", "value", "share", "tested", "scale"]
    assert a["conversions"].tolist() == [30.0, 52.5, 17.5]
    assert a["value"].tolist() == [300.0, 525.0, 175.0]
    assert a["share"].tolist() == [0.3, 0.525, 0.175]
    assert a["tested"].tolist() == [True, False, False]
    assert a["scale"].tolist() == [0.5, 1.75, 1.75]
    assert r.unallocated.to_dict("records") == [{"conversions": 0.0, "value": 0.0}]


def test_intervals_of_the_attribution() -> None:
    a = attribution().assign(
        conversions_lower=[45.0, 25.0, 5.0], conversions_upper=[70.0, 35.0, 15.0]
    )
    r = jl.calibrate(a, lift_tests(("a", 30, 20, 40), ("b", 33, 31, 36)))
    assert r.report["disagrees"].tolist() == [True, False]
    assert r.report["attributed_lower"].tolist() == [45.0, 25.0]
    assert r.attribution["conversions"].tolist() == [30.0, 33.0, 37.0]
    # The names of the other part (lower/upper) are read too.
    b = attribution().assign(lower=[45.0, 25.0, 5.0], upper=[70.0, 35.0, 15.0])
    pd.testing.assert_frame_equal(
        jl.calibrate(b, lift_tests(("a", 30, 20, 40), ("b", 33, 31, 36))).report, r.report
    )
    # Touching intervals agree; without an interval the point decides.
    assert not jl.calibrate(a, lift_tests(("a", 30, 20, 45))).report["disagrees"][0]
    assert not jl.calibrate(attribution(), lift_tests(("b", 30, 28, 31))).report["disagrees"][0]
    with pytest.raises(jl.InvalidInputError, match="only one of the interval columns"):
        jl.calibrate(attribution().assign(lower=1.0), lift_tests(("a", 30, 20, 40)))


def test_per_method_frames_of_attribute(abc_journeys: jl.Journeys) -> None:
    frame = jl.attribute(abc_journeys, ["last_touch", "markov"])
    r = jl.calibrate(frame, lift_tests(("c", 1.0, 0.5, 1.5)))
    assert r.report["method"].tolist() == ["last_touch", "markov"]
    # last_touch gives c 2 (outside [0.5, 1.5]); Markov gives c 12/11 (inside).
    assert r.report["attributed"].tolist() == pytest.approx([2.0, 12 / 11], rel=1e-12)
    assert r.report["disagrees"].tolist() == [True, False]
    markov = r.attribution[r.attribution["method"] == "markov"].set_index("channel")
    # c 1; the 2 left shared by a 15/11 : b 6/11.
    assert markov["conversions"].to_dict() == pytest.approx(
        {"a": 2 * 15 / 21, "b": 2 * 6 / 21, "c": 1.0}, rel=1e-12
    )
    for _, g in r.attribution.groupby("method"):
        assert g["conversions"].sum() == pytest.approx(3.0, rel=1e-12)
        assert g["value"].sum() == pytest.approx(40.0, rel=1e-12)
    assert r.unallocated["method"].tolist() == ["last_touch", "markov"]
    # A model's frame by team.
    teams = {"a": "m", "b": "s", "c": "s"}
    by_team = jl.MarkovModel().fit(abc_journeys).attribution("team", teams)
    t = jl.calibrate(
        by_team, pd.DataFrame({"team": ["s"], "conversions": [2.0], "lower": [1.0], "upper": [3.0]})
    )
    assert t.report.columns[0] == "team"
    assert t.attribution.set_index("team")["conversions"].to_dict() == pytest.approx(
        {"m": 1.0, "s": 2.0}, rel=1e-14
    )


def test_warns_when_the_total_moves() -> None:
    with pytest.warns(jl.DataWarning, match="exceed the total"):
        r = jl.calibrate(attribution(), lift_tests(("a", 70, 60, 80), ("b", 40, 30, 50)))
    assert r.attribution["conversions"].tolist() == [70.0, 40.0, 0.0]
    assert r.unallocated["conversions"].tolist() == pytest.approx([-10.0], rel=1e-14)
    with pytest.warns(jl.DataWarning, match="cover every channel"):
        r = jl.calibrate(
            attribution(), lift_tests(("a", 50, 40, 60), ("b", 30, 20, 40), ("c", 10, 5, 15))
        )
    assert r.unallocated["conversions"].tolist() == pytest.approx([10.0], rel=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jl.calibrate(attribution(), lift_tests(("a", 30, 20, 40)))


@pytest.mark.parametrize(
    ("experiments", "error", "match"),
    [
        (lift_tests(("z", 1, 0, 2)), jl.UnknownChannelError, "experiments row 0: channel 'z'"),
        (
            lift_tests(("a", 1, 0, 2), ("a", 1, 0, 2)),
            jl.InvalidInputError,
            "row 1, column 'channel': 'a' is tested twice",
        ),
        (
            lift_tests(("a", 1, -1, 2)),
            jl.InvalidInputError,
            "row 0, column 'lower': -1 is negative",
        ),
        (
            lift_tests(("a", -1, -2, 2)),
            jl.InvalidInputError,
            "row 0, column 'incremental_conversions': -1 is negative",
        ),
        (lift_tests(("a", 1, 3, 2)), jl.InvalidInputError, "'lower' 3 is above 'upper' 2"),
        (lift_tests(("a", 5, 0, 2)), jl.InvalidInputError, "5 is outside its interval \\[0, 2\\]"),
        (
            lift_tests(("a", 1, 0, float("nan"))),
            jl.InvalidInputError,
            "row 0, column 'upper'.*must be finite",
        ),
        (
            lift_tests(("a", 1, 0, 2)).drop(columns="upper"),
            jl.InvalidInputError,
            "no column 'upper'",
        ),
        (
            lift_tests(("a", 1, 0, 2)).assign(lower="x"),
            jl.InvalidInputError,
            "row 0, column 'lower': 'x' is not a number",
        ),
        (lift_tests(), jl.InvalidInputError, "experiments is empty"),
        ([("a", 1, 0, 2)], jl.InvalidInputError, "experiments must be a DataFrame"),
    ],
)
def test_bad_experiments(experiments: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        jl.calibrate(attribution(), experiments)  # type: ignore[arg-type]


def test_bad_attribution() -> None:
    tests = lift_tests(("a", 30, 20, 40))
    with pytest.raises(jl.InvalidInputError, match="attribution must be a DataFrame"):
        jl.calibrate({"a": 1}, tests)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="'channel' \\(or 'team'\\) and 'conversions'"):
        jl.calibrate(pd.DataFrame({"x": [1]}), tests)
    bad = attribution().assign(conversions_lower=[1.0, 40.0, 1.0], conversions_upper=[70, 35, 15])
    with pytest.raises(jl.InvalidInputError, match=r"attribution row 1 \('b'\).*lower <= upper"):
        jl.calibrate(bad, tests)
    nan = attribution().assign(conversions=[60.0, np.nan, 10.0])
    with pytest.raises(jl.InvalidInputError, match="attribution row 1, column 'conversions'"):
        jl.calibrate(nan, tests)
    with pytest.raises(jl.InvalidInputError, match="lists a channel twice"):
        jl.calibrate(pd.concat([attribution(), attribution()]), tests)


def test_custom_column_names() -> None:
    tests = pd.DataFrame({"channel": ["a"], "lift": [30.0], "lo": [20.0], "hi": [40.0]})
    r = jl.calibrate(attribution(), tests, conversions="lift", lower="lo", upper="hi")
    assert r.attribution["conversions"].tolist() == [30.0, 52.5, 17.5]


def test_synthetic_truth() -> None:
    # retargeting causes nothing; Markov credits it (it lies on converting paths).
    # Lift tests that measure the truth of two channels move the attribution
    # towards the truth: the tested channels land on it exactly, and the
    # distance of the shares to the true shares falls.
    data = jl.synthetic.generate(5_000, regime="retargeting", seed=1)
    truth = data.truth.set_index("channel")
    markov = jl.MarkovModel().fit(data.journeys()).attribution()
    tested = ["retargeting", "demo"]
    experiments = pd.DataFrame(
        {
            "channel": tested,
            "incremental_conversions": [truth["conversions"][c] for c in tested],
            "lower": [0.9 * truth["conversions"][c] for c in tested],
            "upper": [1.1 * truth["conversions"][c] for c in tested],
        }
    )
    r = jl.calibrate(markov, experiments)
    report = r.report.set_index("channel")
    # Markov gives retargeting dozens of conversions against a true 0, and demo
    # far fewer than its true effect: both disagree.
    assert report.loc["retargeting", "attributed"] > 30
    assert report.loc["demo", "attributed"] < 0.9 * truth["conversions"]["demo"]
    assert report["disagrees"].all()
    cal = r.attribution.set_index("channel")
    for c in tested:
        assert cal.loc[c, "conversions"] == pytest.approx(truth["conversions"][c], rel=1e-12)
    assert cal["conversions"].sum() == pytest.approx(markov["conversions"].sum(), rel=1e-12)
    true_share = truth["share"]
    before = (markov.set_index("channel")["share"] - true_share).abs().sum()
    after = (cal["share"] - true_share).abs().sum()
    assert after < 0.6 * before
    # The untested channels keep their proportions.
    untested = [c for c in truth.index if c not in tested]
    m = markov.set_index("channel")["conversions"]
    ratios = cal.loc[untested, "conversions"] / m[untested]
    assert np.allclose(ratios, ratios.iloc[0], rtol=1e-12)
