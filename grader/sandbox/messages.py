"""The messages between the grader and the student's process, as the trusted side reads them.

Trusted side. A ``Call`` goes out as a frame (``protocol``); what comes back
is parsed here into a ``Hello`` or a ``Reply`` of plain values and plain
tensors. Everything in a frame from the student's process is hostile until
parsed: any frame that does not parse (a wrong type anywhere, too deep, a
buffer named twice, over a size bound) raises ``protocol.ProtocolError``,
which the process plumbing turns into a failed check for that student,
never an error of the grader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.feedback.escape import terminal


class WorkerGone(BaseException):  # noqa: N818 - BaseException so hypothesis stops at once
    """The student's process is gone or unusable; the current check cannot go on.

    It derives from BaseException on purpose: hypothesis then stops at once
    instead of shrinking an input against a process that no longer exists.
    """

    def __init__(self, reason: str, detail: str = "", output: str = "") -> None:
        super().__init__(reason, detail)
        # timeout | crashed | output-limit | disk-limit | memory-limit | malformed | gave-up
        self.reason = reason
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
    seed: int = 0
    """What torch's generator is set to before the call: the same file always sees the same
    randomness, and another seed tells a random function apart (``patterns.random_output``)."""


OUT_OF_MEMORY = ("can't allocate memory", "Cannot allocate memory", "out of memory")
"""What torch and the C library say when an allocation fails (besides a ``MemoryError``)."""


@dataclass(frozen=True, slots=True)
class StudentError:
    """An exception raised by student code, as data."""

    type: str
    message: str
    line: int | None = None
    is_value_error: bool = False
    not_implemented: bool = False

    @property
    def out_of_memory(self) -> bool:
        """Whether the call ran into the process's memory limit."""
        return self.type == "MemoryError" or any(s in self.message for s in OUT_OF_MEMORY)


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


def clean(text: str, limit: int) -> str:
    """Student text made safe to show: valid UTF-8, control characters and bidi marks spelled out."""
    return terminal(text[:limit])


def _text(value: Any, limit: int) -> str:
    return clean(value if isinstance(value, str) else "", limit)


def parse_error(data: Any) -> StudentError:
    if not isinstance(data, dict):
        return StudentError("ProtocolError", "malformed error report")
    line = data.get("line")
    return StudentError(
        type=_text(data.get("type", "Exception"), 100) or "Exception",
        message=_text(data.get("message", ""), 2000),
        line=line if isinstance(line, int) and not isinstance(line, bool) and 0 <= line < 1 << 31 else None,
        is_value_error=data.get("is_value_error") is True,
        not_implemented=data.get("not_implemented") is True,
    )


def _names(value: Any, limit: int = 500) -> tuple[str, ...]:
    """A list of short strings from a peer; anything else in it is dropped."""
    if not isinstance(value, list):
        return ()
    return tuple(clean(n, 100) for n in value[:limit] if isinstance(n, str))


def parse_hello(header: dict[str, Any], device: str) -> Hello:
    """The student's process's greeting; raises ``ProtocolError`` when it is not one."""
    from grader.sandbox import protocol

    if header.get("op") != "hello":
        raise protocol.ProtocolError("no greeting")
    return Hello(ok=header.get("ok") is True, callables=_names(header.get("callables")),
                 error=parse_error(header["error"]) if "error" in header else None,
                 device=device_named(header.get("device"), device))


def device_named(said: Any, asked: str) -> str:
    # Only a refinement of what was asked ("cuda" -> "cuda:0") is believed.
    if isinstance(said, str) and said.split(":")[0] == asked.split(":")[0] and len(said) < 20:
        return said
    return asked


def call_frame(call: Call, ident: int) -> tuple[dict[str, Any], list[bytes]]:
    from grader.sandbox import protocol

    buffers: list[bytes] = []
    header = {
        "op": "call", "id": ident, "function": call.function,
        "args": protocol.encode(tuple(call.args), buffers),
        "kwargs": protocol.encode(dict(call.kwargs), buffers),
        "cotangents": None if call.cotangents is None else protocol.encode(call.cotangents, buffers),
        "echo_inputs": call.echo_inputs, "forbidden": list(call.forbidden), "seed": call.seed,
    }
    return header, buffers


def parse_reply(header: dict[str, Any], payload: list[bytes], ident: int, device: str = "cpu") -> Reply:
    """The reply to call ``ident``, its tensors rebuilt as plain CPU tensors; ``ProtocolError`` otherwise.

    One ``Decoder`` reads every value of the reply, so each buffer is rebuilt
    at most once and the reply's decoded size is bounded by its payload.
    """
    from grader.sandbox import protocol

    if header.get("op") != "reply" or header.get("id") != ident:
        raise protocol.ProtocolError("a reply that does not answer the call")
    decoder = protocol.Decoder(payload, strict=True, device=device)

    def get(key: str) -> Any:
        value = header.get(key)
        return None if value is None else decoder.decode(value)

    forbidden = _names(header.get("forbidden_calls"), 50)
    if header.get("ok") is not True:
        return Reply(ok=False, error=parse_error(header.get("error")), stage=_text(header.get("stage"), 20),
                     forbidden_calls=forbidden)
    changed = header.get("versions_changed")
    grads = get("grads")
    return Reply(
        ok=True, result=get("result"), forbidden_calls=forbidden, inputs_after=get("inputs_after"),
        versions_changed=tuple(i for i in (changed if isinstance(changed, list) else [])[:1000]
                               if isinstance(i, int) and not isinstance(i, bool)),
        grads=list(grads) if isinstance(grads, list) else None,
        not_differentiable=header.get("not_differentiable") is True,
    )
