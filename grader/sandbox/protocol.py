"""Messages between the trusted grader and the student's process.

Both sides import this module; the worker imports nothing else from grader.
A frame is an 8-byte little-endian header length, a JSON header, then raw
tensor bytes. Tensors cross as dtype + shape + bytes only: never pickle, never
torch.load, so a reply can carry data but no behaviour. The trusted side
rebuilds every tensor as a plain ``torch.Tensor`` and checks every number in
the header before trusting it (``decode`` with ``strict=True``).
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import Any, BinaryIO

import torch

MAX_HEADER = 4 << 20  # bytes of JSON in one frame
MAX_PAYLOAD = 64 << 20  # bytes of tensor data in one frame: bounds the grader's memory too
MAX_DIMS = 8

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool,
    "complex64": torch.complex64, "complex128": torch.complex128,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}


KILL = b"K"
"""On a zygote's control socket: the grader asks it to kill its running child (a time-out, an output
flood); the zygote lives on."""


class ProtocolError(Exception):
    """A frame that is not well formed: treated as a failed call, never trusted."""


class Timeout(Exception):
    """No complete frame arrived before the deadline."""


# --- values <-> JSON tree + buffers --------------------------------------------------


def encode(value: Any, buffers: list[bytes]) -> Any:
    """Turn tensors, numbers, strings, lists, tuples and str-keyed dicts into JSON."""
    if isinstance(value, torch.Tensor):
        return {"$tensor": _encode_tensor(value, buffers)}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, torch.dtype):
        return {"$dtype": DTYPE_NAMES.get(value, str(value))}
    if isinstance(value, torch.device):
        return {"$device": str(value)}
    if isinstance(value, list | tuple):
        tag = "$list" if isinstance(value, list) else "$tuple"
        return {tag: [encode(item, buffers) for item in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: encode(v, buffers) for k, v in value.items()}}
    return {"$object": _type_name(value)}


def _encode_tensor(t: torch.Tensor, buffers: list[bytes]) -> dict[str, Any]:
    layout = "nested" if t.is_nested else str(t.layout).removeprefix("torch.")
    if layout != "strided":  # sparse and nested tensors: no plain shape or bytes to send
        return {"type": _type_name(t), "dtype": DTYPE_NAMES.get(t.dtype, str(t.dtype)), "shape": [],
                "device": str(t.device), "layout": layout, "unreadable": "layout"}
    info: dict[str, Any] = {
        "type": _type_name(t),
        "dtype": DTYPE_NAMES.get(t.dtype, str(t.dtype)),
        "shape": list(t.shape),
        "device": str(t.device),
        "requires_grad": bool(t.requires_grad),
        "contiguous": bool(t.is_contiguous()),
    }
    if t.dtype not in DTYPE_NAMES:  # float8, uint16, quantized...: the protocol carries none of them
        info["unreadable"] = "dtype"
        return info
    try:
        plain = t.as_subclass(torch.Tensor) if type(t) is not torch.Tensor else t
        # A fresh buffer: .contiguous() may keep an odd stride on size-1 dims.
        data = torch.empty(plain.numel(), dtype=plain.dtype)
        data.copy_(plain.detach().reshape(-1))
        raw = data.view(torch.uint8).numpy().tobytes() if data.numel() else b""
    except Exception as exc:  # meta tensors, sparse layouts, exotic subclasses
        info["unreadable"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return info
    info["buffer"] = len(buffers)
    buffers.append(raw)
    return info


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


MAX_DEPTH = 32  # nesting of lists, tuples and dicts in one value: real outputs use three or four
MAX_NODES = 100_000  # values in one frame


def decode(tree: Any, buffers: list[bytes], *, strict: bool = False, device: str = "cpu") -> Any:
    """Rebuild values from ``encode``'s output; tensors come back as plain tensors.

    With ``strict`` (the trusted side), a tensor that cannot be rebuilt, or that
    was not on ``device`` (where the inputs were), becomes an ``Unreadable``
    marker, and every size is checked against the buffers; the tensors are CPU
    tensors there. Without it (the worker), tensors are placed on ``device``.
    """
    return Decoder(buffers, strict=strict, device=device).decode(tree)


class Decoder:
    """Rebuilds the values of one frame, within bounds: each buffer once, ``MAX_DEPTH``, ``MAX_NODES``.

    The bounds are what keep a hostile peer from costing the trusted side more
    memory or stack than the frame itself: a buffer named many times would be
    copied many times, and a deep value would exhaust the interpreter's stack.
    """

    def __init__(self, buffers: list[bytes], *, strict: bool = False, device: str = "cpu") -> None:
        self.buffers, self.strict, self.device = buffers, strict, device
        self.used: set[int] = set()
        self.nodes = 0

    def decode(self, tree: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise ProtocolError("value nested too deep or too large")
        if tree is None or isinstance(tree, bool | int | float | str):
            return tree
        if isinstance(tree, list):  # only JSON from a hostile peer produces bare lists
            raise ProtocolError("bare JSON list in frame")
        if not isinstance(tree, dict) or len(tree) != 1:
            raise ProtocolError("malformed value in frame")
        (tag, body), = tree.items()
        if tag == "$tensor":
            return decode_tensor(body, self.buffers, strict=self.strict, device=self.device, used=self.used)
        if tag in ("$list", "$tuple") and isinstance(body, list):
            items = [self.decode(item, depth + 1) for item in body]
            return items if tag == "$list" else tuple(items)
        if tag == "$dict" and isinstance(body, dict):
            return {str(k): self.decode(v, depth + 1) for k, v in body.items()}
        if tag == "$float" and body in ("inf", "-inf", "nan"):
            return float(body)
        if tag == "$dtype" and body in DTYPES:
            return DTYPES[body]
        if tag == "$device" and isinstance(body, str) and len(body) < 40:
            try:
                return torch.device(body)
            except RuntimeError:
                raise ProtocolError("not a device name") from None
        if tag == "$object" and isinstance(body, str):
            return Foreign(shown(body))
        raise ProtocolError(f"unknown tag {str(tag)[:40]!r} in frame")


def shown(text: Any, limit: int = 200) -> str:
    """What the peer wrote (a type name, a dtype), as the student is shown it: short and printable."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text)[:limit])



