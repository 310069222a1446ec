"""Agreement with ../shared/data: published and exact reference values."""

from __future__ import annotations

import pandas as pd
import pytest

import journeyloop as jl

from .conftest import shared_data
from .exact_reference import (
    exact_channel_shapley,
    exact_heuristics,
    exact_markov,
    exact_simplified_shapley,
    split,
)

CHANNELS = ["eta", "iota", "alpha", "beta", "theta", "lambda", "kappa", "zeta", "epsilon",
            "gamma", "delta", "mi"]  # fmt: skip

# REFERENCE.md 3.1: first, last, linear; conversions then value.
HEURISTICS = {
    ("first_touch", "conversions"): [3164, 4606, 6308, 2831, 1606, 902, 74, 27, 99, 165, 1, 2],
    ("last_touch", "conversions"): [4167, 3355, 8447, 989, 653, 1207, 230, 107, 531, 92, 5, 2],
    ("linear", "conversions"): [3539.951157, 3857.096221, 7574.718594, 2083.500145, 1022.801394,
                                1035.257572, 137.964078, 136.551540, 272.170438, 121.041639,
                                1.725000, 2.222222],
    ("first_touch", "value"): [11909.476213, 19597.261277, 19121.272356, 12235.591744,
                               6652.349347, 3735.602165, 305.743250, 103.004000, 412.301243,
                               718.977992, 6.119000, 5.273000],
    ("last_touch", "value"): [16754.203800, 13487.974271, 28414.214274, 3850.020987, 2799.091988,
                              5249.949985, 1069.384250, 453.260750, 2202.612289, 506.013992,
                              10.972000, 5.273000],
    ("linear", "value"): [13783.497051, 15988.988995, 24524.709569, 8954.266717, 4295.743619,
                          4430.316169, 599.747786, 539.528763, 1106.270065, 569.417358, 4.404050,
                          6.081444],
}  # fmt: skip

# REFERENCE.md 3.2, order 1 with nulls.
RE_ORDER1 = [0.349026, 0.405835, 0.558399, 0.264039, 0.206010, 0.134022, 0.028663, 0.039811,
             0.062639, 0.017880, 0.000482, 0.000180]  # fmt: skip
# REFERENCE.md 3.2, orders 2 and 3 with nulls: removal effects to 6 decimals.
RE_BY_ORDER = {
    1: RE_ORDER1,
    2: [0.330767, 0.371594, 0.547803, 0.237910, 0.185526, 0.115995, 0.025942, 0.036475,
        0.059913, 0.016765, 0.000503, 0.000202],
    3: [0.322834, 0.360379, 0.546420, 0.228673, 0.175845, 0.109391, 0.025119, 0.035207,
        0.059264, 0.016967, 0.000482, 0.000202],
}  # fmt: skip
RE_VALUE_ORDER1 = [0.361425, 0.416694, 0.522986, 0.269511, 0.208954, 0.143068, 0.031606,
                   0.040859, 0.065339, 0.020009, 0.000387, 0.000151]  # fmt: skip
CONV_BY_ORDER = {
    1: [3340.8474, 3884.6147, 5344.9477, 2527.3522, 1971.9129, 1282.8472, 274.3633, 381.0626,
        599.5707, 171.1454, 4.6136, 1.7224],
    2: [3391.8582, 3810.5110, 5617.4539, 2439.6490, 1902.4736, 1189.4720, 266.0271, 374.0313,
        614.3735, 171.9182, 5.1591, 2.0732],
    3: [3396.0706, 3791.0292, 5748.0986, 2405.5340, 1849.8126, 1150.7400, 264.2393, 370.3630,
        623.4321, 178.4828, 5.0708, 2.1268],
}  # fmt: skip
VALUE_ORDER1 = [12991.7367, 14978.4373, 18799.1706, 9687.8092, 7511.0485, 5142.7203, 1136.0925,
                1468.7030, 2348.6538, 719.2367, 13.9184, 5.4445]  # fmt: skip
