"""The trust boundary: whatever a submission does, it earns nothing it did not earn and the grader survives.

Each case is a small hostile (or merely unlucky) student file graded through the
real sandbox (a fresh, limited process) with short time limits.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import Course, Limits
from grader.grading import grade_file
from grader.results import ExerciseResult, Kind, Status
from tests.conftest import ROOT, grade

FAST = Limits(call_seconds=2, exercise_seconds=30, memory_mb=4096, output_kb=256)

CORRECT_BODY = "return torch.sigmoid(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f)"


def run(course: Course, tmp_path: Path, source: str, exercise: str = "05") -> ExerciseResult:
    entry = dataclasses.replace(course.resolve(exercise), limits=FAST)
    path = tmp_path / entry.file
    path.write_text(textwrap.dedent(source))
    return grade_file(course, entry, path)


def kinds(result: ExerciseResult) -> set[str]:
    found = {c.failure.kind.value for c in result.checks if c.failure is not None}
    return found | ({result.problem.kind.value} if result.problem else set())


def assert_no_points(result: ExerciseResult) -> None:
    assert not result.passed
    assert result.score < result.max_score


def test_correct_submission_using_threads_urandom_float64_and_autograd_passes(course: Course,
                                                                              tmp_path: Path) -> None:
    """The sandbox never makes a correct submission fail."""
    result = run(course, tmp_path, f"""
        import os, threading
        import torch

        def forget_gate(h_prev, x_t, W_f, b_f):
            seen = []
            worker = threading.Thread(target=lambda: seen.append(os.urandom(4)))
            worker.start(); worker.join()
            assert len(seen[0]) == 4
            torch.zeros(2, dtype=torch.float64).requires_grad_().sum().backward()
            {CORRECT_BODY}
    """)
    assert result.passed, [(c.name, c.failure) for c in result.checks]


HOSTILE = [
    ("sys-exit-in-call", """
        import sys
        def forget_gate(h_prev, x_t, W_f, b_f):
            sys.exit(0)
     """, "raised"),
    ("os-exit-in-call", """
        import os
        def forget_gate(h_prev, x_t, W_f, b_f):
            os._exit(0)
     """, "crashed"),
    ("exit-at-import", """
        raise SystemExit(0)
     """, "import-error"),
    ("segfault", """
        import ctypes
        def forget_gate(h_prev, x_t, W_f, b_f):
            ctypes.string_at(0)
     """, "crashed"),
    ("always-equal-object", """
        class Anything:
            def __eq__(self, other): return True
        def forget_gate(h_prev, x_t, W_f, b_f):
            return Anything()
     """, "not-a-tensor"),
    ("tensor-subclass-liar", """
        import torch
        class Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", "") in ("allclose", "equal", "eq", "__eq__"):
                    return True
                return super().__torch_function__(func, types, args, kwargs or {})
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.zeros(h_prev.shape, dtype=h_prev.dtype).as_subclass(Liar)
     """, "tensor-subclass"),
    ("patches-the-checker", """
        import torch, numpy, math
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.testing.assert_close = lambda *a, **k: None
        numpy.allclose = lambda *a, **k: True
        math.isclose = lambda *a, **k: True
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.zeros(h_prev.shape, dtype=h_prev.dtype)
     """, "wrong-value"),
    ("hunts-for-the-answer", """
        import gc, sys, torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            for obj in gc.get_objects():
                if isinstance(obj, torch.Tensor) and obj.shape == h_prev.shape and obj is not h_prev:
                    return obj.clone()
            frame = sys._getframe()
            while frame.f_back is not None:
                frame = frame.f_back
            return torch.full(h_prev.shape, 0.25, dtype=h_prev.dtype)
     """, "wrong-value"),
    ("mutates-input", """
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            result = torch.sigmoid(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f)
            h_prev.mul_(0)
            return result
     """, "modified-input"),
    ("returns-float32-for-float64", f"""
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            return ({CORRECT_BODY.removeprefix("return ")}).float()
     """, "wrong-dtype"),
    ("returns-broadcastable-shape", """
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.sigmoid(b_f)  # (H,) broadcasts against (B, H) but is not (B, H)
     """, "wrong-shape"),
    ("returns-meta-tensor", """
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.empty(h_prev.shape, dtype=h_prev.dtype, device="meta")
     """, "wrong-device"),
    ("returns-detached", f"""
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            return ({CORRECT_BODY.removeprefix("return ")}).detach()
     """, "not-differentiable"),
    ("forges-a-reply-frame", """
        import os, json, struct, torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            body = json.dumps({"op": "reply", "id": 1, "ok": True, "result": None, "buffers": []}).encode()
            for fd in range(3, 12):
                try:
                    os.write(fd, struct.pack("<Q", len(body)) + body)
                except OSError:
                    pass
            return torch.zeros(h_prev.shape, dtype=h_prev.dtype)
     """, None),
    ("memory-bomb", """
        import torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            return torch.empty(2**34, dtype=torch.float64)
     """, "memory-limit"),
    ("stdout-flood", """
        import sys
        def forget_gate(h_prev, x_t, W_f, b_f):
            while True:
                sys.stdout.write("x" * 65536)
     """, "output-limit"),
]


@pytest.mark.parametrize(("name", "source", "expected"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_submission_earns_nothing(course: Course, tmp_path: Path, name: str, source: str,
                                          expected: str | None) -> None:
    result = run(course, tmp_path, source)
    assert_no_points(result)
    assert not any(c.status is Status.ERROR for c in result.checks)
    if expected is not None:
        assert expected in kinds(result), kinds(result)


def test_endless_loop_hits_the_time_limit_and_the_grader_goes_on(course: Course, tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(course, tmp_path, """
        def forget_gate(h_prev, x_t, W_f, b_f):
            while True:
                pass
    """)
    elapsed = time.monotonic() - start
    assert_no_points(result)
    assert Kind.TIMEOUT.value in kinds(result)
    assert elapsed < FAST.exercise_seconds + 10


def test_a_memory_bomb_is_stopped_at_the_memory_limit_and_not_called_again(course: Course,
                                                                           tmp_path: Path) -> None:
    """Each call of a list grown without end fills the address space before it fails: it is stopped
    there like a time-out, without a search or a shrink, and the other checks are not run."""
    entry = dataclasses.replace(course.resolve("05"), limits=dataclasses.replace(FAST, memory_mb=1024))
    path = tmp_path / entry.file
    path.write_text(textwrap.dedent("""
        def forget_gate(h_prev, x_t, W_f, b_f):
            hoard = []
            while True:
                hoard.append(bytearray(32 << 20))
    """))
    result = grade_file(course, entry, path)
    assert_no_points(result)
    shown = {c.name: c.failure for c in result.checks if c.failure is not None}
    causes = [(c.examples, c.failure or shown[c.same_cause_as]) for c in result.checks]
    assert causes[0][1].kind is Kind.MEMORY_LIMIT and causes[0][1].inputs  # with the input that showed it
    assert {f.kind for _, f in causes} <= {Kind.MEMORY_LIMIT, Kind.GAVE_UP}
    # The input that ran into the limit, and one on the leash: no search, no shrink, no other check.
    run_on = [examples for examples, f in causes if f.kind is not Kind.GAVE_UP]
    assert sum(run_on) <= 2, run_on


def test_calls_each_in_time_but_too_slow_together_are_told_the_exercise_time_ran_out(
        course: Course, tmp_path: Path) -> None:
    """Not 'Time limit ... look for an endless loop' on some input: no call was too slow, and no input
    is to blame, so none is shown; the checks after it share the cause."""
    entry = dataclasses.replace(course.resolve("05"), limits=dataclasses.replace(FAST, exercise_seconds=8))
    path = tmp_path / entry.file
    path.write_text(textwrap.dedent(f"""
        import time, torch
        def forget_gate(h_prev, x_t, W_f, b_f):
            time.sleep(0.2)
            {CORRECT_BODY}
    """))
    result = grade_file(course, entry, path)
    assert_no_points(result)
    spent = [c.failure for c in result.checks if c.failure is not None]
    assert [f.kind for f in spent] == [Kind.EXERCISE_TIME], spent
    assert spent[0].detail == {"seconds": "8"} and not spent[0].inputs and not spent[0].replay
    assert all(c.failure is not None or c.same_cause_as or c.status is Status.PASSED for c in result.checks)


def test_sleeping_forever_hits_the_wall_clock_limit(course: Course, tmp_path: Path) -> None:
    result = run(course, tmp_path, """
        import time
        def forget_gate(h_prev, x_t, W_f, b_f):
            time.sleep(10**6)
    """)
    assert Kind.TIMEOUT.value in kinds(result)


@pytest.mark.parametrize("route", [
    "torch.softmax(x, dim)", "F.softmax(x, dim=dim)", "x.softmax(dim)",
    "getattr(torch, 'soft' + 'max')(x, dim)", "torch.ops.aten._softmax(x, dim, False)",
    "torch.special.softmax(x, dim)", "torch.log_softmax(x, dim).exp()",
    "importlib.import_module('torch.nn.functional').softmax(x, dim)",
])
def test_forbidden_softmax_is_caught_however_it_is_reached(course: Course, tmp_path: Path,
                                                           route: str) -> None:
    result = run(course, tmp_path, f"""
        import importlib
        import torch
        import torch.nn.functional as F
        def softmax(x, dim=-1):
            return {route}
    """, exercise="09")
    assert_no_points(result)
    assert Kind.FORBIDDEN_CALL.value in kinds(result)


def test_printed_fake_score_does_not_change_the_json(tmp_path: Path) -> None:
    student = tmp_path / "ex05_forget_gate.py"
    student.write_text(textwrap.dedent("""
        import json, torch
        print(json.dumps({"score": 100, "max_score": 5, "tests": []}))
        def forget_gate(h_prev, x_t, W_f, b_f):
            print('{"score": 5}')
            return torch.zeros(h_prev.shape, dtype=h_prev.dtype)
    """))
    done = grade("exercise-05", "--file", str(student), "--json", cwd=ROOT)
    assert done.code == 1
    result = json.loads(done.out)
    assert result["score"] < result["max_score"] == pytest.approx(5)


def test_diagnosis_never_runs_student_code_in_the_grading_process(tmp_path: Path) -> None:
    """Every call of the student's function, diagnosis included, happens in another process."""
    import os
    import subprocess
    import sys

    calls = tmp_path / "pids.txt"
    student = tmp_path / "ex05_forget_gate.py"
    student.write_text(textwrap.dedent(f"""
        import os
        import torch

        def forget_gate(h_prev, x_t, W_f, b_f):
            with open({str(calls)!r}, "a") as log:  # the rlimits tier does not fence files
                log.write(f"{{os.getpid()}}\\n")
            return torch.sigmoid(torch.cat([x_t, h_prev], dim=-1) @ W_f.T + b_f)
    """))
    env = {**os.environ, "GRADER_SANDBOX": "rlimits", "LANG": "C.UTF-8"}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise-05", "--file", str(student), "--json",
                             "--allow-unsandboxed"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "[concat-order]" in out  # the diagnosis ran ...
    pids = {int(line) for line in calls.read_text().split()}
    assert pids and proc.pid not in pids  # ... and no student call ran in the grader


