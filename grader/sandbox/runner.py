"""The trusted parent of the student's process: start, limit, talk, kill.

Trusted side. ``StudentProcess`` is one fresh interpreter running ``worker.py``
on one student file; a ``Zygote`` is one that has imported torch and forks a
``ZygoteChild`` per file (class runs). ``SandboxRunner`` hands calls to either,
restarts it (a few times, within the exercise's time budget) after a crash or
a time-out, and turns every way it can fail into ``WorkerGone`` with a reason,
never a crash of the grader. ``LocalRunner`` evaluates trusted Python functions
(references, known mistakes) through the same wire format, for ``grade validate``.

This module imports torch only when the first message is encoded, so that the
student's process (which imports torch too) starts while the grader loads.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from grader.course import ExerciseEntry, Limits
from grader.sandbox import confine

START_SECONDS = 60.0  # importing torch on a loaded 2-core machine can take a while
KEEP_OUTPUT = 8 << 10  # bytes of the student's output kept for feedback
MAX_RESTARTS = 2


class WorkerGone(BaseException):  # noqa: N818 - BaseException so hypothesis stops at once
    """The student's process is gone or unusable; the current check cannot go on.

    It derives from BaseException on purpose: hypothesis then stops at once
    instead of shrinking an input against a process that no longer exists.
    """

    def __init__(self, reason: str, detail: str = "", output: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason  # timeout | crashed | output-limit | memory-limit | malformed | gave-up
        self.detail = detail
        self.output = output


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a student function, as the grader asks for it."""

    function: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    cotangents: list[Any] | None = None
    """When given, the reply carries d(sum(outputs · cotangents))/d(inputs)."""
    echo_inputs: bool = False
    """When set, the reply carries the inputs as they are after the call."""
    forbidden: tuple[str, ...] = ()
    """Substrings of built-in function names that must not be reached."""


@dataclass(frozen=True, slots=True)
class StudentError:
    """An exception raised by student code, as data."""

    type: str
    message: str
    line: int | None = None
    is_value_error: bool = False
    not_implemented: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back for one call, rebuilt as plain tensors."""

    ok: bool
    result: Any = None
    error: StudentError | None = None
    stage: str = "call"
    forbidden_calls: tuple[str, ...] = ()
    inputs_after: Any = None
    versions_changed: tuple[int, ...] = ()
    grads: list[Any] | None = None
    not_differentiable: bool = False


@dataclass(frozen=True, slots=True)
class Hello:
    """The student's process is up: the file imported, or why it did not."""

    ok: bool
    callables: tuple[str, ...] = ()
    error: StudentError | None = None
    device: str = "cpu"
    """Where the student's inputs live, as output tensors will name it ("cpu", "cuda:0")."""


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)}


def clean(text: str, limit: int) -> str:
    """Student text made safe to show: valid UTF-8, control characters (ANSI escapes) spelled out."""
    text = text[:limit].encode("utf-8", "replace").decode("utf-8")
    return text.translate(_CONTROL)


def _error(data: Any) -> StudentError:
    if not isinstance(data, dict):
        return StudentError("ProtocolError", "malformed error report")
    line = data.get("line")
    return StudentError(
        type=clean(str(data.get("type", "Exception")), 100),
        message=clean(str(data.get("message", "")), 2000),
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        is_value_error=data.get("is_value_error") is True,
        not_implemented=data.get("not_implemented") is True,
    )


