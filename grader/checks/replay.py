"""Replay tokens: a failing check and its shrunk input, packed into one copy-pasteable string.

Trusted side. ``grade exercise-05 --replay TOKEN`` runs exactly that check on
exactly that input again. A token is ``r1.`` + urlsafe base64 of a zlib-compressed
protocol frame (JSON header + raw tensor bytes): no pickle, so a token can
carry data only.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib

from grader.errors import UsageError
from grader.exercise import Case
from grader.sandbox import protocol

PREFIX = "r1."
MAX_TOKEN = 64 << 10


def encode(check: str, case: Case) -> str:
    buffers: list[bytes] = []
    frame = protocol.pack({"check": check, "case": protocol.encode(case, buffers)}, buffers)
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(frame, 9)).decode().rstrip("=")


def decode(token: str) -> tuple[str, Case]:
    """The check name and input a token holds; a clear one-line error for anything else."""
    token = token.strip()
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN:
        raise UsageError(f"--replay: not a replay token (they start with {PREFIX!r}); "
                         "copy it whole from the failing output")
    body = token[len(PREFIX):]
    try:
        frame = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), bufsize=1 << 20)
        header, buffers = protocol.unpack(frame)
        case = protocol.decode(header["case"], buffers)
        check = header["check"]
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, EOFError,
            protocol.ProtocolError, struct.error) as exc:
        raise UsageError(f"--replay: the token is damaged ({type(exc).__name__}); "
                         "copy it whole from the failing output") from None
    if not isinstance(check, str) or not isinstance(case, dict):
        raise UsageError("--replay: the token does not hold a check and its input")
    return check, case
