"""Submission: one student file for one exercise, checked before anything runs it.

Trusted side. The file must be a regular file (no symlink, FIFO or device),
small, and readable; only then is it copied into the student's scratch folder.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.results import Failure, Kind

MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Submission:
    exercise: str
    path: Path
    student: str = ""

    def source(self) -> bytes | Failure:
        """The file's bytes, read once, or why it cannot be graded."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return Failure(Kind.MISSING_FILE, {"file": str(self.path)})
        except OSError as exc:
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": exc.strerror or str(exc)})
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": "not a regular file"})
        if info.st_size > MAX_BYTES:
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path),
                                              "reason": f"larger than {MAX_BYTES >> 10} KiB"})
        try:
            return self.read()
        except OSError as exc:
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": exc.strerror or str(exc)})

    def read(self) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.path, flags)
        try:
            with os.fdopen(fd, "rb", closefd=False) as stream:
                return stream.read(MAX_BYTES + 1)
        finally:
            os.close(fd)

