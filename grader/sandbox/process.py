"""The student's process as the grader sees it: started, limited, drained, talked to, killed.

Trusted side, process plumbing only. ``StudentProcess`` is one fresh
interpreter running ``worker.py`` on one student file, under the tier
``confine.probe()`` chose. Its output is drained and capped; its replies are
read within deadlines and parsed (``messages``); every way it can fail
becomes ``WorkerGone`` with a reason. Which calls to make, and how often to
restart, is the runner's business (``runner.py``).

This module imports torch only when the first message is encoded, so that the
student's process (which imports torch too) starts while the grader loads.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from grader.course import Limits
from grader.sandbox import confine
from grader.sandbox.messages import (
    Call,
    Hello,
    Reply,
    WorkerGone,
    call_frame,
    clean,
    parse_hello,
    parse_reply,
)

START_SECONDS = 60.0
"""How long a student's process may take to greet, torch's import included (a loaded 2-core machine
can take a while); importing the student's file then gets the limits' ``import_seconds``."""
AHEAD = 16
"""Calls sent to the student's process before their turn (``Conversation.pipeline``)."""
AHEAD_BYTES = 48 << 10
"""Bytes of calls sent ahead, at most (a single call may be larger: it is sent alone)."""
KEEP_OUTPUT = 8 << 10  # bytes of the student's output kept for feedback


class CappedReader(threading.Thread):
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


DISK_BYTES = 2 * confine.TMPFS_BYTES
"""What one student's process may write to files, in every tier (bubblewrap: its two tmpfs folders)."""
DISK_FILES = 10_000
"""How many files and folders it may make in its own folder."""
PIPE_SLACK = 1 << 20  # bytes written to the grader's pipes that it may not have read yet


