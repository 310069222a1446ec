from __future__ import annotations

import inspect

import pandas as pd
import pytest

import journeyloop as jl

from .conftest import random_paths, random_table


def test_ab_example_published_values(ab_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel(order=1).fit(ab_journeys)
    assert model.conversion_rate_ == pytest.approx(1.0, abs=1e-12)
    re = model.removal_effects()
    assert re["channel"].tolist() == ["A", "B"]
    assert re["removal_effect"].tolist() == pytest.approx([1.0, 0.5], abs=1e-12)
    a = model.attribution()
    assert a["conversions"].tolist() == pytest.approx([2.0, 1.0], abs=1e-12)


def test_ab_example_transition_matrix(ab_journeys: jl.Journeys) -> None:
    kept = jl.MarkovModel(collapse_repeats=False).fit(ab_journeys).transition_matrix()
    rows = {(f, t): (c, p) for f, t, c, p in kept.itertuples(index=False)}
    assert rows == {
        ("START", "A"): (3, 1.0),
        ("A", "CONVERSION"): (3, pytest.approx(3 / 8, rel=1e-12, abs=1e-12)),
        ("A", "A"): (2, pytest.approx(2 / 8, rel=1e-12, abs=1e-12)),
        ("A", "B"): (3, pytest.approx(3 / 8, rel=1e-12, abs=1e-12)),
        ("B", "A"): (3, pytest.approx(3 / 5, rel=1e-12, abs=1e-12)),
        ("B", "B"): (2, pytest.approx(2 / 5, rel=1e-12, abs=1e-12)),
    }
    collapsed = jl.MarkovModel().fit(ab_journeys).transition_matrix()
    rows = {(f, t): p for f, t, _, p in collapsed.itertuples(index=False)}
    assert rows == {
        ("START", "A"): 1.0,
        ("A", "CONVERSION"): 0.5,
        ("A", "B"): 0.5,
        ("B", "A"): 1.0,
    }


def test_hand_worked_abc(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    assert model.conversion_rate_ == pytest.approx(0.5, abs=1e-12)
    assert model.value_per_journey_ == pytest.approx(20 / 3, abs=1e-12)
    re = model.removal_effects()
    assert re["removal_effect"].tolist() == pytest.approx([5 / 6, 1 / 3, 2 / 3], abs=1e-12)
    assert re["value_removal_effect"].tolist() == pytest.approx([7 / 8, 1 / 4, 3 / 4], abs=1e-12)
    a = model.attribution()
    assert a["conversions"].tolist() == pytest.approx([15 / 11, 6 / 11, 12 / 11], abs=1e-12)
    assert a["value"].tolist() == pytest.approx([56 / 3, 16 / 3, 16.0], abs=1e-12)
    assert a["share"].sum() == pytest.approx(1.0, rel=1e-12, abs=1e-12)


def test_team_attribution(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    teams = pd.DataFrame({"channel": ["a", "b", "c"], "team": ["marketing", "sales", "sales"]})
    out = model.attribution(by="team", teams=teams)
    assert out["team"].tolist() == ["marketing", "sales"]
    assert out["conversions"].sum() == pytest.approx(3.0, rel=1e-12, abs=1e-12)
    assert out["value"].sum() == pytest.approx(40.0, rel=1e-12, abs=1e-12)
    # By hand: p = 1/2 and expected value 20/3 (b's journeys convert for 10 each, c's for 15).
    # Without marketing (a) p = 1/3 * 1/4 = 1/12 (RE 5/6) and the value 5/6 (RE 7/8); without
    # sales (b, c) nothing converts (RE 1, 1). Conversions 3 * (5/6, 1) / (11/6), value
    # 40 * (7/8, 1) / (15/8).
    re = model.removal_effects(by="team", teams=teams)
    assert re["removal_effect"].tolist() == pytest.approx([5 / 6, 1.0], rel=1e-15)
    assert re["value_removal_effect"].tolist() == pytest.approx([7 / 8, 1.0], rel=1e-15)
    assert out["conversions"].tolist() == pytest.approx([15 / 11, 18 / 11], rel=1e-14)
    assert out["value"].tolist() == pytest.approx([56 / 3, 64 / 3], rel=1e-14)
    assert out["share"].tolist() == pytest.approx([5 / 11, 6 / 11], rel=1e-14)
    with pytest.raises(jl.InvalidInputError, match="needs teams"):
        model.attribution(by="team")
    with pytest.raises(jl.InvalidInputError, match="by must be"):
        model.attribution(by="stage")  # type: ignore[arg-type]


def test_a_team_is_removed_whole_not_summed() -> None:
    # p = 3/4; RE(a) = 1/3, RE(b) = 2/3, RE({a, b}) = 2/3 (not 1), RE(c) = 1/3.
    j = jl.Journeys.from_paths(
        ["a > b", "a", "b", "c"], conversions=[1, 0, 1, 1], nulls=[0, 1, 0, 0]
    )
    model = jl.MarkovModel().fit(j)
    teams = {"a": "marketing", "b": "marketing", "c": "sales"}
    re = model.removal_effects(by="team", teams=teams)
    assert re["team"].tolist() == ["marketing", "sales"]
    assert re["removal_effect"].tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-15)
    out = model.attribution(by="team", teams=teams)
    # Summed channel effects would give 2.25 and 0.75.
    assert out["conversions"].tolist() == pytest.approx([2.0, 1.0], abs=1e-14)
    # A team with no channel in the data removes nothing: exact zeros from the core,
    # and no step of the progress.
    teams["x"] = "service"
    calls: list[tuple[int, int]] = []
    re = model.removal_effects(by="team", teams=teams, progress=lambda d, t: calls.append((d, t)))
    assert re["team"].tolist() == ["marketing", "sales", "service"]
    assert re["removal_effect"].tolist()[2] == 0.0
    assert re["value_removal_effect"].tolist()[2] == 0.0
    assert calls[-1] == (2, 2)
    groups = model.removal_effects(by="group", groups={"none": [], "c": ["c"]})
    assert groups["removal_effect"].tolist() == pytest.approx([0.0, 1 / 3], abs=1e-15)


def test_not_fitted_and_bad_order() -> None:
    with pytest.raises(jl.NotFittedError, match="not fitted"):
        jl.MarkovModel().removal_effects()
    for order in (0, 10_001, 2**70):
        with pytest.raises(
            jl.InvalidInputError, match=r"order must be an integer in \[1, 10,000\]"
        ):
            jl.MarkovModel(order=order)
    assert repr(jl.MarkovModel(order=2)) == "MarkovModel(order=2)"


def test_state_space_guard(abc_journeys: jl.Journeys) -> None:
    # Order 2: 3 windows (one per path) + START, CONVERSION, NULL = 6.
    with pytest.raises(jl.StateSpaceTooLargeError, match="about 6 states") as info:
        jl.MarkovModel(order=2, max_states=4).fit(abc_journeys)
    assert (info.value.estimate, info.value.cap) == (6, 4)
    assert "above the cap of 4" in str(info.value)
    assert isinstance(info.value, MemoryError)
    # At the cap itself it fits.
    assert jl.MarkovModel(order=2, max_states=6).fit(abc_journeys).n_states_ == 6


def test_no_outcomes_is_an_error() -> None:
    j = jl.Journeys.from_paths(["a"], conversions=[0], nulls=[0])
    with pytest.raises(jl.InvalidInputError, match="no journey has a conversion or a null"):
        jl.MarkovModel().fit(j)


def test_no_conversions_gives_zero_not_nan() -> None:
    j = jl.Journeys.from_paths(["a > b", "b"], conversions=[0, 0], nulls=[3, 1])
    model = jl.MarkovModel().fit(j)
    assert model.conversion_rate_ == 0
    assert model.removal_effects()["removal_effect"].tolist() == [0, 0]
    assert model.attribution()["share"].tolist() == [0, 0]


def test_shapley_against_an_independent_permutation_formula(data_csv: pd.DataFrame) -> None:
    """Exact Shapley over teams of Data.csv's channels: the library's subset
    sum against the mean marginal contribution over every ordering, computed
    with the independent dense solver."""
    from .exact_reference import exact_shapley, split

    j = jl.Journeys.from_paths(
        data_csv, path="path", conversions="total_conversions", nulls="total_null",
        value="total_conversion_value",
    )  # fmt: skip
    channels = j.channels
    teams = {c: ["t1", "t2", "t3", "t4"][i % 4] for i, c in enumerate(channels)}
    model = jl.MarkovModel().fit(j)
    ours = model.shapley(by="team", teams=teams).set_index("team")["conversions"]
    players = {t: {c for c in channels if teams[c] == t} for t in ["t1", "t2", "t3", "t4"]}
    phi = exact_shapley(
        [split(p) for p in data_csv["path"]],
        list(data_csv["total_conversions"].astype(float)),
        list(data_csv["total_null"].astype(float)),
        players,
    )
    total = sum(phi.values())
    for t, x in phi.items():
        assert ours[t] == pytest.approx(x / total * j.total_conversions, rel=1e-9)
    assert ours.sum() == pytest.approx(j.total_conversions, rel=1e-12)
    # Efficiency: the Shapley values add up to v(all) - v(none) = the rate.
    assert total == pytest.approx(model.conversion_rate_, rel=1e-9)
    by_channel = jl.attribute(j, ["shapley"])
    assert by_channel["conversions"].sum() == pytest.approx(j.total_conversions, rel=1e-12)


def test_fit_from_journeys_moves_counts_and_leaves_a_valid_empty_set(
    abc_journeys: jl.Journeys,
) -> None:
    from journeyloop import _core

    counts = _core.count_transitions(abc_journeys._set, _core.counting_options(order=1))
    expected = _core.fit_markov(counts).conversion_rate
    model = _core.fit_markov_taking(counts)
    assert model.conversion_rate == expected == pytest.approx(0.5, rel=1e-12, abs=1e-12)
    assert counts.num_states == 3  # START, CONVERSION, NULL and nothing else
    assert counts.num_transitions == 0
    with pytest.raises(jl.InvalidInputError, match="no journey has a conversion or a null"):
        _core.fit_markov_taking(counts)
    # MarkovModel.fit takes this route; the counts it reports are the model's own.
    m = jl.MarkovModel().fit(abc_journeys)
    assert m.conversion_rate_ == pytest.approx(0.5, rel=1e-12, abs=1e-12)
    assert len(m.counts_.to_frame()) > 0


def test_group_removal_effects_solved_together_equal_one_at_a_time() -> None:
    from journeyloop import _core

    _, paths, conv, nulls, value = random_table(7, channels=10, rows=3000, longest=6)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    model = jl.MarkovModel(order=3).fit(j)
    assert model.n_states_ > 600  # the batched solver's size
    groups = {
        "g1": ["c0", "c1"],
        "g2": ["c2"],
        "g3": ["c1", "c3", "c9"],
        "g4": [f"c{i}" for i in range(4, 9)],
    }
    got = model.removal_effects("group", groups=groups).set_index("group")
    index = {c: i for i, c in enumerate(model.channels_)}
    for name, members in groups.items():
        one = _core.group_removal_effect(model._fitted, [index[c] for c in members])
        assert got.loc[name, "removal_effect"] == pytest.approx(one[0], rel=1e-10, abs=1e-13)
        assert got.loc[name, "value_removal_effect"] == pytest.approx(one[1], rel=1e-10, abs=1e-13)


def test_progress_of_removal_effects_and_attribution(capsys: pytest.CaptureFixture[str]) -> None:
    rng, paths = random_paths(3, channels=20, rows=5000, longest=5)
    names = [f"c{i}" for i in range(20)]
    conv = rng.integers(0, 2, size=len(paths)).astype(float)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=1.0 - conv)
    model = jl.MarkovModel(order=2).fit(j)
    calls: list[tuple[int, int]] = []
    re = model.removal_effects(progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]  # 20 channels: batches of 8, 8 and 4
    pd.testing.assert_frame_equal(re, model.removal_effects())
    calls.clear()
    groups = {"a": names[:5], "b": names[5:]}
    model.attribution(by="group", groups=groups, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]
    model.attribution(progress=True)
    assert capsys.readouterr().err.endswith("removal effects: 3/3\n")

    def stop(done: int, total: int) -> None:
        raise KeyError("stopped by the caller")

    with pytest.raises(KeyError, match="stopped by the caller"):
        model.attribution(progress=stop)
    with pytest.raises(jl.InvalidInputError, match="progress must be"):
        model.removal_effects(progress="yes")  # type: ignore[arg-type]

    # jl.attribute passes it on to the markov method, by channel and by team.
    calls.clear()
    out = jl.attribute(j, ["linear", "markov"], order=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    markov = out[out["method"] == "markov"].drop(columns="method").reset_index(drop=True)
    pd.testing.assert_frame_equal(markov, model.attribution())
    calls.clear()
    teams = {c: ("marketing" if i < 12 else "sales") for i, c in enumerate(names)}
    jl.attribute(
        j, ["markov"], by="team", teams=teams, order=2, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(1, 1)]  # two teams: one batch
    with pytest.raises(jl.InvalidInputError, match="progress must be"):
        jl.attribute(j, ["linear"], progress="yes")  # type: ignore[arg-type]


def test_markov_options_object_and_constants_from_the_core(abc_journeys: jl.Journeys) -> None:
    from journeyloop import _core

    options = _core.markov_options(smoothing=0.5)
    assert options.smoothing == 0.5
    assert repr(options) == "markov_options(smoothing=0.5)"
    assert _core.markov_options().smoothing == 0.0
    with pytest.raises(TypeError):
        _core.markov_options(0.5)  # type: ignore[misc]  # keywords only
    counts = _core.count_transitions(abc_journeys._set, _core.counting_options(order=1))
    smoothed = _core.fit_markov(counts, options)
    assert smoothed.options.smoothing == 0.5
    assert (
        smoothed.conversion_rate == jl.MarkovModel(smoothing=0.5).fit(abc_journeys).conversion_rate_
    )
    # The limits Python reports are the core's own.
    assert _core.max_shapley_players == 16
    assert _core.top_paths_max_expanded == 2_000_000
    assert _core.top_paths_max_length == 64
    assert inspect.signature(jl.MarkovModel.top_paths).parameters["max_length"].default == 64
    # Team grouping: groups in order of first appearance, then the extra groups.
    names, members = _core.group_members(["x", "y", "x"], ["z", "y"])
    assert (names, members) == (["x", "y", "z"], [[0, 2], [1], []])


def test_progress_of_a_fit(capsys: pytest.CaptureFixture[str]) -> None:
    rng, paths = random_paths(5, channels=8, rows=20000, longest=6)
    conv = rng.integers(0, 2, size=len(paths)).astype(float)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=1.0 - conv)
    calls: list[tuple[int, int]] = []
    model = jl.MarkovModel(order=3).fit(j, progress=lambda d, t: calls.append((d, t)))
    reference = jl.MarkovModel(order=3).fit(j)
    assert model.conversion_rate_ == reference.conversion_rate_
    # The rows counted (every 4,096 rows, and at the end), then the states solved.
    rows = [c for c in calls if c[1] == len(j)]
    states = calls[len(rows) :]
    assert rows == [(4096, 20000), (8192, 20000), (12288, 20000), (16384, 20000), (20000, 20000)]
    transient = len(model.states()) - 2
    assert states and states[-1] == (transient, transient)
    assert all(t == transient for _, t in states)
    assert [d for d, _ in states] == sorted({d for d, _ in states})
    # progress=True: a line per stage on stderr without tqdm (the suite runs without it).
    jl.MarkovModel(order=3).fit(j, progress=True)
    err = capsys.readouterr().err
    assert "counting transitions: 20000/20000\n" in err
    assert f"solving the chain: {transient}/{transient}\n" in err
    with pytest.raises(jl.InvalidInputError, match="progress must be"):
        jl.MarkovModel().fit(j, progress="yes")  # type: ignore[arg-type]


def test_refit_on_the_fitted_structure_equals_a_fit() -> None:
    import copy

    from journeyloop import _core

    rng, paths, conv, nulls, value = random_table(5, channels=12, rows=4000, longest=7)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    fitted = jl.MarkovModel(order=3).fit(j)
    before = fitted.removal_effects()
    # A Poisson bootstrap of the rows: some states left out, new weights.
    w = rng.poisson(1.0, size=len(paths)).astype(float)
    jw = jl.Journeys.from_paths(paths, conversions=conv * w, nulls=nulls * w, value=value * w)
    fresh = jl.MarkovModel(order=3).fit(jw)
    assert fresh.n_states_ < fitted.n_states_
    refitted = copy.copy(fitted).refit(jw)
    assert refitted is not fitted
    assert refitted.n_states_ == fresh.n_states_
    assert refitted.conversion_rate_ == pytest.approx(fresh.conversion_rate_, rel=1e-12)
    assert refitted.value_per_journey_ == pytest.approx(fresh.value_per_journey_, rel=1e-12)
    got, want = refitted.removal_effects(), fresh.removal_effects()
    assert got["channel"].tolist() == want["channel"].tolist()
    for column in ["removal_effect", "value_removal_effect"]:
        assert got[column].to_numpy() == pytest.approx(want[column].to_numpy(), rel=1e-9, abs=1e-13)
    # The model it was copied from is unchanged.
    pd.testing.assert_frame_equal(fitted.removal_effects(), before)
    # Larger than the dense limit: the refit goes through Gauss-Seidel.
    assert max(len(c) for c in _core.journey_loops(fitted._fitted)) > 128
    # Counts refit too; new transitions or another order fall back to a fit.
    counts = jl.TransitionCounts.from_journeys(jw, 3)
    assert copy.copy(fitted).refit(counts).conversion_rate_ == pytest.approx(
        fresh.conversion_rate_, rel=1e-12
    )
    extra = jl.Journeys.from_paths(
        [*paths, "c0 > c11 > c0 > c11 > c5 > c7 > c2"],
        conversions=[*conv, 1.0],
        nulls=[*nulls, 1.0],
        value=[*value, 10.0],
    )
    assert copy.copy(fitted).refit(extra).conversion_rate_ == pytest.approx(
        jl.MarkovModel(order=3).fit(extra).conversion_rate_, rel=1e-12
    )


def test_refit_needs_a_fitted_model_and_funnel_data(abc_journeys: jl.Journeys) -> None:
    with pytest.raises(jl.NotFittedError):
        jl.MarkovModel(order=1).refit(abc_journeys)
    model = jl.MarkovModel(order=1).fit(abc_journeys)
    histories = jl.Histories.from_events(
        pd.DataFrame(
            {
                "customer": ["u", "u"],
                "time": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                "channel": ["a", "b"],
                "conversion": [0, 1],
            }
        ),
        customer="customer",
        time="time",
        channel="channel",
        conversion="conversion",
    )
    with pytest.raises(jl.InvalidInputError, match="refit takes funnel journeys"):
        model.refit(histories)
