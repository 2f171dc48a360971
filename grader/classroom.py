"""``grade class``: grade every student's files, in parallel, into the gradebook.

Trusted side. The parent reads and checks each file once (``Submission``),
skips what the gradebook already holds, and hands one task per student to a
pool of grading processes (or a dask cluster): each imports torch once and
grades many students, and every student's code still runs in confined child
processes of its own. Only the parent writes the gradebook, one grade per
transaction as results arrive, so an interrupted run loses nothing and a
rerun grades only what is missing.
"""

from __future__ import annotations

import atexit
import functools
import os
import sqlite3
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import Course, ExerciseEntry, load_course
from grader.errors import GraderError, UsageError
from grader.gradebook import Gradebook, GradeKey, course_version, file_digest, grader_version, sha256
from grader.results import ExerciseResult, Failure, from_data, to_data
from grader.roster import Ignored, Roster
from grader.submission import Submission

if TYPE_CHECKING:
    from grader.checks.engine import Replays
    from grader.feedback.class_report import ClassSummary
    from grader.lms import Identity
    from grader.sandbox.zygote import HubAddress, SharedZygote, ZygoteHub
    from grader.similarity import Similarity


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to grade: its gradebook key, how it is named, and its bytes (or why it has none)."""

    key: GradeKey
    shown: str
    source: bytes | Failure


@dataclass(frozen=True, slots=True)
class StudentTask:
    """Everything a grading process needs for one student; no path into the submissions folder."""

    course_file: str
    student: str
    jobs: tuple[FileJob, ...]
    allow_unsandboxed: bool = False
    shared: str | None = None
    """A folder where the grading processes of this run share the inputs they met (``ReplayStore``)."""
    shared_key: bytes = b""
    """The secret that authenticates what is shared there (``store.key_for``)."""


@dataclass(slots=True)
class ClassRun:
    """What a class run did, as data (rendered by the CLI)."""

    students: int
    files: int
    graded: int = 0
    already: int = 0
    """Files the gradebook already held (same file, grader and course)."""
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    """(student, reason) for tasks the grading processes could not finish; a rerun retries them."""
    ignored: tuple[Ignored, ...] = ()
    seconds: float = 0.0
    current: list[CurrentFile] = field(default_factory=list)
    """Every file found now (graded in this run or before), read once: its key, path and bytes."""
    only: str | None = None
    """The one exercise this run graded (``--only``); the reports still cover every exercise."""

    @property
    def keys(self) -> list[GradeKey]:
        return [f.key for f in self.current]


def require_confinement(allow_unsandboxed: bool) -> None:
    """Refuse an official grade where student code could read the course and other students' files.

    Below the fenced tiers (bubblewrap, Landlock, an unprivileged user) a submission
    could read ``solutions/`` and return the reference's answers. ``--allow-unsandboxed``
    overrides, and every result still records the tier it was graded under.
    """
    from grader.sandbox.confine import probe

    tier = probe()
    if not allow_unsandboxed and not tier.fenced:
        raise UsageError(f"this machine confines student code with {tier.name} only, which does not fence "
                         "off the file system (see grade doctor); pass --allow-unsandboxed to grade anyway")


def plan(course: Course, roster: Roster, book: Gradebook, allow_unsandboxed: bool = False,
         shared: Path | None = None, only: str | None = None,
         ) -> tuple[list[StudentTask], list[CurrentFile], int]:
    """The tasks still to do, every current file (read once), and how many are already graded.

    ``shared``: a folder for the grading processes to share what they learn (one per
    grader and course version inside it, so a changed course never meets old inputs).
    ``only``: grade this exercise's files only; the keys still cover every file, so the
    reports go on describing the whole class.
    """
    versions = grader_version(), course_version(course)
    store = str(shared / sha256("\0".join(versions).encode())[:16]) if shared is not None else None
    from grader.checks.store import key_for

    secret = key_for(shared) if shared is not None else b""
    tasks, already = [], 0
    course_file = str(course.root / "course.yaml")
    jobs: dict[str, list[FileJob]] = {}
    files = list(current_files(course, roster, versions))
    for found in files:
        if only is not None and found.key.exercise != only:
            continue
        if book.has(found.key):
            already += 1
        else:
            shown = f"{found.key.student}/{found.path.name}"
            jobs.setdefault(found.key.student, []).append(FileJob(found.key, shown, found.source))
    for student, todo in jobs.items():
        tasks.append(StudentTask(course_file, student, tuple(todo), allow_unsandboxed, store, secret))
    return tasks, files, already


@dataclass(frozen=True, slots=True)
class CurrentFile:
    """A student's exercise file as it is now: the key its grade has, its path, its bytes (or why none)."""

    key: GradeKey
    path: Path
    source: bytes | Failure


