"""Course delivery: the student release, the Gradescope autograder bundle, and grading inside it.

``student_release`` writes a folder students can clone or unzip: the stubs,
course.yaml, a README and the grader, with each exercise's bank (recorded
inputs and expected outputs) where the references and specs would be.

Trusted side. ``gradescope_zip`` writes the zip Gradescope's "Configure
Autograder" page takes: ``setup.sh`` (the CPU build of torch, then the grader),
``run_autograder`` (grade every exercise file in the submission into
``results/results.json``), the grader, course.yaml, the references and specs
(the official grade runs on the instructor's side, with fresh inputs).
Gradescope unzips it into ``/autograder/source``. The root defaults to ``/autograder`` and is taken from
``GRADESCOPE_ROOT``, so a test can lay out a folder like Gradescope's.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from grader import notebook
from grader.course import Course
from grader.errors import UsageError

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
cd "${GRADESCOPE_ROOT:-/autograder}/source"
apt-get update -qq && apt-get install -y -qq python3 python3-pip bubblewrap >/dev/null || true
# The CPU build of torch first, so pip never pulls a multi-GB CUDA build.
python3 -m pip install --quiet "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \\
    || python3 -m pip install --quiet "torch==2.13.0"
python3 -m pip install --quiet .
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade each exercise file found, write results.json.
set -uo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
cd "$ROOT/source"
mkdir -p "$ROOT/results"
exec "${PYTHON:-python3}" -m grader autograde "$ROOT/submission" --results "$ROOT/results/results.json"
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqgrade"
version = "{version}"
requires-python = ">=3.10"
dependencies = [{dependencies}]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]
"""


@dataclass(frozen=True, slots=True)
class Bundle:
    path: Path
    files: int


