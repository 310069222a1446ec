"""Scoring journeys in flight: model.score and model.next_touch, worked by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

# Four rows worked by hand (tests/cpp/test_score.cpp has the same):
#   a > b       1 conversion, value 10
#   a > c       1 null
#   b           1 conversion (value 20), 3 nulls
#   c > a > b   1 null
# Order 1: x(a) = 4/15, x(b) = 1/3, x(c) = 2/15, x(START) = 2/7; every
# conversion leaves b, whose mean value is 15.
# Order 2: x(a,b) = 1/2, x(a,c) = 0, x(b) = 1/4, x(c,a) = 1/2; START -> (a,b),
# (a,c), (c,a) 1/7 each, (b) 4/7; visits (a,b) 2/7, (b) 4/7, (a,c) 1/7, (c,a)
# 1/7; mean values (a,b) 10, (b) 20.
PATHS = ["a > b", "a > c", "b", "c > a > b"]
CONV = [1, 0, 1, 0]
NULLS = [0, 1, 3, 1]
VALUE = [10, 0, 20, 0]
EXACT = 1e-14


def model(order: int = 1, **kwargs: object) -> jl.MarkovModel:
    j = jl.Journeys.from_paths(PATHS, conversions=CONV, nulls=NULLS, value=VALUE)
    fitted = jl.MarkovModel(order=order, **kwargs).fit(j)  # type: ignore[arg-type]
    assert isinstance(fitted, jl.MarkovModel)
    return fitted


def loop_model() -> jl.LoopModel:
    # a > P > b > P (1 customer), a > b (1), b > P (2): x(b) = 3/4, x(a) = 7/8,
    # h = 13/16, r = 3/16.
    h = jl.Histories.from_paths(
        ["a > purchase > b > purchase", "a > b", "b > purchase"], count=[1, 1, 2], value=[30, 0, 60]
    )
    fitted = jl.MarkovModel().fit(h)
    assert isinstance(fitted, jl.LoopModel)
    return fitted


def test_order1_by_hand() -> None:
    m = model()
    s = m.score(["a", "c > a", "b", "c"])
    assert s.columns.tolist() == [
        "path",
        "state",
        "status",
        "matched",
        "probability",
        "expected_value",
    ]
    expected = [4 / 15, 4 / 15, 1 / 3, 2 / 15]
    assert np.allclose(s["probability"], expected, rtol=0, atol=EXACT)
    assert np.allclose(s["expected_value"], [15 * p for p in expected], rtol=0, atol=1e-12)
    assert s["state"].astype(str).tolist() == ["a", "a", "b", "c"]
    assert (s["status"] == "exact").all()
    assert s["path"].tolist() == ["a", "c > a", "b", "c"]
    assert s.attrs["backoff"] == {"exact": 4, "backed_off": 0, "unknown": 0}


def test_scores_agree_with_the_states_of_the_model() -> None:
    m = model(order=2)
    states = m.states().set_index("state")["conversion_probability"]
    # A journey equal to a fitted path (or a prefix of one at least k long)
    # gets its last state's probability.
    s = m.score(["c > a > b", "c > a", "a > c"])
    assert s["probability"].tolist() == [
        states["a > b"],
        states["c > a"],
        states["a > c"],
    ]


def test_order2_prefixes_and_backoff_counted() -> None:
    m = model(order=2)
    open_ = ["c > a > b", "a", "b", "c > b", "b > a", "b > c", "d > a > b", "a > d"]
    with pytest.warns(jl.DataWarning, match=r"3 in a state never seen.*1 ending with a channel"):
        s = m.score(open_)
    assert np.allclose(
        s["probability"], [0.5, 0.25, 0.25, 1 / 3, 0.5, 0.0, 0.5, 2 / 7], rtol=0, atol=EXACT
    )
    assert np.allclose(s["expected_value"], [5, 2.5, 5, 5, 5, 0, 5, 30 / 7], rtol=0, atol=1e-12)
    assert s["status"].tolist() == [
        "exact",
        "exact",
        "exact",
        "backed off",
        "backed off",
        "backed off",
        "exact",
        "unknown",
    ]
    assert s["state"].astype(str).tolist() == [
        "a > b",
        "a > ...",
        "b > ...",
        "... > b",
        "... > a",
        "... > c",
        "a > b",
        "START",
    ]
    assert s["matched"].tolist() == [2, 1, 1, 1, 1, 1, 2, 0]
    assert s.attrs["backoff"] == {"exact": 4, "backed_off": 3, "unknown": 1}


def test_unknown_nan() -> None:
    with pytest.warns(jl.DataWarning, match="given NaN"):
        s = model().score(["a > d", "a"], unknown="nan")
    assert math.isnan(s["probability"].iloc[0])
    assert math.isnan(s["expected_value"].iloc[0])
    assert s["probability"].iloc[1] == pytest.approx(4 / 15, abs=EXACT)


def test_inputs_and_alignment() -> None:
    m = model()
    series = pd.Series(["b", "a"], index=[10, 20])
    s = m.score(series)
    assert s.index.tolist() == [10, 20]
    frame = pd.DataFrame({"journey": ["b", "a"]})
    assert m.score(frame, path="journey")["probability"].tolist() == s["probability"].tolist()
    j = jl.Journeys.from_paths(["b", "a"], conversions=[1, 0])  # outcomes ignored
    assert m.score(j)["probability"].tolist() == s["probability"].tolist()
    assert m.score([["b"], ["a"]])["probability"].tolist() == s["probability"].tolist()
    assert m.score(["b", "a"], threads=2)["probability"].tolist() == s["probability"].tolist()


def test_bad_input() -> None:
    m = model()
    with pytest.raises(jl.InvalidInputError, match="no open journeys"):
        m.score([])
    with pytest.raises(jl.InvalidInputError, match="row 1"):
        m.score(["a", ""])
    with pytest.raises(jl.InvalidInputError, match=r"write \['a > b'\]"):
        m.score("a > b")
    with pytest.raises(jl.InvalidInputError, match="unknown must be"):
        m.score(["a"], unknown="zero")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="no column 'path'"):
        m.score(pd.DataFrame({"p": ["a"]}))
    with pytest.raises(jl.InvalidInputError, match="LoopModel"):
        m.score(jl.Histories.from_paths(["a > purchase"]))
    with pytest.raises(jl.NotFittedError):
        jl.MarkovModel().score(["a"])
    with pytest.raises(jl.UnknownChannelError, match="'d'"):
        m.next_touch(["a"], ["b", "d"])
    with pytest.raises(jl.InvalidInputError, match="no candidate"):
        m.next_touch(["a"], [])
    with pytest.raises(jl.InvalidInputError, match="has no channel"):
        m.next_touch(["a"], {"empty": []})


def test_next_touch_by_hand() -> None:
    m = model()
    t = m.next_touch(["c"])
    assert t["candidate"].tolist() == ["a", "b", "c"]
    assert np.allclose(t["current"], [2 / 15] * 3, rtol=0, atol=EXACT)
    assert np.allclose(t["gain"], [2 / 15, 1 / 5, 0], rtol=0, atol=EXACT)
    assert np.allclose(t["value_gain"], [2, 3, 0], rtol=0, atol=1e-12)
    best = m.next_touch(["c", "a"], best=True)
    assert best["candidate"].tolist() == ["b", "b"]
    assert best["journey"].tolist() == [0, 1]
    assert np.allclose(best["gain"], [1 / 5, 1 / 3 - 4 / 15], rtol=0, atol=EXACT)


def test_next_touch_order2_and_teams() -> None:
    m = model(order=2)
    t = m.next_touch(["c"], ["a", "b", "c"])
    assert np.allclose(t["gain"], [0, 1 / 3 - 1 / 2, -1 / 2], rtol=0, atol=EXACT)
    assert t["status"].tolist() == ["exact", "backed off", "backed off"]
    assert t.attrs["backoff_after"] == {"exact": 1, "backed_off": 2, "unknown": 0}
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    by_team = m.next_touch(["c"], by="team", teams=teams)
    assert by_team["candidate"].tolist() == ["marketing", "sales"]
    assert by_team["channel"].tolist() == ["a", "b"]
    assert np.allclose(by_team["probability"], [0.5, 1 / 3], rtol=0, atol=EXACT)
    groups = m.next_touch(["c"], {"late": ["c", "b"]})
    assert groups["channel"].tolist() == ["b"]


def test_loop_first_and_next_purchase_by_hand() -> None:
    m = loop_model()
    open_ = ["a", "b", "a > purchase", "a > purchase > b", "b > purchase > a", "purchase > a"]
    s = m.score(open_)
    p = [7 / 8, 3 / 4, 3 / 16, 3 / 4, 7 / 8, 7 / 8]
    assert np.allclose(s["probability"], p, rtol=0, atol=EXACT)
    assert s["next"].tolist() == ["first", "first", "repeat", "repeat", "repeat", "repeat"]
    assert np.allclose(s["expected_purchases"], [x * 16 / 13 for x in p], rtol=0, atol=EXACT)
    assert s["state"].astype(str).tolist()[2] == "PURCHASE"
    # START -> a 1/2, b 1/2: the model's figures are the mean of the first two.
    assert (s["expected_purchases"].iloc[0] + s["expected_purchases"].iloc[1]) / 2 == (
        pytest.approx(m.expected_purchases_, abs=1e-13)
    )
    assert (s["future_value"].iloc[0] + s["future_value"].iloc[1]) / 2 == pytest.approx(
        m.expected_value_, abs=1e-12
    )
    h = m.score(jl.Histories.from_paths(["a", "a > purchase > b"]))
    assert np.allclose(h["probability"], [7 / 8, 3 / 4], rtol=0, atol=EXACT)
    t = m.next_touch(["a > purchase"], ["b"])
    assert t["gain"].iloc[0] == pytest.approx(9 / 16, abs=EXACT)


def test_threads_give_the_same_scores() -> None:
    m = model(order=2)
    rng = np.random.default_rng(3)
    names = np.array(["a", "b", "c", "d"])
    paths = [" > ".join(names[rng.integers(0, 4, rng.integers(1, 6))]) for _ in range(3000)]
    with pytest.warns(jl.DataWarning):
        one = m.score(paths, threads=1)
    with pytest.warns(jl.DataWarning):
        two = m.score(paths, threads=2)
    pd.testing.assert_frame_equal(one, two)
    counts = one["status"].value_counts()
    assert one.attrs["backoff"] == {
        "exact": counts["exact"],
        "backed_off": counts["backed off"],
        "unknown": counts["unknown"],
    }


def _argmax_rows(full: pd.DataFrame, groups: int) -> pd.DataFrame:
    """The rows of the full next-touch table with each journey's highest
    probability (the first on ties), as best=True gives them."""
    probability = full["probability"].to_numpy().reshape(-1, groups)
    take = np.arange(len(probability)) * groups + np.argmax(probability, axis=1)
    return full.iloc[take].reset_index(drop=True)


def test_next_touch_best_is_the_argmax_of_the_table_by_hand() -> None:
    m = model()
    full = m.next_touch(["c", "a", "b > c"])
    best = m.next_touch(["c", "a", "b > c"], best=True)
    # From c, a or c (repeats collapsed), b leads to x(b) = 1/3, the highest.
    assert best["candidate"].tolist() == ["b", "b", "b"]
    assert np.allclose(best["probability"], [1 / 3] * 3, rtol=0, atol=EXACT)
    assert np.allclose(best["gain"], [1 / 5, 1 / 3 - 4 / 15, 1 / 5], rtol=0, atol=EXACT)
    pd.testing.assert_frame_equal(best, _argmax_rows(full, 3), check_exact=True)
    # The counts after the touch are those of the rows kept.
    assert best.attrs["backoff_after"] == {"exact": 3, "backed_off": 0, "unknown": 0}


def test_next_touch_best_is_the_argmax_of_the_table_at_random() -> None:
    rng = np.random.default_rng(24)
    names = np.array([f"c{i}" for i in range(8)])

    def paths(n: int) -> list[str]:
        return [" > ".join(names[rng.integers(0, 8, rng.integers(1, 6))]) for _ in range(n)]

    conv = rng.integers(0, 2, 2000).astype(float)
    fitted = jl.Journeys.from_paths(
        paths(2000), conversions=conv, nulls=1 - conv, value=conv * rng.uniform(1, 9, 2000)
    )
    teams = {str(c): ("odd" if i % 2 else "even") for i, c in enumerate(names)}
    open_paths = paths(500)
    for order in (1, 2, 3):
        m = jl.MarkovModel(order=order).fit(fitted)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jl.DataWarning)  # back-off at order 3
            full = m.next_touch(open_paths, threads=2)
            best = m.next_touch(open_paths, best=True, threads=1)
            assert len(full) == 500 * 8 and len(best) == 500
            pd.testing.assert_frame_equal(best, _argmax_rows(full, 8), check_exact=True)
            full = m.next_touch(open_paths, by="team", teams=teams)
            best = m.next_touch(open_paths, by="team", teams=teams, best=True)
            pd.testing.assert_frame_equal(best, _argmax_rows(full, 2), check_exact=True)


def test_next_touch_best_of_a_loop_model() -> None:
    m = loop_model()
    open_histories = ["a", "a > purchase", "b > purchase > a", "b"]
    full = m.next_touch(open_histories)
    best = m.next_touch(open_histories, best=True)
    pd.testing.assert_frame_equal(best, _argmax_rows(full, 2), check_exact=True)


def test_next_touch_table_is_refused_above_the_memory_limit() -> None:
    m = model()
    # 2 journeys x 3 candidates, 40 bytes an entry (a channel id, four
    # doubles and a status code).
    with jl.memory_limit(239), pytest.raises(jl.MemoryLimitError) as info:
        m.next_touch(["c", "a"])
    assert (info.value.estimate, info.value.cap) == (240, 239)
    assert str(info.value) == (
        "next_touch's table of 2 journeys x 3 candidates needs at least 240 bytes, above the "
        "memory limit of 239 bytes (raise it with set_memory_limit, keep only each journey's "
        "best candidate (best=True in Python, score_options::best_only in C++), or score the "
        "journeys in chunks)"
    )
    with jl.memory_limit(240):
        assert len(m.next_touch(["c", "a"])) == 6
    # best=True builds no table: the same limit lets it through.
    with jl.memory_limit(239):
        assert m.next_touch(["c", "a"], best=True)["candidate"].tolist() == ["b", "b"]
    with pytest.raises(jl.InvalidInputError, match="best must be True or False"):
        m.next_touch(["c"], best="yes")  # type: ignore[arg-type]