def current_files(course: Course, roster: Roster,
                  versions: tuple[str, str] | None = None) -> Iterator[CurrentFile]:
    """Every exercise file of ``roster``, read once, by student then exercise, keyed under ``versions``
    (the grader's and the course's; computed here when not given)."""
    versions = versions or (grader_version(), course_version(course))
    for work in roster.students:
        for exercise, path in sorted(work.files.items()):
            functions = course.resolve(exercise).functions
            source = Submission(exercise, path, work.student, functions).source()
            yield CurrentFile(GradeKey(work.student, exercise, file_digest(source), *versions), path, source)


# --- in a grading process ----------------------------------------------------------------

_COURSES: dict[str, Course] = {}


def warm(course_file: str, threads: int | None = None, hub: HubAddress | None = None) -> None:
    """Import torch and the course once per grading process, before the first student.

    ``threads``: torch's threads for the reference side, where grading processes share
    the cores (a pool of N on C cores: C // N each). Left as it is, each process
    would start one per core, and N of them would take turns on every core.
    ``hub``: the run's shared zygote, joined instead of starting one of this process's own.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)

    from grader import peak

    peak.report_at_exit()
    _course(course_file)
    _HUB[course_file] = hub
    zygote = shared_zygote(course_file)
    if zygote is not None:
        zygote.get()  # it imports torch while the first student's files are read and the specs load


@functools.cache
def _replays(shared: str | None, key: bytes) -> Replays:
    """The inputs checks met in this grading process (and others, through ``shared``), met again."""
    from grader.checks.engine import Replays
    from grader.checks.store import ReplayStore

    return Replays(store=ReplayStore(Path(shared), key) if shared is not None else None)


def _course(course_file: str) -> Course:
    if course_file not in _COURSES:
        _COURSES[course_file] = load_course(Path(course_file))
    return _COURSES[course_file]


@functools.cache
def shared_zygote(course_file: str) -> SharedZygote | None:
    """This process's zygote, shared by every file it grades where each child fences itself in.

    Torch is then imported once per grading process (or ``grade watch``, or a notebook
    kernel), not once per file. Where children cannot fence themselves (no Landlock),
    each grading gets a zygote of its own.
    """
    from grader.sandbox import confine
    from grader.sandbox.zygote import SharedZygote, zygote_limits

    if not confine.fences_children(confine.probe()):
        return None
    shared = SharedZygote(zygote_limits(_course(course_file).exercises), hub=_HUB.get(course_file))
    _ZYGOTES.append(shared)
    atexit.register(shared.close)
    return shared


_ZYGOTES: list[SharedZygote] = []
_HUB: dict[str, HubAddress | None] = {}
"""The class run's hub, by course file, where ``warm`` was given one."""


def close_zygotes() -> None:
    """Stop every zygote this process kept (for an exit that skips ``atexit``, as the CLI's does)."""
    for shared in _ZYGOTES:
        shared.close()


