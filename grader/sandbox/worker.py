"""Runs inside the student's process. Loads only its neighbours, by path: nothing else from grader.

Started as a fresh interpreter (``python -I -B worker.py ...``), never forked
from the grader, so no reference output exists anywhere in this process. It
imports torch once, gives up every privilege and fences itself in, then
imports the one student file and answers calls (``evaluate.Evaluator``). It
never learns the expected answer or the tolerance, and it decides nothing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    # -I leaves this folder off sys.path on purpose, so load our own files by path.
    spec = importlib.util.spec_from_file_location(f"_grader_{name}", _HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_limits(limits: dict[str, int]) -> None:
    """Resource limits, set before any student code runs (see sandbox-notes §6)."""
    for name, value in limits.items():
        which = getattr(resource, name)
        soft, hard = (value, value) if name != "RLIMIT_CPU" else (value, value + 2)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (soft, hard))


def main() -> None:
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    student_path, module_name = sys.argv[3], sys.argv[4]
    config = json.loads(sys.argv[5])
    _set_limits(config["rlimits"])
    protocol = _load("protocol")
    writer = os.fdopen(write_fd, "wb")
    try:
        worker = _load("evaluate").Evaluator(protocol, student_path, module_name,
                                             config.get("device", "cpu"))  # imports torch
    except RuntimeError as exc:  # the device asked for is not usable in here
        error = {"type": "DeviceError", "message": str(exc)[:500], "line": None}
        protocol.write_frame(writer, {"op": "hello", "ok": False, "error": error}, [])
        return
    worker.torch.set_num_threads(1)
    if config.get("hub"):
        Hub(worker, read_fd, config).serve()
    elif config.get("zygote"):
        zygote(worker, read_fd, writer, config)
    else:
        serve(worker, read_fd, writer, config)


def serve(worker: Any, read_fd: int, writer: Any, config: dict[str, Any]) -> None:
    """Confine this process, import the student's file, then answer calls until told to stop."""
    protocol = worker.p
    # Confinement goes on after torch is loaded and before any student code runs:
    # no privilege first (a root grader's capabilities must not reach student code), then the fences.
    _load("privilege").drop(dumpable=not config.get("hide_proc"))
    paths = config.get("landlock")
    fenced = _load("landlock").restrict(paths["read"], paths["write"]) if paths else False
    gpu = config.get("device", "cpu") != "cpu"
    filtered = bool(config.get("seccomp")) and _load("seccomp").install(shared_files=gpu)
    protocol.write_frame(writer, {"op": "loading"}, [])  # torch is in, the fences are up: the student's file
    hello = worker.load_student()
    protocol.write_frame(writer, {**hello, "seccomp": filtered, "landlock": fenced}, [])
    while True:
        try:
            header, buffers = protocol.read_frame(read_fd)
        except EOFError:
            return
        if header.get("op") != "call":
            return
        try:
            reply, out = worker.call(header, buffers)
        except BaseException as exc:  # e.g. an output that cannot be encoded
            reply, out = {"ok": False, "stage": "reply", "error": worker.error(exc)}, []
        reply.update(op="reply", id=header.get("id"))
        try:
            protocol.write_frame(writer, reply, out)
        except ValueError:  # a non-JSON value slipped in; report it as an error
            reply = {"op": "reply", "id": header.get("id"), "ok": False, "stage": "reply",
                     "error": {"type": "ProtocolError", "message": "unencodable reply", "line": None}}
            protocol.write_frame(writer, reply, [])


