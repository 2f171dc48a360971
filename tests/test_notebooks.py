"""Notebooks: the cells that define an exercise's functions are graded exactly like a .py file.

Notebooks are built with nbformat; they go through ``grade``, ``grade class`` and the autograder.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from pathlib import Path

import nbformat
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import notebook
from tests.conftest import ROOT, copy_course, grade

FORGET = (ROOT / "solutions" / "ex05_forget_gate.py").read_text()
SCORES = (ROOT / "solutions" / "ex08_attention_scores.py").read_text()


def _notebook(*cells: str, outputs: list[dict[str, object]] | None = None) -> str:
    made = [nbformat.v4.new_markdown_cell("# Homework 2 / 과제 2")]
    for source in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.from_dict(o) for o in outputs or []]
        made.append(cell)
    return str(nbformat.writes(nbformat.v4.new_notebook(cells=made)))


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body)
    return folder / name


def test_a_correct_notebook_passes_and_its_magics_are_named_not_run(tmp_path: Path) -> None:
    path = _write(tmp_path, "hw.ipynb", _notebook(f"%matplotlib inline\n!touch {tmp_path}/ran\n" + FORGET,
                                                  "forget_gate(1, 2, 3, 4)  # a call at the top level"))
    run = grade("exercise-05", "--file", str(path))
    assert run.code == 0, run.out + run.err
    assert "cell 2, line 1: left out" in run.out and "(a shell command)" in run.out
    assert not (tmp_path / "ran").exists()


def test_errors_name_the_cell_and_its_line(tmp_path: Path) -> None:
    raising = ("import torch\n\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
               "    z = h_prev.no_such_thing\n    return z\n")
    path = _write(tmp_path, "hw.ipynb", _notebook("x = 1", raising))
    run = grade("exercise-05", "--file", str(path), "--lang", "ko")
    assert run.code == 1 and "3번 셀 4번째 줄" in run.out, run.out
    syntax_error = "def forget_gate(h_prev, x_t, W_f, b_f:\n    return h_prev\n"
    broken = _write(tmp_path, "broken.ipynb", _notebook("import torch", syntax_error))
    run = grade("exercise-05", "--file", str(broken))
    assert run.code == 1 and "cell 3, line 1" in run.out and "SyntaxError" in run.out, run.out


def test_one_notebook_grades_every_exercise_it_defines(tmp_path: Path) -> None:
    path = _write(tmp_path, "homework.ipynb", _notebook(FORGET, SCORES))
    run = grade(str(path))
    assert run.code == 0, run.out + run.err
    assert "exercise-05" in run.out and "exercise-08" in run.out and "exercise-12" not in run.out
    none = _write(tmp_path, "empty.ipynb", _notebook("x = 1"))
    run = grade(str(none))
    assert run.code == 2 and "defines none of the course's functions" in run.err
    assert "Traceback" not in run.err


def test_broken_huge_and_output_heavy_notebooks(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.ipynb", '{"cells": [')
    run = grade("exercise-05", "--file", str(bad))
    assert run.code == 1 and "is not a notebook Jupyter can open" in run.out
    assert "Traceback" not in run.out + run.err
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as f:
        f.truncate(notebook.MAX_NOTEBOOK_BYTES + 1)  # sparse: costs no disk
    run = grade("exercise-05", "--file", str(huge))
    assert run.code == 1 and "larger than" in run.out
    code = _write(tmp_path, "code.ipynb", _notebook(FORGET, "x = 1\n" * (notebook.MAX_CODE_CHARS // 6 + 1)))
    run = grade("exercise-05", "--file", str(code))  # the trusted side parses no more code than it bounds
    assert run.code == 1 and "MiB of code" in run.out and "Traceback" not in run.out + run.err
    picture = base64.b64encode(os.urandom(3 << 20)).decode()  # 4 MB of base64 in an output: not graded
    heavy = _write(tmp_path, "heavy.ipynb", _notebook(FORGET, outputs=[{
        "output_type": "display_data", "data": {"image/png": picture}, "metadata": {}}]))
    run = grade("exercise-05", "--file", str(heavy))
    assert run.code == 0, run.out + run.err


DEFINITION = st.sampled_from(["import torch", "import math as m", "SCALE = 2.0",
                              "def helper(z):\n    return z"])
NOISE = st.sampled_from(["print('hi')", "%timeit 1 + 1", "!ls", "helper?", "for i in range(3):\n    pass",
                         "open('x', 'w')", "plt.plot([1, 2])"])


@settings(max_examples=60, derandomize=True)
@given(st.lists(st.one_of(DEFINITION, NOISE), max_size=8), st.integers(0, 8))
def test_only_definitions_the_functions_need_are_taken(cells: list[str], at: int) -> None:
    graded = "def forget_gate(h_prev, x_t, W_f, b_f):\n    return helper(h_prev) * SCALE + m.pi + torch.e\n"
    cells = [*cells[:at], graded, *cells[at:]]
    program = notebook.convert(_notebook(*cells).encode(), ["forget_gate"])
    assert isinstance(program, bytes)
    text = program.decode()
    assert "def forget_gate" in text
    for noise in ("print(", "%timeit", "!ls", "range(3)", "open(", "plt.plot", "helper?"):
        assert noise not in text.replace("# seqgrade", "")
    for needed in ("import torch", "import math as m", "SCALE = 2.0", "def helper"):
        assert (needed in text) == any(needed in c for c in cells)
    lines = notebook.LineMap.of(text)
    assert lines is not None
    start = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("def forget_gate"))
    assert lines.lines[start] == (cells.index(graded) + 2, 1)  # every cell counted, the Markdown one too


def _class(tmp_path: Path) -> tuple[Path, Path]:
    course = copy_course(tmp_path / "course")
    subs = tmp_path / "submissions"
    _write(subs / "ana", "homework.ipynb", _notebook(FORGET, SCORES))
    tanh = "import torch\ndef forget_gate(h_prev, x_t, W_f, b_f):\n    return torch.tanh(h_prev)\n"
    _write(subs / "ben", "ex05_forget_gate.ipynb", _notebook(tanh))
    _write(subs / "ben", "ex08_attention_scores.py", SCORES)
    _write(subs / "cho", "notes.ipynb", _notebook("print('no exercise here')"))
    return course, subs


def test_class_runs_take_notebooks(tmp_path: Path) -> None:
    course, subs = _class(tmp_path)
    out = course / "grades"
    run = grade("class", str(subs), "--out", str(out), "--workers", "1", cwd=course, timeout=400)
    assert run.code == 0, run.err[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert rows["ana"]["exercise-05"] == "5" and rows["ana"]["exercise-08"] == "5"
    assert rows["ben"]["exercise-08"] == "5" and float(rows["ben"]["exercise-05"]) < 5
    assert rows["cho"]["exercise-05"] == "not submitted"
    assert "notes.ipynb: a notebook that defines no exercise's functions" in " ".join(run.out.split())
    feedback = (out / "students" / "ana" / "results.json").read_text()
    assert "homework.ipynb" not in json.loads(feedback)["output"]  # graded: nothing to say


def test_the_autograder_grades_a_notebook_submission(tmp_path: Path) -> None:
    course = copy_course(tmp_path / "course")
    submission = tmp_path / "submission"
    _write(submission / "nested", "homework.ipynb", _notebook("%pip install torch", FORGET))
    results = tmp_path / "results" / "results.json"
    run = grade("autograde", str(submission), "--results", str(results), cwd=course)
    assert run.code in (0, 1), run.err
    document = json.loads(results.read_text())
    assert document["score"] == 5 and "left out" in document["output"]


@settings(max_examples=200, derandomize=True)
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from([
    "# seqgrade:cell 3 1", "# seqgrade:cell x y", "# seqgrade:left-out 1 1 <b>x</b>",
    "# seqgrade:left-out 2 2 magic", "# seqgrade:cell 99999999999 1"])), max_size=12))
def test_a_forged_line_map_never_breaks_the_grader(rows: list[str]) -> None:
    """Student cells can hold comments that look like the program's own marks: never an error."""
    found = notebook.LineMap.of("\n".join([notebook.HEADER, *rows]))
    assert found is not None
    assert all(n.reason in ("magic", "shell", "help", "unparsable") for n in found.left_out)
    assert all(cell >= 0 and line >= 0 for cell, line in found.lines.values())


