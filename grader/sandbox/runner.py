"""The trusted parent of the student's process: start, limit, talk, kill.

Trusted side. ``StudentProcess`` is one fresh interpreter running ``worker.py``
on one student file; ``SandboxRunner`` hands calls to it, restarts it (a few
times, within the exercise's time budget) after a crash or a time-out, and
turns every way it can fail into ``WorkerGone`` with a reason, never a crash
of the grader. ``LocalRunner`` evaluates trusted Python functions (references,
known mistakes) through the same wire format, for ``grade validate``.

This module imports torch only when the first message is encoded, so that the
student's process (which imports torch too) starts while the grader loads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
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


class StudentProcess:
    """One fresh interpreter that has imported one student file, or a zygote that forks one per exercise.

    With ``module`` it imports ``files``' one file as that module. Without, it is a
    zygote: it imports torch and waits; ``fork`` starts a child on one of ``files``,
    which then answers calls exactly as a plain worker does.
    """

    def __init__(self, files: Mapping[str, bytes], limits: Limits, device: str = "cpu",
                 module: str | None = None) -> None:
        self.limits = limits
        self.device = device
        self.tier = confine.probe()
        self.scratch = Path(tempfile.mkdtemp(prefix="grade-"))
        for name, source in files.items():
            (self.scratch / name).write_bytes(source)
        self.files = list(files)
        self.module = module
        self.zygote = module is None
        self.child = False
        """A zygote's child is running (forked and not yet reaped)."""
        self.started = time.monotonic()
        self.proc, self.to_child, self.from_child = self._spawn()
        limit = limits.output_kb << 10
        self.readers = [_CappedReader(s, limit, self.kill) for s in (self.proc.stdout, self.proc.stderr)]
        for reader in self.readers:
            reader.start()
        self.hello: Hello | None = None
        self.next_id = 0
        self.closed = False

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Any, int]:
        call_r, call_w = os.pipe()
        reply_r, reply_w = os.pipe()
        rlimits = {
            "RLIMIT_AS": self.limits.memory_mb << 20,
            "RLIMIT_CPU": int(self.limits.exercise_seconds) + 1,
            "RLIMIT_FSIZE": 16 << 20,
            "RLIMIT_CORE": 0,
            "RLIMIT_NOFILE": 256,
        }
        gpu = self.device != "cpu"
        fence = confine.landlock_paths(self.scratch, gpu) if self.tier.landlock else None
        config = {"rlimits": rlimits, "seccomp": self.tier.seccomp, "device": self.device,
                  "zygote": self.zygote, "landlock": fence}
        args = [str(call_r), str(reply_w), self.module or "", json.dumps(config)]
        argv = confine.worker_command(self.tier, self.scratch, self.files, args, gpu, self.zygote)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.scratch), "TMPDIR": str(self.scratch),
               "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1"}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # see env notes: keep BLAS correct
            if key in os.environ:
                env[key] = os.environ[key]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=(call_r, reply_w), cwd=self.scratch,
                                env=env, start_new_session=True)
        os.close(call_r)
        os.close(reply_w)
        return proc, os.fdopen(call_w, "wb"), reply_r

    def output(self) -> str:
        return "".join(reader.text() for reader in self.readers)

    def gone(self, reason: str, detail: str = "") -> WorkerGone:
        self.child = False
        self.kill()
        self.proc.wait()
        for reader in self.readers:
            reader.join(timeout=1)
        if any(reader.tripped for reader in self.readers):
            reason, detail = "output-limit", f"printed more than {self.limits.output_kb} KiB"
        elif reason == "crashed":
            detail = _exit_detail(self.proc.returncode)
        return WorkerGone(reason, detail, self.output())

    def receive(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        from grader.sandbox import protocol

        try:
            header, buffers = protocol.read_frame(self.from_child, deadline)
            if self.zygote and header.get("op") == "exited":  # the child died; the zygote lives on
                self.child = False
                code = header.get("status")
                detail = _exit_detail(code if isinstance(code, int) else None)
                raise WorkerGone("crashed", detail, self.output())
            return header, buffers
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
            names = header.get("callables") or []
            self.hello = Hello(ok=header.get("ok") is True,
                               callables=tuple(clean(n, 100) for n in names if isinstance(n, str)),
                               error=_error(header["error"]) if "error" in header else None,
                               device=self._device_named(header.get("device")))
        return self.hello

    def _device_named(self, said: Any) -> str:
        # Only a refinement of what was asked ("cuda" -> "cuda:0") is believed.
        if isinstance(said, str) and said.split(":")[0] == self.device.split(":")[0] and len(said) < 20:
            return said
        return self.device

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

    def fork(self, name: str, module: str, limits: Limits) -> None:
        """Start a zygote's child on ``name`` (one of its files), imported as ``module``."""
        from grader.sandbox import protocol

        assert self.zygote and not self.child and name in self.files
        self.hello, self.child, self.started = None, True, time.monotonic()
        for reader in self.readers:
            reader.restart(limits.output_kb << 10)
        rlimits = {"RLIMIT_CPU": int(limits.exercise_seconds) + 1, "RLIMIT_AS": limits.memory_mb << 20}
        try:
            self.to_child.write(protocol.pack({"op": "fork", "file": name, "module": module,
                                               "rlimits": rlimits}, []))
            self.to_child.flush()
        except (BrokenPipeError, OSError):
            raise self.gone("crashed") from None

    def end_child(self) -> None:
        """Stop a zygote's child between calls and wait until it is reaped; kill the zygote if it is not."""
        from grader.sandbox import protocol

        if not self.child or self.closed:
            return
        self.child = False
        deadline = time.monotonic() + 5
        try:
            self.to_child.write(protocol.pack({"op": "end"}, []))
            self.to_child.flush()
            while protocol.read_frame(self.from_child, deadline)[0].get("op") != "exited":
                pass
        except (protocol.Timeout, protocol.ProtocolError, EOFError, OSError):
            self.kill()  # a child that will not end (or a garbled pipe): the zygote goes too

    def alive(self) -> bool:
        return not self.closed and self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        self.proc.wait()
        for reader in self.readers:
            reader.join(timeout=1)
        for stream in (self.to_child, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        os.close(self.from_child)
        shutil.rmtree(self.scratch, ignore_errors=True)


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
        return StudentProcess({self.name: self.source}, self.limits, self.device, module=self.module)

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


class ZygoteChild:
    """A zygote's child, seen as a process of its own: closing it ends the child, not the zygote."""

    def __init__(self, zygote: StudentProcess) -> None:
        self.zygote = zygote

    def wait_hello(self, deadline: float) -> Hello:
        return self.zygote.wait_hello(deadline)

    def call(self, call: Call, deadline: float) -> Reply:
        return self.zygote.call(call, deadline)

    def close(self) -> None:
        self.zygote.end_child()


class StudentSandbox:
    """One confined process per student: torch imported once, a fresh child forked per exercise.

    For class runs (sandbox-notes: "a per-student zygote"). Only this student's
    files are in it, so nothing carries over between students; each exercise's
    child starts from the zygote's clean state, so nothing carries over between
    exercises either. A zygote that had to be killed (a time-out, an output
    flood) is replaced on the next exercise.
    """

    def __init__(self, files: Mapping[str, bytes], entries: Sequence[ExerciseEntry],
                 device: str = "cpu") -> None:
        self.files, self.device = dict(files), device
        self.limits = Limits(call_seconds=max(e.limits.call_seconds for e in entries),
                             exercise_seconds=sum(e.limits.exercise_seconds for e in entries),
                             memory_mb=max(e.limits.memory_mb for e in entries),
                             output_kb=max(e.limits.output_kb for e in entries))
        self.process: StudentProcess | None = None

    def runner(self, source: bytes, entry: ExerciseEntry, device: str) -> SandboxRunner:
        """A runner for ``entry``'s file (``grade_source``'s ``start_runner``)."""
        assert self.files.get(entry.file) == source and device == self.device
        return SandboxRunner(source, entry.file, entry.module, entry.limits, device,
                             start=lambda: self._child(entry))

    def _child(self, entry: ExerciseEntry) -> ZygoteChild:
        if self.process is None or not self.process.alive():
            self.close()
            self.process = StudentProcess(self.files, self.limits, self.device)
        self.process.fork(entry.file, entry.module, entry.limits)
        return ZygoteChild(self.process)

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None

    def __enter__(self) -> StudentSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
