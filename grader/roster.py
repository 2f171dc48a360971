"""The class's submissions folder -> who submitted which exercise files, and what was ignored.

Trusted side. ``SUBMISSIONS`` holds one folder per student; each may hold any
of the course's ``exNN_<slug>.py`` files, and notebooks (``exNN_<slug>.ipynb``, or any
``.ipynb`` for the exercises whose functions it defines, where no ``.py`` file is given).
Only such a notebook is opened here, as ``Submission`` opens files (no symlink,
bounded), to see which functions it defines; ``Submission`` checks and reads every
file again when it is graded. Whatever does not fit (a stray
file, a symlinked or unreadable folder, an odd name, a file that is no
exercise) is listed with its reason, and the run goes on without it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from grader import notebook
from grader.course import Course, ExerciseEntry
from grader.errors import UsageError

MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class StudentWork:
    """One student's folder: the exercise files found in it, by exercise id."""

    student: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ignored:
    path: str
    """Relative to the submissions folder, made safe to print."""
    reason: str


@dataclass(frozen=True, slots=True)
class Roster:
    students: tuple[StudentWork, ...]
    ignored: tuple[Ignored, ...]
    root: Path | None = None
    """The submissions folder itself."""

    @property
    def files(self) -> int:
        return sum(len(s.files) for s in self.students)


def odd_name(name: str) -> str | None:
    """Why a folder name cannot serve as a student's name in the gradebook and reports, or None."""
    if name.startswith("."):
        return "hidden folder"
    if len(name) > MAX_NAME:
        return f"name longer than {MAX_NAME} characters"
    if not name.isprintable() or any(c in name for c in ",\"'\\|<>`"):
        return "name with control or quoting characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes from the file system (surrogate escapes)
        return "name that is not valid UTF-8"
    return None


def scan(course: Course, submissions: Path, only: ExerciseEntry | None = None) -> Roster:
    """Every student folder of ``submissions``, sorted by name, with its exercise files."""
    if not submissions.is_dir():
        raise UsageError(f"SUBMISSIONS: {submissions} is not a folder (one folder per student expected)")
    wanted = {e.file: str(e.id) for e in course.exercises if only is None or e is only}
    students, ignored = [], []
    for entry in sorted(os.scandir(submissions), key=lambda e: e.name):
        reason = _folder_problem(entry)
        if reason:
            ignored.append(Ignored(_shown(entry.name), reason))
            continue
        work, skipped = _student(entry, wanted, course)
        students.append(work)
        ignored += skipped
    return Roster(tuple(students), tuple(ignored), submissions)


def _folder_problem(entry: os.DirEntry[str]) -> str | None:
    if entry.is_symlink():
        return "symbolic link (not followed)"
    if not entry.is_dir(follow_symlinks=False):
        return "not a student folder"
    return odd_name(entry.name)


def _student(entry: os.DirEntry[str], wanted: dict[str, str],
             course: Course) -> tuple[StudentWork, list[Ignored]]:
    files: dict[str, Path] = {}
    ignored: list[Ignored] = []
    try:
        inside = sorted(os.scandir(entry.path), key=lambda e: e.name)
    except OSError as exc:
        return StudentWork(entry.name, Path(entry.path)), [
            Ignored(_shown(entry.name), f"unreadable folder ({exc.strerror or exc})")]
    notebooks = []
    for item in inside:
        if item.name in wanted:
            # Symlinks, FIFOs and huge files are kept: Submission turns them into a failed, explained result.
            files[wanted[item.name]] = Path(item.path)
        elif item.name.endswith(notebook.SUFFIX):
            notebooks.append(Path(item.path))
        elif not item.name.startswith("__pycache__"):
            ignored.append(Ignored(_shown(f"{entry.name}/{item.name}"), _why_not(item, wanted)))
    for path in notebooks:  # a .py file wins; a notebook grades the exercises it holds that have none
        held = [e for e in notebook.exercises_in(path, course) if str(e.id) in set(wanted.values())]
        for e in held:
            files.setdefault(str(e.id), path)
        if not held:
            why = "a notebook that defines no exercise's functions"
            ignored.append(Ignored(_shown(f"{entry.name}/{path.name}"), why))
    return StudentWork(entry.name, Path(entry.path), files), ignored


def _why_not(item: os.DirEntry[str], wanted: dict[str, str]) -> str:
    try:
        mode = item.stat(follow_symlinks=False).st_mode
    except OSError:
        return "unreadable"
    if stat.S_ISDIR(mode):
        return "folder inside a student folder"
    stem = item.name.lower()
    close = [name for name in wanted if name.lower() == stem or name.split("_")[0] == stem.split("_")[0]]
    if close and item.name.endswith(".py"):
        return f"not an exercise file name (did you mean {close[0]}?)"
    return "not an exercise file"


def _shown(path: str) -> str:
    """A path safe to print: undecodable bytes and control characters spelled out."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8").translate(
        {c: f"\\x{c:02x}" for c in range(0x20)})