class _Scripted:
    """A student process whose calls time out, crash or answer, as scripted; it notes each call's limit."""

    def __init__(self, script: list[str], limits: list[float], met: list[str]) -> None:
        self.script, self.limits, self.met = script, limits, met

    def wait_hello(self, deadline: float) -> object:
        from grader.sandbox.messages import Hello

        return Hello(ok=True, callables=("f",))

    def call(self, call: object, deadline: float) -> object:
        from grader.sandbox.messages import Reply, StudentError, WorkerGone

        self.limits.append(deadline - time.monotonic())
        outcome = self.script.pop(0) if self.script else "answer"
        self.met.append(outcome)
        if outcome == "out-of-memory":  # the student's call raised it: the process itself answered
            return Reply(ok=False, error=StudentError("MemoryError", ""))
        if outcome != "answer":
            raise WorkerGone(outcome)
        return Reply(ok=True)

    def pipeline(self, calls: list[object], limit: object, deadline: float) -> object:
        for call in calls:
            yield self.call(call, time.monotonic() + limit())  # type: ignore[operator]

    def close(self) -> None:
        pass


@settings(max_examples=120, derandomize=True)
@given(st.lists(st.sampled_from(["answer", "timeout", "crashed", "out-of-memory"]), min_size=1, max_size=12))
def test_after_a_call_is_stopped_at_a_limit_the_next_gets_a_short_leash_and_code_that_loops_is_not_restarted(
        script: list[str]) -> None:
    """Code that loops forever (or fills memory without end) costs one call limit and one leash per
    exercise; code that hung once gets its full limit back as soon as it answers."""
    from grader.sandbox import runner as policy
    from grader.sandbox.messages import Call, WorkerGone

    limits: list[float] = []
    met: list[str] = []
    course_limits = Limits(call_seconds=5.0, exercise_seconds=600.0)
    sandbox = policy.SandboxRunner(b"", "f.py", "f", course_limits,
                                   start=lambda: _Scripted(script, limits, met))
    leash = max(policy.MIN_LEASH, policy.LEASH * 5.0)
    stopped = ("timeout", "memory-limit")
    outcomes: list[str] = []
    for _ in range(len(script) + 3):
        try:
            sandbox.call(Call("f", (), {}))
            outcome = "answer"
        except WorkerGone as gone:
            outcome = gone.reason
        failures = sum(o not in ("answer", "gave-up") for o in outcomes)
        looped = any(a in stopped and b in stopped for a, b in zip(outcomes, outcomes[1:], strict=False))
        assert (outcome == "gave-up") == (looped or failures > policy.MAX_RESTARTS), (script, outcomes)
        if outcome == "gave-up":  # and so it stays: a process that gave up is never started again
            outcomes.append(outcome)
            continue
        # A MemoryError is the memory limit; a time-out on the leash it set is reported as the same.
        said = {"out-of-memory": "memory-limit"}.get(met[-1], met[-1])
        if said == "timeout" and outcomes[-1:] == ["memory-limit"]:
            said = "memory-limit"
        assert outcome == said, (script, met, outcomes)
        wanted = leash if outcomes[-1:] and outcomes[-1] in stopped else 5.0
        assert abs(limits[-1] - wanted) < 0.05, (script, limits)
        outcomes.append(outcome)