def zygote(worker: Any, control_fd: int, writer: Any, config: dict[str, Any]) -> None:
    """Torch imported once; one child per request, each on its own pipes, in a folder of its own.

    A request comes over ``control`` (a unix socket): the child's four pipe ends
    (calls, replies, stdout, stderr) as SCM_RIGHTS, then a frame with the file's
    name and bytes. This process writes the file into a fresh folder and forks;
    the child keeps only its own pipes, fences itself into that folder (Landlock,
    seccomp) and answers calls. This process never loads student code and runs
    no torch op, so every child starts as clean as a fresh interpreter, ~2 s
    sooner (sandbox-notes §6). When the child ends (it cannot leave processes
    behind: seccomp denies fork), this process says how ("exited") and removes
    its folder, so nothing of one child reaches the next.
    """
    import gc
    import shutil
    import socket

    control = socket.socket(fileno=control_fd)  # ``writer`` writes to the same socket
    protocol = worker.p
    gc.collect()
    gc.freeze()  # a child's collections then leave torch's objects (and their shared pages) untouched
    protocol.write_frame(writer, {"op": "ready", "device": worker.device, "kills": _can_watch()}, [])
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(control, 1, 4)
            if request == protocol.KILL and not fds:  # late: the child it was meant for has ended already
                continue
            header, buffers = protocol.read_frame(control_fd)
        except (EOFError, OSError):
            return
        folder = _place(worker, header, buffers, fds)
        if folder is None:
            return
        writer.flush()
        pid = os.fork()
        if pid == 0:
            _child(worker, fds, folder, header, config, [control_fd])
        protocol.write_frame(writer, {"op": "forked", "pid": pid}, [])  # for the grader's disk watch
        for fd in fds:
            os.close(fd)
        status = _wait_child(control, pid, protocol.KILL)
        shutil.rmtree(folder, ignore_errors=True)
        protocol.write_frame(writer, {"op": "exited", "status": os.waitstatus_to_exitcode(status)}, [])


def _place(worker: Any, header: dict[str, Any], buffers: list[bytes], fds: list[int]) -> str | None:
    """A fork request's file, written into a fresh folder: the folder (None: a request not understood)."""
    import tempfile

    name = str(header.get("file"))
    if header.get("op") != "fork" or len(fds) != 4 or len(buffers) != 1 or os.path.basename(name) != name:
        return None
    folder = tempfile.mkdtemp(prefix="exercise-", dir=worker.path)
    try:
        with open(os.path.join(folder, name), "wb") as file:
            file.write(buffers[0])
    except OSError:  # no room (another child filled the folders' tmpfs): nothing is left behind
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


