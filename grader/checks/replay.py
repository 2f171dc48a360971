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
MAX_FRAME = 16 << 20  # what a token may unpack to: a small input, never a zlib bomb


def encode(check: str, case: Case) -> str:
    buffers: list[bytes] = []
    frame = protocol.pack({"check": check, "case": protocol.encode(case, buffers)}, buffers)
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(frame, 9)).decode().rstrip("=")


def decode(token: str) -> tuple[str, Case]:
    """The check name and input a token holds; a clear one-line error for anything else."""
    token = token.strip()
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN:
        raise UsageError(key="replay-not-a-token", prefix=PREFIX)
    body = token[len(PREFIX):]
    try:
        packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise _damaged("replay-characters") from None
    try:
        inflate = zlib.decompressobj()
        frame = inflate.decompress(packed, MAX_FRAME)
        if inflate.unconsumed_tail or not inflate.eof:
            raise _damaged("replay-too-large" if inflate.unconsumed_tail else "replay-cut-short")
    except zlib.error:
        raise _damaged("replay-checksum") from None
    try:
        header, buffers = protocol.unpack(frame)
        case = protocol.decode(header["case"], buffers)
        check = header["check"]
    except (ValueError, KeyError, TypeError, EOFError, AttributeError, protocol.ProtocolError, struct.error):
        raise _damaged("replay-not-a-check") from None
    if not isinstance(check, str) or not isinstance(case, dict):
        raise _damaged("replay-not-a-check")
    return check, case


def _damaged(key: str) -> UsageError:
    """A token that starts as one but does not unpack: ``key`` (an ``ERRORS`` entry) says how."""
    return UsageError(key=key, prefix=PREFIX)
