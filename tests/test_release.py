"""The student release: gradable on a laptop, with no reference code and no solutions in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.bank import FORMAT
from grader.checks.engine import Replays, grade_checks
from grader.checks.target import digest
from grader.course import load_course
from grader.exercise import load_spec
from grader.grading import load_exercise
from grader.sandbox import protocol
from grader.sandbox.runner import LocalRunner
from tests.conftest import ROOT, grade


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "course-release"
    made = grade("release", str(out), "--notebooks", timeout=300)
    assert made.code == 0, made.err
    return out


def test_the_release_has_stubs_banks_and_the_grader_but_no_solutions(release: Path) -> None:
    assert not (release / "solutions").exists()
    stubs = {p.name for p in (ROOT / "exercises").glob("ex*.py")}
    assert {p.name for p in (release / "exercises").iterdir()} == stubs
    assert (release / "grader" / "sandbox" / "worker.py").is_file() and (release / "pyproject.toml").is_file()
    readme = (release / "README.md").read_text()
    for phrase in ("pip install torch==2.13.0 .", "grade exercise-05", "fresh inputs"):
        assert phrase in readme
    course = load_course(release)
    for entry in course.exercises:
        assert course.bank_file(entry).is_file() and not course.spec_file(entry).exists()


def test_no_reference_or_mistake_code_is_in_the_release(release: Path) -> None:
    course = load_course(ROOT)
    shipped = {p: p.read_bytes() for p in release.rglob("*")
               if p.is_file() and "exercises" not in p.parts and "notebooks" not in p.parts}
    for entry in course.exercises:
        for function in entry.functions:
            for path, body in shipped.items():
                assert f"def {function}(".encode() not in body, (function, path)
    reference = (ROOT / "solutions" / "ex13_transformer_encoder_layer.py").read_text()
    body_line = next(line.strip() for line in reference.splitlines() if "layer_norm" in line)
    assert not any(body_line.encode() in body for body in shipped.values())


def test_banks_are_data_frames_read_without_pickle(release: Path) -> None:
    for bank_file in (release / "bank").iterdir():
        header, buffers = protocol.unpack(bank_file.read_bytes())
        assert header["format"] == FORMAT and header["checks"]
        assert not bank_file.read_bytes().startswith(b"\x80")  # not a pickle stream
    assert "pickle" not in (ROOT / "grader" / "bank.py").read_text().replace("without pickle", "")


def test_stub_reference_and_bug_grade_as_on_the_official_grader(release: Path) -> None:
    stub = grade("exercise-05", cwd=release, env={"LANG": "C.UTF-8"})
    assert stub.code == 1 and "Not implemented" in stub.out
    target = release / "exercises" / "ex05_forget_gate.py"
    original = target.read_text()
    try:
        target.write_text((ROOT / "solutions" / "ex05_forget_gate.py").read_text())
        right = grade("05", "--lang", "en", cwd=release)
        assert right.code == 0, right.out
        assert "values in (0, 1)" in right.out and "batch rows independent" in right.out  # rules travel
        target.write_text(target.read_text().replace("[h_prev, x_t]", "[x_t, h_prev]"))
        wrong = grade("05", "--lang", "en", cwd=release)
        assert wrong.code == 1 and "differs from the expected values" in wrong.out
        assert "forget_gate(h_prev, x_t, W_f, b_f)" in wrong.out  # the failing bank input, as code
    finally:
        target.write_text(original)


def test_the_bank_grades_like_the_spec_on_every_known_mistake(release: Path) -> None:
    course, banked_course = load_course(ROOT), load_course(release)
    for number in ("08", "09"):
        entry = course.resolve(number)
        spec = load_spec(course.spec_file(entry), entry.id)
        banked = load_exercise(banked_course, banked_course.resolve(number))
        for mistake in spec.mistakes:
            functions = {**spec.references(), mistake.function: mistake.impl}
            results = grade_checks(banked, LocalRunner(functions), entry.points)
            assert any(r.status.value == "failed" for r in results), mistake.id


def test_the_bank_is_not_the_official_graders_inputs(release: Path) -> None:
    course = load_course(ROOT)
    entry = course.resolve("08")
    spec = load_spec(course.spec_file(entry), entry.id)
    official = Replays()
    grade_checks(spec, LocalRunner(spec.references()), entry.points, replays=official)
    official_inputs = {digest(c) for cases in official.cases.values() for c in cases}
    banked = load_exercise(load_course(release), load_course(release).resolve("08"))
    bank_inputs = {digest(c) for cases in banked.bank.replays.cases.values() for c in cases}
    assert len(bank_inputs & official_inputs) <= len(bank_inputs) // 10


def test_the_release_installs_as_a_package_with_the_grade_command(release: Path, tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(release)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("seqgrade-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "grader/sandbox/worker.py" in names and "grader/cli.py" in names
    assert "grade = grader.cli:main" in entry_points
    assert not any(n.startswith(("solutions/", "bank/")) for n in names)


def test_a_release_token_replays_in_the_release(release: Path, tmp_path: Path) -> None:
    """The release prints the smallest failing bank input (labelled so, not shrunk) and its token works."""
    import re

    student = tmp_path / "ex05_forget_gate.py"
    buggy = ROOT / "tests" / "submissions" / "ex05" / "concat-order" / "ex05_forget_gate.py"
    student.write_text(buggy.read_text())
    first = grade("exercise-05", "--file", str(student), cwd=release, env={"COLUMNS": "200"})
    assert first.code == 1 and "Smallest failing input of the bank (not shrunk)" in first.out
    token = re.findall(r"--replay (r1\.[A-Za-z0-9_-]+)", first.out)[0]
    again = grade("exercise-05", "--file", str(student), "--replay", token, cwd=release)
    assert again.code == 1 and "not in the bank" not in again.err and "The input the token holds" in again.out


def test_each_notebook_holds_its_stub_and_a_check_and_nothing_else(release: Path) -> None:
    import nbformat

    course = load_course(ROOT)
    for entry in course.exercises:
        made = nbformat.read(release / "notebooks" / f"{entry.module}.ipynb", as_version=4)
        nbformat.validate(made)
        about, code, check = made.cells
        stub = (ROOT / "exercises" / entry.file).read_text()
        assert about.cell_type == "markdown" and "아래 코드 셀" in about.source
        assert entry.title in about.source
        assert code.source.strip() in stub and "NotImplementedError" in code.source  # the stub, no reference
        assert check.source.endswith(f'check("{entry.id}")')


def test_the_notebook_release_installs_in_a_fresh_venv_and_runs_in_a_kernel(
        release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The release installed (its own grader, not this checkout's) and a notebook executed by nbclient."""
    import json
    import subprocess
    import sys

    import nbformat
    from nbclient import NotebookClient

    venv = tmp_path / "venv"
    # The machine's torch and Jupyter are seen (no multi-GB install); the grader is the release's own.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(release)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=60)
    assert str(venv) in where.stdout, where.stdout + where.stderr  # the release's grader, not ours
    spec = tmp_path / "kernels" / "kernels" / "release"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "release", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "kernels"))
    path = release / "notebooks" / "ex05_forget_gate.ipynb"
    tanh = ("import torch\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
            "    return torch.tanh(torch.cat([h_prev, x_t], -1) @ W_f.T)\n")
    answers = {"Not implemented yet": None,  # the stub as handed out
               "All checks passed": (ROOT / "solutions" / "ex05_forget_gate.py").read_text(),
               "Smallest failing input of the bank": tanh}  # graded from the bank: no reference here
    for said, answer in answers.items():
        book = nbformat.read(path, as_version=4)
        if answer is not None:
            book.cells[1].source = answer
        NotebookClient(book, timeout=300, kernel_name="release",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        shown = "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                        for o in book.cells[2].outputs)
        assert said in shown, shown[-3000:]
