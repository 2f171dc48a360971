"""``grade watch`` grades a save once it has settled, never the half-written file an editor leaves between."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import watch
from grader.course import Course, load_course

ROOT = Path(__file__).resolve().parent.parent
ENTRY = load_course(ROOT / "course.yaml").resolve("05")

# What an editor leaves at each look: the file's bytes, or None while it is removed (and not yet recreated).
States = st.lists(st.one_of(st.none(), st.binary(max_size=40)), min_size=1, max_size=6).filter(
    lambda states: all(a is not None or b is not None for a, b in zip(states, states[1:], strict=False)))


class _Editor:
    """Stands in for ``time.sleep``: between two looks, the file moves to its next state."""

    def __init__(self, path: Path, states: list[bytes | None], spare: int = 3) -> None:
        self.path, self.states, self.spare = path, list(states), spare
        self.stamp = 1_700_000_000_000_000_000

    def sleep(self, seconds: float) -> None:
        if self.states:
            self._write(self.states.pop(0))
        elif self.spare:
            self.spare -= 1
        else:
            raise _Done

    def _write(self, state: bytes | None) -> None:
        if state is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.write_bytes(state)
        self.stamp += 1_000_000_000  # each write a second apart: two states never share a stamp
        os.utime(self.path, ns=(self.stamp, self.stamp))


class _Done(Exception):
    pass


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@settings(max_examples=60, deadline=None)
@given(states=States)
def test_a_save_is_graded_once_and_only_as_it_ends(states: list[bytes | None],
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("watched") / ENTRY.file
    path.write_bytes(b"# the stub\n")
    os.utime(path, ns=(1, 1))
    course = cast(Course, SimpleNamespace(student_file=lambda entry: path))
    editor = _Editor(path, states)
    seen: list[bytes | None] = []
    with mock.patch.object(watch, "time", SimpleNamespace(sleep=editor.sleep, monotonic=time.monotonic)):
        with pytest.raises(_Done):
            for _ in watch.changes(course, [ENTRY], first=False):
                seen.append(_read(path))
    assert seen == [states[-1]]  # one grading, of the file as the editor left it
