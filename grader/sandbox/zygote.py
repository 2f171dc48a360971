"""Zygotes: one confined interpreter imports torch once and forks a child per exercise file.

Trusted side (class runs, sandbox-notes §6). A ``Zygote`` never loads student
code; each ``ZygoteChild`` gets its own pipes and a fresh folder holding its
one file, fences itself in and is reaped before the next is forked. A
``SharedZygote`` keeps one alive across students where children fence
themselves in (``confine.fences_children``); a ``StudentSandbox`` hands a
student's exercises to it as runners.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course import ExerciseEntry, Limits
from grader.sandbox import confine
from grader.sandbox.messages import Call, Hello, Reply, WorkerGone, parse_hello
from grader.sandbox.process import START_SECONDS, Conversation, as_user, environment, kill_group, rlimits
from grader.sandbox.runner import Channel, SandboxRunner


class Zygote:
    """A confined interpreter that has imported torch and forks one child per exercise file.

    It never loads student code itself. Each child gets its own pipes and a fresh
    folder with its one file, fences itself in (Landlock where the kernel has it,
    seccomp) and is reaped before the next is forked, so children of different
    students can share one zygote where ``confine.fences_children()`` holds.
    A child that must be killed (a time-out, an output flood, a garbled reply) is
    killed by the zygote on request (``protocol.KILL``) where children run under
    seccomp, so they cannot leave processes behind, and the zygote lives on;
    elsewhere, or when the zygote does not answer, the zygote goes with it and
    ``alive()`` says to start another.
    """

    def __init__(self, limits: Limits, device: str = "cpu", hub: HubAddress | None = None) -> None:
        self.limits, self.device = limits, device
        self.tier = confine.probe()
        self.control, theirs = socket.socketpair()
        self.proc: subprocess.Popen[bytes] | None = None
        if hub is None:
            self.scratch = confine.scratch_folder(self.tier)
            self.proc = _start(self.tier, self.scratch, limits, device, theirs)
        else:  # a connection to a hub: it owns the process and the folder
            self.scratch = Path(hub.scratch)
            with contextlib.suppress(OSError):
                socket.send_fds(hub.hello, [b"J"], [theirs.fileno()])
        theirs.close()
        self.gone = False
        """A hub's connection that ended (there is no process of this zygote's own to ask)."""
        self.started = time.monotonic()
        self.failed: Hello | None = None
        """Why no child can start here (the device asked for is not usable), once known."""
        self.ready = False
        self.kills_children = False
        """Whether a child alone can be killed (the zygote can await it and a request together)."""
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
                                 (os.fdopen(pipes[2][0], "rb"), os.fdopen(pipes[3][0], "rb")), limits,
                                 self._forked())
        return self.child

    def _forked(self) -> tuple[int, Path] | None:
        """The child's pid and folder, for its disk watch (none under bubblewrap: a tmpfs bounds it)."""
        header = self._receive(time.monotonic() + START_SECONDS) if self.alive() else None
        pid = header.get("pid") if header is not None and header.get("op") == "forked" else None
        if header is not None and not (isinstance(pid, int) and pid > 1):
            self.kill()  # not the report that was due: nothing it says can be trusted now
            return None
        return None if pid is None or self.tier.bwrap else (pid, self.scratch)

    def _wait_ready(self) -> bool:
        if not self.ready and self.failed is None and self.alive():
            header = self._receive(self.started + START_SECONDS)
            if header is not None and header.get("op") == "ready":
                self.ready = True
                self.kills_children = header.get("kills") is True and self.tier.seccomp
            elif header is not None and header.get("op") == "hello":  # it could not start: say why
                try:
                    self.failed = parse_hello(header, self.device)
                except Exception:  # a greeting that does not parse: nothing it says is believed
                    self.failed = Hello(ok=False)
                    self.kill()
        return self.ready and self.alive()

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        from grader.sandbox import protocol

        try:
            return protocol.read_frame(self.control.fileno(), deadline)[0]
        except (protocol.Timeout, protocol.ProtocolError, EOFError, OSError, ValueError):
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
        return not self.closed and not self.gone and (self.proc is None or self.proc.poll() is None)

    @property
    def joined(self) -> bool:
        """Whether this is a connection to a hub (``ZygoteHub``), not a zygote of its own."""
        return self.proc is None

    def kill_child(self) -> None:
        """Ask the zygote to kill its child; the zygote itself when it cannot (``reaped`` then notices)."""
        if self.kills_children and self.alive():
            with contextlib.suppress(OSError):
                from grader.sandbox import protocol

                self.control.send(protocol.KILL)
                return
        self.kill()

    def kill(self) -> None:
        """End this zygote (a hub's connection: end it; the hub then kills the child it had)."""
        if self.proc is None:
            self.gone = True
            self.control.close()
            return
        kill_group(self.proc)
        self.proc.wait()

    def close(self) -> None:
        if self.closed:
            return
        self.kill()
        self.closed = True
        self.control.close()
        if self.proc is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _start(tier: confine.Tier, scratch: Path, limits: Limits, device: str, theirs: socket.socket,
           hub: bool = False) -> subprocess.Popen[bytes]:
    """A zygote's process under ``tier``, in ``scratch``, over ``theirs`` (a hub's: its hello socket)."""
    gpu = device != "cpu"
    own = rlimits(limits)
    if hub:  # it runs no student code and forks for a whole class: its own CPU time is not capped
        del own["RLIMIT_CPU"]
    config = {"rlimits": own, "seccomp": tier.seccomp, "device": device,
              "zygote": True, "hub": hub, "landlock": confine.child_fence(tier, gpu),
              "hide_proc": tier.uid is not None}
    fd = theirs.fileno()
    args = [str(fd), str(fd), "", json.dumps(config)]
    argv = confine.worker_command(tier, scratch, [], args, gpu, zygote=True)
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(fd,), cwd=scratch,
                            env=environment(str(scratch)), start_new_session=True, **as_user(tier))


