"""The student's daily loop and the instructor's scaffolding: status, hint, watch, new."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.course import load_course
from grader.exercise import load_spec
from tests.conftest import NUMBERS, ROOT, copy_course, grade


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


def _solve(course: Path, *names: str) -> None:
    for name in names:
        (course / "exercises" / name).write_text((ROOT / "solutions" / name).read_text())


def test_status_lists_every_exercise_and_the_next_one_to_do(course: Path) -> None:
    _solve(course, "ex01_autoregressive_windows.py")
    reference = (ROOT / "solutions" / "ex02_markov_log_likelihood.py").read_text()
    wrong = reference.replace("return ", "return 2 * ")
    (course / "exercises" / "ex02_markov_log_likelihood.py").write_text(wrong)
    run = grade("status", "--lang", "en", cwd=course, timeout=300)
    assert run.code == 0, run.err
    row = re.compile(r"(exercise-\d\d) .*?│ . (passing|failing|not started)")
    rows = {m.group(1): m.group(2) for m in row.finditer(run.out)}
    assert sorted(rows) == sorted(f"exercise-{n}" for n in NUMBERS)
    assert rows["exercise-01"] == "passing" and rows["exercise-02"] == "failing"
    rest = [state for ex, state in rows.items() if ex not in ("exercise-01", "exercise-02")]
    assert set(rest) == {"not started"}
    assert "Next: grade exercise-02" in run.out


def test_plain_grade_is_status_and_remembers_results(course: Path) -> None:
    first = grade(cwd=course, timeout=300)
    assert first.code == 0 and "Next: grade exercise-01" in first.out
    _solve(course, "ex01_autoregressive_windows.py")
    graded = grade("exercise-01", cwd=course)
    assert graded.code == 0
    start = time.monotonic()
    again = grade("status", cwd=course)  # nothing changed since: read from .grade/, no grading
    assert again.code == 0 and "Next: grade exercise-02" in again.out
    assert time.monotonic() - start < 20


def test_hints_get_more_detailed_and_exist_in_both_languages() -> None:
    course = load_course(ROOT)
    for entry in course.exercises:
        hints = load_spec(course.spec_file(entry), entry.id).hints
        assert len(hints) >= 2, entry.id
        for hint in hints:
            assert hint.en.strip() and re.search("[가-힣]", hint.ko), entry.id


def test_hint_command_steps_through_the_levels(course: Path) -> None:
    spec = load_spec(ROOT / "solutions" / "ex05_forget_gate_spec.py", "exercise-05")
    first = grade("hint", "05", "--lang", "en", cwd=course)
    second = grade("hint", "05", "--lang", "en", cwd=course)
    assert first.code == second.code == 0
    assert "Hint 1 of 3" in first.out and "Hint 2 of 3" in second.out
    assert spec.hints[1].en.split()[0] in second.out
    korean = grade("hint", "forget-gate", "--level", "3", "--lang", "ko", cwd=course)
    assert "힌트 3/3" in korean.out and "마지막 힌트" in korean.out


def test_watch_regrades_on_save_and_ctrl_c_leaves_cleanly(course: Path) -> None:
    env = {**os.environ, "LANG": "C.UTF-8", "COLUMNS": "100"}
    command = [sys.executable, "-m", "grader", "watch", "08", "--interval", "0.2", "--lang", "en"]
    lines: list[str] = []
    # SIGINT ignored, as a shell leaves it for a background job: watch must still stop on Ctrl-C.
    with subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) as proc:

        def wait_for(text: str, count: int, timeout: float = 90) -> None:
            deadline = time.monotonic() + timeout
            assert proc.stdout is not None
            while sum(text in line for line in lines) < count:
                assert time.monotonic() < deadline, "".join(lines)
                lines.append(proc.stdout.readline())

        try:
            wait_for("Score:", 1)
            assert any("Score: 0 / 5" in line for line in lines)
            _solve(course, "ex08_attention_scores.py")
            wait_for("Score:", 2)
            assert any("Score: 5 / 5" in line for line in lines)
            wait_for("Watching", 3)  # back to watching after the second grading
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0 and "Stopped watching" in out and "Traceback" not in err


def test_new_scaffolds_an_exercise_that_validates_once_filled_in(course: Path) -> None:
    made = grade("new", "exercise-14", "--slug", "running-mean", "--title", "Running mean (이동 평균)",
                 cwd=course)
    assert made.code == 0, made.err
    text = (course / "course.yaml").read_text()
    assert text.startswith("# The course the grader ships with")  # comments kept: appended as text
    assert load_course(course).resolve("14").functions == ("running_mean",)
    assert grade("validate", "--only", "14", cwd=course).code == 1  # the reference is still to write
    (course / "solutions" / "ex14_running_mean.py").write_text(
        "import torch\n\n\ndef running_mean(x):\n"
        "    return x.cumsum(-1) / torch.arange(1, x.shape[-1] + 1, dtype=x.dtype)\n")
    checked = grade("validate", "--only", "14", cwd=course)
    assert checked.code == 0, checked.out
    again = grade("new", "exercise-14", "--slug", "other", cwd=course)
    assert again.code == 2 and "already has exercise-14" in again.err


@pytest.mark.parametrize(("args", "message"), [
    (["new", "exercise-15", "--slug", "Bad_Slug"], "--slug"),
    (["new", "ex15", "--slug", "fine"], "not an exercise id"),
    (["new", "exercise-15", "--slug", "rnn"], "already has exercise-03"),
])
def test_new_refuses_bad_input_in_one_line(course: Path, args: list[str], message: str) -> None:
    before = (course / "course.yaml").read_text()
    run = grade(*args, cwd=course)
    assert run.code == 2 and message in run.err and run.err.count("\n") == 1
    assert (course / "course.yaml").read_text() == before


def test_a_result_is_remembered_for_the_content_that_was_graded(course: Path) -> None:
    """Saving again while a file is graded must not pin the old result on the new content."""
    from grader.grading import grade_file
    from grader.status import course_status, remember

    loaded = load_course(course)
    entry = loaded.resolve("01")
    _solve(course, entry.file)
    result = grade_file(loaded, entry)
    assert result.passed
    stub = (ROOT / "exercises" / entry.file).read_text()
    (course / "exercises" / entry.file).write_text(stub)  # saved again while it was being graded
    remember(loaded, entry, result)
    states = {s.entry.id: s.state for s in course_status(loaded)}
    assert states["exercise-01"] == "not-started"
