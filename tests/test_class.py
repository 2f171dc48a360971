"""grade class: the whole class graded, resumable, with what the class got wrong.

The end-to-end tests run the real ``grade class`` on a small class (two fast
exercises; correct, buggy, stub and hostile files). The resumption rules are
checked twice: in-process, with hypothesis choosing where a run is
interrupted, and with real SIGKILLs of the whole command at seeded random times.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.classroom import FileJob, StudentTask, executor_for, plan, run_class
from grader.course import Course, load_course
from grader.feedback.class_report import class_json, grades_csv, summarize
from grader.gradebook import Gradebook, GradeKey
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Status, to_data
from grader.roster import scan
from tests.conftest import ROOT, copy_course, grade

EX08 = "ex08_attention_scores.py"
EX02 = "ex02_markov_log_likelihood.py"
NO_SCALING = "import math\n\ndef attention_scores(q, k):\n    return q @ k.transpose(-2, -1)\n"
EXITS = "import sys\nsys.exit(3)\n"
LOOPS = "def markov_log_likelihood(states, initial, transition):\n    while True:\n        pass\n"


def make_class(root: Path) -> Path:
    """Four students, one stray file, one odd folder name."""
    subs = root / "submissions"
    solutions = ROOT / "solutions"
    files = {
        "alice": {EX08: (solutions / EX08).read_text(), EX02: (solutions / EX02).read_text()},
        "bob": {EX08: NO_SCALING, EX02: (ROOT / "exercises" / EX02).read_text()},
        "carol": {EX08: EXITS, EX02: LOOPS, "notes.txt": "hello"},
        "dave": {},
    }
    for student, named in files.items():
        (subs / student).mkdir(parents=True)
        for name, body in named.items():
            (subs / student / name).write_text(body)
    (subs / "README.txt").write_text("stray")
    (subs / "eve|x").mkdir()
    return subs


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("class")
    return copy_course(root / "course"), make_class(root)


@pytest.fixture(scope="module")
def first_run(klass: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    course, subs = klass
    run = grade("class", str(subs), "--out", str(course / "grades"), "--workers", "2", "--json",
                cwd=course, timeout=300)
    return run, course / "grades"


def test_the_whole_class_is_graded_and_exits_0(first_run) -> None:  # type: ignore[no-untyped-def]
    run, _ = first_run
    assert run.code == 0, run.err[-3000:]
    doc = json.loads(run.out)  # exactly one JSON document on stdout
    students = {s["student"]: s for s in doc["students"]}
    assert list(students) == ["alice", "bob", "carol", "dave"]
    for entry in doc["students"]:
        assert set(entry) == {"student", "exercises", "score", "max_score"}
        for result in entry["exercises"].values():
            assert set(result) == {"state", "score", "max_score", "status"}
            assert result["status"] in ("passed", "failed") and result["state"] == "score"
    passed = {"state": "score", "score": 5.0, "max_score": 5.0, "status": "passed"}
    assert students["alice"]["exercises"]["exercise-08"] == passed
    assert students["alice"]["score"] == students["alice"]["max_score"] == 10.0
    assert students["bob"]["exercises"]["exercise-08"]["status"] == "failed"
    assert students["carol"]["score"] == 0.0 and set(students["carol"]["exercises"]) == {"exercise-02",
                                                                                          "exercise-08"}
    assert students["dave"] == {"student": "dave", "exercises": {}, "score": 0.0, "max_score": 0.0}


def test_ignored_entries_are_listed_and_the_run_goes_on(first_run) -> None:  # type: ignore[no-untyped-def]
    run, _ = first_run
    assert "README.txt: not a student folder" in run.err
    assert "carol/notes.txt: not an exercise file" in run.err
    assert "eve|x" in run.err


def test_grades_csv_is_one_row_per_student_with_a_total(first_run) -> None:  # type: ignore[no-untyped-def]
    _, out = first_run
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    alice = rows[0]
    assert alice["exercise-08"] == "5" and alice["exercise-02"] == "5" and alice["total"] == "10"
    assert alice["exercise-05"] == "not submitted"  # said, not 0
    for row in rows:
        submitted = [float(v) for k, v in row.items() if k.startswith("exercise-") and v != "not submitted"]
        assert float(row["total"]) == pytest.approx(sum(submitted))


def test_per_student_feedback_and_results_json(first_run) -> None:  # type: ignore[no-untyped-def]
    _, out = first_run
    bob = out / "students" / "bob"
    feedback = (bob / "feedback.md").read_text()
    assert "[no-scaling]" in feedback and "```python" in feedback
    results = json.loads((bob / "results.json").read_text())
    assert results["output_format"] == "md" and results["score"] < results["max_score"]
    assert {t["status"] for t in results["tests"]} <= {"passed", "failed"}


def test_class_report_says_what_the_class_got_wrong(first_run) -> None:  # type: ignore[no-untyped-def]
    _, out = first_run
    report = (out / "report.md").read_text()
    assert "| exercise-08 | no-scaling | 1 | bob |" in report
    assert "| carol | exercise-02 | timeout |" in report
    assert "| exercise-08 | 3 | 1 | 33% |" in report  # submitted, passed, pass rate
    page = (out / "report.html").read_text()
    assert '<img src="pass_rates.png"' in page and "no-scaling" in page and "<script" not in page
    assert (out / "pass_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _rows(out: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT student, exercise, sha256, score FROM grades ORDER BY 1, 2").fetchall()


def test_a_rerun_grades_only_new_or_changed_files(first_run, klass) -> None:  # type: ignore[no-untyped-def]
    _, out = first_run
    course, subs = klass
    before = _rows(out)
    again = grade("class", str(subs), "--out", str(out), cwd=course, timeout=120)
    assert again.code == 0 and "0 graded now, 6 already" in again.out, again.out + again.err
    assert _rows(out) == before
    changed = subs / "bob" / EX02
    changed.write_text((ROOT / "solutions" / EX02).read_text())
    try:
        third = grade("class", str(subs), "--out", str(out), cwd=course, timeout=120)
        assert third.code == 0 and "1 graded now, 5 already" in third.out, third.out + third.err
        assert len(_rows(out)) == len(before) + 1  # the old grade of the old file is kept, not replaced
        csv_rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
        assert csv_rows[1]["exercise-02"] == "5"
    finally:
        changed.write_text((ROOT / "exercises" / EX02).read_text())


@pytest.mark.parametrize("args", [["class", "no-such-folder"], ["class", "course.yaml"]])
def test_submissions_that_is_not_a_folder_is_one_usage_line(klass, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    course, _ = klass
    run = grade(*args, cwd=course)
    assert run.code == 2 and run.err.count("\n") == 1
    assert "SUBMISSIONS" in run.err and "Traceback" not in run.err


def test_a_tier_that_does_not_fence_files_is_refused_unless_allowed(klass, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    course, subs = klass
    env = {"GRADER_SANDBOX": "seccomp"}
    refused = grade("class", str(subs), "--out", str(tmp_path / "g"), "--only", "08", cwd=course, env=env)
    assert refused.code == 2 and "--allow-unsandboxed" in refused.err and refused.err.count("\n") == 1
    assert not (tmp_path / "g").exists()


MALLORY = """
import glob, os, struct, json
for path in glob.glob("SUBS/*/*.py"):  # other students' files: must be out of reach
    try:
        with open(path, "a") as f:
            f.write("\\nraise SystemExit(9)\\n")
    except Exception:
        pass
