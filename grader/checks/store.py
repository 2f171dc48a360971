"""What one grading process learned about a check, handed to the others through a folder.

Trusted side. A class run's grading processes meet the same inputs (grading is
derandomized), so the inputs a passing check met, the smallest failing inputs
found so far and the inputs drawn for a diagnosis are the same work in every
process. Each is written here once, as one frame of the sandbox wire format
(JSON + raw bytes, never pickle), and read by the processes that need it
later. Only grading processes write here (the folder is under the class run's
``--out``, which no student code can reach); an unreadable file is ignored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.exercise import Case
from grader.sandbox import protocol


class ReplayStore:
    """Lists of inputs by (exercise, check, what they are), in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, exercise: str, check: str, what: str) -> Path:
        name = hashlib.sha256(f"{exercise}\0{check}\0{what}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.frame"

    def load(self, exercise: str, check: str, what: str) -> list[Case] | None:
        try:
            header, buffers = protocol.unpack(self._path(exercise, check, what).read_bytes())
            if header.get("check") != [exercise, check, what]:
                return None
            cases = protocol.decode(header["cases"], buffers)
        except (OSError, KeyError, ValueError, protocol.ProtocolError):
            return None
        if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) for c in cases):
            return None  # an empty list would let a check pass on no example at all
        return cases

    def save(self, exercise: str, check: str, what: str, cases: list[Case]) -> None:
        buffers: list[bytes] = []
        header: dict[str, Any] = {"check": [exercise, check, what], "cases": protocol.encode(cases, buffers)}
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as file:
                file.write(protocol.pack(header, buffers))
            os.replace(temporary, self._path(exercise, check, what))  # readers see all of it or nothing
        except OSError:  # sharing is an optimisation: a full disk must not stop the grading
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
