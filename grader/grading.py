"""grade_file(): the one module that wires course, submission, sandbox, checks and results.

Trusted side. The student's process is started first, so that it imports
torch while this process loads the exercise spec (which imports torch too).
"""

from __future__ import annotations

import ast
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from grader import notebook
from grader.course import Course, ExerciseEntry
from grader.errors import UsageError
from grader.gradebook import file_digest
from grader.results import CheckResult, ExerciseResult, Failure, Kind
from grader.sandbox.messages import Hello, WorkerGone
from grader.sandbox.runner import LocalRunner, Runner, SandboxRunner

if TYPE_CHECKING:
    from grader.checks.engine import Replays
from grader.submission import Submission


def grade_file(course: Course, entry: ExerciseEntry, path: Path | None = None, *,
               student: str = "", on_check: Callable[[CheckResult], None] | None = None,
               replay: str | None = None, device: str = "cpu") -> ExerciseResult:
    """Grade one student file for one exercise in a fresh, limited process.

    With ``replay`` (a token from an earlier failure), run only that check on that input.
    ``device`` ("cpu" or "cuda", see ``resolve_device``) is where the student's inputs live;
    the reference always runs here, on the CPU, in float64.
    """
    submission = Submission(entry.id, path or course.student_file(entry), student, entry.functions)
    result = grade_source(course, entry, submission.source(), str(submission.path), student=student,
                          on_check=on_check, replay=replay, device=device)
    return dataclasses.replace(result, given_file=str(path)) if path is not None else result


def grade_warm(course: Course, entry: ExerciseEntry, source: bytes | Failure, shown: str) -> ExerciseResult:
    """``grade_source`` for a session that grades again and again (``grade watch``, a notebook's check):
    the same confinement, from a zygote the process keeps, so only the first grading starts torch."""
    from grader.classroom import StudentFile, grade_files, shared_zygote

    zygote = shared_zygote(str(course.root / "course.yaml"))
    (result,) = grade_files(course, "", [StudentFile(entry, shown, source)], zygote=zygote)
    return result


StartRunner = Callable[[bytes, ExerciseEntry, str], Runner]
"""(source, entry, device) -> a started runner for the student's file (``SandboxRunner`` by default)."""


def _fresh_process(source: bytes, entry: ExerciseEntry, device: str) -> SandboxRunner:
    return SandboxRunner(source, entry.file, entry.module, entry.limits, device)


def grade_source(course: Course, entry: ExerciseEntry, source: bytes | Failure, shown: str, *,
                 student: str = "", on_check: Callable[[CheckResult], None] | None = None,
                 replay: str | None = None, device: str = "cpu",
                 start_runner: StartRunner = _fresh_process,
                 replays: Replays | None = None) -> ExerciseResult:
    """Grade a file's bytes (already read and checked), or explain why it could not be (a ``Failure``).

    ``shown`` is how the file is named in the result. ``replays`` carries the inputs
    earlier submissions met, across the files of a class run (same result, less time).
    """
    from grader.sandbox.confine import probe, seal

    start = time.monotonic()
    problem = source if isinstance(source, Failure) else None
    tier = probe()
    seal([course.solutions_dir, course.root / ".grade"], tier)  # the uid tier's fence: out of reach first
    runner = None if isinstance(source, Failure) else start_runner(source, entry, device)
    try:
        exercise = load_exercise(course, entry)  # loads while the student's process starts
        from grader.checks.engine import gone_failure, grade_checks, not_run, replay_check

        if runner is not None:
            try:
                problem = _import_problem(runner.hello(), Path(shown))
            except WorkerGone as gone:
                problem = gone_failure(gone)
            problem = at_top_level(problem, source) if problem is not None else None
        if problem is not None or runner is None:
            checks = not_run(exercise, entry.points)
        elif replay is not None:
            checks = [replay_check(exercise, runner, entry.points, replay)]
        else:
            checks = grade_checks(exercise, runner, entry.points, on_check, replays=replays)
    finally:
        if runner is not None:
            runner.close()
    result = ExerciseResult(exercise=entry.id, title=entry.title, file=shown,
                            checks=tuple(checks), seconds=round(time.monotonic() - start, 3),
                            problem=problem, student=student, device=device, digest=file_digest(source),
                            sandbox=tier.name)
    return in_notebook(result, source)


