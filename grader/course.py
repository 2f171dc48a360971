"""course.yaml -> Course and ExerciseEntry; exercise-id resolution.

Trusted side. Every field is validated by a small ``_field`` helper that
raises ``CourseConfigError`` naming the file, the line and the field, so a
typo in course.yaml is one readable line, never a traceback.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType

import yaml

from grader.errors import CourseConfigError, UnknownExerciseError

ExerciseId = NewType("ExerciseId", str)

COURSE_FILE = "course.yaml"
ID_PATTERN = re.compile(r"^exercise-(\d{2,})$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how much one submission may take."""

    call_seconds: float = 10.0
    """Wall-clock limit for one call of a student function."""
    exercise_seconds: float = 120.0
    """Wall-clock limit for grading one exercise, worker start included."""
    memory_mb: int = 4096
    """Address-space limit of the student process (torch alone needs ~700)."""
    output_kb: int = 1024
    """Output the student process may print before it is stopped."""
    import_seconds: float = 15.0
    """Wall-clock limit for importing the student's file once torch is in (code left at its top level)."""


@dataclass(frozen=True, slots=True)
class ExerciseEntry:
    """One exercise as course.yaml lists it."""

    id: ExerciseId
    slug: str
    title: str
    file: str
    """The student file name, e.g. ``ex05_forget_gate.py``."""
    functions: tuple[str, ...]
    points: float
    limits: Limits

    @property
    def number(self) -> str:
        return self.id.removeprefix("exercise-")

    @property
    def module(self) -> str:
        return self.file.removesuffix(".py")


@dataclass(frozen=True, slots=True)
class Course:
    """The course: where its files are and which exercises it has."""

    root: Path
    name: str
    version: str
    exercises_dir: Path
    solutions_dir: Path
    exercises: tuple[ExerciseEntry, ...] = field(default=())

    def student_file(self, entry: ExerciseEntry) -> Path:
        return self.exercises_dir / entry.file

    def spec_file(self, entry: ExerciseEntry) -> Path:
        return self.solutions_dir / f"{entry.module}_spec.py"

    def bank_file(self, entry: ExerciseEntry) -> Path:
        """Where a student release keeps the exercise's recorded inputs and outputs (no spec there)."""
        return self.solutions_dir / f"{entry.module}.bank"

    def resolve(self, name: str) -> ExerciseEntry:
        """Find an exercise by ``exercise-05``, ``05``, ``5``, ``ex05``, ``ex5``, ``ex-5`` or its slug."""
        key = name.strip().lower()
        number = _NUMBERED.fullmatch(key)
        for entry in self.exercises:
            aliases = {entry.id, entry.number, f"ex{entry.number}", entry.slug, entry.module}
            if key in aliases or (number is not None and int(number[1]) == int(entry.number)):
                return entry
        raise _unknown(name, self.exercises, numbered=number is not None)


_NUMBERED = re.compile(r"(?:ex(?:ercise)?[-_ ]?)?0*(\d+)")
"""What names an exercise by its number: 5, 05, ex5, ex05, ex-5, exercise5, exercise-05."""


def _unknown(name: str, entries: tuple[ExerciseEntry, ...], numbered: bool) -> UnknownExerciseError:
    """No such exercise: the ids there are, and a close slug only for a name (a number is not a typo)."""
    ids = ", ".join(e.id for e in entries)
    known = [e.id for e in entries] + [e.slug for e in entries]
    close = [] if numbered else difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    if close:
        return UnknownExerciseError(key="unknown-exercise-close", name=name, close=close[0], ids=ids)
    return UnknownExerciseError(key="unknown-exercise", name=name, ids=ids)


def find_course_file(start: Path) -> Path:
    """The nearest course.yaml in ``start`` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / COURSE_FILE
        if candidate.is_file():
            return candidate
    raise CourseConfigError(key="no-course-file", folder=start)


def load_course(path: Path | None = None) -> Course:
    """Load and validate course.yaml (found from the current folder if not given)."""
    path = find_course_file(Path.cwd()) if path is None else path
    if path.is_dir():
        path = path / COURSE_FILE
    data, lines = _read_yaml(path)
    return _Validator(path, lines).course(data)


# --- reading YAML with line numbers --------------------------------------------------

Lines = dict[tuple[Any, ...], int]


def _read_yaml(path: Path) -> tuple[Any, Lines]:
    try:
        size = path.stat().st_size
        if size > 4 * MAX_COURSE_CHARS:  # read none of a file far too big to be a course
            raise CourseConfigError(f"{size} bytes, more than a course file needs", where=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CourseConfigError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseConfigError(f"cannot read: {exc}", where=str(path)) from None
    if len(text) > MAX_COURSE_CHARS:
        raise CourseConfigError(f"{len(text)} characters, more than a course file needs ({MAX_COURSE_CHARS})",
                                where=str(path))
    try:
        _refuse_aliases(text, path)  # a few aliases can expand to billions of values (an alias bomb)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise CourseConfigError(f"nested deeper than a course file needs ({MAX_DEPTH} levels)",
                                where=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CourseConfigError(f"not valid YAML: {problem}", where=where) from None
    lines: Lines = {}
    return _to_python(node, (), lines), lines


MAX_COURSE_CHARS = 1 << 20
MAX_DEPTH = 32


def _refuse_aliases(text: str, path: Path) -> None:
    """course.yaml is plain data: anchors and aliases (``&a``, ``*a``) are refused, so nothing expands."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise CourseConfigError("anchors and aliases (&name, *name) are not allowed in a course file",
                                    where=f"{path}:{line}")
        depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
        if depth > MAX_DEPTH:
            raise RecursionError


