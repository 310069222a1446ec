from __future__ import annotations

import pytest

import journeyloop as jl
from journeyloop import demo


def test_b2b_sample_loads_and_is_consistent() -> None:
    df = jl.datasets.load_b2b_paths()
    assert list(df.columns) == ["path", "conversions", "nulls", "value"]
    j = jl.Journeys.from_paths(df, nulls="nulls", value="value")
    teams = jl.datasets.b2b_teams()
    assert set(j.channels) == set(teams)
    assert set(teams.values()) == {"marketing", "sales"}
    assert set(jl.datasets.b2b_stages()) == set(teams)
    assert j.total_conversions == df["conversions"].sum()
    model = jl.MarkovModel().fit(j)
    observed = j.total_conversions / (j.total_conversions + j.total_nulls)
    assert model.conversion_rate_ == pytest.approx(observed, abs=1e-12)
    out = jl.attribute(j, by="team", teams=teams)
    for _, g in out.groupby("method"):
        assert g["conversions"].sum() == pytest.approx(j.total_conversions, rel=1e-12)
        assert g["value"].sum() == pytest.approx(j.total_value, rel=1e-12)


def test_demo_prints_every_method(capsys: pytest.CaptureFixture[str]) -> None:
    demo.main()
    out = capsys.readouterr().out
    for method in jl.METHODS:
        assert method in out
    assert "Share of conversions by team" in out
    assert "sales_email" in out
