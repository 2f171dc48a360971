"""What the class got wrong: statistics from the gradebook's results, and the files that show them.

Trusted side. ``summarize`` turns every current result into a ``ClassSummary``
(data); the writers render it: grades.csv for an LMS import, a Markdown and
an HTML report (with a matplotlib plot), and per-student feedback and
results.json. Every file is written to a temporary name and renamed, so an
interrupted run never leaves half a report.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Course
from grader.errors import GraderError
from grader.feedback import escape
from grader.feedback.gradescope import results_json
from grader.feedback.markdown import points, student_markdown
from grader.results import ExerciseResult, Kind, Status

LIMIT_KINDS = (Kind.TIMEOUT, Kind.MEMORY_LIMIT, Kind.OUTPUT_LIMIT, Kind.DISK_LIMIT, Kind.CRASHED,
               Kind.GAVE_UP)


@dataclass(frozen=True, slots=True)
class MistakeCount:
    exercise: str
    mistake: str
    count: int
    example: str
    """One student whose output this mistake reproduces."""


@dataclass(slots=True)
class ClassSummary:
    exercises: list[str]
    students: dict[str, dict[str, ExerciseResult]] = field(default_factory=dict)
    check_rates: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    """exercise -> (check name, passed, graded) in the order the checks run."""
    mistakes: list[MistakeCount] = field(default_factory=list)
    limits: list[tuple[str, str, str]] = field(default_factory=list)
    """(student, exercise, kind) for submissions stopped by a limit or a crash."""
    slowest: list[tuple[str, str, float]] = field(default_factory=list)
    not_graded: set[tuple[str, str]] = field(default_factory=set)
    """(student, exercise) for files that have no grade yet (their grading failed; a rerun retries)."""
    look_alike: list[tuple[str, ...]] = field(default_factory=list)
    """Groups of student names that look the same on screen but are not (homoglyphs, normalization)."""

    def passed(self, exercise: str) -> tuple[int, int]:
        graded = [r[exercise] for r in self.students.values() if exercise in r]
        return sum(r.passed for r in graded), len(graded)


def summarize(course: Course, results: Iterable[ExerciseResult], students: Iterable[str] = (),
              not_graded: Iterable[tuple[str, str]] = ()) -> ClassSummary:
    """Statistics over ``results``; ``students`` adds those who submitted nothing (listed, no scores).

    ``not_graded``: (student, exercise) of submitted files with no grade yet, shown as such, never as 0.
    """
    summary = ClassSummary([e.id for e in course.exercises], not_graded=set(not_graded))
    for student in students:
        summary.students[student] = {}
    for student, _ in summary.not_graded:
        summary.students.setdefault(student, {})
    rates: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for r in sorted(results, key=lambda r: (r.student, r.exercise)):
        summary.students.setdefault(r.student, {})[r.exercise] = r
        for check in r.checks:
            tally = rates[r.exercise].setdefault(check.name, [0, 0])
            tally[0] += check.status is Status.PASSED
            tally[1] += 1
        kinds = {c.failure.kind for c in r.checks if c.failure} | ({r.problem.kind} if r.problem else set())
        summary.limits += [(r.student, r.exercise, k.value) for k in LIMIT_KINDS if k in kinds]
        summary.slowest.append((r.student, r.exercise, r.seconds))
    summary.check_rates = {ex: [(name, p, n) for name, (p, n) in checks.items()]
                           for ex, checks in rates.items()}
    # Counted once per (student, exercise): a mistake shown by several checks is still one student.
    per_student: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    for student, results_of in summary.students.items():
        for ex, r in results_of.items():
            for mistake in {c.failure.suspected_mistake for c in r.checks if c.failure} - {None}:
                assert mistake is not None
                per_student[ex, mistake] += 1
                example.setdefault((ex, mistake), student)
    summary.mistakes = [MistakeCount(ex, m, n, example[ex, m])
                        for (ex, m), n in sorted(per_student.items(), key=lambda kv: (-kv[1], kv[0]))]
    summary.slowest = sorted(summary.slowest, key=lambda s: -s[2])[:10]
    summary.look_alike = escape.look_alike(summary.students)
    return summary


def class_json(summary: ClassSummary) -> dict[str, object]:
    """``grade class --json``: each student, with only the exercises they submitted."""
    students = []
    for student, results in summary.students.items():
        exercises = {ex: {"score": round(r.score, 4), "max_score": round(r.max_score, 4),
                          "status": "passed" if r.passed else "failed"}
                     for ex in summary.exercises if (r := results.get(ex)) is not None}
        students.append({"student": student, "exercises": exercises,
                         "score": round(sum(r.score for r in results.values()), 4),
                         "max_score": round(sum(r.max_score for r in results.values()), 4)})
    return {"students": students}


# --- writers ---------------------------------------------------------------------------


def write_text(path: Path, body: str) -> None:
    """Write ``body`` to a temporary name beside ``path``, then rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(body, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


NOT_GRADED = "not graded"
"""A grades.csv cell for a file that was submitted but could not be graded yet: never a 0."""


def grades_csv(summary: ClassSummary, course: Course) -> str:
    """One row per student: points per exercise (blank: not submitted; NOT_GRADED) and the total.

    A student with a file not graded yet has no total: an LMS import must not read it as a grade.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *summary.exercises, "total"])
    for student, results in summary.students.items():
        pending = {ex for s, ex in summary.not_graded if s == student}
        cells = [NOT_GRADED if ex in pending else points(results[ex].score) if ex in results else ""
                 for ex in summary.exercises]
        total = "" if pending else points(sum(r.score for r in results.values()))
        writer.writerow([escape.csv_cell(student), *cells, total])
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the class report: a title and a table (or a note when it has no rows)."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[object, ...]]
    level: int = 2
    empty: str = "None."


def sections(summary: ClassSummary) -> list[Section]:
    """The report's content once, for both the Markdown and the HTML rendering."""
    exercises = [(ex, n, p, f"{p / n:.0%}") for ex in summary.exercises for p, n in [summary.passed(ex)] if n]
    tiers = sorted({r.sandbox or "?" for results in summary.students.values() for r in results.values()})
    parts = [Section("Exercises", ("exercise", "submitted", "passed", "pass rate"), exercises),
             Section("Sandbox tier student code ran under", ("tier",), [(t,) for t in tiers]),
             Section("Checks: pass rate per exercise", (), [], empty="")]
    parts += [Section(ex, ("check", "passed", "pass rate"),
                      [(name, f"{p}/{n}", f"{p / n:.0%}") for name, p, n in rates], level=3)
              for ex, rates in summary.check_rates.items()]
    parts += [
        Section("Most common mistakes", ("exercise", "mistake", "students", "for example"),
                [(m.exercise, m.mistake, m.count, m.example) for m in summary.mistakes[:20]]),
        Section("Stopped by a limit or a crash", ("student", "exercise", "reason"), list(summary.limits)),
        Section("Slowest submissions", ("student", "exercise", "seconds"),
                [(student, ex, f"{seconds:.1f}") for student, ex, seconds in summary.slowest]),
        Section("Not graded (a rerun retries them)", ("student", "exercise"), sorted(summary.not_graded)),
        Section("Student names that look alike (check the folders)", ("names",),
                [(" / ".join(escape.terminal(repr(n)) for n in group),) for group in summary.look_alike]),
    ]
    return parts


def report_markdown(summary: ClassSummary, course: Course) -> str:
    lines = [f"# {course.name}: class report", "", f"{len(summary.students)} students.", ""]
    for part in sections(summary):
        lines += ["#" * part.level + " " + part.title, ""]
        if part.rows:
            lines += ["| " + " | ".join(part.headers) + " |", "|" + "---|" * len(part.headers)]
            lines += ["| " + " | ".join(escape.markdown(str(cell)) for cell in row) + " |"
                      for row in part.rows]
        elif part.empty:
            lines.append(part.empty)
        lines.append("")
    return "\n".join(lines)


def report_html(summary: ClassSummary, course: Course, plot: str | None) -> str:
    """The same sections as a standalone page (no scripts; every value escaped)."""
    e = html.escape
    title = e(f"{course.name}: class report")
    body = [f"<h1>{title}</h1>", f"<p>{len(summary.students)} students.</p>"]
    if plot:
        body.append(f'<img src="{e(plot)}" alt="pass rate per exercise">')
    for part in sections(summary):
        body.append(f"<h{part.level}>{e(part.title)}</h{part.level}>")
        if part.rows:
            head = "".join(f"<th>{e(h)}</th>" for h in part.headers)
            cells = ("".join(f"<td>{escape.html_text(str(c))}</td>" for c in row) for row in part.rows)
            rows = "".join(f"<tr>{line}</tr>" for line in cells)
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif part.empty:
            body.append(f"<p>{e(part.empty)}</p>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def plot_png(summary: ClassSummary, path: Path) -> bool:
    """Pass rate per exercise as a bar chart; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return False
    shown = [(ex, *summary.passed(ex)) for ex in summary.exercises]
    shown = [(ex, p, n) for ex, p, n in shown if n]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(shown) + 1.2))
    ax.barh([ex for ex, _, _ in shown][::-1], [p / n for _, p, n in shown][::-1], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of submissions passing every check")
    fig.tight_layout()
    partial = path.with_name(f".{path.name}.partial.png")
    fig.savefig(partial, dpi=100)
    plt.close(fig)
    os.replace(partial, path)
    return True


def write_reports(out: Path, course: Course, summary: ClassSummary, lang: str) -> list[Path]:
    """Every file of a class run under ``out``; returns the paths written.

    A full disk (or any write error) is one line: the gradebook is already written, so the
    same command writes the reports again once there is room.
    """
    try:
        return _write_reports(out, course, summary, lang)
    except OSError as exc:
        raise GraderError(f"{out}: cannot write the reports ({exc.strerror or exc}); every grade is kept "
                          "in the gradebook: free some space and run the same command again") from None


def _write_reports(out: Path, course: Course, summary: ClassSummary, lang: str) -> list[Path]:
    written = []
    for student, results in summary.students.items():
        ordered = [results[ex] for ex in summary.exercises if ex in results]
        folder = out / "students" / student
        write_text(folder / "feedback.md", student_markdown(student, ordered, lang))
        gradescope = results_json(ordered, lang)
        write_text(folder / "results.json", json.dumps(gradescope, ensure_ascii=False, indent=2))
    written.append(out / "students")
    write_text(out / "grades.csv", grades_csv(summary, course))
    plot = "pass_rates.png" if plot_png(summary, out / "pass_rates.png") else None
    write_text(out / "report.md", report_markdown(summary, course))
    write_text(out / "report.html", report_html(summary, course, plot))
    written += [out / "grades.csv", out / "report.md", out / "report.html"]
    return written + ([out / plot] if plot else [])