def _to_python(node: yaml.Node | None, path: tuple[Any, ...], lines: Lines) -> Any:
    """Build plain Python data from a YAML node, remembering each value's line."""
    if node is None:
        return None
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(key_node.value).construct_object(key_node)
            out[key] = _to_python(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node)


# --- validation, one small function per field -----------------------------------------


class _Validator:
    def __init__(self, path: Path, lines: Lines) -> None:
        self.path = path
        self.lines = lines

    def fail(self, where: tuple[Any, ...], message: str) -> CourseConfigError:
        probe = where
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
        return CourseConfigError(f"{dotted.lstrip('.') or 'top level'}: {message}",
                                 where=f"{self.path}:{line}")

    def mapping(self, value: Any, where: tuple[Any, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping of keys to values, got {value!r}")
        return value

    def string(self, data: dict[str, Any], key: str, where: tuple[Any, ...],
               pattern: re.Pattern[str] | None = None, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail((*where, key), f"must be a non-empty string, got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.fail((*where, key), f"{value!r} does not have the form {pattern.pattern}")
        return value

    def number(self, data: dict[str, Any], key: str, where: tuple[Any, ...],
               default: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail((*where, key), f"must be a positive number, got {value!r}")
        return float(value)

    def limits(self, data: Any, where: tuple[Any, ...], base: Limits) -> Limits:
        if data is None:
            return base
        data = self.mapping(data, where)
        unknown = set(data) - set(Limits.__dataclass_fields__)
        if unknown:
            raise self.fail((*where, sorted(unknown)[0]), "unknown limit; valid: "
                            + ", ".join(Limits.__dataclass_fields__))
        return Limits(
            call_seconds=self.number(data, "call_seconds", where, base.call_seconds),
            exercise_seconds=self.number(data, "exercise_seconds", where, base.exercise_seconds),
            memory_mb=int(self.number(data, "memory_mb", where, base.memory_mb)),
            output_kb=int(self.number(data, "output_kb", where, base.output_kb)),
            import_seconds=self.number(data, "import_seconds", where, base.import_seconds),
        )

    def exercise(self, data: Any, where: tuple[Any, ...], base: Limits) -> ExerciseEntry:
        data = self.mapping(data, where)
        ident = self.string(data, "id", where, ID_PATTERN)
        slug = self.string(data, "slug", where, SLUG_PATTERN)
        file = self.string(data, "file", where)
        if not re.match(r"^ex\d{2,}_[a-z0-9_]+\.py$", file):
            raise self.fail((*where, "file"), f"must look like exNN_<slug>.py, got {file!r}")
        functions = data.get("functions")
        if not isinstance(functions, list) or not functions or not all(
                isinstance(f, str) and NAME_PATTERN.match(f) for f in functions):
            raise self.fail((*where, "functions"),
                            f"must be a non-empty list of function names, got {functions!r}")
        return ExerciseEntry(
            id=ExerciseId(ident), slug=slug, title=str(data.get("title", slug)), file=file,
            functions=tuple(functions), points=self.number(data, "points", where, 0),
            limits=self.limits(data.get("limits"), (*where, "limits"), base),
        )

    def course(self, data: Any) -> Course:
        data = self.mapping(data, ())
        root = self.path.parent.resolve()
        defaults = self.mapping(data.get("defaults", {}), ("defaults",))
        base = self.limits(defaults.get("limits"), ("defaults", "limits"), Limits())
        items = data.get("exercises")
        if not isinstance(items, list) or not items:
            raise self.fail(("exercises",), "must be a non-empty list of exercises")
        entries = tuple(self.exercise(item, ("exercises", i), base)
                        for i, item in enumerate(items))
        self.unique(entries)
        return Course(
            root=root,
            name=self.string(data, "course", ()),
            version=str(data.get("version", "0")),
            exercises_dir=root / self.string(data, "exercises_dir", (), default="exercises"),
            solutions_dir=root / self.string(data, "solutions_dir", (), default="solutions"),
            exercises=entries,
        )

    def unique(self, entries: tuple[ExerciseEntry, ...]) -> None:
        for attr in ("id", "slug", "file"):
            seen: set[str] = set()
            for i, entry in enumerate(entries):
                value = getattr(entry, attr)
                if value in seen:
                    raise self.fail(("exercises", i, attr), f"duplicate {attr} {value!r}")
                seen.add(value)