for fd in range(3, 40):  # forge a zygote's "exited" frame and a passing reply on every pipe
    for header in ({"op": "exited", "status": 0}, {"op": "reply", "id": 1, "ok": True, "result": 1.0}):
        body = json.dumps({**header, "buffers": []}).encode()
        try:
            os.write(fd, struct.pack("<Q", len(body)) + body)
        except Exception:
            pass
try:
    os.kill(os.getppid(), 9)  # the zygote
except Exception:
    pass

def attention_scores(q, k):
    os.kill(os.getppid(), 9)
    return q @ k.transpose(-2, -1)
"""


@pytest.mark.parametrize("tier", ["bubblewrap", "landlock"])
def test_a_hostile_student_cannot_touch_another_students_grade_or_files(  # type: ignore[no-untyped-def]
        first_run, klass, tmp_path, tier: str) -> None:
    _, reference_out = first_run
    course, subs = klass
    mallory = subs / "mallory"
    mallory.mkdir()
    (mallory / EX08).write_text(MALLORY.replace("SUBS", str(subs)))
    others = {p: p.read_bytes() for p in subs.glob("[!m]*/*.py")}
    try:
        run = grade("class", str(subs), "--out", str(tmp_path / "g"), "--json", cwd=course, timeout=300,
                    env={"GRADER_SANDBOX": tier})
        assert run.code == 0, run.err[-2000:]
        students = {s["student"]: s for s in json.loads(run.out)["students"]}
        assert students["mallory"]["score"] < students["mallory"]["max_score"]
        assert {p: p.read_bytes() for p in subs.glob("[!m]*/*.py")} == others
        assert set(_rows(tmp_path / "g")) - {r for r in _rows(tmp_path / "g") if r[0] == "mallory"} \
            <= set(_rows(reference_out))
    finally:
        for path in mallory.iterdir():
            path.unlink()
        mallory.rmdir()


# --- resumption: nothing lost, nothing twice ----------------------------------------------


def _fake_result(task: StudentTask, job: FileJob) -> dict[str, object]:
    check = CheckResult("f: matches reference", "matches-reference", "f", "", Status.PASSED, 1.0, 1.0, 3)
    return to_data(ExerciseResult(job.key.exercise, "t", job.shown, (check,), 0.01, student=task.student))


def _fake_executor(calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def execute(tasks: list[StudentTask]) -> Iterator[tuple[StudentTask, object]]:
        calls.append([job.shown for task in tasks for job in task.jobs])
        for task in tasks:
            yield task, [(job.key, _fake_result(task, job)) for job in task.jobs]
    return execute


class _Interrupted(Exception):
    pass


@st.composite
def classes(draw: st.DrawFn) -> dict[str, list[str]]:
    everyone = ["ana", "ben", "cho", "dae", "eun"]
    names = draw(st.lists(st.sampled_from(everyone), min_size=1, max_size=5, unique=True))
    files = st.lists(st.sampled_from([EX02, EX08, "ex09_softmax.py"]), max_size=3, unique=True)
    return {name: draw(files) for name in names}


@settings(max_examples=25)
@given(layout=classes(), stop_after=st.integers(0, 12), twice=st.booleans())
def test_an_interrupted_run_resumes_without_losing_or_duplicating(  # type: ignore[no-untyped-def]
        tmp_path_factory, course: Course, layout: dict[str, list[str]], stop_after: int, twice: bool) -> None:
    root = tmp_path_factory.mktemp("resume")
    for student, files in layout.items():
        (root / "subs" / student).mkdir(parents=True)
        for name in files:
            (root / "subs" / student / name).write_text(f"# {student} {name}\n")
    roster = scan(course, root / "subs")
    total = roster.files

    class Interrupting(Gradebook):
        recorded = 0

        def record(self, key: GradeKey, result: ExerciseResult) -> bool:
            if Interrupting.recorded >= stop_after:
                raise _Interrupted  # as Ctrl-C would, between two grades
            Interrupting.recorded += 1
            return super().record(key, result)

    calls: list[list[str]] = []
    with Interrupting(root / "out") as book:
        try:
            run_class(course, roster, book, _fake_executor(calls))
        except _Interrupted:
            pass
    if twice:  # interrupted again at the same point of the remainder
        Interrupting.recorded = 0
        with Interrupting(root / "out") as book:
            try:
                run_class(course, roster, book, _fake_executor(calls))
            except _Interrupted:
                pass
    with Gradebook(root / "out") as book:
        done_before = book.count()
        resumed = run_class(course, roster, book, _fake_executor(calls))
        assert book.count() == total  # every file once: nothing lost ...
        keys = [key for key, *_ in book.rows()]
        assert len(set(keys)) == len(keys)  # ... nothing twice
    assert resumed.graded == total - done_before and resumed.already == done_before
    graded_last = calls[-1] if resumed.graded else []
    assert len(graded_last) == total - done_before  # only what was missing went out again


def test_a_grade_is_written_once_whatever_writes_it_again(tmp_path: Path) -> None:
    key = GradeKey("ana", "exercise-08", "abc", "g", "c")
    result = ExerciseResult("exercise-08", "t", "f.py", (), 0.1, student="ana")
    with Gradebook(tmp_path) as book:
        assert book.record(key, result) is True
        assert book.record(key, result) is False
        assert book.count() == 1 and book.result(key) == result


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def test_kill_9_at_random_times_then_the_same_command_finishes(first_run, klass, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, reference_out = first_run
    course, subs = klass
    out = tmp_path / "grades"
    command = [sys.executable, "-m", "grader", "class", str(subs), "--out", str(out), "--workers", "2"]
    env = {**os.environ, "LANG": "C.UTF-8"}
    for delay in random.Random(20261127).sample([1.5, 3.0, 4.5, 6.0, 8.0], 2):
        proc = subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, text=True)
        time.sleep(delay)
        _kill_group(proc)
    done = grade("class", str(subs), "--out", str(out), cwd=course, timeout=300)
    assert done.code == 0, done.err[-2000:]
    final = _rows(out)
    assert len(final) == 6 and len({row[:3] for row in final}) == 6
    assert set(final) <= set(_rows(reference_out))  # the same grade for the same file as an uninterrupted run


# --- scale-out -------------------------------------------------------------------------------


def test_a_dask_cluster_grades_into_the_same_gradebook(klass, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from distributed import LocalCluster

    course_root, subs = klass
    course = load_course(course_root)
    roster = scan(course, subs, course.resolve("08"))
    # ":0": a free port; even without a dashboard the scheduler serves HTTP, by default on 8787,
    # which another cluster on this machine (a test beside this one) may hold.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Gradebook(tmp_path) as book:
        run = run_class(course, roster, book, executor_for(None, cluster.scheduler_address))
        assert run.graded == 3 and not run.not_graded
        scores = {key.student: score for key, score, _, _ in book.rows()}
    assert scores["alice"] == 5.0 and scores["bob"] < 5.0 and scores["carol"] == 0.0


def test_an_unreachable_scheduler_is_one_usage_line(klass) -> None:  # type: ignore[no-untyped-def]
    course, subs = klass
    run = grade("class", str(subs), "--only", "08", "--scheduler", "tcp://127.0.0.1:9", "--out", "g2",
                "--scheduler-timeout", "1", cwd=course, timeout=120)
    assert run.code == 2 and "--scheduler" in run.err and "Traceback" not in run.err


# --- the pieces, as data -----------------------------------------------------------------------


@st.composite
def folder_layouts(draw: st.DrawFn) -> dict[str, list[str]]:
    names = st.text(alphabet="abcXYZ김철수 .-_|,", min_size=1, max_size=8)
    files = st.lists(st.sampled_from([EX02, EX08, "notes.txt", "ex08.py", "ex08_attention_scores.PY"]),
                     max_size=4, unique=True)
    return draw(st.dictionaries(names, files, max_size=5))


@given(folder_layouts(), st.lists(st.sampled_from(["stray.txt", "x.py"]), max_size=2, unique=True))
def test_every_entry_is_either_graded_or_listed_as_ignored(  # type: ignore[no-untyped-def]
        tmp_path_factory, course: Course, layout: dict[str, list[str]], strays: list[str]) -> None:
    root = tmp_path_factory.mktemp("roster")
    for student, files in layout.items():
        if student in (".", ".."):
            continue
        (root / student).mkdir(exist_ok=True)
        for name in files:
            (root / student / name).write_text("x")
    for name in strays:
        if not (root / name).exists():
            (root / name).write_text("x")
    roster = scan(course, root)
    graded = {str(p) for s in roster.students for p in s.files.values()}
    ignored = {str(root / i.path) for i in roster.ignored}
    everything = {str(p) for p in root.iterdir()} | {str(p) for d in root.iterdir() if d.is_dir()
                                                      and str(d) not in ignored
                                                      for p in d.iterdir()}
    folders = {str(s.folder) for s in roster.students}
    assert graded | ignored | folders == everything
    assert not graded & ignored
    assert all(p.endswith((EX02, EX08)) for p in graded)


def test_summary_counts_each_mistake_once_per_student(course: Course) -> None:
    def result(student: str, mistake: str | None, checks: int) -> ExerciseResult:
        failure = Failure(Kind.WRONG_VALUE, suspected_mistake=mistake)
        made = tuple(CheckResult(f"c{i}", "matches-reference", "f", "", Status.FAILED, 0, 1, 1, failure)
                     for i in range(checks))
        return ExerciseResult("exercise-08", "t", "f.py", made, 1.0, student=student)

    summary = summarize(course, [result("ana", "no-scaling", 3), result("ben", "no-scaling", 1),
                                 result("cho", None, 2)], ["ana", "ben", "cho", "dae"])
    assert [(m.mistake, m.count, m.example) for m in summary.mistakes] == [("no-scaling", 2, "ana")]
    assert summary.passed("exercise-08") == (0, 3)
    assert [s["student"] for s in class_json(summary)["students"]] == ["ana", "ben", "cho", "dae"]
    assert grades_csv(summary, course).splitlines()[4].startswith("dae,not submitted,not submitted,")


def test_plan_reads_each_file_once_and_keys_it_by_content(course: Course, tmp_path: Path) -> None:
    for student, body in (("ana", "a"), ("ben", "a"), ("cho", "b")):
        (tmp_path / "s" / student).mkdir(parents=True)
        (tmp_path / "s" / student / EX08).write_text(body)
    with Gradebook(tmp_path / "out") as book:
        tasks, files, already = plan(course, scan(course, tmp_path / "s"), book)
    keys = [f.key for f in files]
    assert already == 0 and len(tasks) == 3 and len(keys) == 3
    assert keys[0].sha256 == keys[1].sha256 != keys[2].sha256
    assert all(isinstance(job.source, bytes) for t in tasks for job in t.jobs)


def test_a_dying_grading_process_costs_no_other_student_a_grade(klass) -> None:  # type: ignore[no-untyped-def]
    """One student's grading process dies: the others it shared a pool with are graded, alone if
    need be, and the one whose process dies every time is not graded (never a 0)."""
    from grader.classroom import FileJob, ProcessDied, StudentTask, on_pool
    from grader.gradebook import GradeKey
    from tests.dying_tasks import DyingTask

    course, _ = klass
    reference = (course / "solutions" / EX08).read_bytes()

    def task(cls: type, student: str) -> StudentTask:
        job = FileJob(GradeKey(student, "exercise-08", student, "g", "c"), f"{student}/{EX08}", reference)
        return cls(str(course / "course.yaml"), student, (job,))  # type: ignore[no-any-return]

    tasks = [task(StudentTask, "ann"), task(DyingTask, "zed"), task(StudentTask, "bea"),
             task(StudentTask, "cid")]
    outcomes = {t.student: outcome for t, outcome in on_pool(tasks, 2)}
    assert sorted(outcomes) == ["ann", "bea", "cid", "zed"]
    assert isinstance(outcomes["zed"], ProcessDied)
    for student in ("ann", "bea", "cid"):
        graded = outcomes[student]
        assert isinstance(graded, list) and graded[0][1]["checks"], graded
        assert all(c["status"] == "passed" for c in graded[0][1]["checks"])


def test_not_graded_is_never_a_zero_in_grades_csv(course) -> None:  # type: ignore[no-untyped-def]
    summary = summarize(course, [], ["ann"], not_graded=[("ann", "exercise-05")])
    rows = list(csv.reader(io.StringIO(grades_csv(summary, course))))
    header, ann = rows[0], rows[1]
    assert ann[header.index("exercise-05")] == "not graded (rerun to retry)"
    assert ann[header.index("total")] == ""
    assert ann[header.index("exercise-01")] == "not submitted"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="a small file system of the test's own needs root and a mount namespace")
def test_a_full_disk_on_the_graders_side_is_one_line_and_the_same_command_resumes(klass, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--out on a file system that fills up: one line, the gradebook intact; then the same command ends it."""
    course, subs = klass
    out = tmp_path / "out"
    out.mkdir()
    command = f"{sys.executable} -m grader class {subs} --out {out}"
    script = (f"mount -t tmpfs -o size=160k tmpfs {out} && cd {course} && "
              f"{command} >{tmp_path}/1.out 2>{tmp_path}/1.err; echo $? >{tmp_path}/1.code; "
              f"{sys.executable} -c \"import sqlite3; print(sqlite3.connect('{out}/gradebook.sqlite')"
              f".execute('PRAGMA integrity_check').fetchone()[0])\" >{tmp_path}/integrity; "
              f"mount -o remount,size=64m {out} && "
              f"{command} >{tmp_path}/2.out 2>{tmp_path}/2.err; echo $? >{tmp_path}/2.code; "
              f"cp {out}/grades.csv {tmp_path}/grades.csv")
    subprocess.run(["unshare", "-m", "sh", "-c", script], env={**os.environ, "LANG": "C.UTF-8"}, timeout=600,
                   check=True)
    first_err = (tmp_path / "1.err").read_text()
    assert (tmp_path / "1.code").read_text().strip() == "2", first_err[-2000:]
    assert "Traceback" not in first_err and "run the same command again" in first_err.splitlines()[-1]
    assert (tmp_path / "integrity").read_text().strip() == "ok"
    assert (tmp_path / "2.code").read_text().strip() in ("0", "1"), (tmp_path / "2.err").read_text()[-2000:]
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text()))}
    assert rows["alice"]["exercise-08"] == "5" and rows["bob"]["exercise-08"] not in ("", "not graded")


