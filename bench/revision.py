"""The commit a benchmark runs at, for the lines it appends to bench/results/.

``git("rev-parse", "--short=12", "HEAD")`` names the commit and ``git("status", "--porcelain",
"--untracked-files=no")`` tells whether tracked files were modified (``dirty``); both give None
outside a git checkout. Imported by the benchmark scripts beside it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent


def git(*args: str) -> str | None:
    """The output of ``git ARGS`` in the repository, stripped; None when git fails."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()
