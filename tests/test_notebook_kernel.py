"""check() in a real Jupyter kernel (nbclient + ipykernel), as a student runs it.

The notebook defines the function, checks it, redefines it with a mistake and
checks again in the same kernel: each check grades the functions as last run.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _shown(cell: nbformat.NotebookNode) -> str:
    """What a cell displayed, as plain text (rich sends HTML and ANSI-coloured text to Jupyter)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
        parts.append(output.get("ename", "") + output.get("evalue", ""))
    return ANSI.sub("", "".join(parts))


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    right = (ROOT / "solutions" / "ex05_forget_gate.py").read_text()
    tanh = ("import torch\n\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
            "    return torch.tanh(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f)\n")
    course = repr(str(ROOT))
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 과제"),
        nbformat.v4.new_code_cell("%matplotlib inline\n" + right),
        nbformat.v4.new_code_cell(f"from grader import check\ncheck('exercise-05', course={course})"),
        nbformat.v4.new_code_cell(tanh),
        nbformat.v4.new_code_cell(f"check('05', course={course}, lang='ko')"),
        nbformat.v4.new_code_cell("def forget_gate(h_prev, x_t, W_f, b_f):\n    return h_prev.nope"),
        nbformat.v4.new_code_cell(f"check('05', course={course})"),
        nbformat.v4.new_code_cell(f"check('exercise-99', course={course})"),
    ])
    NotebookClient(notebook, timeout=180, kernel_name="python3", allow_errors=True).execute()
    return notebook


def test_a_correct_function_passes_and_the_magic_is_named(executed: nbformat.NotebookNode) -> None:
    shown = _shown(executed.cells[2])
    assert "All checks passed" in shown, shown
    assert "cell 1, line 1: left out" in shown  # In [1]: the magic, never run
    assert any(o.get("data", {}).get("text/html") for o in executed.cells[2].outputs)  # rendered for Jupyter


def test_the_function_as_last_run_is_graded_with_its_mistake_named(executed: nbformat.NotebookNode) -> None:
    shown = _shown(executed.cells[4])
    assert "tanh-not-sigmoid" in shown and "점수: 0 / 5" in shown, shown
    assert "h_prev = torch.tensor(" in shown  # the shrunk input, as code for the next cell
    assert "--replay" not in shown  # a notebook reruns a check with check(...)


def test_an_error_names_the_cell_as_jupyter_numbers_it(executed: nbformat.NotebookNode) -> None:
    shown = _shown(executed.cells[6])
    assert "AttributeError (cell 5, line 2)" in shown, shown  # In [5], its second line


def test_a_usage_error_is_one_line_not_a_traceback(executed: nbformat.NotebookNode) -> None:
    shown = _shown(executed.cells[7])
    assert "grade: error:" in shown and "exercise-99" in shown, shown
    assert not any(o.get("output_type") == "error" for o in executed.cells[7].outputs)
