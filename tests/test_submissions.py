"""Golden student files, run through the real sandbox: right ones pass, wrong ones fail as expected.

Each folder under tests/submissions/exNN/<case>/ holds one student file and
expected.json: ``passed`` (the verdict), and optionally ``mistake`` (a known
mistake that must be diagnosed) or ``kind`` (a failure kind that must appear).
Correct files are written in a style different from the reference on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.course import Course
from grader.grading import grade_warm
from grader.results import Status

HERE = Path(__file__).parent / "submissions"
CASES = sorted(p for p in HERE.glob("ex*/*") if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_golden_submission(course: Course, case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    student = next(case.glob("ex*.py"))
    entry = course.resolve(case.parent.name)
    result = grade_warm(course, entry, student.read_bytes(), str(student))  # a zygote child: torch once
    failures = [c.failure for c in result.checks if c.failure is not None]
    summary = [(c.name, c.status.value, c.failure and c.failure.kind.value) for c in result.checks]
    assert result.passed is expected["passed"], summary
    assert not any(c.status is Status.ERROR for c in result.checks), summary
    if "mistake" in expected:
        assert expected["mistake"] in {f.suspected_mistake for f in failures}, summary
    if "kind" in expected:
        assert expected["kind"] in {f.kind.value for f in failures}, summary
    if expected["passed"]:
        assert result.score == pytest.approx(entry.points)
