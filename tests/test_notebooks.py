"""Every notebook runs top to bottom on the bundled data, and stays thin.

Notebooks are stored without outputs; this executes each one in a fresh kernel with the
repository root as working directory. A notebook that no longer runs fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600


def _code_cells(path: Path) -> list:
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebooks_exist_and_are_numbered():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 3
    assert all(re.match(r"\d\d-[a-z0-9-]+\.ipynb$", name) for name in names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    assert all(not cell.outputs and cell.execution_count is None for cell in _code_cells(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defines_no_functions(path):
    # Functions belong in the package; notebooks call them.
    for cell in _code_cells(path):
        assert not re.search(r"^\s*(def|class) ", cell.source, flags=re.M), cell.source[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.outputs if out.output_type == "error"]
    assert not errors
    # a notebook that draws figures shows them (a Figure made without pyplot shows as text
    # unless the notebook turns on the inline backend)
    draws = any("figure(" in cell.source for cell in _code_cells(path))
    images = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.outputs if "image/png" in out.get("data", {})]
    assert images or not draws
