"""The notebooks of examples/notebooks run from top to bottom, and are stored without outputs.

Each notebook is executed with nbclient in a kernel of this very interpreter (a kernel spec
written for the test, so that no other ``python3`` kernel installed on the machine is picked
up), from its own folder. A cell that raises fails the test; each notebook ends with asserts
on the figures it showed, so a broken API fails here even where the code still runs. Warnings
other than journeyloop's ``DataWarning`` (which a notebook shows on purpose) fail too, as
``filterwarnings = error`` does for the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "examples" / "notebooks"

# Every notebook of the folder, in the order of docs/notebooks.md.
NOTEBOOKS = [
    "01_quickstart.ipynb",
    "02_events_and_teams.ipynb",
    "03_circular_journey.ipynb",
    "04_scenarios.ipynb",
]


def nbformat_module() -> Any:
    """nbformat; a skip (a failure in CI) when the notebook tools are not installed."""
    try:
        import nbclient  # noqa: F401
        import nbformat
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("nbclient, nbformat and ipykernel are missing: make test installs them")
        pytest.skip("nbclient, nbformat and ipykernel are not installed (make test installs them)")
    return nbformat


# Runs in a child process: nbclient leaves ZeroMQ sockets to the garbage collector, whose
# ResourceWarnings would fail whichever test happens to be running (filterwarnings = error).
RUNNER = """
import json, sys
import nbclient, nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

source, target, kernels, folder = sys.argv[1:5]
nb = nbformat.read(source, as_version=4)
km = KernelManager(kernel_name="python3",
                   kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
client = nbclient.NotebookClient(nb, km=km, timeout=300, kernel_name="python3",
                                 resources={"metadata": {"path": folder}})
try:
    client.execute()
except nbclient.exceptions.CellExecutionError as err:
    print(err, file=sys.stderr)
    sys.exit(1)
finally:
    nbformat.write(nb, target)
"""


def execute(nb: Any, tmp_path: Path) -> Any:
    """``nb`` executed from the notebooks' folder, in a kernel that runs ipykernel on
    ``sys.executable`` (the only kernel spec the client is shown)."""
    nbformat = nbformat_module()
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    args = [source, target, tmp_path / "kernels", FOLDER]
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, args)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    # The traceback without its terminal colours.
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", result.stderr)
    assert result.returncode == 0, f"the notebook failed:\n{stderr}"
    return nbformat.read(target, as_version=4)


def stderr_text(nb: Any) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    )


def test_every_notebook_is_run() -> None:
    found = sorted(p.name for p in FOLDER.glob("*.ipynb"))
    assert found == sorted(NOTEBOOKS), (
        f"notebooks not run: {sorted(set(found) - set(NOTEBOOKS))}; "
        f"listed but missing: {sorted(set(NOTEBOOKS) - set(found))}"
    )
    docs = (REPO / "docs" / "notebooks.md").read_text(encoding="utf-8")
    for name in NOTEBOOKS:
        assert name in docs, f"docs/notebooks.md does not describe {name}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    nbformat = nbformat_module()
    nb = nbformat.read(FOLDER / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{name} has no code cell"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {i} has stored outputs (strip them)"
            assert cell.execution_count is None, f"{name}: cell {i} has an execution count"
    # Each notebook ends with the checks of what it showed.
    assert "assert " in code[-1].source, f"{name}: the last code cell should check invariants"


def test_kernel_is_this_interpreter(tmp_path: Path) -> None:
    nbformat = nbformat_module()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import sys, journeyloop\nprint(sys.executable)\nprint(journeyloop.__file__)"
            )
        ]
    )
    import journeyloop

    out = execute(nb, tmp_path).cells[0].outputs[0]["text"].splitlines()
    assert Path(out[0]).resolve() == Path(sys.executable).resolve()
    assert Path(out[1]).resolve() == Path(journeyloop.__file__).resolve()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, tmp_path: Path) -> None:
    nbformat = nbformat_module()
    nb = nbformat.read(FOLDER / name, as_version=4)
    done = execute(nb, tmp_path)
    last = [cell for cell in done.cells if cell.cell_type == "code"][-1]
    printed = "".join(out.get("text", "") for out in last.outputs)
    assert "all checks passed" in printed, f"{name}: the checks did not run to the end"
    warned = [
        line
        for line in stderr_text(done).splitlines()
        if "Warning" in line and "DataWarning" not in line
    ]
    assert not warned, f"{name} warned:\n" + "\n".join(warned)