class _CappedReader(threading.Thread):
    """Drains one output pipe, keeps the start, and trips past the limit."""

    def __init__(self, stream: Any, limit: int, on_limit: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit, self.on_limit = stream, limit, on_limit
        self.kept = bytearray()
        self.total = 0
        self.tripped = False

    def run(self) -> None:
        while chunk := self.stream.read1(65536) if hasattr(self.stream, "read1") else b"":
            self.total += len(chunk)
            if len(self.kept) < KEEP_OUTPUT:
                self.kept += chunk[: KEEP_OUTPUT - len(self.kept)]
            if self.total > self.limit and not self.tripped:
                self.tripped = True
                self.on_limit()

    def text(self) -> str:
        return clean(self.kept.decode("utf-8", errors="replace"), KEEP_OUTPUT)

    def restart(self, limit: int) -> None:
        """Count afresh: a zygote's next child starts with its own output budget."""
        self.kept, self.total, self.tripped, self.limit = bytearray(), 0, False, limit


class _Conversation:
    """Calls and replies over one pair of pipes, the other side's output drained and capped.

    The common part of a ``StudentProcess`` and a ``ZygoteChild``; each says how
    to kill the other side and how it ended.
    """

    def __init__(self, to_child: Any, from_child: int, outputs: Sequence[Any], limits: Limits,
                 device: str) -> None:
        self.to_child, self.from_child = to_child, from_child
        self.limits, self.device = limits, device
        self.started = time.monotonic()
        self.readers = [_CappedReader(s, limits.output_kb << 10, self.kill) for s in outputs]
        for reader in self.readers:
            reader.start()
        self.hello: Hello | None = None
        self.next_id = 0
        self.closed = False

    def kill(self) -> None:
        raise NotImplementedError

    def ended(self) -> int | None:
        """Wait for the other side's end; its exit status (None when unknown)."""
        raise NotImplementedError

    def output(self) -> str:
        return "".join(reader.text() for reader in self.readers)

    def gone(self, reason: str, detail: str = "") -> WorkerGone:
        if reason != "crashed":  # a crash has ended by itself and can say how
            self.kill()
        code = self.ended()
        for reader in self.readers:
            reader.join(timeout=1)
        if any(reader.tripped for reader in self.readers):
            reason, detail = "output-limit", f"printed more than {self.limits.output_kb} KiB"
        elif reason == "crashed":
            detail = _exit_detail(code)
        return WorkerGone(reason, detail, self.output())

    def receive(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        from grader.sandbox import protocol

        try:
            return protocol.read_frame(self.from_child, deadline)
        except protocol.Timeout:
            raise self.gone("timeout") from None
        except (EOFError, OSError):
            raise self.gone("crashed") from None
        except protocol.ProtocolError as exc:
            raise self.gone("malformed", str(exc)) from None

    def wait_hello(self, deadline: float) -> Hello:
        if self.hello is None:
            header, _ = self.receive(min(deadline, self.started + START_SECONDS))
            if header.get("op") != "hello":
                raise self.gone("malformed", "no greeting")
            self.hello = _hello(header, self.device)
        return self.hello

    def call(self, call: Call, deadline: float) -> Reply:
        from grader.sandbox import protocol

        self.next_id += 1
        header, buffers = _call_frame(call, self.next_id)
        try:
            self.to_child.write(protocol.pack(header, buffers))
            self.to_child.flush()
        except (BrokenPipeError, OSError):
            raise self.gone("crashed") from None
        reply, payload = self.receive(deadline)
        if reply.get("op") != "reply" or reply.get("id") != self.next_id:
            raise self.gone("malformed", "a reply that does not answer the call")
        try:
            return _reply(reply, payload, self.hello.device if self.hello else self.device)
        except protocol.ProtocolError as exc:
            raise self.gone("malformed", str(exc)) from None

    def _close_pipes(self) -> None:
        for reader in self.readers:
            reader.join(timeout=1)
        for stream in (self.to_child, *(reader.stream for reader in self.readers)):
            with contextlib.suppress(OSError):
                stream.close()
        os.close(self.from_child)


def _hello(header: dict[str, Any], device: str) -> Hello:
    names = header.get("callables") or []
    callables = tuple(clean(n, 100) for n in names if isinstance(n, str))
    return Hello(ok=header.get("ok") is True, callables=callables,
                 error=_error(header["error"]) if "error" in header else None,
                 device=_device_named(header.get("device"), device))


def _device_named(said: Any, asked: str) -> str:
    # Only a refinement of what was asked ("cuda" -> "cuda:0") is believed.
    if isinstance(said, str) and said.split(":")[0] == asked.split(":")[0] and len(said) < 20:
        return said
    return asked


def _environment(home: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # see env notes: keep BLAS correct
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _rlimits(limits: Limits) -> dict[str, int]:
    return {"RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CPU": int(limits.exercise_seconds) + 1,
            "RLIMIT_FSIZE": 16 << 20, "RLIMIT_CORE": 0, "RLIMIT_NOFILE": 256}


class StudentProcess(_Conversation):
    """One fresh interpreter that imports one student file as ``module`` and answers calls."""

    def __init__(self, name: str, source: bytes, module: str, limits: Limits, device: str = "cpu") -> None:
        self.tier = confine.probe()
        self.scratch = Path(tempfile.mkdtemp(prefix="grade-"))
        (self.scratch / name).write_bytes(source)
        call_r, call_w = os.pipe()
        reply_r, reply_w = os.pipe()
        gpu = device != "cpu"
        fence = confine.landlock_paths(self.scratch, gpu) if self.tier.landlock else None
        config = {"rlimits": _rlimits(limits), "seccomp": self.tier.seccomp, "device": device,
                  "landlock": fence}
        args = [str(call_r), str(reply_w), module, json.dumps(config)]
        argv = confine.worker_command(self.tier, self.scratch, [name], args, gpu)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=(call_r, reply_w), cwd=self.scratch,
                                     env=_environment(str(self.scratch)), start_new_session=True)
        os.close(call_r)
        os.close(reply_w)
        outputs = (self.proc.stdout, self.proc.stderr)
        super().__init__(os.fdopen(call_w, "wb"), reply_r, outputs, limits, device)

    def kill(self) -> None:
        _kill_group(self.proc)

    def ended(self) -> int | None:
        return self.proc.wait()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        self.proc.wait()
        self._close_pipes()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Zygote:
    """A confined interpreter that has imported torch and forks one child per exercise file.

    It never loads student code itself. Each child gets its own pipes and a fresh
    folder with its one file, fences itself in (Landlock where the kernel has it,
    seccomp) and is reaped before the next is forked, so children of different
    students can share one zygote where ``confine.fences_children()`` holds.
    Any child that must be killed (a time-out, an output flood, a garbled reply)
    takes the zygote with it; ``alive()`` then says to start another.
    """

    def __init__(self, limits: Limits, device: str = "cpu") -> None:
        self.limits, self.device = limits, device
        self.tier = confine.probe()
        self.scratch = Path(tempfile.mkdtemp(prefix="grade-"))
        self.control, theirs = socket.socketpair()
        gpu = device != "cpu"
        config = {"rlimits": _rlimits(limits), "seccomp": self.tier.seccomp, "device": device,
                  "zygote": True, "landlock": confine.child_fence(self.tier, gpu)}
        fd = theirs.fileno()
        argv = confine.worker_command(self.tier, self.scratch, [], [str(fd), str(fd), "", json.dumps(config)],
                                      gpu, zygote=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(fd,), cwd=self.scratch,
                                     env=_environment(str(self.scratch)), start_new_session=True)
        theirs.close()
        self.started = time.monotonic()
        self.failed: Hello | None = None
        """Why no child can start here (the device asked for is not usable), once known."""
        self.ready = False
        self.child: ZygoteChild | None = None
        self.closed = False

    def fork(self, name: str, source: bytes, module: str, limits: Limits) -> ZygoteChild | FailedStart:
        """Start a child on ``source`` (saved as ``name``), imported as ``module``."""
        from grader.sandbox import protocol

        if self.child is not None:  # one child at a time: the last one ends first
            self.child.close()
        if not self._wait_ready():
            return FailedStart(self.failed)
        pipes = [os.pipe() for _ in range(4)]  # calls, replies, stdout, stderr
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]]
        rlimits = {"RLIMIT_CPU": int(limits.exercise_seconds) + 1, "RLIMIT_AS": limits.memory_mb << 20}
        frame = protocol.pack({"op": "fork", "file": name, "module": module, "rlimits": rlimits}, [source])
        try:
            socket.send_fds(self.control, [b"F"], theirs)
            self.control.sendall(frame)
        except OSError:
            self.kill()
        finally:
            for fd in theirs:
                os.close(fd)
        self.child = ZygoteChild(self, os.fdopen(pipes[0][1], "wb"), pipes[1][0],
                                 (os.fdopen(pipes[2][0], "rb"), os.fdopen(pipes[3][0], "rb")), limits)
        return self.child

    def _wait_ready(self) -> bool:
        if not self.ready and self.failed is None and self.alive():
            header = self._receive(self.started + START_SECONDS)
            if header is not None and header.get("op") == "ready":
                self.ready = True
            elif header is not None and header.get("op") == "hello":  # it could not start: say why
                self.failed = _hello(header, self.device)
        return self.ready and self.alive()

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        from grader.sandbox import protocol

        try:
            return protocol.read_frame(self.control.fileno(), deadline)[0]
        except (protocol.Timeout, protocol.ProtocolError, EOFError, OSError):
            self.kill()
            return None

    def reaped(self, deadline: float) -> int | None:
        """Wait for the zygote to report its child's end; the exit status, or None (and it is killed)."""
        header = self._receive(deadline) if self.alive() else None
        status = header.get("status") if header is not None and header.get("op") == "exited" else None
        if header is not None and not isinstance(status, int):
            self.kill()  # not the report that was due: nothing it says can be trusted now
        self.child = None
        return status if isinstance(status, int) else None

    def alive(self) -> bool:
        return not self.closed and self.proc.poll() is None

    def kill(self) -> None:
        _kill_group(self.proc)
        self.proc.wait()

    def close(self) -> None:
        if self.closed:
            return
        self.kill()
        self.closed = True
        self.control.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class ZygoteChild(_Conversation):
    """A zygote's child, seen as a process of its own: closing it ends the child, not the zygote."""

    def __init__(self, zygote: Zygote, to_child: Any, from_child: int, outputs: Sequence[Any],
                 limits: Limits) -> None:
        self.zygote = zygote
        self.status: int | None = None
        self.reaped = False
        super().__init__(to_child, from_child, outputs, limits, zygote.device)

    def kill(self) -> None:
        self.zygote.kill()

    def ended(self) -> int | None:
        if not self.reaped:
            self.reaped = True
            self.status = self.zygote.reaped(time.monotonic() + 5)
        return self.status

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            self.to_child.close()  # the child reads the end of its calls and exits
        self.ended()
        self._close_pipes()