@settings(max_examples=150, derandomize=True)
@given(st.lists(st.one_of(st.text(max_size=120), st.sampled_from([
    "x = " + "1+" * 100_000 + "1",  # nesting too deep for the parser: RecursionError, not SyntaxError
    "def forget_gate(h, x, W, b):\n    return h\x00",  # a NUL byte
    "%%bash\nrm -rf /", "!rm -rf ~", "def forget_gate(:", "\ufeffdef forget_gate(h, x, W, b): return h"])),
    max_size=6))
def test_no_cell_text_breaks_the_conversion(cells: list[str]) -> None:
    """A notebook is read on the trusted side: whatever its cells hold, a program (or a failure) comes out."""
    program = notebook.convert(_notebook(*cells).encode(), ["forget_gate"])
    assert isinstance(program, bytes)
    lines = notebook.LineMap.of(program.decode("utf-8", "replace"))
    assert lines is not None and "rm -rf" not in program.decode("utf-8", "replace")


def _as_script(*cells: str) -> str:
    """A notebook saved as a Python script the way Jupyter's "Download as .py" (nbconvert) writes it:
    IPython's own transformer turns each magic and shell escape into a get_ipython() call."""
    from IPython.core.inputtransformer2 import TransformerManager

    made = TransformerManager()  # type: ignore[no-untyped-call]
    parts = ["#!/usr/bin/env python\n# coding: utf-8\n"]
    for number, source in enumerate(cells, start=1):
        parts.append(f"# In[{number}]:\n\n\n{made.transform_cell(source)}\n")
    return "\n\n".join(parts)


def test_a_notebook_saved_as_a_script_is_graded_as_the_notebook(tmp_path: Path) -> None:
    """%matplotlib, !pip and a top-level call became get_ipython() calls that only a kernel can run:
    the file imports, its definitions are graded (here one that fails an assert), nothing else
    runs, and a line is the script's own line."""
    script = _as_script(f"%matplotlib inline\n!touch {tmp_path}/ran", FORGET, "forget_gate(1, 2, 3, 4)")
    assert "get_ipython().run_line_magic('matplotlib', 'inline')" in script
    broken = script.replace("    return torch.sigmoid", "    assert False\n    return torch.sigmoid")
    line = broken.splitlines().index("    assert False") + 1
    run = grade("exercise-05", "--file", str(_write(tmp_path, "ex05_forget_gate.py", broken)), "--lang", "en")
    assert run.code == 1 and f"AssertionError (line {line})" in run.out and "cell" not in run.out, run.out
    assert "could not be imported" not in run.out and not (tmp_path / "ran").exists()


@given(st.sampled_from(["get_ipython().system('ls')", "files = get_ipython().getoutput('ls')", "x = 1",
                        "if __name__ == '__main__':\n    get_ipython()", "def f():\n    get_ipython()"]))
def test_only_a_top_level_get_ipython_call_marks_a_saved_notebook(statement: str) -> None:
    source = f"import torch\n{statement}\n".encode()
    top_level = statement.startswith(("get_ipython", "files"))
    assert notebook.exported(source) is top_level
