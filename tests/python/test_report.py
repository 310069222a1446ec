"""The HTML report: self-contained, every plot present, rendered by a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import journeyloop as jl
from journeyloop import cli


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: make test installs Debian's chromium")
        pytest.skip("chromium is not installed (make test installs it)")
    return found


def browser_env() -> dict[str, str]:
    """The environment without a preloaded sanitizer runtime (the suite also runs against an
    extension built with AddressSanitizer, preloaded into Python, not into the browser)."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


def b2b() -> jl.Journeys:
    df = jl.datasets.load_b2b_paths()
    return jl.Journeys.from_paths(
        df, path="path", conversions="conversions", nulls="nulls", value="value"
    )


def test_report_sections_and_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    page = jl.report(
        b2b(), out, teams=jl.datasets.b2b_teams(), stages=jl.datasets.b2b_stages(), ci=0.9
    )
    assert out.read_text(encoding="utf-8") == page
    assert not (tmp_path / "r.html.tmp").exists()
    # Attribution by channel, by team, handoffs, openers and closers, removal effects, the
    # journey graph, the circular journey by stage, transitions: eight plots.
    assert page.count("<svg") == 8
    for heading in ("Data", "Attribution by channel, every method", "Attribution by team",
                    "Handoffs between teams", "Removal effects", "The journey graph",
                    "The circular journey by stage",
                    "Transition probabilities"):  # fmt: skip
        assert f"<h2>{heading}" in page
    # Without stages (the paths have no stage metadata) no circular journey.
    plain = jl.report(b2b(), teams=jl.datasets.b2b_teams())
    assert plain.count("<svg") == 7
    assert "The circular journey" not in plain and "<h2>The journey graph" in plain
    assert "removal_effect_lower" in page
    # Nothing is fetched: no external URL in a src or href.
    assert not re.search(r"(src|href)=['\"]https?:", page)
    loop = jl.Histories.from_paths(["a > purchase > b", "b > purchase"], count=[3, 2],
                                   value=[30, 20])  # fmt: skip
    loop_page = jl.report(loop)
    assert "The loop: first and repeat purchases" in loop_page
    # Purchases, removal effects, the journey graph and transitions.
    assert loop_page.count("<svg") == 4
    staged = jl.report(loop, stages={"a": "awareness", "b": "loyalty"})
    assert staged.count("<svg") == 5 and "loyalty loop: " in staged
    with pytest.raises(jl.InvalidInputError, match="Journeys or Histories"):
        jl.report(b2b().to_frame())


def test_report_renders_in_chromium_with_every_plot(tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    jl.report(b2b(), page, teams=jl.datasets.b2b_teams(), stages=jl.datasets.b2b_stages())
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            profile, "--enable-logging=stderr", "--v=0"]  # fmt: skip
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        env=browser_env(),
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The browser parsed the eight SVG plots, each with drawn paths.
    svgs = re.findall(r"<svg.*?</svg>", dom.stdout, re.S)
    assert len(svgs) == 8
    assert all("<path" in s for s in svgs)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    shot = tmp_path / "report.png"
    subprocess.run(
        [*base, "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
        env=browser_env(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a page with plots, not a blank one


def test_report_command(tmp_path: Path) -> None:
    f = tmp_path / "paths.csv"
    jl.datasets.load_b2b_paths().head(300).to_csv(f, index=False)
    out = tmp_path / "r.html"
    assert cli.main(["report", str(f), "-o", str(out), "-q"]) == 0
    # Attribution, removal effects, the journey graph and transitions.
    assert out.read_text(encoding="utf-8").count("<svg") == 4
    assert cli.main(["report", str(tmp_path / "none.csv"), "-o", str(out)]) == cli.USER_ERROR


def test_model_report(tmp_path: Path) -> None:
    journeys = b2b()
    model = jl.MarkovModel().fit(journeys)
    out = tmp_path / "m.html"
    page = model.report(out, teams=jl.datasets.b2b_teams(), title="B2B")
    assert out.read_text(encoding="utf-8") == page
    # The same page as jl.report's, but for the title.
    assert page == jl.report(journeys, teams=jl.datasets.b2b_teams(), title="B2B")
    loop = jl.Histories.from_paths(["a > purchase > b", "b > purchase"], count=[3, 2],
                                   value=[30, 20])  # fmt: skip
    loop_model = jl.LoopModel().fit(loop)
    assert loop_model.report(stages={"a": "awareness", "b": "loyalty"}).count("<svg") == 5
    # A loaded model holds no journeys: a reduced report, which says so.
    loaded = jl.MarkovModel.from_bytes(model.to_bytes())
    reduced = loaded.report()
    assert "holds no journeys" in reduced
    for heading in ("The model", "Markov attribution", "Removal effects", "The journey graph",
                    "Transition probabilities"):  # fmt: skip
        assert f"<h2>{heading}" in reduced
    assert "<h2>Data" not in reduced and "every method" not in reduced
    assert reduced.count("<svg") == 4
    loaded_loop = jl.LoopModel.from_bytes(loop_model.to_bytes())
    assert "holds no journeys" in loaded_loop.report()
    assert loaded_loop.report().count("<svg") == 4
    with pytest.raises(jl.NotFittedError):
        jl.MarkovModel().report()