STATES_BY_ORDER = {1: 12, 2: 120, 3: 933}


def by_channel(frame: pd.DataFrame, column: str, key: str = "channel") -> list[float]:
    d = dict(zip(frame[key], frame[column]))
    return [d[c] for c in CHANNELS]


def test_totals(data_journeys: jl.Journeys) -> None:
    assert len(data_journeys) == 10_000
    assert sorted(data_journeys.channels) == sorted(CHANNELS)
    assert data_journeys.total_conversions == 19785
    assert data_journeys.total_nulls == 68602
    assert data_journeys.total_value == pytest.approx(74802.971587, abs=5e-7)


@pytest.mark.parametrize(("method", "column"), list(HEURISTICS))
def test_heuristics_match_reference(data_journeys: jl.Journeys, method: str, column: str) -> None:
    out = jl.attribute(data_journeys, [method])
    assert by_channel(out, column) == pytest.approx(HEURISTICS[(method, column)], abs=1e-6)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_matches_reference(data_journeys: jl.Journeys, order: int) -> None:
    model = jl.MarkovModel(order=order).fit(data_journeys)
    assert model.n_states_ == STATES_BY_ORDER[order] + 3
    assert model.conversion_rate_ == pytest.approx(19785 / 88387, abs=1e-12)
    a = model.attribution()
    # printed to 4 decimals: half a unit of the last digit
    assert by_channel(a, "conversions") == pytest.approx(CONV_BY_ORDER[order], abs=5e-5)
    assert a["conversions"].sum() == pytest.approx(19785, rel=1e-12)
    assert a["value"].sum() == pytest.approx(data_journeys.total_value, rel=1e-12)
    re = model.removal_effects()
    # printed to 6 decimals: within half a unit of the last digit, inside the 1e-6 asked for
    assert by_channel(re, "removal_effect") == pytest.approx(RE_BY_ORDER[order], abs=5e-7)
    if order == 1:
        assert by_channel(re, "value_removal_effect") == pytest.approx(RE_VALUE_ORDER1, abs=1e-6)
        assert by_channel(a, "value") == pytest.approx(VALUE_ORDER1, abs=5e-5)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_matches_independent_exact_solve(
    data_csv: pd.DataFrame, data_journeys: jl.Journeys, order: int
) -> None:
    paths = [split(p) for p in data_csv["path"]]
    p, re, conv, val = exact_markov(
        paths,
        data_csv["total_conversions"].astype(float).tolist(),
        data_csv["total_null"].astype(float).tolist(),
        data_csv["total_conversion_value"].astype(float).tolist(),
        order=order,
    )
    model = jl.MarkovModel(order=order).fit(data_journeys)
    assert model.conversion_rate_ == pytest.approx(p, abs=1e-12)
    effects = model.removal_effects()
    assert by_channel(effects, "removal_effect") == pytest.approx(
        [re[c] for c in CHANNELS], abs=1e-9
    )
    a = model.attribution()
    assert by_channel(a, "conversions") == pytest.approx([conv[c] for c in CHANNELS], abs=1e-9)
    # The values are about 10^4: relative, 100 times inside the 1e-9 asked for (the
    # batched removals stop the values' iteration at its own tolerance, 1.4e-12 apart here).
    assert by_channel(a, "value") == pytest.approx([val[c] for c in CHANNELS], rel=1e-11)


def test_data_without_nulls_converts_with_probability_one(data_csv: pd.DataFrame) -> None:
    # The table has total_null: nulls=False leaves it out (var_null=NULL).
    j = jl.Journeys.from_paths(data_csv, conversions="total_conversions", nulls=False)
    model = jl.MarkovModel().fit(j)
    assert model.conversion_rate_ == pytest.approx(1.0, abs=1e-12)
    # REFERENCE.md 3.2, order 1, var_null=NULL
    expected = [0.357505, 0.416398, 0.561719, 0.276094, 0.207048, 0.138344, 0.029543,
                0.042131, 0.064590, 0.018798, 0.000455, 0.000202]  # fmt: skip
    assert by_channel(model.removal_effects(), "removal_effect") == pytest.approx(
        expected, abs=1e-6
    )


