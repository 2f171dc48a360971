"""What one grading process learned about a check, handed to the others through a folder.

Trusted side. A class run's grading processes meet the same inputs (grading is
derandomized), so the inputs a passing check met, the smallest failing inputs
found so far and the inputs drawn for a diagnosis are the same work in every
process. Each is written here once, as one frame of the sandbox wire format
(JSON + raw bytes, never pickle), and read by the processes that need it
later. Only grading processes write here (the folder is under the class run's
``--out``, which no student code can reach), and every file carries an HMAC
under the run's secret key (``key_for``): a file this grader did not write for
this course version, or an empty, damaged or foreign one, is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the class run's parent needs only ``key_for``, and no torch
    from grader.exercise import Case

TAG = 32  # bytes of HMAC-SHA256 after each frame


def key_for(folder: Path) -> bytes:
    """The secret that authenticates ``folder``'s frames: made once (mode 0600), then read."""
    path = folder / ".key"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as file:
            file.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    except OSError:
        return secrets.token_bytes(32)  # nowhere to keep it: this run's frames only
    try:
        key = path.read_bytes()
    except OSError:
        key = b""
    return key if len(key) == 32 else secrets.token_bytes(32)


class ReplayStore:
    """Lists of inputs by (exercise, check, what they are), in one folder, authenticated by ``key``."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder, self.key = folder, key

    def _tag(self, exercise: str, check: str, what: str, frame: bytes) -> bytes:
        label = f"{self.folder.name}\0{exercise}\0{check}\0{what}\0".encode()
        return hmac.new(self.key, label + frame, hashlib.sha256).digest()

    def _path(self, exercise: str, check: str, what: str) -> Path:
        name = hashlib.sha256(f"{exercise}\0{check}\0{what}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.frame"

    def load(self, exercise: str, check: str, what: str) -> list[Case] | None:
        from grader.sandbox import protocol

        try:
            data = self._path(exercise, check, what).read_bytes()
            frame, tag = data[:-TAG], data[-TAG:]
            if len(data) <= TAG or not hmac.compare_digest(tag, self._tag(exercise, check, what, frame)):
                return None  # not written by this grader for this course version
            header, buffers = protocol.unpack(frame)
            if header.get("check") != [exercise, check, what]:
                return None
            cases = protocol.decode(header["cases"], buffers)
        except (OSError, KeyError, ValueError, TypeError, AttributeError, protocol.ProtocolError):
            return None
        if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) for c in cases):
            return None  # an empty list would let a check pass on no example at all
        return cases

    def save(self, exercise: str, check: str, what: str, cases: list[Case]) -> None:
        from grader.sandbox import protocol

        buffers: list[bytes] = []
        header: dict[str, Any] = {"check": [exercise, check, what], "cases": protocol.encode(cases, buffers)}
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            frame = protocol.pack(header, buffers)
            with os.fdopen(handle, "wb") as file:
                file.write(frame + self._tag(exercise, check, what, frame))
            os.replace(temporary, self._path(exercise, check, what))  # readers see all of it or nothing
        except OSError:  # sharing is an optimisation: a full disk must not stop the grading
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
