"""The ``grade`` command: parse, call one function, render. Nothing else lives here.

Trusted side. ``main`` is the only place that turns a ``GraderError`` into a
one-line message and an exit code.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from grader.course import Course, ExerciseEntry, load_course
from grader.errors import ExitCode, GraderError
from grader.feedback.messages import LANGUAGES

LANG = click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                    help="Feedback language (default: from the locale).")
COURSE = click.option("--course", "course_path", type=click.Path(path_type=Path), default=None,
                      help="course.yaml or its folder (default: found from the current folder).")
ALLOW_UNSANDBOXED = click.option(
    "--allow-unsandboxed", is_flag=True,
    help="Record a grade even where student code cannot be fenced off the file system (see grade doctor).")


class ExerciseGroup(click.Group):
    """``grade exercise-05`` works as well as ``grade check exercise-05``."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            return "check", self.get_command(ctx, "check"), args
        return super().resolve_command(ctx, args)


def _course(path: Path | None) -> Course:
    return load_course(path)


def _lang(lang: str | None) -> str:
    from grader.feedback.messages import default_language

    return lang or default_language()


@click.group(cls=ExerciseGroup, context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=True)
@click.version_option(package_name="seqgrade", prog_name="grade")
@click.pass_context
def cli(ctx: click.Context) -> ExitCode | None:
    """Grade sequence-model exercises: grade (status), grade exercise-05, grade class, grade validate."""
    if ctx.invoked_subcommand is None:
        code: ExitCode = ctx.invoke(status)
        return code
    return None


@cli.command("check")
@click.argument("exercise")
@click.option("--file", "file", type=click.Path(path_type=Path), default=None,
              help="Grade this file instead of the exercise's own file.")
@click.option("--json", "as_json", is_flag=True, help="Print Gradescope results.json to stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Show more detail for each failure.")
@click.option("--replay", "token", default=None, metavar="TOKEN",
              help="Run one failing check again, on the input it failed on (each failure prints its token).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the student's functions get their inputs (auto: cuda when a GPU is present).")
@ALLOW_UNSANDBOXED
@LANG
@COURSE
def check(exercise: str, file: Path | None, as_json: bool, verbose: bool, token: str | None,
          device: str, allow_unsandboxed: bool, lang: str | None, course_path: Path | None) -> ExitCode:
    """Grade one exercise (exercise-05, 05, ex05 or forget-gate)."""
    from grader.grading import grade_file, resolve_device

    course = _course(course_path)
    entry = course.resolve(exercise)
    _warn_if_unconfined(verbose)
    if as_json:  # a grade meant to be recorded (Gradescope's results.json): only from a fenced tier
        from grader.classroom import require_confinement

        require_confinement(allow_unsandboxed)
    if token is not None:
        from grader.checks.replay import decode

        decode(token)  # a damaged token is a usage error before anything starts
    result = grade_file(course, entry, file, replay=token, device=resolve_device(device))
    if file is None and token is None:
        from grader.status import remember

        remember(course, entry, result)  # for grade status
    _show(result, as_json, verbose, _lang(lang))
    return ExitCode.PASSED if result.passed else ExitCode.CHECKS_FAILED


def _warn_if_unconfined(verbose: bool) -> None:
    from grader.sandbox.confine import probe

    tier = probe()
    if verbose or tier.name == "rlimits":
        click.echo(f"grade: sandbox: {tier.describe()}", err=True)
    if tier.name == "rlimits":
        click.echo("grade: warning: student code runs with resource limits only, not confined "
                   "(see grade doctor)", err=True)


