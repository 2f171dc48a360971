"""``check("exercise-05")`` in a Jupyter or Colab cell: grade the functions as the student last ran them.

Trusted side, in the student's kernel, where nothing of the student's is called.
The kernel's input history (every cell as it was run, in order) is read as a
notebook's cells, and ``grader.notebook`` takes the definitions the exercise's
functions need, the last of each winning, as in the kernel. That program is
graded like any file: in a fresh confined process, never in the kernel. Cells
are numbered by execution count, as Jupyter shows them: "cell 7" is ``In [7]``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from grader import notebook
from grader.course import load_course
from grader.errors import GraderError, UsageError
from grader.results import ExerciseResult

SHOWN = "notebook.ipynb"


def check(exercise: str, *, course: str | Path | None = None, lang: str | None = None) -> None:
    """Grade ``exercise``'s functions as this notebook last defined them, and show the feedback here."""
    from rich.console import Console
    from rich.text import Text

    from grader.feedback.messages import default_language, error_line
    from grader.feedback.terminal import render_exercise

    console = Console(highlight=False)
    lang = lang or default_language()
    try:
        result = grade_cells(exercise, history(), course)
    except GraderError as exc:  # no course.yaml here, an unknown exercise: one line, as the CLI says it
        console.print(Text(error_line(exc, lang), style="red"))
        return
    render_exercise(without_replays(result), console, lang)


def grade_cells(exercise: str, cells: list[str | None], course: str | Path | None = None) -> ExerciseResult:
    """Grade the definitions ``cells`` hold for ``exercise``, confined, as a notebook file is graded.

    The kernel keeps a zygote (torch imported, no student code run) for the next check,
    where its children fence themselves in, as a class run's grading process does: each
    check forks a fresh child from it, so only the first pays for starting torch.
    """
    from grader.grading import grade_warm

    loaded = load_course(Path(course) if course is not None else None)
    entry = loaded.resolve(exercise)
    return grade_warm(loaded, entry, notebook.program(cells, entry.functions), SHOWN)


def history() -> list[str | None]:
    """The kernel's cells as run, by execution count (1 first), as typed: magics are still magics."""
    shell = _shell()
    if shell is None:
        raise UsageError(key="check-outside-notebook")
    return list(shell.history_manager.input_hist_raw[1:])


def _shell() -> Any:
    try:
        from IPython.core.getipython import get_ipython
    except ImportError:
        return None
    return get_ipython()  # type: ignore[no-untyped-call]


def without_replays(result: ExerciseResult) -> ExerciseResult:
    """No replay command: a notebook reruns a check by running ``check(...)`` again."""
    checks = tuple(dataclasses.replace(c, failure=dataclasses.replace(c.failure, replay=""))
                   if c.failure is not None else c for c in result.checks)
    return dataclasses.replace(result, checks=checks)
