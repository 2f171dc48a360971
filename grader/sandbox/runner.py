"""Runner policy: which process a check's calls go to, and when to start another.

Trusted side. A ``SandboxRunner`` hands calls to a student's process (a fresh
``StudentProcess``, or a zygote's child), restarts it a few times within the
exercise's time budget after a crash or a time-out, and then gives up with
``WorkerGone("gave-up")``. A ``LocalRunner`` evaluates trusted functions
(references, known mistakes) in this process with the same evaluation code
and wire format, so a reference is judged exactly as a student is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, Protocol

from grader.course import Limits
from grader.sandbox.messages import Call, Hello, Reply, WorkerGone, call_frame, parse_reply

MAX_RESTARTS = 2
RESTART_MARGIN = 5
"""A process is not started again with less of the exercise's time left than this."""

LEASH = 0.1
"""After a call is stopped at a limit, the next call gets this share of the call limit (at least
``MIN_LEASH`` s): code that only hung on one input answers it and gets its full limit back, while code
that is stopped on the leash too is taken to loop forever and is not started again (``hangs``). A file
that loops forever then costs one call limit and a leash per exercise, not one call limit per check."""
MIN_LEASH = 0.25

STOPPED_AT_LIMIT = ("timeout", "memory-limit")
"""The limits that put the next call on the leash. A call that ran into the memory limit (a
``MemoryError``, say from a list grown without end) took about as long as a time-out to get there;
a time-out on the leash after it is reported as the memory limit again."""


class Runner(Protocol):
    """What the checks call a student's (or a reference's) functions through."""

    def hello(self) -> Hello: ...

    def call(self, call: Call) -> Reply: ...

    def call_many(self, calls: Sequence[Call]) -> list[Reply | WorkerGone]: ...

    def close(self) -> None: ...


class Channel(Protocol):
    """What a runner talks to: a ``StudentProcess`` or a ``ZygoteChild``."""

    def wait_hello(self, deadline: float) -> Hello: ...

    def pipeline(self, calls: Sequence[Call], limit: Callable[[], float],
                 deadline: float) -> Iterator[Reply]: ...

    def close(self) -> None: ...


class SandboxRunner:
    """Calls student functions in a fresh process, within the exercise's limits."""

    def __init__(self, source: bytes, name: str, module: str, limits: Limits, device: str = "cpu",
                 start: Callable[[], Channel] | None = None) -> None:
        """Start the student's process on ``source`` (the file's bytes, read once and checked).

        ``device`` ("cpu" or "cuda") is where the student's functions get their inputs.
        ``start`` gives the process another way (a child of a ``StudentSandbox``).
        """
        self.source, self.name, self.module, self.limits = source, name, module, limits
        self.device = device
        self.start = start
        self.deadline = time.monotonic() + limits.exercise_seconds
        self.restarts = 0
        self.leashed = ""
        """How the last call was stopped, if it was (a time-out or the memory limit) and none has
        answered since: see ``LEASH``."""
        self.hangs = False
        """Whether a call was stopped on the leash as well: the code loops forever, so no restart."""
        self.process: Channel | None = self._start()

    def _start(self) -> Channel:
        if self.start is not None:
            return self.start()
        from grader.sandbox.process import StudentProcess

        return StudentProcess(self.name, self.source, self.module, self.limits, self.device)

    def hello(self) -> Hello:
        return self._live().wait_hello(self.deadline)

    def _live(self) -> Channel:
        if self.process is None:
            if self.hangs or self.restarts >= MAX_RESTARTS:
                raise WorkerGone("gave-up", "the submission's process failed too often or loops forever")
            if time.monotonic() > self.deadline - RESTART_MARGIN:  # no time left to start one
                raise self._spent()
            self.restarts += 1
            self.process = self._start()
        return self.process

    def call(self, call: Call) -> Reply:
        (answer,) = self.call_many([call])
        if isinstance(answer, WorkerGone):
            raise answer
        return answer

    def call_many(self, calls: Sequence[Call]) -> list[Reply | WorkerGone]:
        """The replies to ``calls`` in order, each within its own call limit, sent ahead (``pipeline``).

        When the process stops on one, that call's ``WorkerGone`` ends the list: the calls after
        it were not answered (a call to this runner starts the process again).
        """
        try:
            process = self._live()
        except WorkerGone as gave_up:
            return [gave_up]
        answers: list[Reply | WorkerGone] = []
        try:
            process.wait_hello(self.deadline)
            for reply in process.pipeline(calls, self.call_limit, self.deadline):
                if reply.error is not None and reply.error.out_of_memory:
                    # Filling the address space takes as long as a time-out: stopped, not called again.
                    raise WorkerGone("memory-limit")
                answers.append(reply)
                self.leashed = ""
        except WorkerGone as gone:
            process.close()
            self.process = None
            if gone.reason == "timeout" and time.monotonic() >= self.deadline:  # no call was too slow
                gone = self._spent(gone.output)
            if self.leashed and gone.reason == "timeout":  # the leash was too short for the same cause
                gone = WorkerGone(self.leashed, gone.detail, gone.output)
            stopped = gone.reason in STOPPED_AT_LIMIT
            self.hangs = bool(self.leashed) and stopped
            self.leashed = gone.reason if stopped else ""
            answers.append(gone)
        return answers

    def _spent(self, output: str = "") -> WorkerGone:
        """The exercise's whole time is used up (every call answered within its own limit)."""
        return WorkerGone("exercise-time", f"{self.limits.exercise_seconds:g}", output)

    def call_limit(self) -> float:
        """Seconds the next call may take: the course's limit, or a short leash after a time-out."""
        limit = self.limits.call_seconds
        return min(limit, max(MIN_LEASH, LEASH * limit)) if self.leashed else limit

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None


class LocalRunner:
    """Runs trusted functions in this process through the worker's own code path.

    Used for references and known mistakes only (``grade validate`` and the
    diagnosis of a failure), never for student code: the same ``Worker.call``
    and the same wire format, so a reference is judged exactly as a student is.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        from grader.sandbox import evaluate, protocol

        self.functions = functions
        self.worker = evaluate.Evaluator(protocol, "<reference>", "reference")
        self.worker.module = SimpleNamespace(**functions)

    def hello(self) -> Hello:
        return Hello(ok=True, callables=tuple(self.functions))

    def call_many(self, calls: Sequence[Call]) -> list[Reply | WorkerGone]:
        return [self.call(call) for call in calls]

    def call(self, call: Call) -> Reply:
        # Trusted code needs no forbidden-call watch, and its modes would outlive the call here.
        header, buffers = call_frame(replace(call, forbidden=()), 0)
        reply, out = self.worker.call(json.loads(json.dumps(header)), buffers)
        return parse_reply(json.loads(json.dumps({**reply, "op": "reply", "id": 0})), out, 0)

    def close(self) -> None:
        pass
