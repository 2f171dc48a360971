"""The class's gradebook: one sqlite row per graded file, written once, never twice.

Trusted side. A grade is keyed by (student, exercise, sha256 of the file,
grader version, course version): the same file graded by the same grader for
the same course is never graded again, and a changed file, grader or course
is. Each grade is committed in its own transaction (sqlite's write-ahead log),
so ``kill -9`` at any moment loses at most the grade being written, and the
primary key makes a second write of the same grade a no-op. Reports read the
newest row of each (student, exercise) whose key matches the files graded now.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from grader.course import Course
from grader.errors import UsageError
from grader.results import ExerciseResult, Failure, from_data, to_data

FILE = "gradebook.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    course_version TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    status TEXT NOT NULL,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (student, exercise, sha256, grader_version, course_version)
);
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    points REAL NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    made_at TEXT NOT NULL,
    undone_at TEXT,
    undone_by TEXT
);
"""


@dataclass(frozen=True, slots=True)
class GradeKey:
    """What makes a grade: who, which exercise, which exact file, graded by what."""

    student: str
    exercise: str
    sha256: str
    grader_version: str
    course_version: str


@dataclass(frozen=True, slots=True)
class Override:
    """A manual adjustment: these points for this student's exercise, whatever the grader says.

    Kept by (student, exercise), not by file, so it survives reruns, a changed file and a new
    grader; undoing one keeps its row (who undid it and when), so the history stays whole.
    """

    id: int
    student: str
    exercise: str
    points: float
    reason: str
    author: str
    made_at: str
    undone_at: str | None = None
    undone_by: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(source: bytes | Failure) -> str:
    """What identifies a file's content in a key; a file that could not be read says why instead."""
    return sha256(source) if isinstance(source, bytes) else f"unreadable:{source.kind.value}"


def _digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def grader_version() -> str:
    """The package version and a digest of the grader's own source: a changed grader regrades."""
    try:
        version = metadata.version("seqgrade")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"{version}+{_digest(Path(__file__).parent.rglob('*.py'))}"


def course_version(course: Course) -> str:
    """course.yaml's version and a digest of course.yaml, the references and specs."""
    files = [course.root / "course.yaml", *course.solutions_dir.glob("*.py")]
    return f"{course.version}+{_digest(p for p in files if p.is_file())}"


class Gradebook:
    """The sqlite file under ``--out``; one writer (the process that runs ``grade class``)."""

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / FILE
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a killed process
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"--out: cannot use {folder / FILE} as the gradebook ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, key: GradeKey) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM grades WHERE student=? AND exercise=? AND sha256=? AND grader_version=? "
            "AND course_version=?", _values(key)).fetchone()
        return row is not None

    def record(self, key: GradeKey, result: ExerciseResult) -> bool:
        """Store one grade in its own transaction; False when it was already there."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO grades VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*_values(key), result.score, result.max_score, "passed" if result.passed else "failed",
             result.seconds, _now(),
             json.dumps(to_data(result), ensure_ascii=False)))
        return cursor.rowcount == 1

    def result(self, key: GradeKey) -> ExerciseResult | None:
        row = self.db.execute(
            "SELECT result FROM grades WHERE student=? AND exercise=? AND sha256=? AND grader_version=? "
            "AND course_version=?", _values(key)).fetchone()
        return None if row is None else from_data(json.loads(row[0]))

    def latest(self, student: str, exercise: str, sha256: str) -> ExerciseResult | None:
        """The newest grade of this exact file under any grader or course version (None if none reads)."""
        row = self.db.execute(
            "SELECT result FROM grades WHERE student=? AND exercise=? AND sha256=? ORDER BY graded_at DESC, "
            "rowid DESC LIMIT 1", (student, exercise, sha256)).fetchone()
        try:
            return None if row is None else from_data(json.loads(row[0]))
        except (TypeError, KeyError, ValueError):  # written by a grader whose results had another shape
            return None

    def students(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT DISTINCT student FROM grades")}

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM grades").fetchone()[0])

    def rows(self) -> Iterator[tuple[GradeKey, float, float, str]]:
        for *key, score, max_score, status in self.db.execute(
                "SELECT student, exercise, sha256, grader_version, course_version, score, max_score, status "
                "FROM grades ORDER BY student, exercise"):
            yield GradeKey(*key), score, max_score, status


    def override(self, student: str, exercise: str, points: float, reason: str, author: str) -> Override:
        """Record a manual adjustment; the newest one of a (student, exercise) is the one in force."""
        cursor = self.db.execute(
            "INSERT INTO overrides (student, exercise, points, reason, author, made_at) VALUES (?,?,?,?,?,?)",
            (student, exercise, points, reason, author, _now()))
        assert cursor.lastrowid is not None
        return self.overrides(include_undone=True, ident=cursor.lastrowid)[0]

    def undo_override(self, ident: int, author: str) -> Override:
        found = self.overrides(include_undone=True, ident=ident)
        if not found:
            raise UsageError(f"the gradebook {self.path} has no override {ident} (grade override --list)")
        if found[0].undone_at is not None:
            raise UsageError(f"override {ident} was already undone at {found[0].undone_at} "
                             f"by {found[0].undone_by}")
        self.db.execute("UPDATE overrides SET undone_at=?, undone_by=? WHERE id=?", (_now(), author, ident))
        return self.overrides(include_undone=True, ident=ident)[0]

    def overrides(self, include_undone: bool = False, ident: int | None = None) -> list[Override]:
        """Overrides oldest first (only those in force unless ``include_undone``)."""
        query = "SELECT * FROM overrides WHERE (? OR undone_at IS NULL) AND (? IS NULL OR id = ?) ORDER BY id"
        return [Override(*row) for row in self.db.execute(query, (include_undone, ident, ident))]

    def in_force(self) -> dict[tuple[str, str], Override]:
        """The override in force for each (student, exercise) that has one: its newest."""
        return {(o.student, o.exercise): o for o in self.overrides()}


def open_existing(folder: Path) -> Gradebook:
    """The gradebook a class run left in ``folder``; a folder without one is an error, not a new book."""
    if not (folder / FILE).is_file():
        raise UsageError(f"--out: {folder} holds no gradebook ({FILE}); run grade class with the same "
                         "--out first, or pass the folder it used")
    return Gradebook(folder)


def _values(key: GradeKey) -> tuple[str, str, str, str, str]:
    return key.student, key.exercise, key.sha256, key.grader_version, key.course_version