@dataclass(frozen=True)
class HubAddress:
    """How a grading process joins a hub: its hello socket (inherited) and its folder."""

    hello: socket.socket
    scratch: str


class ZygoteHub:
    """One zygote for all of a class run's grading processes, started by the run's parent.

    Each grading process's own zygote held its own import of torch (about 145 MB
    that processes started with exec cannot share); a hub holds one, and imports it
    while the grading processes start. Children of different grading processes run
    side by side in it, each in its own folder under Landlock, under seccomp (no
    fork, no socket, no signal but to itself) and in a process group of its own
    (``worker.Hub``). Only under bubblewrap, where the hub's pid namespace ends
    with it and a 64 MiB tmpfs bounds what children write (no disk watch is
    needed), with seccomp and pid fds (``possible``).
    """

    def __init__(self, limits: Limits) -> None:
        self.tier = confine.probe()
        self.scratch = confine.scratch_folder(self.tier)
        self.hello, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = _start(self.tier, self.scratch, limits, "cpu", theirs, hub=True)
        except OSError:  # nothing of it is left behind
            self.hello.close()
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        finally:
            theirs.close()

    @staticmethod
    def possible() -> bool:
        tier = confine.probe()
        if tier.bwrap is None or not tier.seccomp or not confine.fences_children(tier):
            return False
        try:  # the hub awaits its children and their connections together
            os.close(os.pidfd_open(os.getpid()))
        except (AttributeError, OSError):
            return False
        return True

    @property
    def address(self) -> HubAddress:
        return HubAddress(self.hello, str(self.scratch))

    def close(self) -> None:
        kill_group(self.proc)
        self.proc.wait()
        self.hello.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class ZygoteChild(Conversation):
    """A zygote's child, seen as a process of its own: closing it ends the child, not the zygote."""

    def __init__(self, zygote: Zygote, to_child: Any, from_child: int, outputs: Sequence[Any],
                 limits: Limits, watch: tuple[int, Path] | None = None) -> None:
        self.zygote = zygote
        self.status: int | None = None
        self.reaped = False
        super().__init__(to_child, from_child, outputs, limits, zygote.device, watch)

    def kill(self) -> None:
        if self.reaped:
            return  # already ended: nothing of it is left to kill
        self.zygote.kill_child()

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

    def pipeline(self, calls: Sequence[Call], limit: Callable[[], float], deadline: float) -> Iterator[Reply]:
        self.wait_hello(deadline)
        raise WorkerGone("crashed", "the sandbox could not start")
        yield  # a generator, like every channel's pipeline

    def close(self) -> None:
        pass


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
            return self.zygotes.fork(entry.file, source, entry.module, entry.limits)

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
                  output_kb=max(e.limits.output_kb for e in entries),
                  import_seconds=max(e.limits.import_seconds for e in entries))


class SharedZygote:
    """A zygote kept for as long as it lives, and started again when it does not.

    ``hub``: join a class run's hub (``ZygoteHub``) instead of starting one. Should
    the hub turn a file away (its tmpfs full) or go, this process starts a zygote of
    its own and keeps it: what one student's child does in the hub never costs
    another student a grade.
    """

    def __init__(self, limits: Limits, device: str = "cpu", hub: HubAddress | None = None) -> None:
        self.limits, self.device, self.hub = limits, device, hub
        self.zygote: Zygote | None = None

    def get(self) -> Zygote:
        if self.zygote is None or not self.zygote.alive():
            self.close()
            self.zygote = Zygote(self.limits, self.device, self.hub)
        return self.zygote

    def fork(self, name: str, source: bytes, module: str, limits: Limits) -> ZygoteChild | FailedStart:
        """``Zygote.fork`` on the kept zygote, on one of this process's own where the hub failed it."""
        zygote = self.get()
        child = zygote.fork(name, source, module, limits)
        if zygote.joined and not zygote.alive():
            child.close()
            self.hub = None
            return self.get().fork(name, source, module, limits)
        return child

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None