class Foreign:
    """Something the student returned that is not data we understand, or a Tensor subclass."""

    def __init__(self, type_name: str, tensor_subclass: bool = False) -> None:
        self.type_name = type_name
        self.tensor_subclass = tensor_subclass

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class Unreadable:
    """A tensor whose bytes could not be read (on the meta device, sparse, of a dtype not carried)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def said(self, field: str) -> str:
        """A field of the peer's header, as shown to the student: short and printable."""
        return shown(self.info.get(field), 80)

    def __repr__(self) -> str:
        return f"<unreadable tensor on {self.info.get('device')}>"


def decode_tensor(info: Any, buffers: list[bytes], *, strict: bool, device: str = "cpu",
                  used: set[int] | None = None) -> Any:
    """One tensor; ``used`` collects the buffers already rebuilt (each may be named once)."""
    if not isinstance(info, dict):
        raise ProtocolError("tensor header is not a mapping")
    if strict and info.get("unreadable") in ("layout", "dtype") and info.get("type") == "torch.Tensor":
        return Unreadable({**info, "expected_device": device})  # what it is, said by ``contract``
    dtype, shape = DTYPES.get(info.get("dtype", "")), info.get("shape")
    if dtype is None or not _valid_shape(shape):
        raise ProtocolError("tensor header has bad dtype or shape")
    assert isinstance(shape, list)
    if strict and info.get("type") != "torch.Tensor":
        return Foreign(shown(info.get("type")), tensor_subclass=True)
    if "unreadable" in info or "buffer" not in info or (strict and info.get("device") != device):
        if strict:
            return Unreadable({**info, "expected_device": device})
        raise ProtocolError("unreadable tensor")
    index = info["buffer"]
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise ProtocolError("tensor refers to a missing buffer")
    if used is not None:
        if index in used:
            raise ProtocolError("tensor refers to a buffer already used")
        used.add(index)
    raw = buffers[index]
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != numel * itemsize:
        raise ProtocolError(f"tensor of shape {shape} has {len(raw)} bytes, not {numel * itemsize}")
    flat = torch.frombuffer(bytearray(raw), dtype=dtype) if numel else torch.empty(0, dtype=dtype)
    tensor = flat.reshape(shape)
    if not strict:  # the worker side honours device, layout and autograd flags
        if device != "cpu":
            tensor = tensor.to(device)
        if not info.get("contiguous", True) and tensor.dim() > 0 and numel > 1:
            tensor = _strided_copy(tensor)
        if info.get("requires_grad") and tensor.is_floating_point():
            tensor.requires_grad_(True)
    return tensor


def _valid_shape(shape: Any) -> bool:
    return (isinstance(shape, list) and len(shape) <= MAX_DIMS
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 1 << 31
                    for n in shape)
            and math.prod(shape) <= MAX_PAYLOAD)


def _strided_copy(tensor: torch.Tensor) -> torch.Tensor:
    """The same values in a non-contiguous layout (every other element of a buffer)."""
    holder = torch.zeros(*tensor.shape, 2, dtype=tensor.dtype, device=tensor.device)
    view = holder.select(-1, 0)
    view.copy_(tensor)
    return view


# --- framing --------------------------------------------------------------------------


def pack(header: dict[str, Any], buffers: list[bytes]) -> bytes:
    header = {**header, "buffers": [len(b) for b in buffers]}
    body = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return struct.pack("<Q", len(body)) + body + b"".join(buffers)


def write_frame(stream: BinaryIO, header: dict[str, Any], buffers: list[bytes]) -> None:
    stream.write(pack(header, buffers))
    stream.flush()


def read_frame(fd: int, deadline: float | None = None,
               counted: list[int] | None = None) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame from a file descriptor, waiting at most until ``deadline``.

    ``counted[0]`` grows by every byte read (the disk watch tells pipe writes from file writes).
    """
    def take(n: int) -> bytes:
        data = _read_exact(fd, n, deadline)
        if counted is not None:
            counted[0] += len(data)
        return data

    return _frame(take)


def unpack(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame from bytes (the inverse of ``pack``), with the same checks."""
    position = 0

    def take(n: int) -> bytes:
        nonlocal position
        if position + n > len(data):
            raise ProtocolError("frame is truncated")
        position += n
        return data[position - n: position]

    return _frame(take)


def _frame(take: Any) -> tuple[dict[str, Any], list[bytes]]:
    (size,) = struct.unpack("<Q", take(8))
    if size > MAX_HEADER:
        raise ProtocolError(f"header of {size} bytes is over the limit")
    try:
        header = json.loads(take(size))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"header is not JSON: {str(exc)[:100]}") from None
    except RecursionError:  # json's own parser recurses once per nesting level
        raise ProtocolError("header nested too deep") from None
    sizes = header.get("buffers") if isinstance(header, dict) else None
    if (not isinstance(sizes, list) or len(sizes) > MAX_NODES
            or not all(isinstance(n, int) and n >= 0 for n in sizes)):
        raise ProtocolError("header has no valid buffer sizes")
    if sum(sizes) > MAX_PAYLOAD:
        raise ProtocolError("payload is over the limit")
    return header, [take(n) for n in sizes]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise Timeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
