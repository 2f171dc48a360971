"""One zygote shared by many students (class runs): nothing of one child reaches the next.

Real sandboxed processes under the two tiers that fence children (bubblewrap and
Landlock): each child may write only its own folder, which is gone when it ends;
a crash is reported with its exit status and leaves the zygote serving; a child
that must be killed is killed by its zygote, which serves the next (or, where it
cannot kill a child alone, goes with it and the next gets a fresh zygote).
"""

from __future__ import annotations

import dataclasses
import textwrap
import time
import uuid
from collections.abc import Iterator

import pytest
import torch

from grader.course import Course, ExerciseEntry, Limits
from grader.sandbox import confine, process
from grader.sandbox.messages import Call, WorkerGone
from grader.sandbox.zygote import SharedZygote, StudentSandbox, Zygote, zygote_limits

FAST = Limits(call_seconds=2, exercise_seconds=30, memory_mb=4096, output_kb=256)

LEAVES_FILES = """
import os, torch
def softmax(x, dim=-1):
    wrote = []
    for path in ("NAME", "../NAME", "/tmp/NAME", "/sandbox/NAME", "/dev/shm/NAME"):
        try:
            with open(path, "w") as f:
                f.write("from an earlier student")
            wrote.append(path)
        except OSError:
            pass
    return torch.tensor([float(len(wrote))])
"""

LOOKS_FOR_THEM = """
import glob, os, torch
def softmax(x, dim=-1):
    places = ("NAME", "../NAME", "/tmp/NAME", "/sandbox/NAME", "/dev/shm/NAME")
    found = [p for p in places if os.path.exists(p)]
    found += glob.glob("../*/NAME") + glob.glob("/tmp/**/NAME", recursive=True)
    return torch.tensor([float(len(found))])
"""


@pytest.fixture(params=["bubblewrap", "landlock"])
def shared(request, monkeypatch, course: Course) -> Iterator[SharedZygote]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GRADER_SANDBOX", request.param)
    confine.probe.cache_clear()
    if confine.probe().name != request.param or not confine.fences_children(confine.probe()):
        pytest.fail(f"this machine should offer {request.param} with Landlock (see grade doctor)")
    zygotes = SharedZygote(zygote_limits([_entry(course)]))
    yield zygotes
    zygotes.close()
    confine.probe.cache_clear()


def _entry(course: Course, limits: Limits = FAST) -> ExerciseEntry:
    return dataclasses.replace(course.resolve("09"), limits=limits)


MARK = f"left-{uuid.uuid4().hex}.txt"
"""The name of the files LEAVES_FILES writes: this run's own (the Landlock tier shares the host's /tmp)."""


def _softmax(course: Course, shared: SharedZygote, source: str, limits: Limits = FAST) -> torch.Tensor:
    """The value ``softmax`` of a one-file student returns, run in a child of ``shared``."""
    entry, data = _entry(course, limits), textwrap.dedent(source.replace("NAME", MARK)).encode()
    with StudentSandbox({entry.file: data}, [entry], shared=shared) as sandbox:
        runner = sandbox.runner(data, entry, "cpu")
        try:
            reply = runner.call(Call("softmax", (torch.zeros(2),), {}))
        finally:
            runner.close()
    assert reply.ok, reply.error
    result: torch.Tensor = reply.result
    return result


def test_a_child_writes_only_its_own_folder_and_the_next_finds_nothing(course: Course,
                                                                      shared: SharedZygote) -> None:
    assert _softmax(course, shared, LEAVES_FILES).item() == 1.0  # its own folder, nothing else
    zygote = shared.zygote
    assert _softmax(course, shared, LOOKS_FOR_THEM).item() == 0.0
    assert shared.zygote is zygote and zygote is not None and zygote.alive()  # one zygote served both


def test_a_crash_is_reported_with_its_status_and_the_zygote_serves_the_next(course: Course,
                                                                            shared: SharedZygote) -> None:
    with pytest.raises(WorkerGone) as gone:
        _softmax(course, shared, "import os\ndef softmax(x, dim=-1):\n    print('bye')\n    os._exit(3)\n")
    assert gone.value.reason == "crashed" and gone.value.detail == "exited with status 3"
    assert "bye" in gone.value.output
    zygote = shared.zygote
    assert _softmax(course, shared, LOOKS_FOR_THEM).item() == 0.0
    assert shared.zygote is zygote


def test_a_child_that_must_be_killed_dies_alone_and_the_zygote_serves_the_next(
        course: Course, shared: SharedZygote) -> None:
    with pytest.raises(WorkerGone) as gone:
        _softmax(course, shared, "def softmax(x, dim=-1):\n    while True:\n        pass\n")
    assert gone.value.reason == "timeout"
    zygote = shared.zygote
    assert zygote is not None and zygote.alive() and zygote.kills_children  # seccomp: no grandchildren
    plus_one = "import torch\ndef softmax(x, dim=-1):\n    return x + 1\n"
    assert _softmax(course, shared, plus_one).tolist() == [1, 1]
    assert shared.zygote is zygote
    assert _softmax(course, shared, LOOKS_FOR_THEM).item() == 0.0  # the killed child left nothing


def test_a_file_whose_top_level_never_finishes_is_stopped_at_import_and_the_zygote_serves_the_next(
        course: Course, shared: SharedZygote) -> None:
    """A training loop left at the top level: the child never greets. It said "loading" first, so it
    gets the course's import allowance (``import_seconds``, 1 s here), not the cold start's minute."""
    assert Limits().import_seconds < process.START_SECONDS
    start = time.monotonic()
    with pytest.raises(WorkerGone) as gone:
        _softmax(course, shared, "def softmax(x, dim=-1):\n    return x\nwhile True:\n    pass\n",
                 dataclasses.replace(FAST, import_seconds=1.0))
    assert gone.value.reason == "timeout" and time.monotonic() - start < Limits().import_seconds
    plus_one = "import torch\ndef softmax(x, dim=-1):\n    return x + 1\n"
    assert _softmax(course, shared, plus_one).tolist() == [1, 1]


def test_where_a_child_cannot_be_killed_alone_its_zygote_goes_and_the_next_gets_a_fresh_one(
        course: Course, shared: SharedZygote, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Zygote, "_wait_ready", _refusing_to_kill(Zygote._wait_ready))
    with pytest.raises(WorkerGone) as gone:
        _softmax(course, shared, "def softmax(x, dim=-1):\n    while True:\n        pass\n")
    assert gone.value.reason == "timeout"
    killed = shared.zygote
    assert killed is not None and not killed.alive()
    plus_one = "import torch\ndef softmax(x, dim=-1):\n    return x + 1\n"
    assert _softmax(course, shared, plus_one).tolist() == [1, 1]
    assert shared.zygote is not killed


def _refusing_to_kill(wait_ready):  # type: ignore[no-untyped-def]
    """``Zygote._wait_ready`` as on a kernel without pid file descriptors: no child is killed alone."""
    def wait(self: Zygote) -> bool:
        ready: bool = wait_ready(self)
        self.kills_children = False
        return ready
    return wait