class FailedStart:
    """A child that could not start because its zygote could not: it says why when greeted."""

    def __init__(self, hello: Hello | None) -> None:
        self.failure = hello
        """The zygote's own greeting when it said why (the device asked for is not usable)."""

    def wait_hello(self, deadline: float) -> Hello:
        if self.failure is not None:
            return self.failure
        raise WorkerGone("crashed", "the sandbox could not start")

    def call(self, call: Call, deadline: float) -> Reply:
        self.wait_hello(deadline)
        raise WorkerGone("crashed", "the sandbox could not start")

    def close(self) -> None:
        pass


def _call_frame(call: Call, ident: int) -> tuple[dict[str, Any], list[bytes]]:
    from grader.sandbox import protocol

    buffers: list[bytes] = []
    header = {
        "op": "call", "id": ident, "function": call.function,
        "args": protocol.encode(tuple(call.args), buffers),
        "kwargs": protocol.encode(dict(call.kwargs), buffers),
        "cotangents": None if call.cotangents is None else protocol.encode(call.cotangents, buffers),
        "echo_inputs": call.echo_inputs, "forbidden": list(call.forbidden),
    }
    return header, buffers


def _reply(header: dict[str, Any], payload: list[bytes], device: str = "cpu") -> Reply:
    from grader.sandbox import protocol

    def get(key: str) -> Any:
        value = header.get(key)
        return None if value is None else protocol.decode(value, payload, strict=True, device=device)

    forbidden = header.get("forbidden_calls") or []
    changed = header.get("versions_changed") or []
    if not header.get("ok"):
        return Reply(ok=False, error=_error(header.get("error")), stage=clean(str(header.get("stage")), 20),
                     forbidden_calls=tuple(clean(str(f), 100) for f in forbidden))
    grads = get("grads")
    return Reply(
        ok=True, result=get("result"), forbidden_calls=tuple(clean(str(f), 100) for f in forbidden),
        inputs_after=get("inputs_after"),
        versions_changed=tuple(i for i in changed if isinstance(i, int)),
        grads=list(grads) if isinstance(grads, list) else None,
        not_differentiable=header.get("not_differentiable") is True,
    )


