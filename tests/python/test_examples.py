"""The examples run and check their own results."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "python").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_examples_found() -> None:
    assert EXAMPLES, "no examples found"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_checks_survive_optimisation(script: Path) -> None:
    # python -O drops assert statements: an example checks with if ...: raise.
    tree = ast.parse(script.read_text(encoding="utf-8"))
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert not asserts, f"{script.name} uses assert on lines {asserts}"
    result = subprocess.run([sys.executable, "-O", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
