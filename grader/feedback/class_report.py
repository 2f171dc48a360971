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
from grader.gradebook import Override
from grader.lms import Identity, canvas_csv, moodle_csv
from grader.results import ExerciseResult, Kind, Status
from grader.similarity import Similarity

LIMIT_KINDS = (Kind.TIMEOUT, Kind.EXERCISE_TIME, Kind.MEMORY_LIMIT, Kind.OUTPUT_LIMIT, Kind.DISK_LIMIT,
               Kind.CRASHED, Kind.GAVE_UP)


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
    overrides: dict[tuple[str, str], Override] = field(default_factory=dict)
    """The manual adjustment in force for a (student, exercise): its points replace the grader's."""
    identities: dict[str, Identity] | None = None
    """The roster (``--roster``): LMS identity by folder; None when the run had none."""
    unrostered: list[str] = field(default_factory=list)
    """Folders with submissions whose student is not on the roster."""
    similarity: Similarity | None = None
    """Leads on alike submissions (``grader.similarity``); None when not looked for."""

    def passed(self, exercise: str) -> tuple[int, int]:
        graded = [r[exercise] for r in self.students.values() if exercise in r]
        return sum(r.passed for r in graded), len(graded)

    def grade(self, student: str, exercise: str) -> Grade:
        """One cell of the gradebook: a score, an override, "not graded" or "not submitted"."""
        override = self.overrides.get((student, exercise))
        if override is not None:
            return Grade("override", override.points, override)
        if (student, exercise) in self.not_graded:
            return Grade("not-graded")
        result = self.students.get(student, {}).get(exercise)
        return Grade("not-submitted") if result is None else Grade("score", result.score)

    def total(self, student: str) -> float | None:
        """The student's points, or None while a file of theirs is not graded (never a partial sum)."""
        grades = [self.grade(student, ex) for ex in self.exercises]
        if any(g.state == "not-graded" for g in grades):
            return None
        return sum(g.points or 0.0 for g in grades)


@dataclass(frozen=True, slots=True)
class Grade:
    """What the gradebook says of one (student, exercise), as data."""

    state: str
    """"score", "override", "not-graded" (submitted, no grade yet: a rerun retries) or "not-submitted"."""
    points: float | None = None
    override: Override | None = None