def _exit_detail(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"killed by signal {name}"
    return f"exited with status {code}"


class Channel(Protocol):
    """What a runner talks to: a ``StudentProcess`` or a ``ZygoteChild``."""

    def wait_hello(self, deadline: float) -> Hello: ...

    def call(self, call: Call, deadline: float) -> Reply: ...

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
        self.process: Channel | None = self._start()

    def _start(self) -> Channel:
        if self.start is not None:
            return self.start()
        return StudentProcess(self.name, self.source, self.module, self.limits, self.device)

    def hello(self) -> Hello:
        return self._live().wait_hello(self.deadline)

    def _live(self) -> Channel:
        if self.process is None:
            if self.restarts >= MAX_RESTARTS or time.monotonic() > self.deadline - 5:
                raise WorkerGone("gave-up", "the submission's process failed too often")
            self.restarts += 1
            self.process = self._start()
        return self.process

    def call(self, call: Call) -> Reply:
        process = self._live()
        try:
            process.wait_hello(self.deadline)
            deadline = min(self.deadline, time.monotonic() + self.limits.call_seconds)
            return process.call(call, deadline)
        except WorkerGone:
            process.close()
            self.process = None
            raise

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None


class StudentSandbox:
    """Where one student's exercises run: a child of a zygote each, torch imported once.

    For class runs (sandbox-notes §6). Each exercise's child starts from the
    zygote's clean state in a folder holding only its file, so nothing carries
    over between exercises. The zygote is this student's own, or ``shared``
    across students where children fence themselves in (``confine.fences_children``).
    A zygote that had to be killed (a time-out, an output flood) is replaced.
    """

    def __init__(self, files: Mapping[str, bytes], entries: Sequence[ExerciseEntry], device: str = "cpu",
                 shared: SharedZygote | None = None) -> None:
        self.files, self.device = dict(files), device
        self.zygotes = shared or SharedZygote(zygote_limits(entries), device)
        self.own = shared is None

    def runner(self, source: bytes, entry: ExerciseEntry, device: str) -> SandboxRunner:
        """A runner for ``entry``'s file (``grade_source``'s ``start_runner``)."""
        assert self.files.get(entry.file) == source and device == self.device
        def start() -> Channel:
            return self.zygotes.get().fork(entry.file, source, entry.module, entry.limits)

        return SandboxRunner(source, entry.file, entry.module, entry.limits, device, start=start)

    def close(self) -> None:
        if self.own:
            self.zygotes.close()

    def __enter__(self) -> StudentSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def zygote_limits(entries: Sequence[ExerciseEntry]) -> Limits:
    """A zygote's own limits: room for the largest exercise (each child sets its own)."""
    return Limits(call_seconds=max(e.limits.call_seconds for e in entries),
                  exercise_seconds=sum(e.limits.exercise_seconds for e in entries),
                  memory_mb=max(e.limits.memory_mb for e in entries),
                  output_kb=max(e.limits.output_kb for e in entries))


class SharedZygote:
    """A zygote kept for as long as it lives, and started again when it does not."""

    def __init__(self, limits: Limits, device: str = "cpu") -> None:
        self.limits, self.device = limits, device
        self.zygote: Zygote | None = None

    def get(self) -> Zygote:
        if self.zygote is None or not self.zygote.alive():
            self.close()
            self.zygote = Zygote(self.limits, self.device)
        return self.zygote

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None


class LocalRunner:
    """Runs trusted functions in this process through the worker's own code path.

    Used for references and known mistakes only (``grade validate`` and the
    diagnosis of a failure), never for student code: the same ``Worker.call``
    and the same wire format, so a reference is judged exactly as a student is.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        from grader.sandbox import protocol, worker

        self.functions = functions
        self.worker = worker.Worker(protocol, "<reference>", "reference")
        self.worker.module = SimpleNamespace(**functions)

    def hello(self) -> Hello:
        return Hello(ok=True, callables=tuple(self.functions))

    def call(self, call: Call) -> Reply:

        # Trusted code needs no forbidden-call watch, and its modes would outlive the call here.
        header, buffers = _call_frame(replace(call, forbidden=()), 0)
        reply, out = self.worker.call(json.loads(json.dumps(header)), buffers)
        return _reply(json.loads(json.dumps(reply)), out)

    def close(self) -> None:
        pass
