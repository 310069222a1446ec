"""journeyloop.spark in Spark local mode: the counts, reports, credit and
periods of a PySpark DataFrame equal those of the single-process API on the
same pandas frame.

Skipped without Java or pyspark, unless JOURNEYLOOP_REQUIRE_SPARK=1 (``make
spark-test`` in CI), where either missing fails. One SparkSession serves the
whole module: the JVM's start is most of its time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl
from journeyloop._events import _FIELDS


def _unavailable() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'journeyloop[spark]', or make spark-deps)"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.path.exists(java_home)):
        return "Java is not installed (Debian: default-jre-headless; make spark-deps)"
    return None


_WHY = _unavailable()
if _WHY is not None:
    if os.environ.get("JOURNEYLOOP_REQUIRE_SPARK") == "1":
        pytest.fail(f"JOURNEYLOOP_REQUIRE_SPARK=1 but {_WHY}", pytrace=False)
    pytest.skip(f"Spark tests skipped: {_WHY}", allow_module_level=True)

import journeyloop.spark as jls  # noqa: E402

INPUT_PARTITIONS = 4

# PySpark warns that it does not fully support pandas 3; what these tests
# check is that the counts are right with the installed pandas.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # The executors' Python must be this one (it has journeyloop installed).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("journeyloop-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.default.parallelism", str(INPUT_PARTITIONS))
        # Small Arrow batches: customers span batches within a partition.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "128")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _events(seed: int = 7, rows: int = 3000, customers: int = 150) -> pd.DataFrame:
    """Random events in random order (customers spread over every input
    partition), on whole hours of a few days (many equal times)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01")
    hours = rng.integers(0, 24 * 6, size=rows)
    conversion = (rng.random(rows) < 0.12).astype(np.int64) * rng.integers(1, 3, size=rows)
    value = np.where(conversion > 0, rng.integers(1, 100, size=rows), 0).astype(np.int64)
    return pd.DataFrame(
        {
            "customer": rng.integers(0, customers, size=rows).astype(np.int64),
            "time": start + pd.to_timedelta(hours, unit="h"),
            "channel": rng.choice([f"c{i}" for i in range(6)], size=rows),
            "conversion": conversion,
            "value": value,
        }
    )


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return _events()


def _to_spark(spark: Any, events: pd.DataFrame) -> Any:
    """A frame of INPUT_PARTITIONS partitions holding consecutive rows.

    Made from an RDD: Spark evaluates expressions over a frame of local
    data (createDataFrame) on the driver, as one partition.
    """
    local = spark.createDataFrame(events)
    df = spark.createDataFrame(local.rdd, local.schema)
    assert df.rdd.getNumPartitions() == INPUT_PARTITIONS
    return df


@pytest.fixture(scope="module")
def frame(spark: Any, events: pd.DataFrame) -> Any:
    return _to_spark(spark, events).cache()


def _fields(report: jl.EventReport) -> dict[str, Any]:
    names = [name for name, _, _ in _FIELDS if name != "sorted_input"] + ["rows_rejected"]
    return {name: getattr(report, name) for name in names}


def _reference(events: pd.DataFrame, **read: Any) -> jl.Journeys:
    return jl.Journeys.from_events(events, conversion="conversion", value="value", **read)


def test_input_is_spread(frame: Any, events: pd.DataFrame) -> None:
    # Customers split across input partitions, several customers per partition.
    from pyspark.sql import functions as F

    where = frame.withColumn("part", F.spark_partition_id())
    spread = where.groupBy("customer").agg(F.countDistinct("part").alias("n"))
    assert spread.filter("n > 1").count() > 100
    # Equal times within a customer (ties broken by the read order).
    assert events.duplicated(["customer", "time"]).sum() > 100
    # ... among them touches and conversions at the same time.
    touches = events["conversion"] == 0
    at = events.assign(touch=touches, converts=~touches).groupby(["customer", "time"])
    mixed = at["touch"].any() & at["converts"].any()
    assert mixed.sum() > 10
    # The times come back as they went in (session time zone UTC).
    back = [row.time for row in frame.select("time").collect()]
    assert back == events["time"].dt.to_pydatetime().tolist()


