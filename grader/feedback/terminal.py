"""The terminal view: a summary table of the checks, then one panel per failure.

Trusted side. Everything the student's code produced (messages, printed
output) goes into ``rich.text.Text`` objects, never into markup, so it cannot
inject styles or escape sequences.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from grader.feedback.escape import terminal
from grader.feedback.explain import check_title, explain, left_out, replay_command, withheld
from grader.feedback.messages import LABELS, SANDBOX, text
from grader.feedback.side_by_side import CAVEAT
from grader.results import CheckResult, ExerciseResult, Failure, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from grader.classroom import ClassOutcome
    from grader.course import ExerciseEntry
    from grader.exercise import Hint
    from grader.gradebook import Override
    from grader.sandbox.confine import Tier
    from grader.similarity import Similarity
    from grader.status import ExerciseState
    from grader.validation import ExerciseValidation


MARKS = {Status.PASSED: ("✓", "green"), Status.FAILED: ("✗", "red"), Status.ERROR: ("!", "yellow")}


def _points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def summary_table(result: ExerciseResult, lang: str) -> Table:
    table = Table(show_edge=False, expand=False, pad_edge=False)
    table.add_column(text(LABELS, "check", lang))
    table.add_column(text(LABELS, "points", lang), justify="right")
    table.add_column(text(LABELS, "examples", lang), justify="right")
    for check in result.checks:
        mark, style = MARKS[check.status]
        name = Text.assemble((mark + " ", style), check_title(check, lang))
        ran = (text(LABELS, "same-cause-short", lang) if check.same_cause_as
               else str(check.examples) if check.examples else text(LABELS, "not-run", lang))
        why = "" if check.credited else f" ({withheld(check, lang)})"
        table.add_row(name, f"{_points(check.score)}/{_points(check.max_score)}{why}", ran)
    return table


def failure_body(failure: Failure, lang: str, verbose: bool = False,
                 exercise: str = "exercise-NN") -> RenderableType:
    explained = explain(failure, lang, exercise, escape=terminal)
    parts: list[RenderableType] = [Text(explained.message)]
    if explained.mismatch:
        parts.append(Text(explained.mismatch))
    if explained.mistake:
        parts.append(Text.assemble((text(LABELS, "mistake", lang) + ": ", "bold yellow"), explained.mistake))
    if explained.cause:
        label = text(LABELS, "likely-cause", lang) + ": "
        parts.append(Text.assemble((label, "bold yellow"), explained.cause))
    if explained.snippet:
        parts.append(Text(explained.input_label + ":", style="bold"))
        parts.append(Syntax(explained.snippet, "python", theme="ansi_dark", word_wrap=True))
    if explained.output and (verbose or not explained.snippet):
        parts.append(Text(text(LABELS, "output", lang) + ":", style="bold"))
        parts.append(Text(explained.output[-1500:]))
    return Group(*parts)


def failure_panel(check: CheckResult, lang: str, verbose: bool = False,
                  exercise: str = "exercise-NN") -> Panel:
    assert check.failure is not None
    return Panel(failure_body(check.failure, lang, verbose, exercise),
                 title=Text("✗ " + check_title(check, lang)), title_align="left", border_style="red")


def render_exercise(result: ExerciseResult, console: Console, lang: str, verbose: bool = False) -> None:
    heading = Text.assemble((f"{result.exercise} ", "bold"), (result.title, "bold cyan"), f"  {result.file}",
                            f"  [{result.device}]" if result.device != "cpu" else "")
    console.print(heading)
    for line in left_out(result, lang):
        console.print(Text(f"  {line}", style="yellow"), soft_wrap=True)
    if result.problem is not None:
        console.print(Panel(failure_body(result.problem, lang, verbose=True),
                            title=Text(text(LABELS, "not-run-because", lang)), title_align="left",
                            border_style="red"))
    console.print(summary_table(result, lang))
    for check in result.checks:
        if check.failure is not None:
            console.print(failure_panel(check, lang, verbose, result.exercise))
            if check.failure.replay:  # beside its check, outside the panel, never wrapped: one line
                command = replay_command(result.exercise, check.failure.replay, result.given_file)
                console.print(Text.assemble((text(LABELS, "replay", lang) + ": ", "bold"), command),
                              soft_wrap=True)
    failed = sum(c.status is not Status.PASSED for c in result.checks)
    verdict = (text(LABELS, "all-passed", lang) if result.passed
               else text(LABELS, "some-failed", lang, failed=failed, total=len(result.checks)))
    style = "bold green" if result.passed else "bold red"
    tier = f", {text(LABELS, 'sandbox', lang)}: {result.sandbox}" if result.sandbox else ""
    console.print(Text.assemble((f"{text(LABELS, 'score', lang)}: {_points(result.score)} / "
                                 f"{_points(result.max_score)}  ", "bold"), (verdict, style),
                                f"  ({result.seconds:.1f} s{tier})"))
    if result.sandbox == "rlimits":  # the student may be about to trust this machine with more than it holds
        console.print(Text(text(SANDBOX, "unconfined", lang), style="yellow"), soft_wrap=True)


def render_validation(item: ExerciseValidation, console: Console) -> None:
    mark = Text("✓ ", "green") if item.ok else Text("✗ ", "red")
    caught = f"{len(item.mistakes_caught)}/{len(item.mistakes_caught) + len(item.mistakes_missed)}"
    yes = {True: "ok", False: "FAILS"}
    console.print(Text.assemble(mark, (item.exercise, "bold"),
                                f"  reference {yes[not item.reference_failures]}"
                                f"  stub {yes[not item.stub_problems]}  mistakes caught {caught}"))
    for label, names in (("reference fails", item.reference_failures),
                         ("stub does not fail with not-implemented", item.stub_problems),
                         ("mistake passes every check", item.mistakes_missed),
                         ("mistake not diagnosed as itself", item.misdiagnosed)):
        for name in names:
            console.print(Text(f"    {label}: {name}", style="yellow"))


@contextmanager
def class_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with counts and ETA, from the first ``on_progress(done, total)`` call it yields."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    columns = ("grading", BarColumn(), MofNCompleteColumn(), "files", TimeElapsedColumn(), "ETA",
               TimeRemainingColumn())
    progress = Progress(*columns, console=console, transient=False)
    task = progress.add_task("grading", total=None)

    def update(done: int, total: int) -> None:
        if not progress.live.is_started:  # drawn once grading starts: a usage error before it is one line
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if progress.live.is_started:
            progress.stop()


def render_class_run(outcome: ClassOutcome, console: Console) -> None:
    run, summary, written = outcome.run, outcome.summary, outcome.written
    graded = f"{run.graded} graded now, {run.already} already in the gradebook"
    scope = f" of {run.only}" if run.only else ""
    console.print(Text.assemble(("class: ", "bold"), f"{run.students} students, {run.files} files{scope}: "
                                f"{graded} ({run.seconds:.1f} s)"))
    if run.only:
        console.print(Text(f"  only {run.only} was graded; the reports cover every exercise"))
    if summary.overrides:
        console.print(Text(f"  {len(summary.overrides)} override(s) in force (grade override --list)"))
    for folder in summary.unrostered:
        console.print(Text(terminal(f"  not on the roster: {folder}"), style="yellow"), soft_wrap=True)
    for item in run.ignored:
        line = Text(terminal(f"  ignored: {item.path}: {item.reason}"), style="yellow")
        console.print(line, soft_wrap=True)
    for student, reason in run.not_graded:
        line = Text(terminal(f"  not graded (a rerun retries): {student}: {reason}"), style="red")
        console.print(line, soft_wrap=True)
    for path in written:
        console.print(Text(f"  wrote: {path}"), soft_wrap=True)


def render_similarity(similarity: Similarity, graded: int, files: int, page: Path, console: Console) -> None:
    """``grade similarity``: the leads per exercise, the wrong values many share, the caveat, the page."""
    from grader.feedback.class_report import similarity_sections

    for part in similarity_sections(similarity):
        console.print(Text(part.title, style="bold"))
        if not part.rows:
            console.print(Text(f"  {part.empty}"))
            continue
        table = Table(show_edge=False, pad_edge=False)
        for label in part.headers:
            table.add_column(label)
        for row in part.rows:
            table.add_row(*(Text(terminal(str(cell))) for cell in row))
        console.print(table)
    if graded < files:
        console.print(Text(f"  behaviour compared on {graded} of {files} files: the others have no grade in "
                           f"{terminal(str(page.parent))} (run grade class first, or pass its --out)",
                           style="yellow"), soft_wrap=True)
    console.print(Text(CAVEAT, style="dim"))
    console.print(Text(terminal(f"  side by side: {page}")), soft_wrap=True)


STATE_MARKS = {"passing": ("✓", "green"), "failing": ("✗", "red"), "not-started": ("·", "dim")}


def render_overrides(overrides: Sequence[Override], console: Console, listing: bool) -> None:
    """Overrides as a table (``--list``), or one line for the one just made or undone."""
    if not listing:
        for o in overrides:
            done = f"undone by {o.undone_by}" if o.undone_at else f"{_points(o.points)} points"
            console.print(Text(terminal(f"override {o.id}: {o.student} {o.exercise}: {done} ({o.reason})")),
                          soft_wrap=True)
        console.print(Text("rerun grade class to refresh grades.csv and the reports", style="dim"))
        return
    if not overrides:
        console.print("no overrides")
        return
    table = Table(show_edge=False, pad_edge=False)
    for label in ("id", "student", "exercise", "points", "by", "at", "reason", "undone"):
        table.add_column(label)
    for o in overrides:
        undone = f"{o.undone_at} by {o.undone_by}" if o.undone_at else ""
        table.add_row(str(o.id), *(terminal(str(v)) for v in (o.student, o.exercise, _points(o.points),
                                                                o.author, o.made_at, o.reason, undone)))
    console.print(table)


def render_status(states: list[ExerciseState], upcoming: ExerciseState | None, console: Console,
                  lang: str) -> None:
    """Every exercise with its state and points, then the next one to do."""
    table = Table(show_edge=False, pad_edge=False)
    for label in ("exercise", "state", "points"):
        table.add_column(text(LABELS, label, lang), justify="right" if label == "points" else "left")
    for s in states:
        mark, style = STATE_MARKS[s.state]
        table.add_row(Text.assemble((f"{s.entry.id} ", "bold"), s.entry.title),
                      Text(f"{mark} {text(LABELS, s.state, lang)}", style=style),
                      f"{_points(s.score)}/{_points(s.max_score)}")
    console.print(table)
    total, most = sum(s.score for s in states), sum(s.max_score for s in states)
    console.print(Text(f"{text(LABELS, 'total', lang)}: {_points(total)} / {_points(most)}", style="bold"))
    if upcoming is None:
        console.print(Text(text(LABELS, "all-done", lang), style="bold green"))
    else:
        console.print(Text(text(LABELS, "next", lang, exercise=upcoming.entry.id, title=upcoming.entry.title),
                           style="bold"), soft_wrap=True)


def render_hint(entry: ExerciseEntry, hints: Sequence[Hint], level: int, console: Console, lang: str) -> None:
    """Hint ``level`` (1-based) of ``hints``, and how to get the next one."""
    if not hints:
        console.print(text(LABELS, "no-hints", lang))
        return
    chosen = hints[level - 1]
    title = text(LABELS, "hint", lang, level=level, count=len(hints), exercise=f"{entry.id} {entry.title}")
    console.print(Panel(Text(chosen.ko if lang == "ko" else chosen.en), title=Text(title), title_align="left",
                        border_style="cyan"))
    if level < len(hints):
        command = f"grade hint {entry.id} --level {level + 1}"
        console.print(Text(text(LABELS, "more-hints", lang, command=command)), soft_wrap=True)
    else:
        console.print(Text(text(LABELS, "last-hint", lang)))


def render_watching(entries: Sequence[ExerciseEntry], console: Console, lang: str) -> None:
    """What is being watched (an empty list: watching stopped)."""
    if not entries:
        console.print(Text(text(LABELS, "stopped-watching", lang)))
        return
    files = entries[0].file if len(entries) == 1 else text(LABELS, "every-file", lang, count=len(entries))
    console.print(Text(text(LABELS, "watching", lang, files=files), style="dim"), soft_wrap=True)


def tier_line(tier: Tier, lang: str) -> str:
    """The tier in force and why no stronger one is, in ``lang``."""
    why = "; ".join(text(SANDBOX, key, lang, detail=detail, uid=tier.uid if tier.uid is not None else "")
                    for key, detail in tier.missing)
    return text(SANDBOX, "tier-because" if why else "tier", lang, tier=tier.name, why=why)


def render_sandbox_note(tier: Tier, console: Console, lang: str, verbose: bool, as_json: bool) -> None:
    """Before a grade, on stderr: the tier when asked (``-v``); the warning where nothing confines the code
    and no feedback will say so (``--json``: ``render_exercise`` warns beneath the score)."""
    unconfined = tier.name == "rlimits" and as_json
    if verbose or unconfined:
        console.print(Text("grade: " + tier_line(tier, lang)), soft_wrap=True)
    if unconfined:
        console.print(Text("grade: " + text(SANDBOX, "unconfined", lang), style="yellow"), soft_wrap=True)


def render_doctor(tier: Tier, console: Console, lang: str) -> None:
    """``grade doctor``: the tier in force, why, and what each layer of confinement does here."""
    def answer(yes: bool, no: str = "no") -> str:
        return text(SANDBOX, "yes" if yes else no, lang)

    rows = [("bwrap", answer(tier.bwrap is not None)), ("landlock", answer(tier.landlock)),
            ("uid", answer(tier.uid is not None)), ("official", answer(tier.fenced, "no-unless-allowed")),
            ("seccomp", answer(tier.seccomp)), ("limits", answer(True))]
    console.print(Text(tier_line(tier, lang)), soft_wrap=True)
    for key, value in rows:
        console.print(Text("  " + text(SANDBOX, key, lang, answer=value)), soft_wrap=True)