def grade_student(task: StudentTask, keep: bool = True) -> list[tuple[GradeKey, dict[str, Any]]]:
    """A grading process's task: ``grade_files`` for one student, results as plain data to send back.

    ``keep``: this process's zygote serves its next student too.
    """
    require_confinement(task.allow_unsandboxed)  # on a cluster, this is the worker machine's tier
    course = _course(task.course_file)
    files = [StudentFile(course.resolve(job.key.exercise), job.shown, job.source) for job in task.jobs]
    zygote = shared_zygote(task.course_file) if keep else None
    replays = _replays(task.shared, task.shared_key)
    results = grade_files(course, task.student, files, zygote=zygote, replays=replays)
    return [(job.key, to_data(result)) for job, result in zip(task.jobs, results, strict=True)]


@dataclass(frozen=True, slots=True)
class StudentFile:
    """One file to grade in this process: its exercise, how it is named, its bytes (or why it has none)."""

    entry: ExerciseEntry
    shown: str
    source: bytes | Failure


def grade_files(course: Course, student: str, files: list[StudentFile], *,
                zygote: SharedZygote | None = None, replays: Replays | None = None) -> list[ExerciseResult]:
    """Grade one student's files here, each in a confined process of its own; results in ``files``' order.

    The one entry for grading several files: a class run's grading processes, ``grade status``
    and the Gradescope autograder. ``zygote``: a shared one that stays (a grading process);
    without, the student gets one of their own that ends with this call.
    """
    from grader.grading import grade_source
    from grader.sandbox.zygote import StudentSandbox

    entries = [f.entry for f in files]
    sources = {f.entry.file: f.source for f in files if isinstance(f.source, bytes)}
    graded: dict[int, ExerciseResult] = {}
    with StudentSandbox(sources, entries, shared=zygote) as sandbox:
        for i in _order(student, len(files)):
            graded[i] = grade_source(course, files[i].entry, files[i].source, files[i].shown, student=student,
                                     start_runner=sandbox.runner, replays=replays)
    return [graded[i] for i in range(len(files))]


def _order(student: str, count: int) -> list[int]:
    """A student's files in an order of their own (a rotation fixed by the name).

    Grading processes working side by side then meet each exercise at different
    times, so what one learns about an exercise (``ReplayStore``) is there before
    the other needs it, instead of both learning it at once.
    """
    start = zlib.crc32(student.encode()) % count if count else 0
    return [(start + i) % count for i in range(count)]


# --- in the parent -----------------------------------------------------------------------


Outcome = list[tuple[GradeKey, dict[str, Any]]] | BaseException
Executor = Callable[[list[StudentTask]], Iterator[tuple[StudentTask, Outcome]]]
"""Grades tasks somewhere and yields each with its results (or the exception that stopped it)."""


