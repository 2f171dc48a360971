"""One zygote for a class run's grading processes (``ZygoteHub``): their children side by side.

Real sandboxed processes under bubblewrap, the only tier a hub runs under. Two
connections stand for two grading processes. What one connection's child does
(signal its process group, look for the hub's descriptors, fill the folders'
tmpfs) must never reach the other's child, the hub, or the other's grade.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from grader.course import Course, ExerciseEntry, Limits
from grader.sandbox import confine
from grader.sandbox.messages import Call, WorkerGone
from grader.sandbox.runner import SandboxRunner
from grader.sandbox.zygote import SharedZygote, StudentSandbox, ZygoteHub, zygote_limits

FAST = Limits(call_seconds=5, exercise_seconds=30, memory_mb=4096, output_kb=256)
PLUS_ONE = "import torch\ndef softmax(x, dim=-1):\n    return x + 1\n"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, course: Course) -> Iterator[ZygoteHub]:
    monkeypatch.setenv("GRADER_SANDBOX", "bubblewrap")
    confine.probe.cache_clear()
    if not ZygoteHub.possible():
        pytest.fail("this machine should offer bubblewrap, seccomp, Landlock and pid fds (see grade doctor)")
    started = ZygoteHub(zygote_limits([_entry(course)]))
    yield started
    started.close()
    confine.probe.cache_clear()


@pytest.fixture
def joined(hub: ZygoteHub, course: Course) -> Iterator[tuple[SharedZygote, SharedZygote]]:
    """Two grading processes' views of the hub."""
    limits = zygote_limits([_entry(course)])
    pair = SharedZygote(limits, hub=hub.address), SharedZygote(limits, hub=hub.address)
    yield pair
    for one in pair:
        one.close()


def _entry(course: Course) -> ExerciseEntry:
    return dataclasses.replace(course.resolve("09"), limits=FAST)


class _Student:
    """One student's file in a child of ``shared``, kept alive between calls."""

    def __init__(self, course: Course, shared: SharedZygote, source: str) -> None:
        entry = _entry(course)
        data = textwrap.dedent(source).encode()
        self.sandbox = StudentSandbox({entry.file: data}, [entry], shared=shared)
        self.runner: SandboxRunner = self.sandbox.runner(data, entry, "cpu")

    def softmax(self, x: torch.Tensor) -> torch.Tensor:
        reply = self.runner.call(Call("softmax", (x,), {}))
        assert reply.ok, reply.error
        result: torch.Tensor = reply.result
        return result

    def close(self) -> None:
        self.runner.close()
        self.sandbox.close()

    def __enter__(self) -> _Student:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_two_grading_processes_children_run_side_by_side_in_one_hub(
        course: Course, joined: tuple[SharedZygote, SharedZygote]) -> None:
    with _Student(course, joined[0], PLUS_ONE) as a, _Student(course, joined[1], PLUS_ONE) as b:
        assert a.softmax(torch.zeros(2)).tolist() == [1, 1]  # a's child now waits for its next call
        assert b.softmax(torch.ones(2)).tolist() == [2, 2]
        assert a.softmax(torch.ones(1)).tolist() == [2]
    assert all(s.zygote is not None and s.zygote.joined and s.zygote.alive() for s in joined)


SIGNALS_ITS_GROUP = """
import os, signal
def softmax(x, dim=-1):
    os.kill(0, signal.SIGKILL)
"""


LEADS_A_GROUP = """
import os, torch
def softmax(x, dim=-1):
    return torch.tensor([float(os.getpgrp() == os.getpid())])
"""


def test_a_child_that_signals_its_process_group_kills_itself_alone(
        course: Course, joined: tuple[SharedZygote, SharedZygote]) -> None:
    # Two layers: Landlock (ABI 6+) scopes signals to the child's own domain, and each child
    # leads a process group of its own, so kill(0) means itself on older kernels too.
    with _Student(course, joined[0], LEADS_A_GROUP) as honest:
        assert honest.softmax(torch.zeros(2)).tolist() == [1]
        with _Student(course, joined[1], SIGNALS_ITS_GROUP) as hostile, pytest.raises(WorkerGone):
            hostile.softmax(torch.zeros(2))
        assert honest.softmax(torch.ones(2)).tolist() == [1]  # still alive: not in the hostile's group
    with _Student(course, joined[1], PLUS_ONE) as again:  # and the hub serves the hostile's connection on
        assert again.softmax(torch.zeros(1)).tolist() == [1]
    assert all(s.zygote is not None and s.zygote.joined for s in joined)


SIGNALS_EVERY_PID = """
import os, signal, torch
def softmax(x, dim=-1):
    landed = 0
    for pid in range(1, 400):
        if pid == os.getpid():
            continue
        for send in (lambda: os.kill(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGSTOP),
                     lambda: os.killpg(pid, signal.SIGKILL)):
            try:
                send()
                landed += 1
            except OSError:
                pass
    return torch.tensor([float(landed)])
"""


