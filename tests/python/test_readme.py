"""Every output the README shows is what the code prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"<!-- output of: (.+?) -->\n(.*?)```text\n(.*?)```", README, re.S)


def run(source: str) -> str:
    if source == "python -m journeyloop.demo":
        cmd = [sys.executable, "-m", "journeyloop.demo"]
    elif source.startswith("python "):
        cmd = [sys.executable, str(REPO / source.split()[1])]
    elif source == "examples/cpp/quickstart.cpp":
        build = os.environ.get("JOURNEYLOOP_CPP_BUILD")
        if not build:
            pytest.skip("JOURNEYLOOP_CPP_BUILD not set (make test sets it)")
        cmd = [str(Path(build) / "examples" / "cpp" / "example_quickstart")]
    else:
        raise AssertionError(f"unknown source {source!r}")
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_blocks_found() -> None:
    assert [b[0] for b in BLOCKS] == [
        "python examples/python/quickstart.py",
        "examples/cpp/quickstart.cpp",
        "python -m journeyloop.demo",
        "python examples/python/loop_b2b.py",
    ]


@pytest.mark.parametrize(("source", "code", "output"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_readme_output_is_real(source: str, code: str, output: str) -> None:
    assert run(source) == output
    example = REPO / ("examples/cpp/quickstart.cpp" if source.endswith(".cpp") else "x")
    if source.startswith("python examples"):
        example = REPO / source.split()[1]
    if example.exists():
        text = example.read_text(encoding="utf-8")
        for line in code.splitlines():
            line = line.strip()
            if line and not line.startswith(("```", "<!--")) and line != "prints":
                assert line in text, f"README line not in {example.name}: {line}"
