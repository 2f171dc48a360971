"""The grade command as a student and an instructor run it: exit codes, JSON, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_course, grade


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the course, so tests can break files without touching the checkout."""
    return copy_course(tmp_path_factory.mktemp("course"))


def test_reference_passes_with_exit_0_and_json_schema(course_copy: Path) -> None:
    run = grade("exercise-05", "--file", "solutions/ex05_forget_gate.py", "--json", cwd=course_copy)
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert set(result) >= {"score", "max_score", "execution_time", "output", "tests"}
    assert result["score"] == pytest.approx(result["max_score"]) and result["max_score"] == pytest.approx(5)
    for test in result["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["status"] == "passed"


def test_stub_fails_with_exit_1_and_says_not_implemented(course_copy: Path) -> None:
    run = grade("05", cwd=course_copy)
    assert run.code == 1
    assert "Not implemented yet" in run.out
    assert "Traceback" not in run.out + run.err


def test_korean_feedback(course_copy: Path) -> None:
    run = grade("forget-gate", "--lang", "ko", cwd=course_copy)
    assert run.code == 1
    assert "아직 구현되지 않았습니다" in run.out


def test_unknown_exercise_is_one_line_with_a_hint_and_exit_2(course_copy: Path) -> None:
    run = grade("exercise-5x", cwd=course_copy)
    assert run.code == 2
    assert run.err.strip().count("\n") == 0
    assert "Did you mean 'exercise-05'" in run.err


def test_missing_file_is_a_failed_result_naming_the_file(course_copy: Path) -> None:
    run = grade("exercise-05", "--file", "nowhere/ex05_forget_gate.py", "--json", cwd=course_copy)
    assert run.code == 1
    result = json.loads(run.out)
    assert result["score"] == 0
    assert "nowhere/ex05_forget_gate.py" in result["output"]


def test_syntax_error_names_file_and_line(course_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ex05_forget_gate.py"
    bad.write_text("import torch\n\ndef forget_gate(h_prev, x_t, W_f, b_f)\n    return h_prev\n")
    run = grade("exercise-05", "--file", str(bad), cwd=course_copy)
    assert run.code == 1
    assert "ex05_forget_gate.py, line 3" in run.out
    assert "Traceback" not in run.out + run.err


def test_import_error_names_the_line(course_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ex05_forget_gate.py"
    bad.write_text("import torch\nimport not_a_module_anywhere\n")
    run = grade("exercise-05", "--file", str(bad), cwd=course_copy)
    assert run.code == 1
    assert "line 2" in run.out and "ModuleNotFoundError" in run.out


def test_malformed_course_yaml_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "course.yaml").write_text("course: x\nexercises:\n  - id: exercise-01\n    slug: Bad Slug\n")
    run = grade("exercise-01", cwd=tmp_path)
    assert run.code == 2
    assert run.err.strip().count("\n") == 0
    assert "course.yaml:4: exercises[0].slug" in run.err


def test_no_course_yaml_is_exit_2(tmp_path: Path) -> None:
    run = grade("exercise-01", cwd=tmp_path)
    assert run.code == 2 and "no course.yaml" in run.err


@pytest.mark.parametrize(("args", "english", "korean"), [
    (("exercise-99",), "this course has no exercise 'exercise-99'", "'exercise-99' 과제가 없습니다"),
    (("forget-gat",), "Did you mean 'forget-gate'?", "'forget-gate'을(를) 찾으셨나요?"),
    (("exercise-05", "--replay", "r2.abc"), "not a replay token", "재실행 토큰이 아닙니다"),
    (("exercise-05", "--replay", "r1.!!"), "the token is damaged", "토큰이 손상되었습니다"),
    (("notebook", "gone.ipynb"), "gone.ipynb: no such notebook", "gone.ipynb: 그런 노트북이 없습니다"),
    (("exercise-05",), "no course.yaml in", "course.yaml이 없습니다"),
], ids=["unknown", "close", "not-a-token", "damaged", "no-notebook", "no-course"])
def test_what_a_student_gets_wrong_on_the_command_line_is_one_line_in_their_language(
        args: tuple[str, ...], english: str, korean: str, tmp_path: Path) -> None:
    for lang, words, prefix in (("en", english, "grade: error: "), ("ko", korean, "grade: 오류: ")):
        run = grade(*args, "--lang", lang, cwd=tmp_path if "course.yaml" in english else ROOT)
        assert run.code == 2 and run.out == "", (run.code, run.out)
        assert run.err.startswith(prefix) and run.err.strip().count("\n") == 0, run.err
        assert words in run.err, run.err
        if lang == "ko":  # no English sentence left in it (click's own "Invalid value for" included)
            assert english not in run.err and "Invalid value" not in run.err, run.err


def test_course_option_and_subfolder_discovery(course_copy: Path, tmp_path: Path) -> None:
    run = grade("exercise-05", "--course", str(course_copy), "--json", cwd=tmp_path)
    assert run.code == 1 and json.loads(run.out)["max_score"] == pytest.approx(5)
    run = grade("exercise-05", "--json", cwd=course_copy / "exercises")
    assert run.code == 1 and json.loads(run.out)["max_score"] == pytest.approx(5)


def test_help_lists_commands() -> None:
    run = grade("--help")
    assert run.code == 0 and "validate" in run.out and "check" in run.out


def test_validate_one_exercise(course_copy: Path) -> None:
    run = grade("validate", "--only", "exercise-08", cwd=course_copy)
    assert run.code == 0, run.out + run.err
    assert "exercise-08" in run.out and "all good" in run.out


def test_validate_fails_when_a_reference_is_wrong(course_copy: Path, tmp_path: Path) -> None:
    broken = tmp_path / "course"
    shutil.copytree(course_copy, broken)
    reference = broken / "solutions" / "ex05_forget_gate.py"
    reference.write_text(reference.read_text().replace("return torch.sigmoid(", "return torch.tanh("))
    run = grade("validate", "--only", "05", cwd=broken)
    assert run.code == 1
    assert "reference fails: forget_gate: obeys a rule (values in (0, 1))" in run.out