def exact_table(df: pd.DataFrame, path: str, nulls: str | None) -> dict[str, tuple]:
    """Every method's credit (conversions, value) from exact_reference, and the removal
    effects of the order-1 chain, computed without the library."""
    paths = [split(p) for p in df[path]]
    conv = df["total_conversions"].astype(float).tolist()
    null = df[nulls].astype(float).tolist() if nulls else [0.0] * len(df)
    value = df["total_conversion_value"].astype(float).tolist()
    table: dict[str, tuple] = dict(exact_heuristics(paths, conv, value))
    _, re, markov_conv, markov_value = exact_markov(paths, conv, null, value)
    table["markov"] = (markov_conv, markov_value)
    table["shapley"] = exact_channel_shapley(paths, conv, null, value)
    table["simplified_shapley"] = exact_simplified_shapley(paths, conv, value)
    table["removal_effects"] = (re,)
    return table


def assert_table_exact(j: jl.Journeys, table: dict[str, tuple]) -> None:
    # Relative 1e-12; a figure that cancels to zero is compared at 1e-12 of the totals.
    out = jl.attribute(j)
    assert set(out["method"]) == set(jl.METHODS)
    for method, g in out.groupby("method"):
        conv, value = table[str(method)]
        for column, expected, total in (
            ("conversions", conv, j.total_conversions),
            ("value", value, j.total_value),
        ):
            got = dict(zip(g["channel"], g[column]))
            assert got == pytest.approx(
                {c: expected.get(c, 0.0) for c in got}, rel=1e-12, abs=1e-12 * total
            ), (method, column)
    re = jl.MarkovModel().fit(j).removal_effects()
    (expected_re,) = table["removal_effects"]
    assert dict(zip(re["channel"], re["removal_effect"])) == pytest.approx(
        expected_re, rel=1e-12, abs=1e-15
    )


def test_dy_table_is_exact() -> None:
    df = pd.read_csv(shared_data("channelattribution_pathdata_v1_1/Dy.csv"))
    j = jl.Journeys.from_paths(df, path="channel_path", conversions="total_conversions",
                               value="total_conversion_value")  # fmt: skip
    assert j.total_conversions == 23333
    model = jl.MarkovModel().fit(j)
    assert model.conversion_rate_ == pytest.approx(1.0, abs=1e-12)
    out = jl.attribute(j)
    for _, g in out.groupby("method"):
        assert g["conversions"].sum() == pytest.approx(23333, rel=1e-12)
        assert g["value"].sum() == pytest.approx(95143.919732, abs=1e-5)
    assert_table_exact(j, exact_table(df, "channel_path", None))


def test_free_trial_table_is_exact() -> None:
    df = pd.read_csv(
        shared_data("pychattr_free_trial_paths/free_trial_and_demo_path_data_final.csv.gz")
    )
    j = jl.Journeys.from_paths(df, conversions="total_conversions", nulls="total_null",
                               value="total_conversion_value")  # fmt: skip
    assert len(j.channels) == 13
    model = jl.MarkovModel().fit(j)
    assert model.conversion_rate_ == pytest.approx(3024 / (3024 + 240095), abs=1e-12)
    out = jl.attribute(j)
    assert set(out["method"]) == set(jl.METHODS)
    for _, g in out.groupby("method"):
        assert g["conversions"].sum() == pytest.approx(3024, rel=1e-12)
        assert g["value"].sum() == pytest.approx(619484.97, abs=1e-6)
    assert_table_exact(j, exact_table(df, "path", "total_null"))
