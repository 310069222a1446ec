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
    page = jl.report(b2b(), out, teams=jl.datasets.b2b_teams(), ci=0.9)
    assert out.read_text(encoding="utf-8") == page
    assert not (tmp_path / "r.html.tmp").exists()
    # Attribution by channel, by team, handoffs, openers and closers, removal effects,
    # transitions: six plots.
    assert page.count("<svg") == 6
    for heading in ("Data", "Attribution by channel, every method", "Attribution by team",
                    "Handoffs between teams", "Removal effects",
                    "Transition probabilities"):  # fmt: skip
        assert f"<h2>{heading}" in page
    assert "removal_effect_lower" in page
    # Nothing is fetched: no external URL in a src or href.
    assert not re.search(r"(src|href)=['\"]https?:", page)
    loop = jl.Histories.from_paths(["a > purchase > b", "b > purchase"], count=[3, 2],
                                   value=[30, 20])  # fmt: skip
    loop_page = jl.report(loop)
    assert "The loop: first and repeat purchases" in loop_page
    assert loop_page.count("<svg") == 3
    with pytest.raises(jl.InvalidInputError, match="Journeys or Histories"):
        jl.report(b2b().to_frame())


def test_report_renders_in_chromium_with_every_plot(tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    jl.report(b2b(), page, teams=jl.datasets.b2b_teams())
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
    # The browser parsed the six SVG plots, each with drawn paths.
    svgs = re.findall(r"<svg.*?</svg>", dom.stdout, re.S)
    assert len(svgs) == 6
    assert all("<path" in s for s in svgs)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    shot = tmp_path / "report.png"
    subprocess.run(
        [*base, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
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
    assert out.read_text(encoding="utf-8").count("<svg") == 3
    assert cli.main(["report", str(tmp_path / "none.csv"), "-o", str(out)]) == cli.USER_ERROR
