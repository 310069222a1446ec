"""Mergeable counts, the file format, pickling."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import journeyloop as jl


def parts() -> list[jl.Journeys]:
    return [
        jl.Journeys.from_paths(["a > b"], conversions=[1], nulls=[1], value=[10.0]),
        jl.Journeys.from_paths(["b"], conversions=[0], nulls=[2]),
        jl.Journeys.from_paths(
            ["c > a", "a > c"], conversions=[0, 2], nulls=[1, 0], value=[0, 30.0]
        ),
    ]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_merge_is_the_counts_of_the_union(order: int) -> None:
    p = [jl.TransitionCounts.from_journeys(j, order) for j in parts()]
    whole = jl.Journeys.from_paths(
        ["a > b", "b", "c > a", "a > c"], conversions=[1, 0, 0, 2], nulls=[1, 2, 1, 0],
        value=[10.0, 0, 0, 30.0],
    )  # fmt: skip
    expected = jl.TransitionCounts.from_journeys(whole, order)
    assert p[0].merge(p[1], p[2]) == expected
    assert p[2].merge(p[0]).merge(p[1]) == expected  # commutative, associative
    assert p[0].merge(p[1]) != expected
    model = jl.MarkovModel(order=order).fit(p[1].merge(p[2], p[0]))
    assert model.conversion_rate_ == pytest.approx(3 / 7, abs=1e-15)


def test_merge_rejects_other_orders() -> None:
    j = parts()[0]
    with pytest.raises(jl.InvalidInputError, match="different order"):
        jl.TransitionCounts.from_journeys(j, 1).merge(jl.TransitionCounts.from_journeys(j, 2))


def test_counts_frame(abc_journeys: jl.Journeys) -> None:
    frame = jl.TransitionCounts.from_journeys(abc_journeys).to_frame()
    rows = {(f, t): c for f, t, c in frame.itertuples(index=False)}
    assert rows == {
        ("START", "a"): 4, ("START", "b"): 2, ("a", "b"): 2, ("a", "c"): 2,
        ("b", "CONVERSION"): 1, ("b", "NULL"): 3, ("c", "CONVERSION"): 2,
    }  # fmt: skip


COPIES: list[Callable[[Any], Any]] = [
    lambda x: pickle.loads(pickle.dumps(x)),
    copy.copy,
    copy.deepcopy,
    lambda x: type(x).from_bytes(x.to_bytes()),
]


@pytest.mark.parametrize("copy_fn", COPIES, ids=["pickle", "copy", "deepcopy", "bytes"])
def test_round_trips(abc_journeys: jl.Journeys, copy_fn: Callable[[Any], Any]) -> None:
    counts = jl.TransitionCounts.from_journeys(abc_journeys, 2, padded=True)
    assert copy_fn(counts) == counts
    model = jl.MarkovModel(order=2, padded=True, smoothing=0.5).fit(counts)
    again = copy_fn(model)
    assert again.conversion_rate_ == model.conversion_rate_
    assert again.smoothing == 0.5
    pd_equal = again.removal_effects().equals(model.removal_effects())
    assert pd_equal
    if copy_fn is COPIES[-1]:
        with pytest.raises(jl.NotFittedError):  # an unfitted model has no bytes
            jl.MarkovModel().to_bytes()
        return
    unfitted = copy_fn(jl.MarkovModel(order=3))
    assert unfitted.order == 3
    with pytest.raises(jl.NotFittedError):
        unfitted.removal_effects()


def test_files(tmp_path: Path, abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    model.save(tmp_path / "m.jl")
    assert jl.MarkovModel.load(tmp_path / "m.jl").conversion_rate_ == pytest.approx(
        0.5, rel=1e-12, abs=1e-12
    )
    model.counts_.save(tmp_path / "c.jl")
    assert jl.TransitionCounts.load(tmp_path / "c.jl") == model.counts_
    with pytest.raises(
        jl.InvalidInputError, match="holds a transition_counts, expected a markov_model"
    ):
        jl.MarkovModel.load(tmp_path / "c.jl")
    data = (tmp_path / "m.jl").read_bytes()
    (tmp_path / "bad.jl").write_bytes(data.replace(b'"order":1', b'"order":2'))
    with pytest.raises(jl.InvalidInputError, match="checksum mismatch"):
        jl.MarkovModel.load(tmp_path / "bad.jl")
    (tmp_path / "short.jl").write_bytes(data[:-3])
    with pytest.raises(jl.InvalidInputError, match="truncated"):
        jl.MarkovModel.load(tmp_path / "short.jl")
    with pytest.raises(jl.InvalidInputError, match="JSON syntax error"):
        jl.TransitionCounts.from_bytes(b"\x00\x01garbage\n")


def test_fit_from_counts_checks_options(abc_journeys: jl.Journeys) -> None:
    counts = jl.TransitionCounts.from_journeys(abc_journeys, 2)
    assert jl.MarkovModel(order=2).fit(counts).conversion_rate_ == pytest.approx(
        0.5, rel=1e-12, abs=1e-12
    )
    with pytest.raises(jl.InvalidInputError, match="the counts have order=2"):
        jl.MarkovModel(order=1).fit(counts)
    assert repr(counts) == "TransitionCounts(order=2, 6 states, 7 transitions, 3 channels)"


def test_counts_compare_with_other_types(abc_journeys: jl.Journeys) -> None:
    counts = jl.TransitionCounts.from_journeys(abc_journeys)
    assert counts != 5
    assert counts._counts != 5


def _signed(body: str, kind: str = "transition_counts") -> bytes:
    """A file of ``kind`` around ``body``, with its checksum (FNV-1a, 64 bits)."""
    h = 0xCBF29CE484222325
    for byte in body.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    header = (
        '{"format":"journeyloop","kind":"' + kind + '","version":1,'
        f'"body_bytes":{len(body.encode())},"checksum":"fnv1a64:{h:016x}"}}\n'
    )
    return (header + body).encode()


def test_edited_files_are_checked_for_consistent_sums(abc_journeys: jl.Journeys) -> None:
    data = jl.TransitionCounts.from_journeys(abc_journeys).to_bytes()
    body = data.decode().split("\n", 1)[1]
    assert jl.TransitionCounts.from_bytes(_signed(body)) == jl.TransitionCounts.from_journeys(
        abc_journeys
    )
    # Re-signed edits: the totals, a state's ends, a transition between states.
    with pytest.raises(jl.InvalidInputError, match="the total conversions are 4"):
        jl.TransitionCounts.from_bytes(_signed(body.replace('"totals":[3,', '"totals":[4,')))
    with pytest.raises(jl.InvalidInputError, match=r"state 'c': ends with 2\.5 conversions"):
        jl.TransitionCounts.from_bytes(_signed(body.replace("[5,2,30]", "[5,2.5,30]")))
    with pytest.raises(jl.InvalidInputError, match="state 'a': transitions in sum to 4, out to 5"):
        jl.TransitionCounts.from_bytes(_signed(body.replace("[3,4,2]", "[3,4,3]")))


def test_a_state_that_cannot_be_left_is_named() -> None:
    # b -> b only: the sums balance, the file loads, the fit names the state.
    body = (
        '{"order":1,"collapse_repeats":false,"padded":false,"channels":["a","b"],'
        '"states":[[0],[1]],"edges":[[0,3,1],[3,1,1],[4,4,1]],"ends":[[3,1,5]],'
        '"totals":[1,0,5]}'
    )
    counts = jl.TransitionCounts.from_bytes(_signed(body))
    assert counts.n_states == 5
    with pytest.raises(jl.NumericalError, match="state 'b' cannot reach CONVERSION or NULL"):
        jl.MarkovModel(collapse_repeats=False).fit(counts)


def test_overflow_names_the_state_and_files_hold_finite_numbers() -> None:
    # A column whose total overflows is refused at its row.
    with pytest.raises(
        jl.InvalidInputError,
        match=r"^row 1, column 'value': the column's total passes the largest number",
    ):
        jl.Journeys.from_paths(
            ["a > b", "b"], conversions=[1, 1], nulls=[0, 1], value=[1e308, 1e308]
        )
    # Each column's total is finite, but a row's weight (conversions and
    # nulls) is not: the fit names the state.
    j = jl.Journeys.from_paths(["a > b"], conversions=[1e308], nulls=[1e308])
    with pytest.raises(jl.InvalidInputError, match=r"state 'START'.*more than a double holds"):
        jl.MarkovModel().fit(j)
    counts = jl.TransitionCounts.from_journeys(j)
    with pytest.raises(jl.InvalidInputError, match="cannot write an infinite number"):
        counts.to_bytes()
    tiny = jl.Journeys.from_paths(
        ["a > b", "c"], conversions=[1e-300, 1], nulls=[1, 1], value=[1e10, 5]
    )
    with pytest.raises(jl.InvalidInputError, match="state 'b'"):
        jl.MarkovModel().fit(tiny)


def test_bytes_that_are_not_text_and_reserved_names() -> None:
    j = jl.Journeys.from_paths(["a > b", "b"], conversions=[1, 0], nulls=[0, 1])
    data = bytearray(jl.MarkovModel().fit(j).to_bytes())
    for at in (5, 32, len(data) - 4):
        bad = bytearray(data)
        bad[at] ^= 0x80
        with pytest.raises(jl.InvalidInputError, match=f"not UTF-8 text \\(byte {at}\\)"):
            jl.MarkovModel.from_bytes(bytes(bad))
    named = jl.Journeys.from_paths(["a > NULL", "START"], conversions=[1, 0], nulls=[0, 1])
    with pytest.raises(jl.InvalidInputError, match="row 0: channel 'NULL' has the name of a state"):
        jl.MarkovModel().fit(named)


@pytest.mark.parametrize("copy_fn", COPIES, ids=["pickle", "copy", "deepcopy", "bytes"])
def test_metadata_round_trips(
    tmp_path: Path, abc_journeys: jl.Journeys, copy_fn: Callable[[Any], Any]
) -> None:
    journeys = abc_journeys.with_channels(
        {
            "c": {"team": "sales", "stage": "buy"},
            "a": {"team": "marketing", "stage": "learn"},
            "b": {"team": "marketing", "stage": "learn"},
            "x": {"team": "partners", "stage": "learn"},  # not in the journeys
        }
    )
    model = jl.MarkovModel(max_states=5000).fit(journeys)
    for again in (copy_fn(model), _saved_and_loaded(tmp_path, model)):
        assert again.max_states == 5000
        assert again.teams_ == model.teams_
        assert list(again.teams_ or {}) == list(model.teams_ or {})  # and their order
        assert again.stages_ == model.stages_
        # by="team" works without teams= on the loaded model, as on the fitted one.
        assert again.attribution(by="team").equals(model.attribution(by="team"))
    assert model.teams_ == {"a": "marketing", "b": "marketing", "c": "sales", "x": "partners"}
    # A model fitted on counts has no metadata, and loads back with none.
    plain = jl.MarkovModel.from_bytes(
        jl.MarkovModel().fit(jl.TransitionCounts.from_journeys(abc_journeys, 1)).to_bytes()
    )
    assert plain.teams_ is None
    assert plain.stages_ is None
    assert plain.max_states == jl.MarkovModel().max_states


def _saved_and_loaded(tmp_path: Path, model: jl.MarkovModel) -> jl.MarkovModel:
    model.save(tmp_path / "meta.jl")
    return jl.MarkovModel.load(tmp_path / "meta.jl")


def test_metadata_edits_are_refused(abc_journeys: jl.Journeys) -> None:
    journeys = abc_journeys.with_channels({"a": "m", "b": "m", "c": "s"})
    data = jl.MarkovModel(max_states=5000).fit(journeys).to_bytes()
    body = data.split(b"\n", 1)[1].decode()
    assert jl.MarkovModel.from_bytes(_signed(body, "markov_model")).max_states == 5000
    edits = {
        ('"max_states":5000', '"max_states":-1'): r"metadata\.max_states: expected an integer",
        ('["b","m"]', '["a","m"]'): r"metadata\.teams\[1\]: channel 'a' twice",
        ('"teams":[', '"owners":['): "metadata: unknown member 'owners'",
    }
    for (old, new), message in edits.items():
        assert old in body
        with pytest.raises(jl.InvalidInputError, match=message):
            jl.MarkovModel.from_bytes(_signed(body.replace(old, new), "markov_model"))


# -- loop counts --


def loop_parts() -> tuple[jl.Histories, jl.Histories, jl.Histories]:
    paths = ["a > purchase > b > purchase", "a > b", "b > purchase > c", "c > a"]
    customers = [1, 1, 2, 3]
    values = [30.0, 0.0, 60.0, 0.0]
    whole = jl.Histories.from_paths(paths, count=customers, value=values)
    first = jl.Histories.from_paths(paths[3:], count=customers[3:], value=values[3:])
    rest = jl.Histories.from_paths(paths[:3], count=customers[:3], value=values[:3])
    return whole, first, rest


@pytest.mark.parametrize("order", [1, 2])
def test_loop_counts_merge_into_the_counts_of_the_whole(order: int) -> None:
    whole, first, rest = loop_parts()
    a = jl.LoopCounts.from_histories(first, order)
    b = jl.LoopCounts.from_histories(rest, order)
    want = jl.LoopCounts.from_histories(whole, order)
    # The first part has no purchase (no repeat view); the parts order channels differently.
    assert a.repeat is None and a.buyers == 0
    assert a.merge(b) == want == b.merge(a)
    merged = a.merge(b)
    assert (merged.customers, merged.purchases, merged.value) == (7.0, 4.0, 90.0)
    assert (merged.buyers, merged.repeat_purchases) == (3.0, 1.0)
    fitted = jl.LoopModel(order=order).fit(merged)
    direct = jl.LoopModel(order=order).fit(whole)
    assert fitted.expected_purchases_ == pytest.approx(direct.expected_purchases_, abs=1e-12)
    got = fitted.attribution().set_index("channel")
    expected = direct.attribution().set_index("channel").loc[got.index]
    assert got["purchases"].to_numpy() == pytest.approx(expected["purchases"].to_numpy(), abs=1e-12)
    # MarkovModel hands loop counts to a LoopModel, as it does histories.
    assert isinstance(jl.MarkovModel(order=order).fit(merged), jl.LoopModel)


def test_loop_counts_bytes_files_and_errors(tmp_path: Path) -> None:
    whole, first, _ = loop_parts()
    counts = jl.LoopCounts.from_histories(whole, 2)
    assert jl.LoopCounts.from_bytes(counts.to_bytes()) == counts
    assert pickle.loads(pickle.dumps(counts)) == counts
    counts.save(tmp_path / "c.jlloop")
    assert jl.LoopCounts.load(tmp_path / "c.jlloop") == counts
    none = jl.LoopCounts.from_histories(first)
    assert jl.LoopCounts.from_bytes(none.to_bytes()) == none
    data = counts.to_bytes()
    with pytest.raises(jl.InvalidInputError, match="header is missing"):
        jl.LoopCounts.from_bytes(data[5:])
    with pytest.raises(jl.InvalidInputError, match="cut short"):
        jl.LoopCounts.from_bytes(data[:-3])
    with pytest.raises(jl.InvalidInputError, match="damaged"):
        jl.LoopCounts.from_bytes(data.replace(b'"first"', b'"fist"', 1))
    with pytest.raises(jl.InvalidInputError, match="different order"):
        counts.merge(jl.LoopCounts.from_histories(whole, 1))
    with pytest.raises(jl.InvalidInputError, match="can only merge LoopCounts"):
        counts.merge(jl.TransitionCounts.from_journeys(jl.Journeys.from_paths(["a"])))
    with pytest.raises(jl.InvalidInputError, match="order=2"):
        jl.LoopModel(order=1).fit(counts)
    with pytest.raises(jl.InvalidInputError, match="loop-form Histories"):
        jl.LoopCounts.from_histories(jl.Journeys.from_paths(["a"]))
    assert repr(counts) == "LoopCounts(order=2, 7 customers, 4 purchases, 3 channels)"