@pytest.mark.parametrize("order", [1, 3])
def test_funnel_counts_report_credit(frame: Any, events: pd.DataFrame, order: int) -> None:
    methods = list(jls.HEURISTICS) if order == 1 else []
    counted = jls.count_events(
        frame, conversion="conversion", value="value", order=order, methods=methods
    )
    journeys = _reference(events)
    assert counted.route == "shuffled"
    assert counted.partitions == INPUT_PARTITIONS
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys, order)
    assert counted.report is not None and journeys.report is not None
    assert _fields(counted.report) == _fields(journeys.report)
    assert counted.report.rows_read == len(events)
    if methods:
        expected = jl.attribute(journeys, methods).sort_values(["method", "channel"])
        got = counted.credit.sort_values(["method", "channel"])
        assert got["method"].tolist() == expected["method"].tolist()
        assert got["channel"].tolist() == expected["channel"].tolist()
        for column in ("conversions", "value", "share"):
            np.testing.assert_allclose(
                got[column].to_numpy(dtype=float),
                expected[column].to_numpy(dtype=float),
                # Sums of the same terms in another order.
                rtol=1e-12,
                atol=1e-12,
            )
        # The channels' order (first appearance) differs; the figures do not.
        markov = counted.fit().attribution().sort_values("channel")
        single = jl.MarkovModel().fit(journeys).attribution().sort_values("channel")
        assert markov["channel"].tolist() == single["channel"].tolist()
        np.testing.assert_allclose(
            markov["conversions"].to_numpy(dtype=float),
            single["conversions"].to_numpy(dtype=float),
            rtol=0,
            atol=1e-12,
        )


def test_attribute(frame: Any, events: pd.DataFrame) -> None:
    # The heuristics and Markov in jl.attribute's long form, one call.
    got = jls.attribute(frame, conversion="conversion", value="value")
    expected = jl.attribute(_reference(events), [*jls.HEURISTICS, "markov"])
    keys = ["method", "channel"]
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True),
        expected.sort_values(keys).reset_index(drop=True),
        rtol=1e-12,
        atol=1e-12,
    )


def test_loop_form(frame: Any, events: pd.DataFrame) -> None:
    counted = jls.count_events(
        frame, conversion="conversion", value="value", form="loop", order=2, npartitions=5
    )
    histories = _reference(events, form="loop")
    assert counted.partitions == 5
    assert counted.counts == jl.LoopCounts.from_histories(histories, 2)
    assert counted.report is not None and histories.report is not None
    assert _fields(counted.report) == _fields(histories.report)


def test_given_partitioning(frame: Any, events: pd.DataFrame) -> None:
    partitioned = jls.partition_by_customer(frame, "customer", npartitions=3)
    counted = jls.count_events(
        partitioned, conversion="conversion", value="value", order=2, partitioned=True
    )
    journeys = _reference(events)
    assert counted.route == "given"
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys, 2)


def test_periods(frame: Any, events: pd.DataFrame) -> None:
    counted = jls.count_events(
        frame, conversion="conversion", value="value", period="D", methods=["last_touch"]
    )
    single = jl.PeriodCounts.from_events(
        events, conversion="conversion", value="value", period="D", methods=["last_touch"]
    )
    assert counted.periods is not None
    assert counted.periods.periods == single.periods
    assert len(single.periods) >= 6
    for p in single.periods:
        assert counted.periods.counts(p) == single.counts(p)
    assert counted.periods.report is not None and single.report is not None
    assert _fields(counted.periods.report) == _fields(single.report)
    got = counted.periods.attribution(methods=["last_touch", "markov"])
    expected = single.attribution(methods=["last_touch", "markov"])
    keys = ["period", "method", "channel"]
    assert set(keys) <= set(got.columns)
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True),
        expected.sort_values(keys).reset_index(drop=True),
        rtol=1e-12,
        atol=1e-12,
    )


