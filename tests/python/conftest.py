"""Shared fixtures: the hand-worked examples and the reference data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """A file of ../shared/data; skip where it is absent, fail in CI."""
    path = SHARED_DATA / relative
    if path.exists():
        return path
    if os.environ.get("JOURNEYLOOP_REQUIRE_DATA") == "1":
        pytest.fail(f"reference data {path} is missing and JOURNEYLOOP_REQUIRE_DATA=1")
    pytest.skip(f"reference data {path} not found (clone ../shared beside the repository)")


def random_paths(
    seed: int, channels: int, rows: int, longest: int
) -> tuple[np.random.Generator, list[str]]:
    """``rows`` random paths of 1 to ``longest`` touches over channels ``c0``, ``c1``, ...

    Returns the generator too, for the rows' other columns.
    """
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(channels)]
    paths = [
        " > ".join(rng.choice(names, size=int(rng.integers(1, longest + 1))).tolist())
        for _ in range(rows)
    ]
    return rng, paths


def random_table(
    seed: int, channels: int, rows: int, longest: int
) -> tuple[np.random.Generator, list[str], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`random_paths` with random conversions (0 to 2), nulls (1 to 4) and the value of
    the conversions (5 to 50 each): the generator, the paths and the three columns."""
    rng, paths = random_paths(seed, channels, rows, longest)
    conv = rng.integers(0, 3, size=len(paths)).astype(float)
    nulls = rng.integers(1, 5, size=len(paths)).astype(float)
    value = conv * rng.uniform(5, 50, size=len(paths))
    return rng, paths, conv, nulls, value


@pytest.fixture
def ab_journeys() -> jl.Journeys:
    """ChannelAttribution's toy problem (vignette 1.1)."""
    return jl.Journeys.from_paths(
        ["A > B > A > B > B > A", "A > B > B > A > A", "A > A"], conversions=[1, 1, 1]
    )


@pytest.fixture
def abc_journeys() -> jl.Journeys:
    """The small funnel worked by hand in tests/cpp/fixtures.hpp."""
    df = pd.DataFrame(
        {
            "path": ["a > b", "b", "a > c"],
            "conversions": [1, 0, 2],
            "nulls": [1, 2, 0],
            "value": [10.0, 0.0, 30.0],
        }
    )
    return jl.Journeys.from_paths(df, nulls="nulls", value="value")


@pytest.fixture(scope="session")
def data_csv() -> pd.DataFrame:
    """ChannelAttribution's Data (10,000 paths, `;`-separated)."""
    return pd.read_csv(shared_data("channelattribution_pathdata/Data.csv"), sep=";")


@pytest.fixture(scope="session")
def data_journeys(data_csv: pd.DataFrame) -> jl.Journeys:
    return jl.Journeys.from_paths(
        data_csv,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
