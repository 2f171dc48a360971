"""How one call of a function is evaluated: the same code for a student's function and a reference.

Stdlib and torch only, and nothing from grader: the student's process loads
this file by path (``worker.py``), and the trusted side imports it for
``LocalRunner``, so a reference is judged exactly as a student is. An
``Evaluator`` decodes a call's inputs, calls the function (watching for
forbidden built-ins), and encodes the outputs, gradients and inputs as they
are afterwards. It never sees an expected answer and decides nothing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from typing import Any


def student_error(exc: BaseException, student_path: str) -> dict[str, Any]:
    """The exception as data: its type, message and the student file's line."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == student_path:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == student_path:
            line = frame.lineno
    try:
        # A SyntaxError's str() repeats the file and line ("... (ex05.py, line 3)"): its msg alone says it.
        message = str(exc.msg) if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    except Exception:  # a hostile __str__
        message = "<unprintable message>"
    return {
        "type": type(exc).__name__,
        "message": message[:2000],
        "line": line,
        "is_value_error": isinstance(exc, ValueError),
        "not_implemented": isinstance(exc, NotImplementedError),
    }


class Evaluator:
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

    def error(self, exc: BaseException) -> dict[str, Any]:
        return student_error(exc, self.path)

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
            return {"op": "hello", "ok": False, "error": student_error(exc, self.path)}
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
        # The same file always sees the same randomness, unless the grader asks for another seed.
        # (torch.manual_seed would also queue CUDA/XPU seeding with a stack trace: ~3 ms a call.)
        seed = int(header.get("seed") or 0)
        torch.default_generator.manual_seed(seed)
        if self.device != "cpu":
            torch.cuda.manual_seed(seed)
        recorder = self.recorder
        try:
            with recorder.watch([str(p) for p in header.get("forbidden") or []]):
                result = function(*args, **kwargs)
        except BaseException as exc:
            return {"ok": False, "stage": "call", "error": student_error(exc, self.path),
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
                        "error": student_error(exc, self.path)}, []
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
