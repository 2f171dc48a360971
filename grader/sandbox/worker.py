"""Runs inside the student's process. Imports nothing from grader but protocol.

Started as a fresh interpreter (``python -I -B worker.py ...``), never forked
from the grader, so no reference output exists anywhere in this process. It
imports torch once, then the one student file, then answers calls: each call
names a function and carries its inputs; the reply carries the outputs (and,
when asked, gradients and the inputs as they are after the call). It never
learns the expected answer or the tolerance, and it decides nothing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import resource
import sys
import traceback
from collections.abc import Iterator
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


def _student_error(exc: BaseException, student_path: str) -> dict[str, Any]:
    """The exception as data: its type, message and the student file's line."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == student_path:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == student_path:
            line = frame.lineno
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<unprintable message>"
    return {
        "type": type(exc).__name__,
        "message": message[:2000],
        "line": line,
        "is_value_error": isinstance(exc, ValueError),
        "not_implemented": isinstance(exc, NotImplementedError),
    }


class Worker:
    def __init__(self, protocol: Any, student_path: str, module_name: str, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        # Where the student's inputs live; "cuda" becomes "cuda:0", the name outputs will carry.
        self.device = str(torch.empty(0, device=device).device) if device != "cpu" else "cpu"
        self.p = protocol
        self.path = student_path
        self.module_name = module_name
        self.module: Any = None
        self.recorder = _Recorder()

    def load_student(self) -> dict[str, Any]:
        spec = importlib.util.spec_from_file_location(self.module_name, self.path)
        if spec is None or spec.loader is None:
            return {"op": "hello", "ok": False, "error": {"type": "ImportError",
                    "message": "not a Python file", "line": None}}
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included
            return {"op": "hello", "ok": False, "error": _student_error(exc, self.path)}
        self.module = module
        names = [n for n in dir(module) if callable(getattr(module, n, None))]
        return {"op": "hello", "ok": True, "callables": names[:500], "device": self.device}

    def call(self, header: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        p, torch = self.p, self.torch
        args = p.decode(header["args"], buffers, device=self.device)
        kwargs = p.decode(header["kwargs"], buffers, device=self.device)
        inputs = tensors_in((args, kwargs))
        versions = [t._version for t in inputs]
        function = getattr(self.module, header["function"], None)
        if not callable(function):
            return {"ok": False, "error": {"type": "MissingFunction", "line": None,
                    "message": header["function"]}}, []
        # The same file always sees the same randomness. (torch.manual_seed would
        # also queue CUDA/XPU seeding with a stack trace: ~3 ms a call.)
        torch.default_generator.manual_seed(0)
        if self.device != "cpu":
            torch.cuda.manual_seed(0)
        recorder = self.recorder
        try:
            with recorder.watch([str(p) for p in header.get("forbidden") or []]):
                result = function(*args, **kwargs)
        except BaseException as exc:
            return {"ok": False, "stage": "call", "error": _student_error(exc, self.path),
                    "forbidden_calls": recorder.seen}, []
        out: list[bytes] = []
        reply: dict[str, Any] = {"ok": True, "result": p.encode(result, out),
                                 "forbidden_calls": recorder.seen}
        if header.get("echo_inputs"):
            reply["inputs_after"] = p.encode((args, kwargs), out)
            reply["versions_changed"] = [i for i, t in enumerate(inputs)
                                         if t._version != versions[i]]
        if header.get("cotangents") is not None:
            cotangents = p.decode(header["cotangents"], buffers, device=self.device)
            try:
                reply.update(self.gradients(result, inputs, cotangents, out))
            except BaseException as exc:
                return {"ok": False, "stage": "backward",
                        "error": _student_error(exc, self.path)}, []
        return reply, out

    def gradients(self, result: Any, inputs: list[Any], cotangents: list[Any],
                  out: list[bytes]) -> dict[str, Any]:
        torch = self.torch
        leaves = [t for t in inputs if t.requires_grad]
        outputs = [t for t in tensors_in(result) if t.is_floating_point()]
        pairs = [(o, c) for o, c in zip(outputs, cotangents, strict=False) if o.requires_grad]
        if len(pairs) < len(cotangents) or not leaves:
            return {"grads": None, "not_differentiable": True}
        grads = torch.autograd.grad(vjp_objective(pairs), leaves, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads, strict=True)]
        return {"grads": self.p.encode(list(grads), out)}


def vjp_objective(pairs: list[tuple[Any, Any]]) -> Any:
    """sum(output · cotangent): its gradient is the vector-Jacobian product.

    A scalar objective with no explicit grad_outputs keeps torch.autograd.grad
    off a path that imports sympy and torch.fx (~0.4 s) on its first call.
    """
    return sum((o * c.to(o.dtype)).sum() for o, c in pairs)


def tensors_in(value: Any) -> list[Any]:
    """Every tensor inside nested lists, tuples and dicts, in a fixed order."""
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in tensors_in(item)]
    return []