def run_class(course: Course, roster: Roster, book: Gradebook, executor: Executor, *,
              allow_unsandboxed: bool = False, shared: Path | None = None, only: str | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> ClassRun:
    """Grade what the gradebook lacks; ``on_progress(done, total)`` after each student.

    ``shared``: a folder the grading processes share what they learn through (see ``plan``).
    ``only``: grade one exercise's files (the run's keys still name every current file).
    """
    from grader.sandbox.confine import seal

    start = time.monotonic()
    # The uid tier's fence for what only a class run has: the other students' files and the gradebook
    # (grade_source seals the course's own secrets before each file).
    seal([p for p in (roster.root, book.path.parent) if p is not None])
    tasks, current, already = plan(course, roster, book, allow_unsandboxed, shared, only)
    files = roster.files if only is None else sum(only in w.files for w in roster.students)
    run = ClassRun(students=len(roster.students), files=files, already=already,
                   ignored=roster.ignored, current=current, only=only)
    total = sum(len(t.jobs) for t in tasks)
    done = 0
    if on_progress is not None:
        on_progress(0, total)
    for task, outcome in executor(tasks) if tasks else ():
        if isinstance(outcome, BaseException):
            run.not_graded.append((task.student, f"{type(outcome).__name__}: {outcome}"))
        else:
            for key, data in outcome:
                _record(book, key, from_data(data))
                run.graded += 1
        done += len(task.jobs)
        if on_progress is not None:
            on_progress(done, total)
    run.seconds = round(time.monotonic() - start, 2)
    return run


@dataclass(frozen=True, slots=True)
class ClassOutcome:
    """A class run and what it left under ``--out``: the run, the whole class's summary, the files."""

    run: ClassRun
    summary: ClassSummary
    written: list[Path]


def grade_class(course: Course, submissions: Path, out: Path, *, workers: int | None = None,
                cluster: Cluster | None = None, only: ExerciseEntry | None = None,
                allow_unsandboxed: bool = False, identities: dict[str, Identity] | None = None,
                lang: str = "en",
                on_progress: Callable[[int, int], None] | None = None) -> ClassOutcome:
    """``grade class``: grade what is new or changed, then write the whole class's reports.

    The reports and grades.csv always describe every current file in the gradebook,
    whatever ``only`` narrowed the grading to, with the overrides in force applied.
    """
    from grader.feedback.class_report import summarize, write_reports
    from grader.roster import scan

    roster = scan(course, submissions)
    executor = executor_for(workers, cluster)  # a scheduler that would open the workers is refused here
    if cluster is None:
        require_confinement(allow_unsandboxed)
    with Gradebook(out) as book:
        # Grading processes on this machine share what they learn through --out; a cluster's do not.
        shared = out / ".shared" if cluster is None else None
        run = run_class(course, roster, book, executor, allow_unsandboxed=allow_unsandboxed, shared=shared,
                        only=only.id if only else None, on_progress=on_progress)
        recorded = {key: book.result(key) for key in run.keys}  # each grade read and decoded once
        results = [r for r in recorded.values() if r is not None]
        missing = [(key.student, key.exercise) for key, r in recorded.items() if r is None]
        overrides = book.in_force()
    summary = summarize(course, results, [s.student for s in roster.students], missing, overrides, identities)
    summary.similarity = find_similar(course, run.current, results)
    return ClassOutcome(run, summary, write_reports(out, course, summary, lang))


def find_similar(course: Course, files: list[CurrentFile], results: list[ExerciseResult],
                 threshold: float | None = None, require_code: bool = False) -> Similarity:
    """Leads on alike submissions: the files as they are now, and the grades of those files."""
    from grader import similarity

    texts: dict[str, dict[str, str]] = defaultdict(dict)
    for found in files:
        if isinstance(found.source, bytes):
            texts[found.key.exercise][found.key.student] = found.source.decode("utf-8", "replace")
    return similarity.find(course, texts, results, similarity.THRESHOLD if threshold is None else threshold,
                           require_code)


def grade_similarity(course: Course, submissions: Path, out: Path,
                     threshold: float | None = None) -> tuple[Similarity, int, int]:
    """``grade similarity``: leads from the code, and from behaviour where ``out`` holds grades.

    Returns the leads, how many files had a grade to compare behaviour on (the newest grade
    of that exact file, whichever grader gave it) and how many files there are.
    """
    from grader.gradebook import FILE
    from grader.roster import scan

    roster = scan(course, submissions)
    current = list(current_files(course, roster))
    results: list[ExerciseResult] = []
    if (out / FILE).is_file():
        with Gradebook(out) as book:
            recorded = (book.latest(f.key.student, f.key.exercise, f.key.sha256) for f in current)
            results = [r for r in recorded if r is not None]
    return find_similar(course, current, results, threshold, require_code=True), len(results), len(current)


def _record(book: Gradebook, key: GradeKey, result: ExerciseResult) -> None:
    """One grade into the gradebook; a full disk stops the run with one line, every earlier grade kept."""
    try:
        book.record(key, result)
    except (sqlite3.Error, OSError) as exc:
        raise GraderError(f"{book.path}: cannot write the gradebook ({exc}); every grade written so far is "
                          "kept: free some space and run the same command again") from None


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_each(processes: int) -> int:
    """Torch's threads for each of ``processes`` sharing this machine's cores: more would take turns
    on every core, spinning on the cores the others need."""
    return max(1, default_workers() // processes)


@dataclass(frozen=True, slots=True)
class Cluster:
    """How to reach a dask scheduler: its address and, for ``tls://``, distributed's TLS files.

    Anyone who can talk to a scheduler runs code in its workers and sends back grades,
    so a scheduler on another machine is reached over mutual TLS (each side proves
    itself with a certificate of the course's own CA), or plain TCP only when the
    instructor says so (``insecure``).
    """

    address: str
    ca_file: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False
    timeout: float = 20.0
    """Seconds to wait for the scheduler to answer before the run stops with one line."""

    def check(self) -> None:
        """Refuse what would open the grading workers to the network; one usage line each."""
        scheme, _, rest = self.address.partition("://")
        if not rest:  # a bare host:port is dask's tcp://
            scheme, rest = "tcp", self.address
        files = (self.ca_file, self.cert, self.key)
        if scheme == "tls":
            if None in files:
                raise UsageError("--scheduler tls://: give --tls-ca-file, --tls-cert and --tls-key "
                                 "(README: grading on several machines)")
            for path in files:
                assert path is not None
                if not path.is_file():
                    raise UsageError(f"--tls: {path} is not a readable file")
        elif scheme == "inproc":
            return
        elif not _loopback(rest) and not self.insecure:
            raise UsageError(f"--scheduler {self.address}: plain {scheme} to another machine lets anyone who "
                             "reaches it run code in the grading workers and rewrite grades; use tls:// with "
                             "--tls-ca-file, --tls-cert and --tls-key, or pass --insecure-scheduler")

    def security(self) -> Any:
        """distributed's ``Security`` for this client (None without TLS files)."""
        if self.ca_file is None or self.cert is None or self.key is None:
            return None
        from distributed.security import Security

        return Security(tls_ca_file=str(self.ca_file), tls_client_cert=str(self.cert),  # type: ignore[no-untyped-call]
                        tls_client_key=str(self.key), require_encryption=True)


def _loopback(rest: str) -> bool:
    """Whether ``host:port`` (or ``[v6]:port``) names this machine."""
    import ipaddress

    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def executor_for(workers: int | None, scheduler: str | Cluster | None) -> Executor:
    """A dask cluster when ``scheduler`` is given (checked first), else a pool of ``workers`` processes."""
    if scheduler is not None:
        cluster = Cluster(scheduler) if isinstance(scheduler, str) else scheduler
        cluster.check()
        return lambda tasks: on_cluster(tasks, cluster)
    return lambda tasks: on_pool(tasks, workers or default_workers())


class ProcessDied(Exception):
    """A student whose grading process died each time, alone in it: not graded, never a 0."""


ALONE_TRIES = 2
"""How often a student is retried alone in a fresh process after a grading process died."""


def on_pool(tasks: list[StudentTask], workers: int) -> Iterator[tuple[StudentTask, Outcome]]:
    """A pool of grading processes (``_pool``); one student's crash never costs another a grade.

    A grading process that dies breaks the whole pool, and which of its students
    killed it is unknown. So every student the pool had not finished is graded
    again, each alone in a fresh process: the honest ones get their grade, and
    one whose process dies alone, every time, is reported as not graded.
    """
    suspects = yield from _pool_round(tasks, workers)
    for _ in range(ALONE_TRIES):
        if not suspects:
            return
        retry, suspects = suspects, []
        for start in range(0, len(retry), workers):  # up to ``workers`` single-process pools at a time
            suspects += yield from _alone(retry[start: start + workers])
    for task in suspects:
        yield task, ProcessDied("its grading process died each time it was graded alone")


PRELOAD = ["torch", "numpy", "hypothesis", "grader.checks.engine", "grader.classroom", "grader.forked"]
"""What the fork server imports once, for every grading process it forks (see ``_pool``)."""


def _pool(workers: int, course_file: str, sharing: int | None = None,
          hub: ZygoteHub | None = None) -> ProcessPoolExecutor:
    """Grading processes forked from a fork server that imported torch once, never from this process.

    This process has threads (the progress display) and the open gradebook, so it
    is never forked. The fork server is a fresh interpreter that only imports
    ``PRELOAD``: its grading processes start in milliseconds instead of each
    importing torch, and share torch's pages (about 140 MB a process) with it.
    ``sharing``: how many grading processes run at once, all pools together
    (``workers`` when not given); they split the cores between them (``warm``).
    ``hub``: one zygote for all of them (``ZygoteHub``), instead of one each.
    """
    context = get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    threads = threads_each(sharing or workers)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=warm,
                               initargs=(course_file, threads, hub.address if hub is not None else None))


Graded = Generator[tuple[StudentTask, Outcome], None, list[StudentTask]]
"""Yields each task with its outcome; returns the tasks whose grading process died."""


def _pool_round(tasks: list[StudentTask], workers: int) -> Graded:
    """Grade ``tasks`` on one pool; returns those a dead process left unfinished."""
    if not tasks:
        return []
    hub = _hub(tasks[0].course_file)
    try:
        pool = _pool(min(workers, len(tasks)), tasks[0].course_file, hub=hub)
        try:
            return (yield from _collect({pool.submit(grade_student, t): t for t in tasks}))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if hub is not None:
            hub.close()


def _hub(course_file: str) -> ZygoteHub | None:
    """A zygote for the pool's grading processes to share, where one can be (``ZygoteHub.possible``).

    Started here, it imports torch while the fork server does. Students graded again
    alone (``_alone``) never join one: each gets a zygote of its own.
    """
    from grader.sandbox.zygote import ZygoteHub, zygote_limits

    if not ZygoteHub.possible():
        return None
    try:
        return ZygoteHub(zygote_limits(load_course(Path(course_file)).exercises))
    except OSError:  # each grading process starts a zygote of its own, and says why where it cannot
        return None


def _alone(tasks: list[StudentTask]) -> Graded:
    """Each of ``tasks`` in a pool of its own; returns those whose own process died."""
    pools = {id(t): _pool(1, t.course_file, len(tasks)) for t in tasks}
    try:
        return (yield from _collect({pools[id(t)].submit(grade_student, t): t for t in tasks}))
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)


