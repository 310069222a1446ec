"""Simulation from fitted models: refitting the simulated journeys gives the
model back within 4 standard errors, the same seed gives the same journeys on
one thread and on two, runaway walks are counted, values follow the value
model and simulated times follow the exact expected time to conversion."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

# The hand-worked chain of tests/cpp/test_simulate.cpp (order 1):
# START -> a 2/3, START -> b 1/3; a -> b 1/2, a -> c 1/2; b -> CONVERSION 1/4,
# b -> NULL 3/4; c -> CONVERSION 1. Conversion rate 1/2; a conversion from b
# is worth 6, from c 10.
HAND = dict(path=["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0], value=[6, 0, 20])
ORDER2 = dict(
    path=["a > b > c", "b > a > b", "a > b > a", "c", "c > a > b > c"],
    conversions=[1, 0, 1, 1, 2],
    nulls=[1, 1, 0, 1, 1],
    value=[4.0, 0, 2, 1, 10],
)


def journeys(table: dict[str, list[object]]) -> jl.Journeys:
    return jl.Journeys.from_paths(
        table["path"], conversions=table["conversions"], nulls=table["nulls"], value=table["value"]
    )


def assert_refits(model: jl.MarkovModel, sim: jl.Journeys) -> None:
    """Every transition probability and the conversion rate within 4 standard errors."""
    refit = jl.MarkovModel(order=model.order).fit(sim)
    exact = model.transition_matrix()
    again = refit.transition_matrix()
    out_of = again.groupby("from")["count"].sum()
    merged = exact.merge(again, on=["from", "to"], how="left", suffixes=("", "_sim"))
    assert len(merged) > 4
    for row in merged.itertuples():
        n = out_of[row._1]  # "from"
        q = row.probability
        got = 0.0 if math.isnan(row.probability_sim) else row.probability_sim
        assert abs(got - q) <= 4 * math.sqrt(q * (1 - q) / n) + 1e-12, (row._1, row.to)
    p = model.conversion_rate_
    n = len(sim.to_frame())
    assert abs(refit.conversion_rate_ - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_hand_chain_refits_and_values() -> None:
    model = jl.MarkovModel().fit(journeys(HAND))
    assert model.conversion_rate_ == pytest.approx(0.5, abs=1e-15)
    sim = model.simulate(200_000, seed=7)
    assert isinstance(sim, jl.Journeys)
    assert not sim.has_times
    assert sim.channels == ["a", "b", "c"]
    assert_refits(model, sim)
    frame = sim.to_frame()
    assert len(frame) == 200_000
    assert ((frame["conversions"] + frame["nulls"]) == 1).all()
    last = frame["path"].str.split(" > ").str[-1]
    converted = frame["conversions"] == 1
    expected = np.where(last == "b", 6.0, 10.0)
    assert (frame["value"][converted] == expected[converted]).all()
    assert (frame["value"][~converted] == 0).all()


def test_order2_refits() -> None:
    model = jl.MarkovModel(order=2).fit(journeys(ORDER2))
    sim = model.simulate(300_000, seed=11)
    assert_refits(model, sim)
    # Channel sequences, not pairs: the refitted order-2 model has the same states.
    assert sorted(jl.MarkovModel(order=2).fit(sim).states()["state"]) == sorted(
        model.states()["state"]
    )


def test_same_seed_same_journeys_on_one_and_two_threads() -> None:
    model = jl.MarkovModel(order=2).fit(journeys(ORDER2))
    one = model.simulate(100_000, seed=99, threads=1)
    two = model.simulate(100_000, seed=99, threads=2)
    assert one.to_bytes() == two.to_bytes()
    assert model.simulate(1000, seed=100).to_bytes() != model.simulate(1000, seed=99).to_bytes()


def test_truncated_walks_are_counted_and_announced() -> None:
    j = jl.Journeys.from_paths([" > ".join(["a"] * 10)], conversions=[0], nulls=[1])
    model = jl.MarkovModel(collapse_repeats=False).fit(j)  # a -> a 9/10, a -> NULL 1/10
    n = 100_000
    with pytest.warns(jl.DataWarning, match=r"simulated journeys reached max_touches=5") as w:
        sim = model.simulate(n, seed=3, max_touches=5)
    frame = sim.to_frame()
    lengths = frame["path"].str.count(">") + 1
    at_max = int((lengths == 5).sum())
    assert f"{at_max:,} simulated journeys" in str(w[0].message)
    assert (lengths <= 5).all()
    assert (frame["nulls"][lengths == 5] == 1).all()
    q = 0.9**4
    assert abs(at_max / n - q) <= 4 * math.sqrt(q * (1 - q) / n)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -1}, "n must be an integer"),
        ({"n": 10, "seed": -1}, "seed must be an integer"),
        ({"n": 10, "seed": "x"}, "seed must be an integer"),
        ({"n": 10, "max_touches": 0}, "max_touches must be an integer"),
        ({"n": 10, "threads": 0}, "threads must be an integer"),
        ({"n": 2.5}, "n must be an integer"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    model = jl.MarkovModel().fit(journeys(HAND))
    with pytest.raises(jl.InvalidInputError, match=match):
        model.simulate(**kwargs)  # type: ignore[arg-type]


def test_not_fitted() -> None:
    with pytest.raises(jl.NotFittedError):
        jl.MarkovModel().simulate(10)


# Customers (time, channel; "" = the conversion):
#   1: a@0 b@2 conversion@5   2: a@0 b@1   3: b@0 conversion@4
#   4: a@0 c@3 conversion@4   5: b@0
EVENTS = pd.DataFrame(
    {
        "customer": [1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5],
        "time": [0.0, 2, 5, 0, 1, 0, 4, 0, 3, 4, 0],
        "channel": ["a", "b", None, "a", "b", "b", None, "a", "c", None, "b"],
        "conversion": [0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
    }
)


def timed() -> jl.Journeys:
    return jl.Journeys.from_events(
        EVENTS, customer="customer", time="time", channel="channel", conversion="conversion"
    )


def test_holding_times_exact_expected_time() -> None:
    from journeyloop import _core

    j = timed()
    model = jl.MarkovModel().fit(j)
    # With every transition's own mean (min_weight 1): a > b > CONVERSION (1/5, time
    # 1.5 + 3.5), a > c > CONVERSION (1/5, 3 + 1), b > CONVERSION (1/5, 3.5):
    # E[T | CONVERSION] = 2.5 / (3/5) = 25/6.
    h = _core.fit_holding_times(j._set, model._fitted, min_weight=1)
    assert _core.expected_time_to_conversion(model._fitted, h) == pytest.approx(25 / 6, abs=1e-12)
    # The model's own holding times (min_weight 10): every channel transition takes
    # the overall mean (1.5 * 2 + 3 + 3.5 * 2 + 1) / 6 = 7/3, START's row 0:
    # a > b > CONVERSION and a > c > CONVERSION take 14/3, b > CONVERSION 7/3.
    assert model.expected_time_to_conversion_ == pytest.approx(
        (14 / 3 + 14 / 3 + 7 / 3) / 3, abs=1e-12
    )


def test_simulated_times_follow_the_expected_time() -> None:
    # The same customers many times over: each transition has its own mean.
    copies = pd.concat(
        [EVENTS.assign(customer=EVENTS["customer"] + 10 * k) for k in range(20)],
        ignore_index=True,
    )
    j = jl.Journeys.from_events(
        copies, customer="customer", time="time", channel="channel", conversion="conversion"
    )
    model = jl.MarkovModel().fit(j)
    exact = model.expected_time_to_conversion_
    assert exact == pytest.approx(25 / 6, abs=1e-12)
    sim = model.simulate(200_000, seed=5)
    assert sim.has_times
    touches = sim.to_touches()
    first = touches[touches["position"] == 0].set_index("journey")["before_end"]
    converted = sim.to_frame()["conversions"].to_numpy() == 1
    t = first.sort_index().to_numpy()[converted]
    assert abs(t.mean() - exact) <= 4 * t.std() / math.sqrt(len(t))
    # A journey without conversion ends at its last touch.
    last = touches.groupby("journey")["before_end"].last().sort_index().to_numpy()
    assert (last[~converted] == 0).all()


def test_expected_time_needs_times() -> None:
    model = jl.MarkovModel().fit(journeys(HAND))
    with pytest.raises(jl.InvalidInputError, match="journeys with times"):
        _ = model.expected_time_to_conversion_


# The loop chain of tests/python/test_loop.py.
LOOP = dict(path=["a > purchase > b > purchase", "a > b", "b > purchase"], count=[1, 1, 2])


def test_loop_simulation_refits() -> None:
    h = jl.Histories.from_paths(LOOP["path"], count=LOOP["count"], value=[30.0, 0, 60])
    loop = jl.MarkovModel().fit(h)
    assert isinstance(loop, jl.LoopModel)
    n = 200_000
    sim = loop.simulate(n, seed=21)
    assert isinstance(sim, jl.Histories)
    assert sim.total_customers == n
    frame = sim.to_frame()
    k = frame["purchases"].to_numpy()
    assert abs(k.mean() - loop.expected_purchases_) <= 4 * k.std() / math.sqrt(n)
    h1 = loop.first_purchase_probability_
    assert abs((k > 0).mean() - h1) <= 4 * math.sqrt(h1 * (1 - h1) / n)
    refit = jl.MarkovModel().fit(sim)
    r = loop.repeat_probability_
    assert abs(refit.repeat_probability_ - r) <= 4 * math.sqrt(r * (1 - r) / k.sum())
    assert refit.expected_value_ == pytest.approx(loop.expected_value_, rel=0.05)
    # Same seed, one and two threads.
    assert (
        loop.simulate(50_000, seed=4, threads=1).to_bytes()
        == loop.simulate(50_000, seed=4, threads=2).to_bytes()
    )


def test_pickles_and_files_keep_the_holding_times(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = jl.MarkovModel().fit(timed())
    loop = jl.LoopModel().fit(timed_histories())
    for m in (model, loop):
        path = tmp_path / "model.jl"
        m.save(path)
        for again in (pickle.loads(pickle.dumps(m)), type(m).load(path), copy.deepcopy(m)):
            if isinstance(m, jl.LoopModel):
                assert again.expected_time_to_first_purchase_ == m.expected_time_to_first_purchase_
                assert again.expected_time_to_next_purchase_ == m.expected_time_to_next_purchase_
            else:
                assert again.expected_time_to_conversion_ == m.expected_time_to_conversion_
            # The same draws, times included.
            assert again.simulate(500, seed=3).to_bytes() == m.simulate(500, seed=3).to_bytes()
            assert again.simulate(10, seed=1).has_times
    # A model without times stays without.
    plain = jl.MarkovModel().fit(journeys(HAND))
    again = pickle.loads(pickle.dumps(plain))
    assert not again.simulate(10, seed=1).has_times
    with pytest.raises(jl.InvalidInputError, match="journeys with times"):
        _ = again.expected_time_to_conversion_


def test_expected_time_is_a_timedelta_for_datetimes() -> None:
    # The docstring's log: 3.75 time units as numbers; as datetimes, seconds
    # apart, the same figure as a Timedelta.
    numbers = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2],
            "time": [0.0, 2.0, 5.0, 0.0],
            "channel": ["a", "b", None, "b"],
            "conversion": [0, 0, 1, 0],
        }
    )
    dated = numbers.assign(
        time=pd.Timestamp("2026-01-01") + pd.to_timedelta(numbers["time"], unit="s")
    )
    for frame, expected in ((numbers, 3.75), (dated, pd.Timedelta(seconds=3.75))):
        j = jl.Journeys.from_events(
            frame, customer="customer", time="time", channel="channel", conversion="conversion"
        )
        got = jl.MarkovModel().fit(j).expected_time_to_conversion_
        assert type(got) is type(expected)
        assert got == expected


# A loop log: customer 1 buys twice (a@0 b@2 purchase@5 a@6 purchase@10), customer 2
# only touches (b@0). tests/cpp/test_simulate.cpp works the same log by hand.
LOOP_EVENTS = pd.DataFrame(
    {
        "customer": [1, 1, 1, 1, 1, 2],
        "time": [0.0, 2.0, 5.0, 6.0, 10.0, 0.0],
        "channel": ["a", "b", None, "a", None, "b"],
        "conversion": [0, 0, 1, 0, 1, 0],
    }
)


def timed_histories(events: pd.DataFrame = LOOP_EVENTS) -> jl.Histories:
    return jl.Histories.from_events(
        events, customer="customer", time="time", channel="channel", conversion="conversion"
    )


def test_loop_histories_from_events_carry_times() -> None:
    h = timed_histories()
    assert h.has_times
    touches = h.to_touches()
    assert touches["channel"].tolist() == ["a", "b", "purchase", "a", "purchase", "b"]
    assert touches["before_end"].tolist() == [10.0, 8.0, 5.0, 4.0, 0.0, 0.0]
    # Kept by the file format and by pickles.
    for again in (jl.Histories.from_bytes(h.to_bytes()), pickle.loads(pickle.dumps(h))):
        assert again.to_touches().equals(touches)
    # Histories from a path table have none.
    assert not jl.Histories.from_paths(["a > purchase"], count=[1]).has_times


def test_loop_expected_purchase_times_exact() -> None:
    from journeyloop import _core

    h = timed_histories()
    loop = jl.LoopModel().fit(h)
    # The defaults (min_weight 10): channel transitions take the overall mean 3, START's
    # rows their own mean (0 from the first touch, 1 from a purchase). First view:
    # a > b > P (1/8, 6), a > P (1/4, 3), b > P (1/4, 3): 2.25 / (5/8) = 3.6. Repeat
    # view: a > P (1/4, 1 + 3), a > b > P (1/8, 1 + 3 + 3): 1.875 / (3/8) = 5.
    assert loop.expected_time_to_first_purchase_ == pytest.approx(3.6, abs=1e-12)
    assert loop.expected_time_to_next_purchase_ == pytest.approx(5.0, abs=1e-12)
    # Every transition's own mean: 3.8 and 16/3 (worked in the C++ test).
    own = _core.fit_loop_holding_times(h._set, loop._fitted, min_weight=1)
    assert _core.expected_time_to_first_purchase(loop._fitted, own) == pytest.approx(3.8)
    assert _core.expected_time_to_next_purchase(loop._fitted, own) == pytest.approx(16 / 3)


def test_loop_simulated_times_follow_the_expected_times() -> None:
    # The log's customers many times over: every transition has its own mean.
    copies = pd.concat(
        [LOOP_EVENTS.assign(customer=LOOP_EVENTS["customer"] + 10 * k) for k in range(20)],
        ignore_index=True,
    )
    loop = jl.LoopModel().fit(timed_histories(copies))
    first, following = loop.expected_time_to_first_purchase_, loop.expected_time_to_next_purchase_
    assert (first, following) == (pytest.approx(3.8), pytest.approx(16 / 3))
    sim = loop.simulate(200_000, seed=8)
    assert sim.has_times
    t = sim.to_touches()
    start = t.groupby("journey")["before_end"].transform("first")
    bought = t[t["channel"] == "purchase"].copy()
    bought["previous"] = bought.groupby("journey")["before_end"].shift(1)
    first_ones = bought[bought["previous"].isna()]
    to_first = (start.loc[first_ones.index] - first_ones["before_end"]).to_numpy()
    to_next = (bought["previous"] - bought["before_end"]).dropna().to_numpy()
    for got, exact in ((to_first, first), (to_next, following)):
        assert abs(got.mean() - exact) <= 4 * got.std() / math.sqrt(len(got))
    # Each history ends at its last touch or purchase.
    assert (t.groupby("journey")["before_end"].last() == 0).all()
    # The same seed on one thread and on two.
    assert (
        loop.simulate(30_000, seed=2, threads=1).to_bytes()
        == loop.simulate(30_000, seed=2, threads=2).to_bytes()
    )


def test_loop_expected_times_need_times_and_are_timedeltas_for_datetimes() -> None:
    loop = jl.LoopModel().fit(jl.Histories.from_paths(LOOP["path"], count=LOOP["count"]))
    for name in ("first", "next"):
        with pytest.raises(jl.InvalidInputError, match="histories with times"):
            getattr(loop, f"expected_time_to_{name}_purchase_")
    dated = LOOP_EVENTS.assign(
        time=pd.Timestamp("2026-01-01") + pd.to_timedelta(LOOP_EVENTS["time"], unit="h")
    )
    loop = jl.LoopModel().fit(timed_histories(dated))
    assert loop.expected_time_to_first_purchase_ == pd.Timedelta(hours=3.6)
    assert loop.expected_time_to_next_purchase_ == pd.Timedelta(hours=5)


def test_progress_of_a_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    model = jl.MarkovModel().fit(journeys(HAND))
    calls: list[tuple[int, int]] = []
    # 100,000 walks: blocks of 16,384, the last one short.
    sim = model.simulate(100_000, seed=3, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(d, 7) for d in range(1, 8)]
    pd.testing.assert_frame_equal(sim.to_frame(), model.simulate(100_000, seed=3).to_frame())
    calls.clear()
    model.simulate(100_000, seed=3, threads=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(d, 7) for d in range(1, 8)]  # one call at a time, in order
    model.simulate(20_000, progress=True)
    assert capsys.readouterr().err.endswith("simulation: 2/2\n")
    model.simulate(0, progress=lambda d, t: calls.append((d, t)))
    assert len(calls) == 7  # no block: no call

    def stop(done: int, total: int) -> None:
        raise KeyError("stopped by the caller")

    with pytest.raises(KeyError, match="stopped by the caller"):
        model.simulate(100_000, threads=2, progress=stop)
    with pytest.raises(jl.InvalidInputError, match="progress must be"):
        model.simulate(10, progress="yes")  # type: ignore[arg-type]

    loop = jl.MarkovModel().fit(jl.Histories.from_paths(LOOP["path"], count=LOOP["count"]))
    calls.clear()
    loop.simulate(40_000, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    loop.simulate(10, progress=True)
    assert capsys.readouterr().err.endswith("simulation: 1/1\n")


def test_the_first_journeys_do_not_depend_on_n() -> None:
    # Walk i draws from its own stream: the first k journeys of n walks are the k
    # journeys of k walks. A chain of long walks (a -> a 9/10) also passes the
    # room the journeys' touches are first given, which then grows.
    loopy = jl.MarkovModel(collapse_repeats=False).fit(
        jl.Journeys.from_paths(
            ["a > a > a > a > a > a > a > a > a > a", "b"], conversions=[0, 1], nulls=[1, 0]
        )
    )
    many = loopy.simulate(5_000, seed=9, threads=2).to_frame()
    assert many["path"].str.count(">").max() > 40
    for k in (1, 2, 3, 7, 20, 33):
        few = loopy.simulate(k, seed=9, threads=2).to_frame()
        pd.testing.assert_frame_equal(few, many.iloc[:k])