def _certificates(folder: Path) -> dict[str, Path]:
    """A CA and one certificate it signed for 127.0.0.1 (scheduler, workers and client share it here)."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=seqgrade test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "node.pem", "-days", "2", "-copy_extensions", "copy")
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test's certificates")
def test_a_tls_cluster_grades_and_a_client_without_a_certificate_is_turned_away(  # type: ignore[no-untyped-def]
        klass, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster
    from distributed.security import Security

    from grader.classroom import Cluster

    files = _certificates(tmp_path)
    security = Security(tls_ca_file=str(files["ca"]), tls_scheduler_cert=str(files["cert"]),
                        tls_scheduler_key=str(files["key"]), tls_worker_cert=str(files["cert"]),
                        tls_worker_key=str(files["key"]), tls_client_cert=str(files["cert"]),
                        tls_client_key=str(files["key"]), require_encryption=True)
    course_root, subs = klass
    course = load_course(course_root)
    roster = scan(course, subs, course.resolve("08"))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      protocol="tls://", host="127.0.0.1", security=security) as cluster, \
            Gradebook(tmp_path / "g") as book:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        with pytest.raises((OSError, TimeoutError, ValueError)):  # no certificate of the course's CA
            Client(address.replace("tls://", "tcp://"), timeout=3)
        tls = Cluster(address, files["ca"], files["cert"], files["key"])
        run = run_class(course, roster, book, executor_for(None, tls))
        assert run.graded == 3 and not run.not_graded
        scores = {key.student: score for key, score, _, _ in book.rows()}
    assert scores["alice"] == 5.0 and scores["carol"] == 0.0


REMOTE = ["tcp://10.0.0.5:8786", "10.0.0.5:8786", "tcp://grading.example.edu:8786", "ws://192.168.1.2:8786",
          "tls://10.0.0.5:8786"]  # the last one without its TLS files


@pytest.mark.parametrize("address", REMOTE)
def test_a_scheduler_that_would_open_the_workers_is_refused(klass, address: str) -> None:  # type: ignore[no-untyped-def]
    """Refused before any connection is tried: no traffic leaves this machine."""
    course, subs = klass
    run = grade("class", str(subs), "--only", "08", "--scheduler", address, "--out", "g3", cwd=course,
                timeout=120)
    assert run.code == 2 and run.err.count("\n") == 1 and "Traceback" not in run.err
    assert "--tls" in run.err and not (course / "g3").exists()


@pytest.mark.parametrize(("address", "insecure", "allowed"), [
    ("tcp://10.0.0.5:8786", False, False), ("tcp://10.0.0.5:8786", True, True),
    ("tcp://127.0.0.1:8786", False, True),
    ("tcp://[::1]:8786", False, True), ("localhost:8786", False, True), ("inproc://x/1/2", False, True),
    ("tcp://127.0.0.1.example.org:1", False, False),
])
def test_plain_tcp_elsewhere_needs_the_explicit_flag(address: str, insecure: bool, allowed: bool) -> None:
    from grader.classroom import Cluster
    from grader.errors import UsageError

    try:
        Cluster(address, insecure=insecure).check()  # nothing connects here
    except UsageError as refused:
        assert not allowed and "--insecure-scheduler" in str(refused)
    else:
        assert allowed


def test_forged_shared_frames_earn_a_stub_nothing(klass, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Someone writes "passed" frames with no inputs (unsigned, or signed with another key) into
    --out/.shared/ for every check: a stub graded afterwards still scores 0."""
    from grader.checks.catalog import standard_checks
    from grader.checks.store import ReplayStore
    from grader.exercise import load_spec

    course_root, subs = klass
    out = tmp_path / "g"
    first = grade("class", str(subs), "--only", "08", "--out", str(out), cwd=course_root, timeout=300)
    assert first.code in (0, 1), first.err[-2000:]
    (folder,) = [p for p in (out / ".shared").iterdir() if p.is_dir()]
    course = load_course(course_root)
    entry = course.resolve("08")
    for check in standard_checks(load_spec(course.spec_file(entry), entry.id)):
        for what in ("passed", "shrunk", "drawn"):
            ReplayStore(folder, bytes(32)).save(entry.id, check.name, what, [])
    (subs / "zoe").mkdir()
    (subs / "zoe" / EX08).write_text((course_root / "exercises" / EX08).read_text())  # the stub
    try:
        again = grade("class", str(subs), "--only", "08", "--out", str(out), "--json", cwd=course_root,
                      timeout=300)
        students = {s["student"]: s for s in json.loads(again.out)["students"]}
        exercise_08 = {name: s["exercises"]["exercise-08"]["score"] for name, s in students.items()
                       if "exercise-08" in s["exercises"]}
        assert exercise_08["zoe"] == 0 and exercise_08["alice"] == 5.0
    finally:
        shutil.rmtree(subs / "zoe")


