"""Every script of bench/ and examples/ runs, on the tiny presets, and prints sane figures.

The benchmark scripts are part of the product: a change that breaks one fails here. Each run
is a subprocess whose generated tables, logs and results go to a temporary folder
(``JOURNEYLOOP_BENCH_CACHE`` and ``--out``), never to ``bench/.cache`` or ``bench/results``.
``test_every_script_has_a_smoke_run`` fails when a script is added without one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
PY = sys.executable

# Every script and where its smoke run is: the Python examples run in test_examples.py, the
# C++ quickstart is a CTest test (examples/cpp/CMakeLists.txt) run by `make cpp-test`.
SMOKE_RUNS = {
    "bench/baseline_rss.py": "test_baseline_rss",
    "bench/check_exact.py": "test_check_exact",
    "bench/compare.py": "test_compare_scenarios",
    "bench/compare_checkouts.py": "test_compare_checkouts",
    "bench/first_touch.py": "test_first_touch",
    "bench/generate_events.py": "test_generate_events",
    "bench/generate_paths.py": "test_generate_paths",
    "bench/profile_chain.py": "test_profile_chain",
    "bench/profile_memory.py": "test_profile_memory",
    "bench/refit.py": "test_refit_bench",
    "bench/component_solvers.py": "test_component_solvers",
    "bench/report.py": "test_run_markov_and_report",
    "bench/run_events.py": "test_run_events",
    "bench/scale_out.py": "test_scale_out",
    "bench/run_markov.py": "test_run_markov_and_report",
    "bench/study.py": "test_synthetic.py::test_study_quick_run",
    "bench/score.py": "test_score_bench",
    "bench/select_order.py": "test_select_order_bench",
    "bench/shapley.py": "test_shapley_bench",
    "bench/simulate.py": "test_simulate_bench",
    "bench/intervals.py": "test_intervals_bench",
    "bench/report_screenshot.py": "test_report_screenshot",
    "bench/plot_images.py": "test_plot_images",
    "bench/credit.py": "test_credit_bench",
    "bench/interrupt.py": "test_interrupt.py::test_the_benchmark_writes_a_line_per_run",
    # Imported by the scripts that tag their results with the commit.
    "bench/revision.py": "test_interrupt.py::test_the_benchmark_writes_a_line_per_run",
    "bench/cpp/solver_choice.cpp": "test_solver_choice",
    "examples/python/loop_b2b.py": "test_examples.py::test_example_runs",
    "examples/python/quickstart.py": "test_examples.py::test_example_runs",
    "examples/cpp/quickstart.cpp": "CTest example_quickstart",
}


def test_every_script_has_a_smoke_run() -> None:
    scripts = {
        str(p.relative_to(REPO))
        for pattern in ("bench/**/*.py", "bench/**/*.cpp", "examples/**/*.py", "examples/**/*.cpp")
        for p in REPO.glob(pattern)
        if ".cache" not in p.parts
    }
    assert scripts == set(SMOKE_RUNS), (
        f"scripts without a smoke run: {sorted(scripts - set(SMOKE_RUNS))}; "
        f"smoke runs of missing scripts: {sorted(set(SMOKE_RUNS) - scripts)}"
    )
    here = Path(__file__).read_text(encoding="utf-8")
    for script, where in SMOKE_RUNS.items():
        if where.startswith("test_") and "::" not in where:
            assert f"def {where}(" in here, f"{script}: {where} is not in {Path(__file__).name}"
    assert "CTest" not in SMOKE_RUNS["examples/cpp/quickstart.cpp"] or "add_test" in (
        REPO / "examples" / "cpp" / "CMakeLists.txt"
    ).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temporary cache for the generated tables, shared by this file's runs."""
    path = tmp_path_factory.mktemp("bench-cache")
    old = os.environ.get("JOURNEYLOOP_BENCH_CACHE")
    os.environ["JOURNEYLOOP_BENCH_CACHE"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            del os.environ["JOURNEYLOOP_BENCH_CACHE"]
        else:
            os.environ["JOURNEYLOOP_BENCH_CACHE"] = old


def run(*args: str | Path, timeout: float = 120) -> str:
    """Runs a command from the repository root; its stdout (stderr shown on failure)."""
    result = subprocess.run(
        [str(a) for a in args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def results_untouched() -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in (BENCH / "results").iterdir()}


@pytest.fixture(scope="module", autouse=True)
def results_stay_untouched() -> Iterator[None]:
    before = results_untouched()
    yield
    assert results_untouched() == before, "a smoke run wrote into bench/results"


def test_generate_paths(cache: Path) -> None:
    out = run(PY, BENCH / "generate_paths.py", "--preset", "tiny")
    meta = json.loads(out[out.index("{") :])
    assert meta["preset"] == "tiny"
    assert meta["rows"] == 2000
    assert meta["channels"] == 6
    table = pd.read_parquet(cache / "tiny-seed0.parquet")
    assert len(table) == 2000
    assert table["total_conversions"].sum() == meta["total_conversions"]


def test_simulate_bench(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "simulate.jsonl"
    run(PY, BENCH / "simulate.py", "--preset", "tiny", "--orders", "1", "2",
        "--walks", "20000", "--repeats", "1", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["preset"], r["order"], r["walks"]) for r in records] == [
        ("tiny", 1, 20000),
        ("tiny", 2, 20000),
    ]
    for r in records:
        assert r["touches"] > 20000
        assert r["touches_per_s"] > 0
        assert abs(r["simulated_conversion_rate"] - r["conversion_rate"]) < 0.05


def test_report_screenshot(tmp_path: Path) -> None:
    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: make test installs Debian's chromium")
        pytest.skip("chromium is not installed (make test installs it)")
    out = run(PY, BENCH / "report_screenshot.py", "--out", tmp_path, "--height", "600")
    assert "report.png" in out
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_images(tmp_path: Path) -> None:
    import journeyloop as jl

    out = run(PY, BENCH / "plot_images.py", "--out", tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert len(made) == out.count("wrote ") and made
    for name in made:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    # Every plot has an image, and docs/images holds exactly the images the script makes.
    script = (BENCH / "plot_images.py").read_text(encoding="utf-8")
    for function in jl.plot.__all__:
        assert f"jl.plot.{function}(" in script, f"bench/plot_images.py does not draw {function}"
    assert sorted(p.name for p in (REPO / "docs" / "images").glob("*.png")) == made


def test_intervals_bench(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "intervals.jsonl"
    run(PY, BENCH / "intervals.py", "--preset", "tiny", "--orders", "1", "2",
        "--replicates", "20", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["preset"], r["order"], r["replicates"]) for r in records] == [
        ("tiny", 1, 20),
        ("tiny", 2, 20),
    ]
    for r in records:
        assert r["statistic"] == "removal_effects"
        assert r["figures"] == r["channels"] == 6
        assert r["replicates_s"] > 0


def test_select_order_bench(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "select_order.jsonl"
    run(PY, BENCH / "select_order.py", "--preset", "tiny", "--orders", "1", "2", "3",
        "--repeats", "1", "--out", out)  # fmt: skip
    (r,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (r["preset"], r["orders"], r["folds"]) == ("tiny", [1, 2, 3], 5)
    assert r["select_order_s"] > 0
    assert len(r["log_likelihood"]) == len(r["auc"]) == len(r["states"]) == 3
    assert all(x < 0 for x in r["log_likelihood"])
    assert all(0 <= x <= 1 for x in r["auc"])
    assert r["states"] == sorted(r["states"])
    assert r["recommended"] in (1, 2, 3)


def test_credit_bench(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "credit.jsonl"
    run(PY, BENCH / "credit.py", "--preset", "tiny", "--methods", "linear", "markov",
        "simplified_shapley", "--repeats", "1", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["preset"], r["method"]) for r in records] == [
        ("tiny", "linear"),
        ("tiny", "markov"),
        ("tiny", "simplified_shapley"),
    ]
    for r in records:
        assert r["journeys"] == 2000
        assert r["entries"] == r["frame_rows"] > 0
        assert r["core_s"] > 0 and r["frame_s"] > 0


def test_generate_events(cache: Path) -> None:
    out = run(PY, BENCH / "generate_events.py", "--preset", "tiny")
    assert "events-tiny-sorted.parquet: 10,000 events" in out
    assert "events-tiny-unsorted.parquet: 10,000 events" in out
    sorted_ = pd.read_parquet(cache / "events-tiny-sorted.parquet")
    unsorted = pd.read_parquet(cache / "events-tiny-unsorted.parquet")
    assert len(sorted_) == len(unsorted) == 10_000


def test_run_markov_and_report(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "markov.jsonl"
    run(PY, BENCH / "run_markov.py", "--preset", "tiny", "--orders", "1", "2",
        "--tools", "journeyloop", "ca1", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["order"], r["tool"], r["status"]) for r in records] == [
        (1, "journeyloop", "ok"),
        (1, "ca1", "ok"),
        (2, "journeyloop", "ok"),
        (2, "ca1", "ok"),
    ]
    for r in records:
        assert r["preset"] == "tiny"
        assert r["wall_s"] > 0
        assert Path(r["attribution_file"]).is_relative_to(cache)
    table = run(PY, BENCH / "report.py", out, "--table-only")
    assert "| tiny | 1 | journeyloop |" in table
    assert "| tiny | 2 | ca1 |" in table


def test_run_events(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    run(PY, BENCH / "run_events.py", "ingest", "--preset", "tiny", "--order", "sorted",
        "unsorted", "--source", "pandas", "arrow", "--out", out)  # fmt: skip
    run(PY, BENCH / "run_events.py", "pipeline", "--preset", "tiny",
        "--tools", "journeyloop", "pandas_ca1", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    ingest = [r for r in records if r["kind"] == "ingest"]
    pipeline = [r for r in records if r["kind"] == "pipeline"]
    assert len(ingest) == 4
    assert [r["tool"] for r in pipeline] == ["journeyloop", "pandas_ca1"]
    assert all(r["status"] == "ok" for r in records), records
    for r in ingest:
        assert r["rows"] == 10_000
    report = run(PY, BENCH / "run_events.py", "report", out)
    assert "| journeyloop | ok |" in report
    assert "| pandas_ca1 | ok |" in report


def test_scale_out(cache: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="journeyloop[dask] is not installed")
    out = tmp_path / "scale_out.jsonl"
    run(PY, BENCH / "scale_out.py", "run", "--preset", "tiny", "--files", "3", "--orders", "2",
        "--route", "checked", "--memory-limit", "1GiB", "--out", out)  # fmt: skip
    single, dask = (json.loads(line) for line in out.read_text().splitlines())
    assert (single["tool"], dask["tool"], dask["route"]) == ("single", "dask", "checked")
    # The same data gives the same chain and the same attributed total.
    for key in ("rows", "states", "conversions"):
        assert single[key] == dask[key], key
    assert single["rows"] == 10_000 and dask["partitions"] == 3
    assert dask["workers_lost"] == 0 and len(dask["worker_peak_mb"]) == 2
    table = run(PY, BENCH / "scale_out.py", "report", out)
    assert "| tiny | 2 | dask (checked) |" in table and "| tiny | 2 | single |" in table


def test_check_exact(cache: Path) -> None:
    out = run(PY, BENCH / "check_exact.py", "--preset", "tiny", "--orders", "1", "2")
    assert "tiny order 1: 6 states, 6 of 6 channels checked" in out
    assert "tiny order 2:" in out
    assert "all within 1e-09" in out


def test_compare_checkouts(cache: Path, tmp_path: Path) -> None:
    # The script runs each checkout's own .venv (the one `make` creates).
    if not (REPO / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv in the repository (make install creates it)")
    out = run(PY, BENCH / "compare_checkouts.py", "--before", REPO, "--after", REPO,
              "--case", "tiny:1", "--repeat", "1", "--out", tmp_path / "compare.jsonl")  # fmt: skip
    rows = [line for line in out.splitlines() if line.startswith("| tiny | 1 |")]
    assert len(rows) == 1
    before, after, ratio = (float(x) for x in rows[0].split("|")[3:6])
    assert before > 0
    assert after > 0
    assert ratio == pytest.approx(after / before, abs=0.01)


def test_profile_chain(cache: Path) -> None:
    out = run(PY, BENCH / "profile_chain.py", "--preset", "tiny", "--order", "2", "--all")
    assert re.search(r"tiny order 2: \d+ states", out)
    assert "removal effects of all 6 channels" in out
    assert re.search(r"channels with a state in the largest component: [1-6] of 6\n", out)
    split = re.search(
        r"transitions of the largest component's states: ([\d,]+) inside it, ([\d,]+) to other "
        r"live states, ([\d,]+) to terminal states",
        out,
    )
    assert split and int(split[1].replace(",", "")) > 0


def test_component_solvers(cache: Path) -> None:
    out = run(PY, BENCH / "component_solvers.py", "--preset", "tiny", "--order", "2",
              "--channels", "ch0", "ch5", "--passes", "12")  # fmt: skip
    assert re.search(r"tiny order 2: component of \d+ states, [\d,]+ transitions, 6 last", out)
    assert re.search(r"greedy order, [\d.]+% of the weight read stale", out)
    assert re.search(r"ch0: \d+ states cut", out) and re.search(r"ch5: \d+ states cut", out)
    cells = {"gauss-seidel": 12, "two-level sum": 4, "two-level visits": 4, "gmres": 6}
    cells["bicgstab"] = 3
    for method, count in cells.items():
        lines = [line for line in out.splitlines() if line.strip().startswith(method + " ")]
        assert len(lines) == 2, method
        for line in lines:
            errors = [float(c.split(":")[-1]) for c in line[len("  ") + 20 :].split()]
            assert len(errors) == count, line
            # Every method converges on this small component: its error falls by 10 or more.
            assert errors[-1] < errors[0] / 10, line
    gauss_seidel = [line for line in out.splitlines() if "gauss-seidel" in line]
    assert all(float(line.split()[-1]) < 1e-4 for line in gauss_seidel)


def test_component_solvers_stopping(cache: Path) -> None:
    out = run(PY, BENCH / "component_solvers.py", "--preset", "tiny", "--order", "2",
              "--stopping", "--channels", "ch0", "ch5", "--passes", "12",
              "--layout", "finishing")  # fmt: skip
    assert re.search(r"finishing order, [\d.]+% of the weight read stale", out)
    found = re.findall(r"largest change +(\d+) sweeps, error at START (\S+)\n"
                       r" +bound 1e-11 +(\d+) sweeps, error at START (\S+)\n"
                       r" +plain sweeps: error at START (\S+) after 12 passes", out)  # fmt: skip
    assert len(found) == 2, out
    for library, library_error, bound, bound_error, plain in found:
        # The bound holds: the error at START is within it (1e-11 of START's change).
        assert float(bound_error) <= 1e-11 and float(library_error) <= 1e-11
        assert 0 < int(bound) <= 60 and 0 < int(library) <= 60
        assert float(plain) < 1e-3
    partial = re.findall(r"(\d) full, then the top (\d+)% by visits: error at START (\S+) after "
                         r"12 passes, work ([\d.]+) full sweeps", out)  # fmt: skip
    assert len(partial) == 6
    for full, top, error, work in partial:
        # The held states cost nothing: the work is the full sweeps and part of the others.
        assert top in ("30", "50") and int(full) < float(work) < 12
        assert 0 <= float(error) < 1


def test_refit_bench(cache: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "refit.jsonl"
    out = run(PY, BENCH / "refit.py", "--preset", "tiny", "--orders", "2", "3",
              "--replicates", "2", "--out", out_file)  # fmt: skip
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [(r["order"], r["replicate"]) for r in records] == [(2, 0), (2, 1), (3, 0), (3, 1)]
    for r in records:
        assert r["refit_s"] > 0 and r["fresh_s"] > 0
        assert r["ratio"] == pytest.approx(r["refit_s"] / r["fresh_s"], rel=1e-2, abs=1e-3)
        assert r["conversion_rate_rel_diff"] < 1e-12
        assert r["max_abs_diff_x"] < 1e-12
        assert r["replicate_states"] <= r["states"]
    assert out.count("ratio") == 4


def test_profile_memory(cache: Path) -> None:
    out = run(PY, BENCH / "profile_memory.py", "--preset", "tiny", "--order", "2")
    for stage in ("journeys", "counts", "fit", "removal effects", "pipeline peak"):
        assert stage in out


def test_baseline_rss(cache: Path) -> None:
    out = run(PY, BENCH / "baseline_rss.py", "--preset", "tiny", "--calls", "1")
    assert "journeyloop" in out
    assert "call 1 (order 1)" in out


def test_first_touch() -> None:
    out = run(PY, BENCH / "first_touch.py", "--gb", "0.01", "--repeat", "1")
    assert re.fullmatch(
        r"0.01 GB: first touch [\d.]+ s/GB, writing mapped memory [\d.]+ s/GB\n", out
    )


def test_solver_choice(cache: Path, tmp_path: Path) -> None:
    build = os.environ.get("JOURNEYLOOP_CPP_BUILD")
    if not build:
        pytest.skip("JOURNEYLOOP_CPP_BUILD not set (make test sets it)")
    binary = Path(build) / "journeyloop_solver_choice"
    assert binary.exists(), f"{binary} not built (`make cpp` builds it)"
    run(PY, BENCH / "generate_paths.py", "--preset", "tiny")
    csv = tmp_path / "tiny.csv"
    pd.read_parquet(cache / "tiny-seed0.parquet").to_csv(csv, sep=";", index=False)
    out = run(binary, csv, "1", "2", "--limit", "5")
    assert out.startswith("2000 paths, 6 channels\n")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert {r[0] for r in rows} == {"1", "2"}
    assert {"engine", "groups", "single"} <= {r[2] for r in rows}
    for r in rows:
        # Every method agrees with the engine's removal effects.
        assert float(r[-1]) < 1e-9, r


def test_compare_scenarios(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare.jsonl"
    printed = run(PY, BENCH / "compare.py", "--preset", "tiny", "--out", out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["case"] for r in records] == ["compare"] + ["apply"] * 10
    assert records[0]["scenarios"] == 10 and records[0]["preset"] == "tiny"
    assert all(r["commit"] and r["wall_s"] > 0 for r in records)
    # Each scenario applied alone gives the figure compare() gave it.
    assert all(r["same_as_compare"] for r in records[1:])
    assert "remove top channel" in printed


def test_shapley_bench(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "shapley.jsonl"
    printed = run(PY, BENCH / "shapley.py", "--preset", "tiny", "--permutations", "20",
                  "--cases", "sampled", "exact16", "limit", "--out", out)  # fmt: skip
    records = [json.loads(line) for line in out.read_text().splitlines()]
    # The tiny preset has 6 channels: every channel sampled, 6 players exact, one limit row.
    assert [r["case"] for r in records] == ["sampled", "exact16", "limit"]
    assert all(r["commit"] and r["preset"] == "tiny" for r in records)
    assert records[0]["players"] == 6 and records[0]["permutations"] == 20
    assert abs(records[0]["sum_over_total"] - 1) < 1e-9
    assert records[0]["max_se_over_total"] > 0
    assert records[1]["players"] == 6 and abs(records[1]["sum_over_total"] - 1) < 1e-9
    assert records[2]["exact_s"] > 0 and records[2]["sampled_s"] > 0
    assert "exact16" in printed


def test_score_bench(cache: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "score.jsonl"
    run(PY, BENCH / "score.py", "--preset", "tiny", "--orders", "1", "3", "--open", "5000",
        "--touch", "500", "--repeat", "1", "--out", out_file)  # fmt: skip
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [r["order"] for r in records] == [1, 3]
    for r in records:
        assert r["exact"] + r["backed_off"] + r["unknown"] == 5000
        assert r["journeys_per_s"] > 0 and r["touch_pairs_per_s"] > 0
        assert r["rev"]
    # Every prefix ends with a channel of the table: a state at order 1.
    assert records[0]["exact"] == 5000
