"""Submission: one student file for one exercise, checked before anything runs it.

Trusted side. The file must be a regular file (no symlink, FIFO or device),
small, and readable; only then is it copied into the student's scratch folder.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from grader import notebook
from grader.results import Failure, Kind

MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Submission:
    exercise: str
    path: Path
    student: str = ""
    functions: tuple[str, ...] = ()
    """The exercise's functions: what a notebook's cells are searched for (``grader.notebook``)."""

    @property
    def notebook(self) -> bool:
        return self.path.suffix == notebook.SUFFIX

    def source(self) -> bytes | Failure:
        """The program to grade: the file's bytes (a notebook's converted code, also of a notebook saved
        as a Python script), read once, or why none."""
        limit = notebook.MAX_NOTEBOOK_BYTES if self.notebook else MAX_BYTES
        data = self.source_bytes(limit)
        if isinstance(data, Failure):
            return data
        if not self.notebook:  # a notebook saved as a script: graded as the notebook, one cell
            if not notebook.exported(data):
                return data
            script: list[str | None] = [data.decode("utf-8", "replace")]
            return notebook.program(script, self.functions, notebook.SCRIPT_HEADER)
        program = notebook.convert(data, self.functions, self.path.name)
        if isinstance(program, bytes) and len(program) > MAX_BYTES:
            return _too_large(self.path, MAX_BYTES)
        return program

    def source_bytes(self, limit: int = MAX_BYTES) -> bytes | Failure:
        """The file's bytes as they are, or why it cannot be read: no symlink, FIFO or device, bounded."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return Failure(Kind.MISSING_FILE, {"file": str(self.path)})
        except OSError as exc:
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": exc.strerror or str(exc)})
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": "not a regular file"})
        if info.st_size > limit:
            return _too_large(self.path, limit)
        try:
            return self.read(limit)
        except OSError as exc:
            return Failure(Kind.UNSAFE_FILE, {"file": str(self.path), "reason": exc.strerror or str(exc)})

    def read(self, limit: int = MAX_BYTES) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.path, flags)
        try:
            with os.fdopen(fd, "rb", closefd=False) as stream:
                return stream.read(limit + 1)
        finally:
            os.close(fd)


def _too_large(path: Path, limit: int) -> Failure:
    return Failure(Kind.UNSAFE_FILE, {"file": str(path), "reason": f"larger than {limit >> 10} KiB"})

