"""Who each student folder is in the LMS, and gradebook files the LMS imports as they are.

Trusted side. An optional roster CSV (``grade class --roster``) maps each
submissions folder to its LMS identity. With it, ``grade class`` also writes
``lms/canvas.csv`` and ``lms/moodle.csv`` (columns documented in the README).
A file not graded yet is left blank in both (the LMS keeps what it had), never 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.feedback.escape import csv_cell as _cell

COLUMNS = ("folder", "id", "sis_id", "login", "name", "email", "section")
"""A roster's columns: ``folder`` is required, the others may be left out or blank."""


@dataclass(frozen=True, slots=True)
class Identity:
    """One student as the LMS knows them, and the submissions folder that is theirs."""

    folder: str
    id: str = ""
    """The LMS's own user id (Canvas: ID)."""
    sis_id: str = ""
    """The institution's student number (Canvas: SIS User ID; Moodle: ID number)."""
    login: str = ""
    name: str = ""
    email: str = ""
    section: str = ""


def load_identities(path: Path) -> dict[str, Identity]:
    """The roster, by folder; any problem is one line naming the file, the line and the field."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not part of the first header
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--roster: cannot read {path} ({exc})") from None
    rows = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in rows.fieldnames or []]
    if "folder" not in headers:
        raise UsageError(f"{path}, line 1: the header needs a 'folder' column "
                         f"(columns: {', '.join(COLUMNS)})")
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        raise UsageError(f"{path}, line 1: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    rows.fieldnames = headers
    people: dict[str, Identity] = {}
    for row in rows:
        line = rows.line_num
        if None in row:
            raise UsageError(f"{path}, line {line}: more cells than the header has columns")
        values = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS}
        folder = values.get("folder", "")
        if not folder:
            raise UsageError(f"{path}, line {line}, field 'folder': empty (the student's submissions folder)")
        if folder in people:
            raise UsageError(f"{path}, line {line}, field 'folder': {folder!r} is on the roster twice")
        people[folder] = Identity(**values)
    return people


def canvas_csv(rows: list[tuple[Identity, dict[str, str]]], exercises: list[str],
               possible: dict[str, float]) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, one column per
    exercise, and a "Points Possible" row. A blank cell leaves Canvas's grade as it was."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *exercises])
    writer.writerow(["Points Possible", "", "", "", "", *(_number(possible[ex]) for ex in exercises)])
    for person, cells in rows:
        writer.writerow([_cell(person.name or person.folder), _cell(person.id), _cell(person.sis_id),
                         _cell(person.login), _cell(person.section), *(cells[ex] for ex in exercises)])
    return out.getvalue()


def moodle_csv(rows: list[tuple[Identity, dict[str, str]]], exercises: list[str]) -> str:
    """Moodle's "Import grades from CSV": map "Email address" (or "ID number") to the user, and each
    exercise column to a grade item. A blank cell imports nothing for that student."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Full name", "ID number", "Email address", *exercises])
    for person, cells in rows:
        writer.writerow([_cell(person.name or person.folder), _cell(person.sis_id), _cell(person.email),
                         *(cells[ex] for ex in exercises)])
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