def test_a_child_that_signals_every_pid_by_number_reaches_neither_the_hub_nor_a_sibling(
        course: Course, joined: tuple[SharedZygote, SharedZygote]) -> None:
    with _Student(course, joined[0], PLUS_ONE) as honest:
        assert honest.softmax(torch.zeros(1)).tolist() == [1]
        with _Student(course, joined[1], SIGNALS_EVERY_PID) as hostile:
            assert hostile.softmax(torch.zeros(1)).tolist() == [0]  # seccomp: only itself
        assert honest.softmax(torch.zeros(2)).tolist() == [1, 1]


COUNTS_ITS_DESCRIPTORS = """
import os, torch
def softmax(x, dim=-1):
    kinds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            kinds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return torch.tensor([float(sum(k.startswith(("socket:", "anon_inode:[pidfd]")) for k in kinds)),
                         float(len(kinds))])
"""


def test_a_child_holds_no_descriptor_of_the_hub_or_of_another_child(
        course: Course, joined: tuple[SharedZygote, SharedZygote]) -> None:
    with _Student(course, joined[0], PLUS_ONE) as other:
        assert other.softmax(torch.zeros(2)).tolist() == [1, 1]  # the hub holds its pid fd and connection now
        with _Student(course, joined[1], COUNTS_ITS_DESCRIPTORS) as looking:
            hub_or_sibling, held = looking.softmax(torch.zeros(1)).tolist()
    assert hub_or_sibling == 0 and held >= 4  # its own pipes and stdio, nothing of anyone else's


FILLS_THE_TMPFS = """
import os, torch
def softmax(x, dim=-1):
    chunk = b"x" * (1 << 20)
    try:
        for i in range(200):
            with open(f"fill-{i}", "wb") as f:
                for _ in range(15):
                    f.write(chunk)
    except OSError:
        pass
    return x
"""


def test_a_file_the_hub_turns_away_is_graded_in_a_zygote_of_its_own(
        course: Course, joined: tuple[SharedZygote, SharedZygote]) -> None:
    with _Student(course, joined[0], FILLS_THE_TMPFS) as filler:
        filler.softmax(torch.zeros(1))  # the tmpfs is full while this child lives
        with _Student(course, joined[1], PLUS_ONE) as honest:
            assert honest.softmax(torch.zeros(2)).tolist() == [1, 1]
    own = joined[1].zygote
    assert own is not None and not own.joined  # graded in a zygote of its own, as before hubs
    assert joined[0].zygote is not None and joined[0].zygote.joined


def _joined_here(course_file: str) -> bool:
    """In a class run's grading process: whether its zygote is the hub's."""
    from grader.classroom import shared_zygote

    zygote = shared_zygote(course_file)
    return zygote is not None and zygote.get().joined


def test_a_class_runs_grading_processes_join_its_hub(course: Course, hub: ZygoteHub) -> None:
    from grader.classroom import _pool

    course_file = str(course.root / "course.yaml")
    pool = _pool(2, course_file, hub=hub)  # the hub's socket reaches them through the fork server
    try:
        assert list(pool.map(_joined_here, [course_file] * 4)) == [True] * 4
    finally:
        pool.shutdown(wait=True)


def test_a_hub_that_cannot_start_leaves_nothing_and_the_run_goes_on_without_one(
        course: Course, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from grader import classroom
    from grader.sandbox import zygote

    monkeypatch.setenv("GRADER_SANDBOX", "bubblewrap")
    confine.probe.cache_clear()
    scratch = tmp_path / "hub"

    def made(tier: confine.Tier) -> Path:
        scratch.mkdir()
        return scratch

    def refused(*args: object, **kwargs: object) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(confine, "scratch_folder", made)
    monkeypatch.setattr(zygote, "_start", refused)  # as when bwrap cannot be run: OSError from Popen
    try:
        assert classroom._hub(str(course.root / "course.yaml")) is None
    finally:
        confine.probe.cache_clear()
    assert not scratch.exists()


def test_the_hub_may_fork_for_a_whole_class_while_each_child_keeps_its_cpu_limit(
        course: Course, hub: ZygoteHub, joined: tuple[SharedZygote, SharedZygote]) -> None:
    with _Student(course, joined[0], PLUS_ONE) as child:
        assert child.softmax(torch.zeros(1)).tolist() == [1]  # the child now waits for its next call
        interpreter = _python_under(hub.proc.pid)
        kept = [int(c) for c in Path(f"/proc/{interpreter}/task/{interpreter}/children").read_text().split()]
        assert [_cpu_limit(c) for c in kept] == [str(int(FAST.exercise_seconds) + 1)]
    assert _cpu_limit(interpreter) == "unlimited"  # a class's forks add up


def _python_under(pid: int) -> int:
    """The hub's interpreter: the first python among the descendants of ``pid`` (bubblewrap's)."""
    todo = [pid]
    while todo:
        here = todo.pop(0)
        if "python" in Path(f"/proc/{here}/comm").read_text():
            return here
        todo += [int(c) for c in Path(f"/proc/{here}/task/{here}/children").read_text().split()]
    raise AssertionError(f"no interpreter under {pid}")


def _cpu_limit(pid: int) -> str:
    """The soft limit on ``pid``'s CPU time, as /proc shows it (seconds, or "unlimited")."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max cpu time"):
            return line.split()[3]
    raise AssertionError("no cpu time line")
