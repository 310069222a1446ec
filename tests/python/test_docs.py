"""The examples of docs/*.md that show their output (``>>>`` blocks) are run."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    "page",
    [
        "architecture.md",
        "calibration.md",
        "cli.md",
        "credit.md",
        "events.md",
        "loop.md",
        "order.md",
        "markov.md",
        "plots.md",
        "progress.md",
        "report.md",
        "scale-out.md",
        "scenarios.md",
        "scoring.md",
        "shapley.md",
        "simulation.md",
        "synthetic.md",
        "teams.md",
        "uncertainty.md",
    ],
)
def test_doc_examples(page: str) -> None:
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted > 5
    assert result.failed == 0, f"{result.failed} example(s) of docs/{page} failed (see above)"