class Hub:
    """A zygote several grading processes share: a connection each, their children side by side.

    A class run's parent starts it; each grading process joins by sending one end of
    a fresh socket pair over ``hello`` (a SOCK_SEQPACKET socket: one message, one
    fd). Each connection then works as a lone zygote's control socket does: a fork
    request, the "forked" and "exited" reports, a kill request (``protocol.KILL``)
    or the connection's end killing that connection's child alone. A child closes
    every other connection, the other children's pid fds and ``hello`` before it
    runs anything, and leads a process group of its own, so the one thing seccomp
    lets it signal (itself, its group) is itself. Runs only where children run
    under seccomp and pid fds exist (the class run checks both).
    """

    def __init__(self, worker: Any, hello_fd: int, config: dict[str, Any]) -> None:
        import socket

        self.worker, self.config = worker, config
        self.hello: Any = socket.socket(fileno=hello_fd)
        self.links: dict[Any, dict[str, Any]] = {}
        """By connection: its child's pid, pid fd and folder, while it has one."""
        self.children: dict[int, Any] = {}
        """By the pid fd of a running child: its connection."""

    def serve(self) -> None:
        import gc
        import select

        gc.collect()
        gc.freeze()  # as a lone zygote does: children's collections leave torch's pages alone
        while self.hello is not None or self.links:
            hello = [self.hello] if self.hello is not None else []
            for ready in select.select([*hello, *self.links, *self.children], [], [])[0]:
                if ready is self.hello:
                    self._join()
                elif isinstance(ready, int):
                    self._reap(self.children.pop(ready))
                elif ready in self.links:
                    self._request(ready)

    def _join(self) -> None:
        import socket

        try:
            message, fds, _, _ = socket.recv_fds(self.hello, 1, 1)
        except OSError:
            message, fds = b"", []
        if not message:  # every grading process and the parent are gone
            self.hello.close()
            self.hello = None
            return
        for fd in fds:
            link = socket.socket(fileno=fd)
            self.links[link] = {}
            self._say(link, {"op": "ready", "device": self.worker.device, "kills": True})

    def _request(self, link: Any) -> None:
        import shutil
        import signal
        import socket

        state = self.links[link]
        if "pid" in state:  # a child runs: the only thing due is a kill request, or the end
            try:
                byte = link.recv(1)
            except OSError:
                byte = b""
            if byte in (self.worker.p.KILL, b""):
                os.kill(state["pid"], signal.SIGKILL)
            if not byte:
                state["closing"] = True
            return
        fds: list[int] = []
        folder = None
        try:
            request, fds, _, _ = socket.recv_fds(link, 1, 4)
            if request == self.worker.p.KILL and not fds:  # late: its child has ended already
                return
            header, buffers = self.worker.p.read_frame(link.fileno(), time.monotonic() + 5)
            folder = _place(self.worker, header, buffers, fds)
        except (EOFError, OSError, ValueError, self.worker.p.Timeout, self.worker.p.ProtocolError):
            pass
        if folder is None:  # the connection's end, a request not understood, or no room for the file
            self._drop(link, fds)
            return
        hub = [self.hello.fileno()] if self.hello is not None else []
        others = [*hub, *(s.fileno() for s in self.links), *self.children]
        try:
            pid = os.fork()
        except OSError:  # no process to spare now: that grading process goes on with a zygote of its own
            shutil.rmtree(folder, ignore_errors=True)
            self._drop(link, fds)
            return
        if pid == 0:
            _child(self.worker, fds, folder, header, self.config, others, own_group=True)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        state.update(pid=pid, pidfd=pidfd, folder=folder)
        self.children[pidfd] = link
        self._say(link, {"op": "forked", "pid": pid})

    def _reap(self, link: Any) -> None:
        import shutil

        state = self.links[link]
        os.close(state["pidfd"])
        status = os.waitpid(state["pid"], 0)[1]
        shutil.rmtree(state["folder"], ignore_errors=True)
        closing = state.get("closing")
        state.clear()
        if closing:
            self._drop(link, [])
        else:
            self._say(link, {"op": "exited", "status": os.waitstatus_to_exitcode(status)})

    def _say(self, link: Any, header: dict[str, Any]) -> None:
        try:
            link.sendall(self.worker.p.pack(header, []))
        except OSError:  # that grading process is gone: its child (if any) is killed when seen
            self.links[link]["closing"] = True
            if "pid" not in self.links[link]:
                self._drop(link, [])

    def _drop(self, link: Any, fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        self.links.pop(link, None)
        link.close()


def _can_watch() -> bool:
    """Whether this kernel has pid file descriptors: a child's end and a kill request awaited together."""
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True


def _wait_child(control: Any, pid: int, kill: bytes) -> int:
    """Wait for the child to end, killing it when the grader asks (``kill``) or goes away; its wait status.

    Killing the child alone is enough: seccomp denies it fork, so nothing of it is left
    (the grader asks only where the children run under seccomp). Without pid file
    descriptors the zygote just waits, and the grader kills the whole zygote instead.
    """
    import select
    import signal

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return os.waitpid(pid, 0)[1]
    try:
        while pidfd not in select.select([pidfd, control], [], [])[0]:
            if control.recv(1) in (kill, b""):  # asked to, or the grader is gone
                os.kill(pid, signal.SIGKILL)
                break
    except OSError:
        os.kill(pid, signal.SIGKILL)
    finally:
        os.close(pidfd)
    return os.waitpid(pid, 0)[1]


def _child(worker: Any, fds: list[int], folder: str, header: dict[str, Any],
           config: dict[str, Any], others: list[int], own_group: bool = False) -> None:
    """A zygote's child: its own pipes only (``others``: the zygote's own fds), its folder only,
    then ``serve``; never returns. ``own_group``: lead a process group of its own (a hub's child:
    kill(0) then reaches it alone, never the hub or another child)."""
    import tempfile

    code = 0
    try:
        if own_group:
            os.setpgid(0, 0)
        name = str(header["file"])
        calls, replies, out, err = fds
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (*others, out, err):
            os.close(fd)
        os.chdir(folder)
        os.environ.update(HOME=folder, TMPDIR=folder)
        tempfile.tempdir = None  # found again from TMPDIR: this child's folder
        _set_limits(header.get("rlimits") or {})
        worker.path = os.path.join(folder, name)
        worker.module_name = str(header.get("module"))
        fence = config.get("landlock")
        if fence is not None:  # the folder is this child's only writable place
            fence = {"read": fence["read"], "write": [*fence["write"], folder]}
        serve(worker, calls, os.fdopen(replies, "wb"), {**config, "landlock": fence})
    except BaseException:
        code = 70
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)  # no interpreter teardown: torch's exit hooks belong to no one here


if __name__ == "__main__":
    main()