def _collect(futures: dict[Future[list[tuple[GradeKey, dict[str, Any]]]], StudentTask]) -> Graded:
    """Each task with its outcome as it completes; returns the tasks whose grading process died."""
    died: list[StudentTask] = []
    for future in as_completed(futures):
        outcome = _outcome(future)
        if outcome is None:
            died.append(futures[future])
        else:
            yield futures[future], outcome
    return died


def _outcome(future: Future[list[tuple[GradeKey, dict[str, Any]]]]) -> Outcome | None:
    """The task's results, the exception a grader bug raised for it, or None when its process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None
    except Exception as exc:  # a grader bug for this student: report it, keep going
        return exc


def on_cluster(tasks: list[StudentTask], cluster: Cluster) -> Iterator[tuple[StudentTask, Outcome]]:
    """The same tasks on a dask.distributed cluster; results come back here to be recorded."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed: pip install 'seqgrade[class]'") from None
    try:
        client = Client(cluster.address, timeout=cluster.timeout, security=cluster.security())  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler: cannot reach a dask scheduler at {cluster.address} ({exc})") from None
    try:
        client.run(warm, tasks[0].course_file)
        futures = {client.submit(grade_student, t, pure=False): t for t in tasks}
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            task = futures[future]
            try:
                yield task, future.result()
            except Exception as exc:
                yield task, exc
    finally:
        client.close()  # type: ignore[no-untyped-call]
