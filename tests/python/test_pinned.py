"""Exact values of secondary features and of public names that no other test calls.

Every figure is worked by hand in the comments; fractions are compared at 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl


def exact(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


def events() -> pd.DataFrame:
    """The event log of test_events.small_events: customer 7 converts once, customer 3 too."""
    return pd.DataFrame(
        {
            "customer": [7, 3, 7, 7, 7, 3],
            "time": pd.to_datetime(
                ["2024-01-05", "2024-01-01", "2024-01-01", "2024-01-09", "2024-01-12", "2024-01-04"]
            ),
            "channel": ["search", "email", "email", "demo", "email", None],
            "conversion": [False, False, False, True, False, True],
            "value": [np.nan, np.nan, np.nan, 100.0, np.nan, 20.0],
        }
    )


def test_team_value_split_from_events() -> None:
    meta = pd.DataFrame(
        {
            "channel": ["search", "email", "webinar"],
            "team": ["marketing", "marketing", "marketing"],
            "stage": ["awareness", "consideration", "evaluation"],
        }
    )
    with pytest.warns(UserWarning, match="1 channel.*demo"):
        j = jl.Journeys.from_events(events(), conversion="conversion", value="value", channels=meta)
    # Journeys: "email > search > demo" converts with 100, "email" converts with 20, "email"
    # does not convert. Teams: marketing = email, search; unassigned = demo.
    frame = j.to_frame()
    assert frame["path"].tolist() == ["email > search > demo", "email", "email"]
    assert frame["value"].tolist() == [100.0, 0.0, 20.0]
    assert j.has_times
    out = jl.attribute(j, ["linear", "markov"], by="team")
    linear = out[out["method"] == "linear"]
    # Linear: 1/3 of the first journey to each touch, all of the second to email.
    assert linear["team"].tolist() == ["marketing", "unassigned"]
    assert linear["conversions"].tolist() == [exact(5 / 3), exact(1 / 3)]
    assert linear["value"].tolist() == [exact(200 / 3 + 20), exact(100 / 3)]
    # Markov, order 1: START -> email 1; email -> search, CONVERSION, NULL 1/3 each;
    # search -> demo -> CONVERSION. Rate 2/3. Without marketing nothing converts (removal
    # effect 1); without demo 1/3 converts (1/2). Value per journey 40 (1/3 * 100 + 1/3 * 20);
    # without demo 20/3 (5/6). Splits 2 as 1 : 1/2 and 120 as 1 : 5/6.
    markov = out[out["method"] == "markov"]
    assert markov["team"].tolist() == ["marketing", "unassigned"]
    assert markov["conversions"].tolist() == [exact(4 / 3), exact(2 / 3)]
    assert markov["value"].tolist() == [exact(720 / 11), exact(600 / 11)]
    assert markov["share"].tolist() == [exact(2 / 3), exact(1 / 3)]
    model = jl.MarkovModel().fit(j)
    assert model.conversion_rate_ == exact(2 / 3)
    effects = model.removal_effects(by="team")
    assert effects["removal_effect"].tolist() == [exact(1.0), exact(1 / 2)]
    assert effects["value_removal_effect"].tolist() == [exact(1.0), exact(5 / 6)]
    assert model.attribution(by="team")["value"].tolist() == [exact(720 / 11), exact(600 / 11)]


def test_has_times(abc_journeys: jl.Journeys) -> None:
    # Path tables carry no times; event logs always do (time is a required column).
    assert abc_journeys.has_times is False
    assert jl.Journeys.from_events(events(), conversion="conversion").has_times is True


def test_transition_counts_properties(abc_journeys: jl.Journeys) -> None:
    # abc: START -> a, b; a -> b, c; b -> CONVERSION, NULL; c -> CONVERSION: 7 transitions
    # between a, b, c, START, CONVERSION and NULL.
    c = jl.TransitionCounts.from_journeys(abc_journeys)
    assert (c.order, c.collapse_repeats, c.padded) == (1, True, False)
    assert c.channels == ["a", "b", "c"]
    assert (c.n_states, c.n_transitions) == (6, 7)
    # Order 2, padded: states (start) > a, (start) > b, a > b, a > c; transitions START to
    # both padded states, (start) > a to a > b and a > c, a > b to CONVERSION and NULL,
    # (start) > b to NULL, a > c to CONVERSION.
    p = jl.TransitionCounts.from_journeys(abc_journeys, 2, collapse_repeats=False, padded=True)
    assert (p.order, p.collapse_repeats, p.padded) == (2, False, True)
    assert p.channels == ["a", "b", "c"]
    assert (p.n_states, p.n_transitions) == (7, 8)
    assert jl.MarkovModel(order=2, padded=True).fit(abc_journeys).counts_.padded is True
    # collapse_repeats changes the counts of a path with a repeat: a > a is one state a with
    # no self-transition when collapsed (START -> a -> CONVERSION), a self-loop otherwise.
    rep = jl.Journeys.from_paths(["a > a"], conversions=[1])
    assert jl.TransitionCounts.from_journeys(rep).n_transitions == 2
    kept = jl.TransitionCounts.from_journeys(rep, collapse_repeats=False)
    assert kept.collapse_repeats is False
    assert kept.n_transitions == 3


def test_funnel_summary(abc_journeys: jl.Journeys, capsys: pytest.CaptureFixture[str]) -> None:
    # Rate 1/2, value per journey 40/6, expected touches 5/3 and, given conversion, 11/6.
    text = jl.MarkovModel().fit(abc_journeys).summary()
    assert text == (
        "Markov model, order 1: 6 states, 3 channels\n"
        "  conversion rate                   0.5\n"
        "  value per journey                 6.66667\n"
        "  expected touches                  1.66667\n"
        "  expected touches (converting)     1.83333"
    )
    assert capsys.readouterr().out == text + "\n"


def test_load_b2b_channels() -> None:
    channels = jl.datasets.load_b2b_channels()
    assert channels.columns.tolist() == ["channel", "team", "stage"]
    assert channels["channel"].tolist() == [
        "paid_search", "organic_search", "paid_social", "content", "email", "webinar",
        "sdr_call", "sales_email", "demo",
    ]  # fmt: skip
    assert channels["team"].tolist() == ["marketing"] * 6 + ["sales"] * 3
    assert (
        channels["stage"].tolist() == ["awareness"] * 4 + ["consideration"] * 2 + ["evaluation"] * 3
    )
    assert dict(zip(channels["channel"], channels["team"])) == jl.datasets.b2b_teams()
    assert dict(zip(channels["channel"], channels["stage"])) == jl.datasets.b2b_stages()
    paths = jl.Journeys.from_paths(jl.datasets.load_b2b_paths(), nulls="nulls", value="value")
    assert sorted(paths.channels) == sorted(channels["channel"])