def in_notebook(result: ExerciseResult, program: bytes | Failure) -> ExerciseResult:
    """A notebook's result: line numbers as cells and lines, and the lines left out (``grader.notebook``).

    Any program that carries a line map: a notebook's, or a notebook's saved as a script.
    """
    lines = notebook.LineMap.of(program.decode("utf-8", "replace")) if isinstance(program, bytes) else None
    if lines is None:
        return result
    checks = tuple(dataclasses.replace(c, failure=notebook.in_cells(c.failure, lines)) if c.failure else c
                   for c in result.checks)
    problem = notebook.in_cells(result.problem, lines) if result.problem is not None else None
    return dataclasses.replace(result, checks=checks, problem=problem, left_out=tuple(lines.left_out))


def resolve_device(choice: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is a usage error."""
    if choice == "cpu":
        return "cpu"  # without importing torch here: the student's process imports it meanwhile
    import torch

    if choice == "auto" and not torch.cuda.is_available():
        return "cpu"
    if not torch.cuda.is_available():
        raise UsageError(key="no-cuda", version=torch.__version__)
    return "cuda"


def grade_reference(course: Course, entry: ExerciseEntry,
                    functions: dict[str, Callable[..., object]] | None = None,
                    shrink: bool = True) -> ExerciseResult:
    """Grade trusted functions (the reference, or one with a known mistake) in-process."""
    from grader.checks.engine import grade_checks

    start = time.monotonic()
    exercise = load_exercise(course, entry)
    runner = LocalRunner(functions or exercise.references())
    checks = grade_checks(exercise, runner, entry.points, shrink=shrink)
    return ExerciseResult(exercise=entry.id, title=entry.title, file="<reference>",
                          checks=tuple(checks), seconds=round(time.monotonic() - start, 3), sandbox="trusted")


def load_exercise(course: Course, entry: ExerciseEntry):  # type: ignore[no-untyped-def]
    """The exercise's spec (instructor side) or, in a student release, its bank."""
    from grader.exercise import load_spec

    bank_file = course.bank_file(entry)
    if not course.spec_file(entry).exists() and bank_file.exists():
        from grader import bank

        return bank.load(bank_file, entry.id)
    return load_spec(course.spec_file(entry), entry.id)


def at_top_level(problem: Failure, source: bytes | Failure) -> Failure:
    """An import that failed in code at the top level of the file (a demo, a test call, a loop),
    or never finished: that code runs when the file is imported, before any check."""
    if problem.kind is Kind.TIMEOUT:
        return dataclasses.replace(problem, pattern={"pattern": "top-level-slow"})
    line = problem.detail.get("line", "")
    if problem.kind is not Kind.IMPORT_ERROR or not line.isdigit() or not isinstance(source, bytes):
        return problem
    try:
        tree = ast.parse(source)
    except notebook.UNPARSABLE:
        return problem
    at = next((n for n in tree.body if n.lineno <= int(line) <= (n.end_lineno or n.lineno)), None)
    definitions = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    if at is None or isinstance(at, definitions):
        return problem
    return dataclasses.replace(problem, pattern={"pattern": "top-level-code", "line": line})


def _import_problem(hello: Hello, path: Path) -> Failure | None:
    if hello.ok:
        return None
    error = hello.error
    if error is None:
        return Failure(Kind.IMPORT_ERROR, {"file": path.name, "line": "", "type": "", "message": ""})
    syntax = error.type in ("SyntaxError", "IndentationError", "TabError")
    kind = Kind.SYNTAX_ERROR if syntax else Kind.IMPORT_ERROR
    return Failure(kind, {"file": path.name, "line": str(error.line or ""), "type": error.type,
                          "message": error.message})
