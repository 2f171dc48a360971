"""What an instructor takes from a class run: outputs that never mislead, overrides, LMS exports.

Every test runs the real ``grade`` command on a small class of its own.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from grader.lms import COLUMNS
from tests.conftest import ROOT, copy_course, grade

EX08 = "ex08_attention_scores.py"
EX02 = "ex02_markov_log_likelihood.py"
NO_SCALING = "def attention_scores(q, k):\n    return q @ k.transpose(-2, -1)\n"


def _class(root: Path) -> tuple[Path, Path]:
    """ana: both right; ben: exercise-08 wrong, exercise-02 a stub; cho: exercise-08 only."""
    course = copy_course(root / "course")
    subs = root / "submissions"
    right = {name: (ROOT / "solutions" / name).read_text() for name in (EX08, EX02)}
    files = {"ana": right, "ben": {EX08: NO_SCALING, EX02: (ROOT / "exercises" / EX02).read_text()},
             "cho": {EX08: right[EX08]}}
    for student, named in files.items():
        (subs / student).mkdir(parents=True)
        for name, body in named.items():
            (subs / student / name).write_text(body)
    return course, subs


def _run(course: Path, subs: Path, *args: str) -> dict[str, dict[str, str]]:
    run = grade("class", str(subs), "--out", str(course / "grades"), "--workers", "1", *args,
                cwd=course, timeout=400)
    assert run.code == 0, run.err[-3000:]
    return _grades(course / "grades")


def _grades(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, dict[str, str]]]:
    course, subs = _class(tmp_path_factory.mktemp("outputs"))
    return course, subs, _run(course, subs)


def test_grades_csv_tells_not_submitted_not_graded_and_a_score_apart(graded) -> None:  # type: ignore[no-untyped-def]
    _, _, rows = graded
    assert rows["ana"]["exercise-08"] == "5" and rows["ana"]["total"] == "10"
    assert rows["cho"]["exercise-02"] == "not submitted" and rows["cho"]["total"] == "5"
    assert rows["ben"]["exercise-02"] == "0" and float(rows["ben"]["exercise-08"]) < 5


def test_only_grades_one_exercise_and_the_reports_still_cover_the_whole_class(graded) -> None:  # type: ignore[no-untyped-def]
    course, subs, before = graded
    (subs / "ben" / EX08).write_text((ROOT / "solutions" / EX08).read_text())  # ben fixes exercise-08
    (subs / "ben" / EX02).write_text((ROOT / "solutions" / EX02).read_text())  # ... and exercise-02
    run = grade("class", str(subs), "--out", str(course / "grades"), "--only", "08", "--workers", "1",
                cwd=course, timeout=400)
    assert run.code == 0, run.err[-3000:]
    assert "only exercise-08 was graded" in run.out
    after = _grades(course / "grades")
    assert set(after) == set(before) and after["ana"] == before["ana"]  # the whole class, untouched
    assert after["ben"]["exercise-08"] == "5"  # regraded
    assert after["ben"]["exercise-02"] == "not graded (rerun to retry)"  # changed, not regraded by --only
    assert after["ben"]["total"] == ""  # never a partial total
    report = (course / "grades" / "report.md").read_text()
    assert "| exercise-02 |" in report and "| exercise-08 |" in report
    ana = json.loads((course / "grades" / "students" / "ana" / "results.json").read_text())
    assert {t["name"].split(":")[0] for t in ana["tests"]} == {"exercise-02", "exercise-08"}
    full = _run(course, subs)  # then a full run grades what --only left
    assert full["ben"]["exercise-02"] == "5" and full["ben"]["total"] == "10"


def test_an_override_survives_reruns_and_a_changed_file_and_can_be_undone(tmp_path: Path) -> None:
    course, subs = _class(tmp_path)
    out = course / "grades"
    _run(course, subs)
    made = grade("override", "ben", "ex8", "4.5", "--reason", "regraded by hand, see email", "--by", "prof",
                 "--out", str(out), cwd=course)
    assert made.code == 0, made.err
    assert "override 1: ben exercise-08: 4.5 points" in made.out
    rows = _run(course, subs)
    assert rows["ben"]["exercise-08"] == "4.5"
    assert "exercise-08: 4.5 by prof (regraded by hand" in rows["ben"]["overrides"]
    (subs / "ben" / EX08).write_text(NO_SCALING + "\n# changed\n")  # a new file: regraded, override kept
    rows = _run(course, subs)
    assert rows["ben"]["exercise-08"] == "4.5"
    report = (out / "report.md").read_text()
    assert "Overrides in force" in report and "regraded by hand, see email" in report
    # The student sees it too: in feedback.md and results.json, with the total that counts.
    feedback = (out / "students" / "ben" / "feedback.md").read_text()
    assert "4.5" in feedback and "regraded by hand, see email" in feedback and "instructor" in feedback
    gradescope = json.loads((out / "students" / "ben" / "results.json").read_text())
    assert gradescope["score"] == 4.5 and "regraded by hand" in gradescope["output"]
    assert gradescope["extra_data"]["overrides"]["exercise-08"]["points"] == 4.5
    korean = grade("class", str(subs), "--out", str(out), "--workers", "1", "--lang", "ko", cwd=course)
    assert korean.code == 0, korean.err
    feedback = (out / "students" / "ben" / "feedback.md").read_text()
    assert "4.5점" in feedback and "조정" in feedback and "instructor" not in feedback
    listed = grade("override", "--list", "--out", str(out), cwd=course)
    assert "ben" in listed.out and "prof" in listed.out
    undone = grade("override", "--undo", "1", "--out", str(out), cwd=course)
    assert undone.code == 0 and "undone" in undone.out
    rows = _run(course, subs)
    assert float(rows["ben"]["exercise-08"]) < 4.5 and rows["ben"]["overrides"] == ""
    again = grade("override", "--undo", "1", "--out", str(out), cwd=course)
    assert again.code == 2 and "already undone" in again.err and "Traceback" not in again.err


@pytest.mark.parametrize(("args", "said"), [
    (["ben", "ex8", "9", "--reason", "x"], "more than exercise-08's 5 points"),
    (["ben", "ex8", "4"], "--reason: say why"),
    (["ben", "exercise-99", "4", "--reason", "x"], "no exercise 'exercise-99'"),
    (["--list", "--undo", "1"], "use one of"),
    (["--undo", "7"], "no override 7"),
])
def test_a_bad_override_is_one_line_and_changes_nothing(graded, args: list[str], said: str) -> None:  # type: ignore[no-untyped-def]
    course, _, _ = graded
    run = grade("override", *args, "--out", str(course / "grades"), cwd=course)
    assert run.code == 2 and said in run.err and len(run.err.strip().splitlines()) == 1, run.err
    assert "no overrides" in grade("override", "--list", "--out", str(course / "grades"), cwd=course).out


def test_an_override_needs_an_existing_gradebook(tmp_path: Path) -> None:
    run = grade("override", "ben", "08", "1", "--reason", "x", "--out", str(tmp_path / "nowhere"))
    assert run.code == 2 and "holds no gradebook" in run.err and not (tmp_path / "nowhere").exists()


def test_the_lms_exports_have_their_documented_columns_and_the_roster_decides_who_is_listed(
        tmp_path: Path) -> None:
    course, subs = _class(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufefffolder,id,sis_id,login,name,email,section\n"
                      "ana,101,S1,ana1,\"Kim, Ana\",ana@uni.kr,A\n"
                      "ben,102,S2,ben2,Ben Lee,ben@uni.kr,B\n"
                      "dan,104,S4,dan4,Dan Park,dan@uni.kr,A\n")  # dan submitted nothing; cho is not listed
    run = grade("class", str(subs), "--out", str(course / "grades"), "--roster", str(roster),
                "--workers", "1", cwd=course, timeout=400)
    assert run.code == 0, run.err[-3000:]
    assert "not on the roster: cho" in run.out
    canvas = list(csv.reader(io.StringIO((course / "grades" / "lms" / "canvas.csv").read_text())))
    exercises = [f"exercise-{n:02d}" for n in range(1, 14)]
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *exercises]
    assert canvas[1][:5] == ["Points Possible", "", "", "", ""]
    by_id = {row[1]: row for row in canvas[2:]}
    assert set(by_id) == {"101", "102", "104"}
    ana = dict(zip(canvas[0], by_id["101"], strict=True))
    assert ana["Student"] == "Kim, Ana" and ana["exercise-08"] == "5" and ana["exercise-05"] == "0"
    assert all(v == "0" for k, v in zip(canvas[0], by_id["104"], strict=True) if k.startswith("exercise-"))
    moodle = list(csv.DictReader(io.StringIO((course / "grades" / "lms" / "moodle.csv").read_text())))
    assert list(moodle[0]) == ["Full name", "ID number", "Email address", *exercises]
    assert {r["Email address"] for r in moodle} == {"ana@uni.kr", "ben@uni.kr", "dan@uni.kr"}
    rows = _grades(course / "grades")
    assert rows["dan"]["exercise-08"] == "not submitted" and "cho" in rows  # grades.csv: every folder
    assert "Folders not on the roster" in (course / "grades" / "report.md").read_text()


@pytest.mark.parametrize(("body", "said"), [
    ("id,name\n1,x\n", "line 1: the header needs a 'folder' column"),
    ("folder,grade\nana,3\n", "line 1: unknown column 'grade'"),
    ("folder,id\nana,1\n,2\n", "line 3, field 'folder': empty"),
    ("folder,id\nana,1\nana,2\n", "line 3, field 'folder': 'ana' is on the roster twice"),
    ("folder,id\nana,1,extra\n", "line 2: more cells than the header"),
])
def test_a_bad_roster_is_one_line_naming_file_line_and_field(tmp_path: Path, body: str, said: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(body)
    (tmp_path / "subs").mkdir()
    run = grade("class", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--roster", str(roster))
    assert run.code == 2 and said in run.err and str(roster) in run.err, run.err
    assert len(run.err.strip().splitlines()) == 1 and not (tmp_path / "out" / "grades.csv").exists()
    assert set(COLUMNS) >= {"folder", "email"}