class _Recorder:
    """Notes calls to forbidden built-ins, however they are reached.

    A torch-function mode sees every route to a built-in: ``torch.softmax``,
    ``F.softmax``, ``Tensor.softmax``, ``torch.special.softmax``, an alias, a
    ``getattr`` and ``torch.ops.aten._softmax`` alike. It is best effort: code
    running in this process can switch the mode off, and SECURITY.md says so.
    (A dispatch mode would see no more and costs ~1 s to enter the first time.)
    """

    def __init__(self) -> None:
        self.patterns: list[str] = []
        self.seen: list[str] = []

    def note(self, name: str) -> None:
        if any(p in name.lower() for p in self.patterns) and name not in self.seen:
            self.seen.append(name)

    @contextlib.contextmanager
    def watch(self, patterns: list[str]) -> Iterator[None]:
        self.patterns, self.seen = [p.lower() for p in patterns], []
        if not self.patterns:
            yield
            return
        with _function_mode()(self):
            yield


@functools.cache
def _function_mode() -> type:
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        def __init__(self, recorder: _Recorder) -> None:
            super().__init__()
            self.recorder = recorder

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            self.recorder.note(getattr(func, "__name__", str(func)))
            return func(*args, **(kwargs or {}))

    return Watch


def main() -> None:
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    student_path, module_name = sys.argv[3], sys.argv[4]
    config = json.loads(sys.argv[5])
    _set_limits(config["rlimits"])
    protocol = _load("protocol")
    writer = os.fdopen(write_fd, "wb")
    try:
        worker = Worker(protocol, student_path, module_name, config.get("device", "cpu"))  # imports torch
    except RuntimeError as exc:  # the device asked for is not usable in here
        error = {"type": "DeviceError", "message": str(exc)[:500], "line": None}
        protocol.write_frame(writer, {"op": "hello", "ok": False, "error": error}, [])
        return
    worker.torch.set_num_threads(1)
    if config.get("zygote"):
        zygote(worker, read_fd, writer, config)
    else:
        serve(worker, read_fd, writer, config)


def serve(worker: Worker, read_fd: int, writer: Any, config: dict[str, Any]) -> None:
    """Confine this process, import the student's file, then answer calls until told to stop."""
    protocol = worker.p
    # Confinement goes on after torch is loaded and before any student code runs.
    paths = config.get("landlock")
    fenced = _load("landlock").restrict(paths["read"], paths["write"]) if paths else False
    filtered = bool(config.get("seccomp")) and _load("seccomp").install()
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
            reply, out = {"ok": False, "stage": "reply", "error": _student_error(exc, worker.path)}, []
        reply.update(op="reply", id=header.get("id"))
        try:
            protocol.write_frame(writer, reply, out)
        except ValueError:  # a non-JSON value slipped in; report it as an error
            reply = {"op": "reply", "id": header.get("id"), "ok": False, "stage": "reply",
                     "error": {"type": "ProtocolError", "message": "unencodable reply", "line": None}}
            protocol.write_frame(writer, reply, [])


def zygote(worker: Worker, control_fd: int, writer: Any, config: dict[str, Any]) -> None:
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
    import shutil
    import socket
    import tempfile

    control = socket.socket(fileno=control_fd)  # ``writer`` writes to the same socket
    protocol = worker.p
    protocol.write_frame(writer, {"op": "ready", "device": worker.device}, [])
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 1, 4)
            header, buffers = protocol.read_frame(control_fd)
        except (EOFError, OSError):
            return
        name = str(header.get("file"))
        if header.get("op") != "fork" or len(fds) != 4 or len(buffers) != 1 or os.path.basename(name) != name:
            return
        folder = tempfile.mkdtemp(prefix="exercise-", dir=worker.path)
        with open(os.path.join(folder, name), "wb") as file:
            file.write(buffers[0])
        writer.flush()
        pid = os.fork()
        if pid == 0:
            _child(worker, fds, folder, name, header, config, control_fd)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)
        protocol.write_frame(writer, {"op": "exited", "status": os.waitstatus_to_exitcode(status)}, [])


def _child(worker: Worker, fds: list[int], folder: str, name: str, header: dict[str, Any],
           config: dict[str, Any], control_fd: int) -> None:
    """A zygote's child: its own pipes only, its folder only, then ``serve``; never returns."""
    import tempfile

    code = 0
    try:
        calls, replies, out, err = fds
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (control_fd, out, err):
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