class DiskWatch(threading.Thread):
    """Stops a student's process that writes more than ``DISK_BYTES`` to files (tiers without a tmpfs).

    The kernel counts every byte a process passes to write(2) and its kin
    (``wchar`` in /proc/PID/io); less what the grader read from the process's
    pipes, that is what it wrote to files, wherever they are. seccomp denies the
    writes that bypass that count (shared file mappings, fallocate,
    copy_file_range, splice, AIO), and the folder is also checked for more than
    ``DISK_FILES`` entries (empty files cost inodes, not bytes). Polled every 50 ms:
    a process can overshoot by what it writes in that time.
    """

    def __init__(self, pid: int, folder: Path, piped: Callable[[], int],
                 on_limit: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.pid, self.folder, self.piped, self.on_limit = pid, folder, piped, on_limit
        self.stopped = threading.Event()
        self.tripped = False

    def run(self) -> None:
        ticks = 0
        while not self.stopped.wait(0.05):
            ticks += 1
            written = self._written()
            if written is None:
                return  # the process is gone (or its counters are out of reach)
            if written - self.piped() > DISK_BYTES + PIPE_SLACK or (ticks % 10 == 0 and self._crowded()):
                self.tripped = True
                self.on_limit()
                return

    def _written(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/io") as counters:
                for line in counters:
                    if line.startswith("wchar:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    def _crowded(self) -> bool:
        count = 0
        for _, folders, files in os.walk(self.folder):
            count += len(folders) + len(files)
            if count > DISK_FILES:
                return True
        return False

    def stop(self) -> None:
        self.stopped.set()


class Conversation:
    """Calls and replies over one pair of pipes, the other side's output drained and capped.

    The common part of a ``StudentProcess`` and a ``ZygoteChild``; each says how
    to kill the other side and how it ended. ``watch`` (the process's pid and
    folder, in tiers without a tmpfs) bounds what it writes to files.
    """

    def __init__(self, to_child: Any, from_child: int, outputs: Sequence[Any], limits: Limits,
                 device: str, watch: tuple[int, Path] | None = None) -> None:
        self.to_child, self.from_child = to_child, from_child
        os.set_blocking(to_child.fileno(), False)  # calls are written with deadlines (``_send``)
        self.limits, self.device = limits, device
        self.started = time.monotonic()
        self.replied = [0]  # bytes read from the reply pipe
        self.readers = [CappedReader(s, limits.output_kb << 10, self.kill) for s in outputs]
        for reader in self.readers:
            reader.start()
        self.disk: DiskWatch | None = None
        if watch is not None:
            self.disk = DiskWatch(*watch, self._piped, self.kill)
            self.disk.start()
        self.hello: Hello | None = None
        self.next_id = 0
        self.closed = False

    def _piped(self) -> int:
        return self.replied[0] + sum(reader.total for reader in self.readers)

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
        if self.disk is not None and self.disk.tripped:
            reason, detail = "disk-limit", str(DISK_BYTES >> 20)
        elif any(reader.tripped for reader in self.readers):
            reason, detail = "output-limit", f"printed more than {self.limits.output_kb} KiB"
        elif reason == "crashed":
            detail = exit_detail(code)
        return WorkerGone(reason, detail, self.output())

    def receive(self, deadline: float, parse: Callable[[dict[str, Any], list[bytes]], Any]) -> Any:
        """The next frame, parsed; any way it fails ends the conversation with its reason."""
        from grader.sandbox import protocol

        try:
            return parse(*protocol.read_frame(self.from_child, deadline, self.replied))
        except protocol.Timeout:
            raise self.gone("timeout") from None
        except (EOFError, OSError):
            raise self.gone("crashed") from None
        except protocol.ProtocolError as exc:
            raise self.gone("malformed", str(exc)) from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError,
                MemoryError, RuntimeError):  # a frame no check of ours foresaw: still the peer's fault
            raise self.gone("malformed", "unreadable frame") from None

    def wait_hello(self, deadline: float) -> Hello:
        """The greeting, within ``START_SECONDS`` of the start (torch is imported meanwhile) and the
        limits' ``import_seconds`` of "loading", where the student's file starts to be imported."""
        def greeting(header: dict[str, Any], _: list[bytes]) -> Hello | None:
            return None if header.get("op") == "loading" else parse_hello(header, self.device)

        if self.hello is None:
            hello = self.receive(min(deadline, self.started + START_SECONDS), greeting)
            if hello is None:
                hello = self.receive(min(deadline, time.monotonic() + self.limits.import_seconds),
                                     lambda header, _: parse_hello(header, self.device))
            self.hello = hello
        return self.hello

    def pipeline(self, calls: Sequence[Call], limit: Callable[[], float], deadline: float) -> Iterator[Reply]:
        """The replies to ``calls``, in order, with up to ``AHEAD`` calls sent before their turn.

        The process answers in order, so each reply is due ``limit()`` seconds after the one
        before it arrived, as if each call were sent alone (and never after ``deadline``).
        The process works through the calls back to back, without waiting for the grader to
        wake up and send the next one: one exchange for many inputs. Calls written ahead stay
        under ``AHEAD_BYTES`` and every write has a deadline, so a process that stops reading
        (or shrinks its pipe) times out, never blocks the grader.
        """
        from grader.sandbox import protocol

        device = self.hello.device if self.hello else self.device
        frames = []
        for call in calls:
            self.next_id += 1
            frames.append((self.next_id, protocol.pack(*call_frame(call, self.next_id))))
        due = min(deadline, time.monotonic() + limit())
        sent = 0
        for answered, (ident, _) in enumerate(frames):
            waiting = sum(len(frame) for _, frame in frames[answered:sent])
            while sent < len(frames) and (sent == answered or (
                    sent - answered < AHEAD and waiting + len(frames[sent][1]) <= AHEAD_BYTES)):
                self._send(frames[sent][1], due)
                waiting += len(frames[sent][1])
                sent += 1
            reply: Reply = self.receive(due, functools.partial(_reply_to, ident=ident, device=device))
            due = min(deadline, time.monotonic() + limit())
            yield reply

    def _send(self, frame: bytes, deadline: float) -> None:
        """Write a whole frame to the process before ``deadline`` (it reads calls between calls)."""
        fd = self.to_child.fileno()  # non-blocking since ``__init__``
        view = memoryview(frame)
        try:
            while view:
                if not select.select([], [fd], [], max(0.0, deadline - time.monotonic()))[1]:
                    raise self.gone("timeout")
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    continue
        except (BrokenPipeError, OSError, ValueError):
            raise self.gone("crashed") from None

    def _close_pipes(self) -> None:
        if self.disk is not None:
            self.disk.stop()
        for reader in self.readers:
            reader.join(timeout=1)
        for stream in (self.to_child, *(reader.stream for reader in self.readers)):
            with contextlib.suppress(OSError):
                stream.close()
        os.close(self.from_child)


def _reply_to(header: dict[str, Any], payload: list[bytes], ident: int, device: str) -> Reply:
    return parse_reply(header, payload, ident, device)


def environment(home: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # see env notes: keep BLAS correct
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def rlimits(limits: Limits) -> dict[str, int]:
    return {"RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CPU": int(limits.exercise_seconds) + 1,
            "RLIMIT_FSIZE": 16 << 20, "RLIMIT_CORE": 0, "RLIMIT_NOFILE": 256}


class StudentProcess(Conversation):
    """One fresh interpreter that imports one student file as ``module`` and answers calls."""

    def __init__(self, name: str, source: bytes, module: str, limits: Limits, device: str = "cpu") -> None:
        self.tier = confine.probe()
        self.scratch = confine.scratch_folder(self.tier)
        (self.scratch / name).write_bytes(source)
        call_r, call_w = os.pipe()
        reply_r, reply_w = os.pipe()
        gpu = device != "cpu"
        fence = confine.landlock_paths(self.scratch, gpu) if self.tier.landlock else None
        config = {"rlimits": rlimits(limits), "seccomp": self.tier.seccomp, "device": device,
                  "landlock": fence, "hide_proc": self.tier.uid is not None}
        args = [str(call_r), str(reply_w), module, json.dumps(config)]
        argv = confine.worker_command(self.tier, self.scratch, [name], args, gpu)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=(call_r, reply_w), cwd=self.scratch,
                                     env=environment(str(self.scratch)), start_new_session=True,
                                     **as_user(self.tier))
        os.close(call_r)
        os.close(reply_w)
        outputs = (self.proc.stdout, self.proc.stderr)
        watch = None if self.tier.bwrap else (self.proc.pid, self.scratch)  # bubblewrap: a 64 MiB tmpfs
        super().__init__(os.fdopen(call_w, "wb"), reply_r, outputs, limits, device, watch)

    def kill(self) -> None:
        kill_group(self.proc)

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


def as_user(tier: confine.Tier) -> dict[str, Any]:
    """``Popen`` arguments that start the process as the tier's unprivileged user, no groups kept."""
    if tier.uid is None:
        return {}
    return {"user": tier.uid, "group": tier.uid, "extra_groups": []}


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def exit_detail(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"killed by signal {name}"
    return f"exited with status {code}"