def _requirements() -> tuple[str, str]:
    try:
        version = metadata.version("seqgrade")
        needs = [r for r in metadata.requires("seqgrade") or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        version, needs = "0", []
    needs = needs or ["torch>=2.2,<3", "numpy>=1.24", "hypothesis>=6.100", "click>=8.1", "rich>=13",
                      "pyyaml>=6"]
    return version, ", ".join(f'"{r}"' for r in needs)


def _add(archive: zipfile.ZipFile, name: str, body: str | bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed: the same course, the same zip
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, body)


RELEASE_README = """# {name}: exercises

Fill in the functions in `exercises/`, then grade them here, on your machine.

```bash
python3 -m pip install torch==2.13.0 .     # once, in this folder (a virtual environment is best)
grade exercise-05                          # or: grade (where you stand), grade hint 05, grade watch 05
```

`grade exercise-NN` runs the course's checks on your file: the contract
(type, dtype, shape, device), inputs left unchanged, gradients, the
`ValueError` cases, the exercise's rules (batch rows independent, causal
masks that do not leak, ...) and, where the exercise says so, no built-in
softmax or attention. Expected values come from a bank of inputs the
instructor recorded (`bank/`, data only); there is no reference code here.

The official grade is computed on the instructor's side on fresh inputs, and
it also names the classic mistake your output looks like. A file that only
reproduces the bank's answers earns nothing there: make your functions right
for every input.
"""

NOTEBOOKS_README = """
## In Jupyter

`notebooks/` holds one notebook per exercise. Install this folder into the
environment your Jupyter kernel runs (the command above, from that environment),
then open a notebook: fill in the code cell, run it, and run the check cell,
`check("exercise-05")`. It grades the functions as you last ran them, in a
separate confined process, and shows the feedback in the notebook. You can also
grade a whole notebook from a terminal: `grade notebooks/ex05_forget_gate.ipynb`.

노트북: `notebooks/`의 노트북에서 코드 셀을 채워 실행한 뒤 `check("exercise-05")` 셀을 실행하세요.
"""


def _package_files(package: Path) -> dict[str, Path]:
    return {f"grader/{p.relative_to(package).as_posix()}": p for p in sorted(package.rglob("*.py"))}


def _pyproject() -> str:
    version, dependencies = _requirements()
    return PYPROJECT.format(version=version, dependencies=dependencies)


def student_release(course: Course, out: Path, seed: int, notebooks: bool = False) -> list[Path]:
    """Write a student release of ``course`` to ``out`` (which must not exist yet);
    ``notebooks``: also one notebook per exercise, in ``notebooks/``."""
    from grader import bank
    from grader.grading import load_exercise

    if out.exists():
        raise UsageError(f"{out} already exists; grade release writes a new folder")
    files: dict[str, bytes] = {name: path.read_bytes() for name, path in _package_files(_package()).items()}
    for entry in course.exercises:
        files[f"exercises/{entry.file}"] = course.student_file(entry).read_bytes()
        files[f"bank/{entry.module}.bank"] = bank.build(load_exercise(course, entry), seed)
        if notebooks:
            stub = course.student_file(entry).read_text(encoding="utf-8")
            made = notebook.exercise_notebook(entry, stub)
            files[f"notebooks/{entry.module}{notebook.SUFFIX}"] = made.encode()
    text = (course.root / "course.yaml").read_text(encoding="utf-8")
    files["course.yaml"] = _release_course_yaml(text).encode()
    files["pyproject.toml"] = _pyproject().encode()
    readme = RELEASE_README.format(name=course.name) + (NOTEBOOKS_README if notebooks else "")
    files["README.md"] = readme.encode()
    files[".gitignore"] = b".grade/\n__pycache__/\n*.egg-info/\nbuild/\n"
    written = []
    for name, body in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        written.append(path)
    return written


def _release_course_yaml(text: str) -> str:
    """course.yaml with the solutions folder replaced by the banks (comments and layout kept)."""
    import re

    note = "# Student release: no solutions here; checks grade against the recorded banks.\n"
    line = re.compile(r"^solutions_dir:.*$", re.MULTILINE)
    if line.search(text):
        return note + line.sub("solutions_dir: bank", text, count=1)
    return note + text + ("" if text.endswith("\n") else "\n") + "solutions_dir: bank\n"


def _package() -> Path:
    return Path(__file__).resolve().parent


def gradescope_zip(course: Course, out: Path) -> Bundle:
    """Write the autograder zip for ``course`` to ``out``."""
    if out.suffix != ".zip":
        raise UsageError(f"{out}: the Gradescope bundle is a .zip file")
    sources = _package_files(_package())
    for folder in (course.exercises_dir, course.solutions_dir):  # where course.yaml says they are
        prefix = folder.resolve().relative_to(course.root.resolve()).as_posix()
        sources |= {f"{prefix}/{p.name}": p for p in sorted(folder.glob("*.py"))}
    course_text = (course.root / "course.yaml").read_text(encoding="utf-8")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w") as archive:
            _add(archive, "setup.sh", SETUP, executable=True)
            _add(archive, "run_autograder", RUN, executable=True)
            _add(archive, "pyproject.toml", _pyproject())
            _add(archive, "course.yaml", course_text)
            for name, path in sources.items():
                _add(archive, name, path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the bundle ({exc.strerror or exc})") from None
    return Bundle(out, len(sources) + 4)


def find_submitted(course: Course, folder: Path) -> dict[str, Path]:
    """The course's exercise files anywhere under ``folder`` (a zip upload may nest them), by exercise id."""
    names = {e.file: e.id for e in course.exercises}
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py"), key=lambda p: (len(p.parts), str(p))):
        if path.name in names and names[path.name] not in found and "__MACOSX" not in path.parts:
            found[names[path.name]] = path
    for path in sorted(folder.rglob("*" + notebook.SUFFIX), key=lambda p: (len(p.parts), str(p))):
        if "__MACOSX" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            for entry in notebook.exercises_in(path, course):  # a .py file wins
                found.setdefault(entry.id, path)
    return found


def autograde(course: Course, submission: Path, results: Path, lang: str,
              allow_unsandboxed: bool = False) -> dict[str, object]:
    """Grade every exercise file in ``submission`` and write Gradescope's results.json to ``results``.

    Only where student code is fenced off the course (``require_confinement``): elsewhere
    results.json says that nothing was graded, and why, and the command fails.
    """
    import json

    from grader.classroom import StudentFile, grade_files, require_confinement
    from grader.feedback.class_report import write_text
    from grader.feedback.gradescope import results_json
    from grader.feedback.messages import ERRORS, text
    from grader.sandbox.confine import probe
    from grader.submission import Submission

    if not submission.is_dir():
        raise UsageError(f"SUBMISSION: {submission} is not a folder")
    try:
        require_confinement(allow_unsandboxed)
    except UsageError as refused:
        write_text(results, json.dumps({"score": 0, "output": f"Not graded: {refused}", "tests": [],
                                        "extra_data": {"sandbox": [probe().name], "graded": False}}))
        raise
    files = []
    for exercise, path in find_submitted(course, submission).items():
        entry = course.resolve(exercise)
        files.append(StudentFile(entry, path.name, Submission(exercise, path, "", entry.functions).source()))
    graded = grade_files(course, "submission", files) if files else []
    document = results_json(graded, lang)
    if not graded:
        expected = ", ".join(e.file for e in course.exercises)
        document["output"] = text(ERRORS, "no-exercise-file", lang, expected=expected)
    write_text(results, json.dumps(document, ensure_ascii=False, indent=2))
    return document
