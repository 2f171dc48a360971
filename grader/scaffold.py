"""grade new: scaffold an exercise (stub, reference, spec, course.yaml entry) for an instructor to fill in.

Trusted side. It never overwrites a file, and it appends to course.yaml as
text so the file's comments and layout stay as they were. The result loads
at once (``grade validate`` then says the reference is still to be written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.course import ID_PATTERN, NAME_PATTERN, SLUG_PATTERN, Course, load_course
from grader.errors import UsageError

STUB = '''"""{id} {slug}: {title}.

Fill in ``{function}`` below, then run ``grade {id}``.
"""

from __future__ import annotations

from torch import Tensor


def {function}(x: Tensor) -> Tensor:
    """TODO: what it computes, in English.

    TODO: 한국어 설명 (강의 노트의 용어를 쓰세요).

    Shapes / 크기:
        x (B, T)  ->  (B, T)
    """
    raise NotImplementedError("{id}: implement {function}")
'''

REFERENCE = '''"""{id} {slug}: the reference (hidden from students; written like a student file)."""

from __future__ import annotations

from torch import Tensor


def {function}(x: Tensor) -> Tensor:
    raise NotImplementedError("{id}: write the reference")
'''

SPEC = '''"""{id} {slug}: inputs, reference, rules and known mistakes."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from grader.checks.strategies import sizes, tensors
from grader.exercise import Exercise, Function, Hint, Mistake  # noqa: F401 - Mistake: for the list below

from .{module} import {function}


@st.composite
def inputs(draw: st.DrawFn, dtype: torch.dtype) -> dict[str, Any]:
    """The widest valid inputs: hypothesis shrinks failures to small sizes and simple values."""
    B, T = draw(sizes(1, 3)), draw(sizes(1, 5))
    return {{"x": draw(tensors((B, T), dtype))}}


EXERCISE = Exercise(
    id="{id}",
    functions=[Function(name="{function}", reference={function}, inputs=inputs)],
    # Known mistakes: Mistake("stable-id", "{function}", lambda x: ..., "English.", "한국어."),
    mistakes=[],
    hints=[Hint("TODO: a nudge.", "TODO: 힌트.")],
)
'''

ENTRY = '''  - id: {id}
    slug: {slug}
    title: "{title}"
    file: {file}
    functions: [{function}]
    points: {points}
'''


@dataclass(frozen=True, slots=True)
class Scaffold:
    files: tuple[Path, ...]
    course_file: Path


def new_exercise(course: Course, exercise_id: str, slug: str, title: str | None = None,
                 function: str | None = None, points: float = 5) -> Scaffold:
    """Write the three files and the course.yaml entry of a new exercise; refuse to overwrite anything."""
    number = _check(course, exercise_id, slug, function)
    function = function or slug.replace("-", "_")
    module = f"ex{number}_{slug.replace('-', '_')}"
    values = {"id": exercise_id, "slug": slug, "title": title or slug.replace("-", " ").capitalize(),
              "function": function, "module": module, "file": f"{module}.py", "points": f"{points:g}"}
    files = {course.exercises_dir / f"{module}.py": STUB, course.solutions_dir / f"{module}.py": REFERENCE,
             course.solutions_dir / f"{module}_spec.py": SPEC}
    for path in files:
        if path.exists():
            raise UsageError(f"{path} already exists; grade new never overwrites a file")
    for path, template in files.items():
        path.write_text(template.format(**values), encoding="utf-8")
    course_file = course.root / "course.yaml"
    text = course_file.read_text(encoding="utf-8")
    course_file.write_text(text + ("" if text.endswith("\n") else "\n") + ENTRY.format(**values),
                           encoding="utf-8")
    load_course(course_file)  # what was written must load; a bug here should not go unnoticed
    return Scaffold(tuple(files), course_file)


def _check(course: Course, exercise_id: str, slug: str, function: str | None) -> str:
    match = ID_PATTERN.match(exercise_id)
    if match is None:
        raise UsageError(f"{exercise_id!r} is not an exercise id like exercise-14")
    if not SLUG_PATTERN.match(slug):
        raise UsageError(f"--slug {slug!r}: use lowercase words joined by '-', e.g. running-mean")
    if function is not None and not NAME_PATTERN.match(function):
        raise UsageError(f"--function {function!r} is not a Python name")
    for entry in course.exercises:
        if entry.id == exercise_id or entry.slug == slug:
            raise UsageError(f"course.yaml already has {entry.id} ({entry.slug})")
    return match.group(1)