def _show(result: Any, as_json: bool, verbose: bool, lang: str) -> None:
    if as_json:
        from grader.feedback.gradescope import results_json

        click.echo(json.dumps(results_json([result], lang), ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    from grader.feedback.terminal import render_exercise

    render_exercise(result, Console(highlight=False), lang, verbose)


@cli.command("status")
@LANG
@COURSE
def status(lang: str | None = None, course_path: Path | None = None) -> ExitCode:
    """Every exercise with its state and points, and the next one to do (also: plain grade)."""
    from rich.console import Console

    from grader.feedback.terminal import render_status
    from grader.status import course_status, next_to_do

    course = _course(course_path)
    states = course_status(course)
    render_status(states, next_to_do(states), Console(highlight=False), _lang(lang))
    return ExitCode.PASSED


@cli.command("hint")
@click.argument("exercise")
@click.option("--level", type=click.IntRange(1, 9), default=None,
              help="Which hint (default: the next one after the last you saw).")
@LANG
@COURSE
def hint(exercise: str, level: int | None, lang: str | None, course_path: Path | None) -> ExitCode:
    """Show a hint for one exercise; each call shows a more detailed one."""
    from rich.console import Console

    from grader.feedback.terminal import render_hint
    from grader.grading import load_exercise
    from grader.status import next_hint_level

    course = _course(course_path)
    entry = course.resolve(exercise)
    hints = load_exercise(course, entry).hints
    shown = next_hint_level(course, entry.id, level, len(hints)) if hints else 0
    render_hint(entry, hints, shown, Console(highlight=False), _lang(lang))
    return ExitCode.PASSED


@cli.command("watch")
@click.argument("exercise", required=False)
@click.option("--interval", type=click.FloatRange(0.05, 10), default=0.5, show_default=True,
              help="Seconds between looks at the files.")
@LANG
@COURSE
def watch(exercise: str | None, interval: float, lang: str | None, course_path: Path | None) -> ExitCode:
    """Regrade on every save (one exercise, or whichever file changes); Ctrl-C to stop."""
    from rich.console import Console

    from grader.feedback.terminal import render_exercise, render_watching
    from grader.grading import grade_file
    from grader.status import remember
    from grader.watch import watch as watch_files

    course = _course(course_path)
    entries = [course.resolve(exercise)] if exercise else list(course.exercises)
    console, language = Console(highlight=False), _lang(lang)

    def regrade(entry: ExerciseEntry) -> None:
        if console.is_terminal:
            console.clear()
        result = grade_file(course, entry)
        remember(course, entry, result)
        render_exercise(result, console, language)
        render_watching(entries, console, language)

    render_watching(entries, console, language)
    watch_files(course, entries, regrade, interval)
    render_watching([], console, language)
    return ExitCode.PASSED


@cli.command("new")
@click.argument("exercise_id", metavar="EXERCISE_ID")
@click.option("--slug", required=True, help="Lowercase words joined by '-', e.g. running-mean.")
@click.option("--title", default=None, help="The title students see.")
@click.option("--function", "function", default=None, help="The function to write (default: from the slug).")
@click.option("--points", type=click.FloatRange(0, 1000), default=5, show_default=True)
@COURSE
def new(exercise_id: str, slug: str, title: str | None, function: str | None, points: float,
        course_path: Path | None) -> ExitCode:
    """Scaffold a new exercise: stub, reference, spec and course.yaml entry."""
    from grader.scaffold import new_exercise

    made = new_exercise(_course(course_path), exercise_id, slug, title, function, points)
    for path in made.files:
        click.echo(f"wrote {path}")
    click.echo(f"added {exercise_id} to {made.course_file}")
    click.echo(f"next: write the reference and the spec, then: grade validate --only {exercise_id}")
    return ExitCode.PASSED


@cli.command("release")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the bank's inputs (the official grade uses other, fresh inputs).")
@COURSE
def release(out: Path, seed: int, course_path: Path | None) -> ExitCode:
    """Write a student release: stubs, course.yaml, README, the grader and banks; no solutions."""
    from grader.delivery import student_release

    written = student_release(_course(course_path), out, seed)
    click.echo(f"wrote {out} ({len(written)} files); in it, students run: "
               "python3 -m pip install torch==2.13.0 . && grade exercise-01")
    return ExitCode.PASSED


@cli.command("gradescope")
@click.argument("out", type=click.Path(path_type=Path))
@COURSE
def gradescope(out: Path, course_path: Path | None) -> ExitCode:
    """Build a Gradescope autograder zip (setup.sh, run_autograder, the course and the grader)."""
    from grader.delivery import gradescope_zip

    bundle = gradescope_zip(_course(course_path), out)
    click.echo(f"wrote {bundle.path} ({bundle.files} files): upload it on Gradescope's "
               "Configure Autograder page")
    return ExitCode.PASSED


@cli.command("autograde", hidden=True)
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("--results", "results_path", type=click.Path(path_type=Path), required=True)
@ALLOW_UNSANDBOXED
@LANG
@COURSE
def autograde(submission: Path, results_path: Path, allow_unsandboxed: bool, lang: str | None,
              course_path: Path | None) -> ExitCode:
    """Grade every exercise file in SUBMISSION into a results.json (what run_autograder calls)."""
    from grader.delivery import autograde as grade_submission

    document = grade_submission(_course(course_path), submission, results_path, lang or "en",
                                allow_unsandboxed)
    click.echo(f"score {document['score']} / {document['max_score']} -> {results_path}")
    return ExitCode.PASSED


@cli.command("doctor")
def doctor() -> ExitCode:
    """Say which sandbox tier confines student code on this machine, and why."""
    from grader.sandbox.confine import probe

    tier = probe()
    click.echo(f"sandbox: {tier.describe()}")
    click.echo(f"  namespaces and read-only filesystem (bubblewrap): {'yes' if tier.bwrap else 'no'}")
    click.echo(f"  filesystem and TCP fenced by Landlock: {'yes' if tier.landlock else 'no'}")
    unprivileged = "yes" if tier.uid is not None else "no"
    click.echo(f"  runs as an unprivileged user, course secrets sealed: {unprivileged}")
    official = "yes" if tier.fenced else "no (--allow-unsandboxed)"
    click.echo(f"  fenced enough for an official grade: {official}")
    click.echo(f"  seccomp: no fork, exec, sockets, ptrace, mounts: {'yes' if tier.seccomp else 'no'}")
    click.echo("  limits: memory, CPU, file size, open files, wall clock, output: yes")
    return ExitCode.PASSED


@cli.command("validate")
@click.option("--only", default=None, help="Validate one exercise.")
@COURSE
def validate(only: str | None, course_path: Path | None) -> ExitCode:
    """Check the course: references pass, stubs fail, known mistakes are caught and named."""
    from rich.console import Console

    from grader.feedback.terminal import render_validation
    from grader.validation import validate_course

    course = _course(course_path)
    console = Console(highlight=False)
    report = validate_course(course, course.resolve(only) if only else None,
                             on_exercise=lambda item: render_validation(item, console))
    ok = all(item.ok for item in report)
    console.print("validate: " + ("all good" if ok else "problems found"), style="green" if ok else "red")
    return ExitCode.PASSED if ok else ExitCode.CHECKS_FAILED


@cli.command("class")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("grades"), show_default=True,
              help="Folder for the gradebook and the reports.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Grading processes (default: every core).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Grade on a dask.distributed cluster, e.g. tls://10.0.0.5:8786 (README).")
@click.option("--tls-ca-file", type=click.Path(path_type=Path), default=None,
              help="With tls://: the CA that signed the scheduler's and workers' certificates.")
@click.option("--tls-cert", type=click.Path(path_type=Path), default=None,
              help="With tls://: this client's certificate.")
@click.option("--tls-key", type=click.Path(path_type=Path), default=None,
              help="With tls://: its private key.")
@click.option("--insecure-scheduler", is_flag=True,
              help="Allow plain tcp:// to a scheduler on another machine (anyone there can set grades).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with every student's scores.")
@click.option("--only", default=None, metavar="EXERCISE", help="Grade one exercise only.")
@ALLOW_UNSANDBOXED
@LANG
@COURSE
def class_(submissions: Path, out: Path, workers: int | None, scheduler: str | None, tls_ca_file: Path | None,
           tls_cert: Path | None, tls_key: Path | None, insecure_scheduler: bool, as_json: bool,
           only: str | None, allow_unsandboxed: bool, lang: str | None, course_path: Path | None) -> ExitCode:
    """Grade every student folder in SUBMISSIONS; rerun to grade only new or changed files."""
    from rich.console import Console

    from grader.classroom import Cluster, executor_for, require_confinement, run_class
    from grader.feedback.class_report import class_json, summarize, write_reports
    from grader.feedback.terminal import class_progress, render_class_run
    from grader.gradebook import Gradebook
    from grader.roster import scan

    course = _course(course_path)
    roster = scan(course, submissions, course.resolve(only) if only else None)
    cluster = (None if scheduler is None
               else Cluster(scheduler, tls_ca_file, tls_cert, tls_key, insecure_scheduler))
    executor = executor_for(workers, cluster)  # a scheduler that would open the workers is refused here
    if scheduler is None:
        require_confinement(allow_unsandboxed)
    errors = Console(stderr=True, highlight=False)
    with Gradebook(out) as book, class_progress(errors) as progress:
        # Grading processes on this machine share what they learn through --out; a cluster's do not.
        shared = out / ".shared" if scheduler is None else None
        run = run_class(course, roster, book, executor,
                        allow_unsandboxed=allow_unsandboxed, shared=shared, on_progress=progress)
        results = [r for key in run.keys if (r := book.result(key)) is not None]
        missing = [(key.student, key.exercise) for key in run.keys if book.result(key) is None]
    summary = summarize(course, results, [s.student for s in roster.students], missing)
    written = write_reports(out, course, summary, _lang(lang))
    if as_json:
        click.echo(json.dumps(class_json(summary), ensure_ascii=False, indent=2))
        render_class_run(run, written, errors)
    else:
        render_class_run(run, written, Console(highlight=False))
    return ExitCode.PASSED if not run.not_graded else ExitCode.CHECKS_FAILED


def main(argv: list[str] | None = None) -> None:
    """Entry point: click in non-standalone mode, so errors become one line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="grade", standalone_mode=False)
    except GraderError as exc:
        click.echo(f"grade: error: {exc}", err=True)
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE_ERROR
    except (click.Abort, KeyboardInterrupt):
        click.echo("grade: interrupted", err=True)
        code = 130
    _exit(int(code or 0))


def _exit(code: int) -> None:
    """Exit without interpreter teardown: hypothesis's and torch's exit hooks take ~0.5 s.

    Everything the grader writes is flushed first; the student's process is
    already gone (``grade_file`` closes it), so nothing is left behind.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    from grader import peak

    peak.report()
    os._exit(code)