def summarize(course: Course, results: Iterable[ExerciseResult], students: Iterable[str] = (),
              not_graded: Iterable[tuple[str, str]] = (),
              overrides: dict[tuple[str, str], Override] | None = None,
              identities: dict[str, Identity] | None = None) -> ClassSummary:
    """Statistics over ``results``; ``students`` adds those who submitted nothing (listed, no scores).

    ``not_graded``: (student, exercise) of submitted files with no grade yet, shown as such, never as 0.
    ``overrides``: the manual adjustments in force. ``identities``: the roster; everyone on it is
    listed (not submitted when they have no folder), and folders not on it are reported.
    """
    summary = ClassSummary([e.id for e in course.exercises], not_graded=set(not_graded),
                           overrides=dict(overrides or {}), identities=identities)
    students = list(students)
    if identities is not None:
        summary.unrostered = sorted(set(students) - set(identities))
        students = sorted(set(students) | set(identities))
    for student in students:
        summary.students[student] = {}
    for student, _ in summary.overrides:
        summary.students.setdefault(student, {})
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
        stopped = [k for k in LIMIT_KINDS if k in kinds]
        if len(stopped) > 1 and Kind.GAVE_UP in stopped:  # what follows a limit, not an event of its own
            stopped.remove(Kind.GAVE_UP)
        summary.limits += [(r.student, r.exercise, k.value) for k in stopped]
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
        exercises: dict[str, dict[str, object]] = {}
        for ex in summary.exercises:
            grade, r = summary.grade(student, ex), results.get(ex)
            if grade.state == "not-submitted":
                continue
            entry: dict[str, object] = {"state": grade.state}
            if r is not None:
                entry.update(score=round(r.score, 4), max_score=round(r.max_score, 4),
                             status="passed" if r.passed else "failed")
            if grade.override is not None:
                entry.update(score=grade.override.points, override={
                    "id": grade.override.id, "points": grade.override.points, "reason": grade.override.reason,
                    "by": grade.override.author, "at": grade.override.made_at})
            exercises[ex] = entry
        total = summary.total(student)
        students.append({"student": student, "exercises": exercises,
                         "score": None if total is None else round(total, 4),
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


CELLS = {"not-graded": "not graded (rerun to retry)", "not-submitted": "not submitted"}
"""grades.csv's words for a cell with no score: a file with no grade yet is never a 0."""


def grade_cell(grade: Grade) -> str:
    return CELLS[grade.state] if grade.points is None else points(grade.points)


def grades_csv(summary: ClassSummary, course: Course) -> str:
    """One row per student: points per exercise, the total, and the overrides in force.

    A cell says "not submitted", "not graded (rerun to retry)" or the points (an override's
    points where one is in force, listed in the last column). A student with a file not graded
    yet has no total: an LMS import must not read it as a grade.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *summary.exercises, "total", "overrides"])
    for student in summary.students:
        grades = [summary.grade(student, ex) for ex in summary.exercises]
        total = summary.total(student)
        notes = "; ".join(f"{ex}: {points(g.override.points)} by {g.override.author} ({g.override.reason})"
                          for ex, g in zip(summary.exercises, grades, strict=True) if g.override is not None)
        writer.writerow([escape.csv_cell(student), *(grade_cell(g) for g in grades),
                         "" if total is None else points(total), escape.csv_cell(notes)])
    return out.getvalue()


def lms_rows(summary: ClassSummary) -> list[tuple[Identity, dict[str, str]]]:
    """The roster's students with a number per exercise: blank while not graded, 0 when not submitted."""
    assert summary.identities is not None
    rows = []
    for folder, person in sorted(summary.identities.items()):
        cells = {}
        for ex in summary.exercises:
            grade = summary.grade(folder, ex)
            cells[ex] = "" if grade.state == "not-graded" else points(grade.points or 0.0)
        rows.append((person, cells))
    return rows


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the class report: a title and a table (or a note when it has no rows)."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[object, ...]]
    level: int = 2
    empty: str = "None."
    note: str = ""
    """A paragraph before the table."""


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
        Section("Overrides in force (manual adjustments)", ("id", "student", "exercise", "points", "grader's",
                                                            "by", "at", "reason"),
                [(o.id, o.student, o.exercise, points(o.points), _graded(summary, o), o.author, o.made_at,
                  o.reason) for o in sorted(summary.overrides.values(), key=lambda o: o.id)]),
        *([Section("Folders not on the roster", ("folder",), [(f,) for f in summary.unrostered])]
          if summary.identities is not None else []),
        Section("Student names that look alike (check the folders)", ("names",),
                [(" / ".join(escape.terminal(repr(n)) for n in group),) for group in summary.look_alike]),
    ]
    if summary.similarity is not None:
        parts += similarity_sections(summary.similarity)
    return parts


def similarity_sections(similarity: Similarity) -> list[Section]:
    """Leads on alike submissions (report.html shows each side by side), and wrong values many share."""
    from grader.feedback.side_by_side import CAVEAT, behaviour_evidence, code_evidence

    leads = [(m.exercise, " ↔ ".join(m.students), code_evidence(m)) for m in similarity.code]
    leads += [(s.exercise, " ↔ ".join(s.students), behaviour_evidence(s))
              for s in similarity.behaviour if not s.common]
    common = [(s.exercise, len(s.students), ", ".join(s.checks), ", ".join(s.students[:5]))
              for s in similarity.behaviour if s.common]
    return [Section("Similar submissions: leads for a person, not verdicts",
                    ("exercise", "students", "evidence"), leads, empty="No leads.", note=CAVEAT),
            Section("Wrong values many students share (a mistake the course could name)",
                    ("exercise", "students", "checks", "for example"), common)]


def _graded(summary: ClassSummary, override: Override) -> str:
    result = summary.students.get(override.student, {}).get(override.exercise)
    return points(result.score) if result is not None else "-"


def report_markdown(summary: ClassSummary, course: Course) -> str:
    lines = [f"# {course.name}: class report", "", f"{len(summary.students)} students.", ""]
    for part in sections(summary):
        lines += ["#" * part.level + " " + part.title, ""]
        if part.note:
            lines += [escape.markdown(part.note), ""]
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
        body += section_html(part)
    if summary.similarity is not None:
        from grader.feedback.side_by_side import leads_html

        body += ["<h2>Similar submissions side by side</h2>", *leads_html(summary.similarity)]
    return html_page(title, body)


def section_html(part: Section) -> list[str]:
    """One section: its heading, its note, then its table (or what it says when it has no rows)."""
    e = html.escape
    body = [f"<h{part.level}>{e(part.title)}</h{part.level}>"]
    if part.note:
        body.append(f"<p><em>{e(part.note)}</em></p>")
    if part.rows:
        head = "".join(f"<th>{e(h)}</th>" for h in part.headers)
        cells = ("".join(f"<td>{escape.html_text(str(c))}</td>" for c in row) for row in part.rows)
        rows = "".join(f"<tr>{line}</tr>" for line in cells)
        body.append(f"<table><tr>{head}</tr>{rows}</table>")
    elif part.empty:
        body.append(f"<p>{e(part.empty)}</p>")
    return body


def similarity_page(course: Course, similarity: Similarity, graded: int, files: int) -> str:
    """``grade similarity``'s page: the leads, then each side by side."""
    from grader.feedback.side_by_side import leads_html

    title = html.escape(f"{course.name}: similar submissions")
    body = [f"<h1>{title}</h1>", f"<p>{files} files; behaviour compared on the {graded} with a grade "
                                 "(grade class grades the others).</p>"]
    for part in similarity_sections(similarity):
        body += section_html(part)
    return html_page(title, [*body, "<h2>Side by side</h2>", *leads_html(similarity)])


def html_page(title: str, body: list[str]) -> str:
    """A standalone page around ``body`` (already escaped); ``title`` too."""
    from grader.feedback.side_by_side import STYLE

    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}" + STYLE)
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
        adjusted = {ex: o for (who, ex), o in summary.overrides.items() if who == student}
        folder = out / "students" / student
        write_text(folder / "feedback.md", student_markdown(student, ordered, lang, adjusted))
        gradescope = results_json(ordered, lang, adjusted)
        write_text(folder / "results.json", json.dumps(gradescope, ensure_ascii=False, indent=2))
    written.append(out / "students")
    write_text(out / "grades.csv", grades_csv(summary, course))
    if summary.identities is not None:
        possible = {str(e.id): e.points for e in course.exercises}
        rows = lms_rows(summary)
        write_text(out / "lms" / "canvas.csv", canvas_csv(rows, summary.exercises, possible))
        write_text(out / "lms" / "moodle.csv", moodle_csv(rows, summary.exercises))
        written += [out / "lms" / "canvas.csv", out / "lms" / "moodle.csv"]
    plot = "pass_rates.png" if plot_png(summary, out / "pass_rates.png") else None
    write_text(out / "report.md", report_markdown(summary, course))
    write_text(out / "report.html", report_html(summary, course, plot))
    written += [out / "grades.csv", out / "report.md", out / "report.html"]
    return written + ([out / plot] if plot else [])
