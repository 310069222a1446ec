"""The screenshot of the HTML report that the README shows: ``docs/report.png``.

Writes the report of the bundled B2B sample (``jl.report``, teams from the sample's channel map,
95 % intervals) and renders its top in headless Chromium (Debian's ``chromium``). With
``--out DIR`` both files go to DIR instead of ``docs/``.

Usage::

    python bench/report_screenshot.py
    python bench/report_screenshot.py --out /tmp/shot
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import journeyloop as jl

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--height", type=int, default=1500, help="pixels of the page shown")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    df = jl.datasets.load_b2b_paths()
    journeys = jl.Journeys.from_paths(
        df, path="path", conversions="conversions", nulls="nulls", value="value"
    )
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        jl.report(journeys, page, teams=jl.datasets.b2b_teams(), ci=0.95,
                  title="journeyloop report: the B2B sample")  # fmt: skip
        png = args.out / "report.png"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={Path(tmp) / 'profile'}", f"--window-size=1100,{args.height}",
             f"--screenshot={png}", page.as_uri()],
            check=True, capture_output=True, timeout=180,
            # Not a sanitizer runtime preloaded into Python (make asan-pytest).
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
        )  # fmt: skip
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
