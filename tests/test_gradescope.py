"""The Gradescope bundle: a zip that, unpacked like Gradescope does, grades a submission into results.json."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, grade


def unpack(where: Path) -> Path:
    """A folder laid out like Gradescope's /autograder, with a fresh bundle unpacked in source/."""
    root = where / "autograder"
    bundle = where / "autograder.zip"
    made = grade("gradescope", str(bundle))
    assert made.code == 0, made.err
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    os.chmod(root / "source" / "run_autograder", 0o755)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    return root


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(tmp_path_factory.mktemp("gradescope"))


def _run(root: Path) -> dict[str, object]:
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable, "LANG": "C.UTF-8"}
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    document: dict[str, object] = json.loads((root / "results" / "results.json").read_text())
    return document


def test_the_bundle_holds_the_grader_the_course_and_no_stray_files(autograder: Path) -> None:
    source = autograder / "source"
    assert (source / "course.yaml").read_text() == (ROOT / "course.yaml").read_text()
    assert (source / "solutions" / "ex05_forget_gate_spec.py").is_file()
    assert (source / "grader" / "sandbox" / "worker.py").is_file()
    assert not list(source.rglob("__pycache__"))
    setup = (source / "setup.sh").read_text()
    assert "torch==2.13.0" in setup and "whl/cpu" in setup and "pip install --quiet ." in setup


def test_run_autograder_grades_every_exercise_file_found(autograder: Path) -> None:
    nested = autograder / "submission" / "my-work"
    nested.mkdir()
    (nested / "ex05_forget_gate.py").write_text((ROOT / "solutions" / "ex05_forget_gate.py").read_text())
    stub = (ROOT / "exercises" / "ex09_softmax.py").read_text()
    (autograder / "submission" / "ex09_softmax.py").write_text(stub)
    (autograder / "submission" / "notes.md").write_text("not an exercise")
    document = _run(autograder)
    assert document["score"] == 5.0 and document["max_score"] == 10.0
    tests = document["tests"]
    assert isinstance(tests, list) and tests
    assert {t["name"].split(":")[0] for t in tests} == {"exercise-05", "exercise-09"}
    for test in tests:
        assert test["visibility"] == "visible" and test["output_format"] == "md"
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
    assert any("Not implemented" in t["output"] for t in tests if t["name"].startswith("exercise-09"))


def test_an_empty_submission_still_writes_results(tmp_path: Path) -> None:
    document = _run(unpack(tmp_path))
    assert document["score"] == 0 and "No exercise file was found" in str(document["output"])
