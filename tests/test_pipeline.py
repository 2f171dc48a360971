"""Calls sent ahead (``Conversation.pipeline``): the answers of calls made one by one, and never a hang.

Real student processes under the machine's best tier, with short limits. A class run sends the
recorded inputs of a check to the student's process in windows, one exchange per window; what
comes back must be exactly what one call at a time gives, a process that stops in the middle
must stop the list there, and one that stops reading its calls (or shrinks its pipe so that the
grader's writes would block) must time out like any other call.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.course import Limits
from grader.sandbox.messages import Call, Reply, WorkerGone
from grader.sandbox.runner import SandboxRunner

FAST = Limits(call_seconds=2, exercise_seconds=60, memory_mb=4096, output_kb=256)

PICKY = """
import torch
calls = []
def f(x):
    calls.append(float(x.sum()))
    if x.numel() == 3:
        raise ValueError("three")
    return x * 2 + len(calls)  # depends on how many calls came before: the order shows
"""


@pytest.fixture(scope="module")
def picky() -> Iterator[SandboxRunner]:
    runner = SandboxRunner(textwrap.dedent(PICKY).encode(), "picky.py", "picky", FAST)
    yield runner
    runner.close()


def _answer(answer: Reply | WorkerGone) -> object:
    if isinstance(answer, WorkerGone):
        return ("gone", answer.reason)
    if not answer.ok:
        return ("raised", answer.error.type if answer.error else "")
    return ("value", answer.result.tolist())


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(1, 5), min_size=1, max_size=40))
def test_calls_sent_ahead_answer_as_calls_made_one_by_one(picky: SandboxRunner, sizes: list[int]) -> None:
    calls = [Call("f", (torch.arange(n, dtype=torch.float32),)) for n in sizes]
    ahead = [_answer(a) for a in picky.call_many(calls)]
    one_by_one = [_answer(picky.call_many([c])[0]) for c in calls]
    # Each value counts the calls before it: one by one, every call comes len(sizes) calls later.
    later = [(what, [v - len(sizes) for v in value] if isinstance(value, list) else value)
             for what, value in one_by_one]
    assert ahead == later


def test_a_process_that_stops_in_the_middle_ends_the_list_there() -> None:
    source = "import os\ndef f(x):\n    if x.numel() == 4:\n        os._exit(7)\n    return x\n"
    runner = SandboxRunner(source.encode(), "stops.py", "stops", FAST)
    try:
        answers = runner.call_many([Call("f", (torch.ones(n),)) for n in (1, 2, 3, 4, 5, 6)])
    finally:
        runner.close()
    assert [_answer(a) for a in answers] == [("value", [1.0] * n) for n in (1, 2, 3)] + [("gone", "crashed")]


def test_a_process_that_stops_reading_and_shrinks_its_pipe_times_out_instead_of_blocking_the_grader() -> None:
    source = textwrap.dedent("""
        import fcntl, os, time
        for fd in range(3, 64):  # every pipe it holds, the grader's calls among them: one page each
            try:
                fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
            except OSError:
                pass
        def f(x):
            time.sleep(600)  # and reads no more calls
    """)
    runner = SandboxRunner(source.encode(), "shrinks.py", "shrinks", FAST)
    calls = [Call("f", (torch.zeros(4096),)) for _ in range(8)]  # 16 KiB each: far more than a page ahead
    try:
        answers = runner.call_many(calls)  # before the deadline-bound writes, this never returned
    finally:
        runner.close()
    assert [_answer(a) for a in answers] == [("gone", "timeout")]