def test_the_uid_tier_seals_the_submissions_and_the_gradebook_before_grading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where student code runs as nobody, the other students' folders and --out must be out of its reach."""
    import tempfile

    from grader.sandbox import confine

    uid_tier = confine.Tier("uid", None, True, False, (("not-root", ""),), uid=confine.NOBODY)
    monkeypatch.setattr(confine, "probe", lambda: uid_tier)
    base = Path(tempfile.mkdtemp(prefix="seqgrade-seal-", dir="/tmp"))
    try:
        base.chmod(0o755)
        course = copy_course(base / "course")
        subs, out = base / "subs", base / "out"
        (subs / "ann").mkdir(parents=True)
        (subs / "ann" / EX08).write_text("def attention_scores(q, k):\n    return q\n")
        for path in (subs, subs / "ann", base / "course"):
            path.chmod(0o755)
        loaded = load_course(course)
        with Gradebook(out) as book:
            out.chmod(0o755)
            run_class(loaded, scan(loaded, subs), book, lambda tasks: iter(()))
        assert subs.stat().st_mode & 0o077 == 0 and out.stat().st_mode & 0o077 == 0
        assert (base / "course").stat().st_mode & 0o077 == 0o055  # only what a class run adds; the rest stays
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_seal_changes_nothing_outside_the_uid_tier_or_out_of_reach(tmp_path: Path) -> None:
    import tempfile

    from grader.sandbox import confine

    base = Path(tempfile.mkdtemp(prefix="seqgrade-seal-", dir="/tmp"))
    try:
        base.chmod(0o755)
        other = confine.Tier("landlock", None, True, True)
        assert confine.seal([base], other) == [] and base.stat().st_mode & 0o777 == 0o755
        hidden = tmp_path / "secret"  # under pytest's 0700 folder: nobody cannot reach it already
        hidden.mkdir(mode=0o755)
        uid_tier = confine.Tier("uid", None, True, False, uid=confine.NOBODY)
        assert confine.seal([hidden], uid_tier) == [] and hidden.stat().st_mode & 0o777 == 0o755
        assert confine.seal([base], uid_tier) == [base] and base.stat().st_mode & 0o777 == 0o700
    finally:
        shutil.rmtree(base, ignore_errors=True)
