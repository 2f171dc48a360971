"""grade watch: regrade an exercise every time its file is saved (like rustlings' watch mode).

Trusted side. It polls modification times (no extra dependency, works on
every file system) and calls ``grade_file`` for a file whose content changed;
the caller renders each result. Ctrl-C ends the loop cleanly.

A save is graded once it has settled: many editors truncate the file and then
write it, or remove and recreate it, and a look in between would grade (and
show the student a verdict on) an empty or missing file they never saved.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.course import Course, ExerciseEntry


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


SETTLE = 0.05
"""Seconds a changed file must stay unchanged before it counts as saved."""
PATIENCE = 2.0
"""A file still changing after this many seconds is graded as it is (something keeps writing it)."""


def changes(course: Course, entries: list[ExerciseEntry], interval: float = 0.1,
            first: bool = True) -> Iterator[ExerciseEntry]:
    """Yield an exercise each time its file is saved (and each watched one once at the start if ``first``)."""
    stamps = {e.id: _stamp(course.student_file(e)) for e in entries}
    if first:
        yield from entries
    while True:
        time.sleep(interval)
        for entry in entries:
            now = _stamp(course.student_file(entry))
            if now != stamps[entry.id]:
                stamps[entry.id] = _settled(course.student_file(entry), now)
                yield entry


def _settled(path: Path, seen: tuple[int, int] | None) -> tuple[int, int] | None:
    """The file's stamp once two looks ``SETTLE`` apart agree (or ``PATIENCE`` runs out)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        time.sleep(SETTLE)
        again = _stamp(path)
        if again == seen:
            break
        seen = again
    return seen


def watch(course: Course, entries: list[ExerciseEntry], on_change: Callable[[ExerciseEntry], None],
          interval: float = 0.1) -> None:
    """Call ``on_change`` for every save until Ctrl-C (which returns normally)."""
    # Ctrl-C must stop an interactive loop even when the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for entry in changes(course, entries, interval, first=len(entries) == 1):
            on_change(entry)
    except KeyboardInterrupt:
        return