def test_paths(spark: Any) -> None:
    rng, paths = _random_paths()
    table = pd.DataFrame(
        {
            "path": paths,
            "conversions": rng.integers(0, 3, size=len(paths)),
            "nulls": rng.integers(0, 3, size=len(paths)),
        }
    )
    counted = jls.count_paths(
        spark.createDataFrame(table), nulls="nulls", order=3, methods=["linear"]
    )
    journeys = jl.Journeys.from_paths(table, nulls="nulls")
    assert counted.route == "paths" and counted.report is None
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys, 3)
    expected = jl.attribute(journeys, ["linear"]).sort_values("channel")
    np.testing.assert_allclose(
        counted.credit.sort_values("channel")["conversions"].to_numpy(dtype=float),
        expected["conversions"].to_numpy(dtype=float),
        rtol=0,
        atol=1e-12,
    )


def _random_paths() -> tuple[np.random.Generator, list[str]]:
    rng = np.random.default_rng(11)
    names = [f"c{i}" for i in range(5)]
    paths = [
        " > ".join(rng.choice(names, size=int(rng.integers(1, 7))).tolist()) for _ in range(800)
    ]
    return rng, paths


def _with_bad_rows(events: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Events whose third input partition holds bad rows of one customer: a
    touch without a channel, then a row without a time. Returns the frame
    and the first bad row's partition and position there."""
    bad = events.copy()
    size = -(-len(bad) // INPUT_PARTITIONS)
    start = 2 * size
    customer = int(bad["customer"].iloc[start + 10])
    rows = np.flatnonzero(bad["customer"].to_numpy() == customer)
    rows = rows[(rows >= start) & (rows < start + size)]
    assert len(rows) >= 2
    first, second = int(rows[0]), int(rows[1])
    bad.loc[first, "channel"] = None
    bad.loc[first, "conversion"] = 0
    bad.loc[first, "value"] = 0
    bad.loc[second, "time"] = pd.NaT
    return bad, 2, first - start


def test_bad_rows(spark: Any, events: pd.DataFrame) -> None:
    bad, part, row = _with_bad_rows(events)
    frame = _to_spark(spark, bad)
    sizes = frame.rdd.glom().map(len).collect()
    assert sum(sizes[:part]) == part * -(-len(bad) // INPUT_PARTITIONS)
    with pytest.warns(jl.DataWarning):
        counted = jls.count_events(frame, conversion="conversion", value="value")
    with pytest.warns(jl.DataWarning):
        journeys = _reference(bad)
    assert counted.report is not None and journeys.report is not None
    assert _fields(counted.report) == _fields(journeys.report)
    assert counted.report.rows_rejected >= 2
    r = counted.report
    assert r.rows_read == len(bad)
    assert r.rows_read == (
        r.rows_used + r.rows_rejected + r.outside_lookback + r.conversions_without_touch
    )
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys)

    with pytest.raises(jl.InvalidInputError) as single:
        _reference(bad, strict=True)
    first = sum(sizes[:part]) + row
    assert str(single.value).startswith(f"row {first}")
    with pytest.raises(jl.InvalidInputError) as distributed:
        jls.count_events(frame, conversion="conversion", value="value", strict=True)
    reason = str(single.value)[len(f"row {first}") :].lstrip(",: ")
    assert str(distributed.value) == f"partition {part}, row {row} of the partition: {reason}"


def test_bad_arguments(spark: Any, frame: Any, events: pd.DataFrame) -> None:
    with pytest.raises(jl.InvalidInputError, match="column 'when' is missing"):
        jls.count_events(frame, time="when")
    with pytest.raises(jl.InvalidInputError, match="PySpark DataFrame"):
        jls.count_events(events)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="does not merge"):
        jls.count_events(frame, conversion="conversion", methods=["markov"])
    with pytest.raises(jl.InvalidInputError, match="npartitions"):
        jls.count_events(frame, npartitions=0)
    with pytest.raises(jl.InvalidInputError, match="nothing to count"):
        jls.count_events(frame.limit(0), conversion="conversion")


def test_import_error_without_pyspark() -> None:
    code = "import sys; sys.modules['pyspark'] = None; import journeyloop.spark"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "pip install 'journeyloop[spark]'" in done.stderr
