"""The attacks on the trusted side, through every path that produces a grade.

A student's process forges frames on its own pipes: a greeting nested far
too deep, a reply naming one 64 MiB buffer 400 times, a reply nested far too
deep. Each goes through ``grade exercise-NN --json``, ``grade class`` (beside
honest students), the Gradescope autograder in a folder laid out like
Gradescope's, and a student release. Each run asserts the verdict (a failed
check, never an error of the grader), the score, that the course and the other
students' files are unchanged, and the grader's own peak memory
(``SEQGRADE_PEAK_FILE``: every grading process reports its own, never the
student processes').
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_course, grade
from tests.test_gradescope import unpack
from tests.test_hostile import needs_bwrap, needs_landlock, tree_digest

PEAK_MIB = 1500
"""The most any grading process may hold: torch and the grader take ~600 MiB; the unbounded
decoding this guards against reached 2.9 GiB with 40 references, and an OOM kill with 400."""

FORGER = '''
import json, os, stat, struct, fcntl

def _frame(header, payload=b""):
    body = json.dumps({**header, "buffers": [len(payload)] if payload else []}).encode()
    return struct.pack("<Q", len(body)) + body + payload

def _reply_pipes():
    """Every write-only pipe but stdout and stderr: the grader's reply pipe among them."""
    for fd in range(3, 64):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and writable:
                yield fd
        except OSError:
            pass

def _forge(frame):
    for fd in _reply_pipes():
        try:
            os.write(fd, frame)
        except OSError:
            pass

BIG = 64 << 20
TENSOR = {"$tensor": {"type": "torch.Tensor", "dtype": "uint8", "shape": [BIG], "device": "cpu", "buffer": 0}}
ATTACK = "WHICH"
if ATTACK == "nested-greeting":
    _forge(_frame({"op": "hello", "ok": True, "callables": {"$list": None}, "x": "[" * 200000}).replace(
        b'"' + b"[" * 200000 + b'"', b"[" * 200000 + b"]" * 200000))

def forget_gate(h_prev, x_t, W_f, b_f):
    if ATTACK == "buffer-reuse":
        _forge(_frame({"op": "reply", "id": 1, "ok": True, "result": {"$list": [TENSOR] * 400}}, bytes(BIG)))
    elif ATTACK == "nested-reply":
        nested = b'{"$list":[' * 200000 + b"1" + b"]}" * 200000
        body = b'{"op":"reply","id":1,"ok":true,"buffers":[],"result":' + nested + b"}"
        _forge(struct.pack("<Q", len(body)) + body)
    os._exit(0)

def attention_scores(q, k):
    return forget_gate(None, None, None, None)
'''
ATTACKS = ["nested-greeting", "buffer-reuse", "nested-reply"]


def forger(which: str) -> str:
    return FORGER.replace("WHICH", which)


def peaks(path: Path) -> list[int]:
    """Each grading process's peak, in MiB."""
    return [int(line.split()[1]) >> 10 for line in path.read_text().splitlines()] if path.exists() else []


def assert_bounded(peak_file: Path, processes: int = 1) -> None:
    found = peaks(peak_file)
    assert len(found) >= processes, "a grading process did not report its peak (did it die?)"
    assert max(found) < PEAK_MIB, f"a grading process held {max(found)} MiB"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_course(tmp_path_factory.mktemp("paths") / "course")


TIERS = [pytest.param(t, marks=m) for t, m in zip(("bubblewrap", "landlock"), (needs_bwrap, needs_landlock),
                                                   strict=True)]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_grade_exercise(course: Path, tmp_path: Path, attack: str, tier: str) -> None:
    student = tmp_path / "ex05_forget_gate.py"
    student.write_text(forger(attack))
    before = tree_digest(course)
    run = grade("exercise-05", "--file", str(student), "--json", cwd=course, timeout=300,
                env={"SEQGRADE_PEAK_FILE": str(tmp_path / "peak"), "GRADER_SANDBOX": tier})
    assert run.code == 1, run.err[-2000:]
    document = json.loads(run.out)
    assert document["score"] == 0
    shown = json.dumps(document)
    assert "not a valid answer" in shown or "ended during the call" in shown or "failed too often" in shown
    assert tree_digest(course) == before
    assert_bounded(tmp_path / "peak")


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_grade_class(course: Path, tmp_path: Path, attack: str, tier: str) -> None:
    """The forger beside honest students: every honest grade is there and right, nobody is "not graded"."""
    subs = tmp_path / "subs"
    reference = (course / "solutions" / "ex08_attention_scores.py").read_text()
    for student in ("ann", "ben", "cid"):
        (subs / student).mkdir(parents=True)
        (subs / student / "ex08_attention_scores.py").write_text(reference)
    (subs / "mal").mkdir()
    (subs / "mal" / "ex08_attention_scores.py").write_text(forger(attack))
    honest = {p: p.read_bytes() for p in subs.glob("[!m]*/*.py")}
    before = tree_digest(course)
    run = grade("class", str(subs), "--out", str(tmp_path / "g"), "--workers", "2", cwd=course, timeout=600,
                env={"SEQGRADE_PEAK_FILE": str(tmp_path / "peak"), "GRADER_SANDBOX": tier})
    assert run.code == 0, run.err[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "g" / "grades.csv").read_text()))}
    assert [rows[s]["exercise-08"] for s in ("ann", "ben", "cid")] == ["5", "5", "5"]
    assert rows["mal"]["exercise-08"] == "0"
    assert {p: p.read_bytes() for p in subs.glob("[!m]*/*.py")} == honest and tree_digest(course) == before
    assert_bounded(tmp_path / "peak", processes=2)


@pytest.mark.parametrize("attack", ATTACKS)
def test_gradescope_autograder(tmp_path: Path, attack: str) -> None:
    root = unpack(tmp_path)
    (root / "submission" / "ex05_forget_gate.py").write_text(forger(attack))
    before = tree_digest(root / "source" / "solutions")
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable, "LANG": "C.UTF-8",
           "SEQGRADE_PEAK_FILE": str(tmp_path / "peak")}
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads((root / "results" / "results.json").read_text())
    assert document["score"] == 0 and document["extra_data"]["sandbox"]
    after = tree_digest(root / "source" / "solutions")
    assert {k: v.split()[-1] for k, v in after.items()} == {k: v.split()[-1] for k, v in before.items()}
    assert_bounded(tmp_path / "peak")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, course: Path) -> Path:
    out = tmp_path_factory.mktemp("release") / "release"
    made = grade("release", str(out), cwd=course, timeout=600)
    assert made.code == 0, made.err[-2000:]
    return out


@pytest.mark.parametrize("attack", ATTACKS)
def test_student_release(release: Path, tmp_path: Path, attack: str) -> None:
    student = tmp_path / "ex05_forget_gate.py"
    student.write_text(forger(attack))
    before = tree_digest(release / "bank")
    run = grade("exercise-05", "--file", str(student), "--json", cwd=release, timeout=300,
                env={"SEQGRADE_PEAK_FILE": str(tmp_path / "peak")})
    assert run.code == 1, run.err[-2000:]
    assert json.loads(run.out)["score"] == 0 and tree_digest(release / "bank") == before
    assert_bounded(tmp_path / "peak")


def test_the_peak_instrument_reports_a_real_figure(tmp_path: Path) -> None:
    """The instrument itself: a grading run reports a plausible peak (so the bounds above can fail)."""
    run = grade("exercise-05", "--file", str(ROOT / "solutions" / "ex05_forget_gate.py"), "--json",
                env={"SEQGRADE_PEAK_FILE": str(tmp_path / "peak")}, timeout=300)
    assert run.code == 0
    (found,) = peaks(tmp_path / "peak")
    assert 100 < found < PEAK_MIB  # torch alone is well over 100 MiB


LIVE_MARKDOWN = re.compile(r"(?<!\\)\]\(|(?<!\\)!\[|(?<!\\)<(script|img)|^#+ (pwned|✓)|\x1b|\u202e|\u009b",
                           re.MULTILINE)


def test_names_and_messages_are_inert_in_every_file_an_instructor_opens(course: Path, tmp_path: Path) -> None:
    """Folder names and exception messages land in grades.csv, report.md, report.html, feedback.md,
    results.json and the terminal: as text, never as a formula, a link, an image, a tag or a heading."""
    subs = tmp_path / "subs"
    names = ["=1+1", "+cmd", "@sum(1)", "-2", "# ✓ every check passed", "[link](https:evil.example)",
             "![img](x.png)", "www.evil.example", "paul", "\uff50aul",  # the last two only look alike
             "evil\u202egnp.exe", "csi\u009b31m"]  # not printable: ignored, and named safely in the terminal
    raising = ("def attention_scores(q, k):\n"
               "    raise ValueError('![img](https://evil.example/x.png) <script>alert(1)</script>\\n# pwned "
               "\\x1b[31m \\u202e')\n")
    for name in names:
        (subs / name).mkdir(parents=True)
        (subs / name / "ex08_attention_scores.py").write_text(raising)
    run = grade("class", str(subs), "--out", str(tmp_path / "g"), "--only", "08", cwd=course, timeout=600)
    assert run.code == 0, run.err[-2000:]
    out = tmp_path / "g"
    cells = [row[0] for row in csv.reader(io.StringIO((out / "grades.csv").read_text()))][1:]
    assert len(cells) == 10 and not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    for path in [out / "report.md", *out.glob("students/*/feedback.md")]:
        assert not LIVE_MARKDOWN.search(path.read_text()), (path, LIVE_MARKDOWN.search(path.read_text()))
    assert "look alike" in (out / "report.md").read_text() and "\uff50aul" in (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "<script>" not in page and "<img src=\"x.png" not in page and "\u202e" not in page
    outputs = [t["output"] for p in out.glob("students/*/results.json")
               for t in json.loads(p.read_text())["tests"]]
    assert outputs and not any(LIVE_MARKDOWN.search(o) for o in outputs)
    shown = run.out + run.err
    assert "ignored" in shown and "\u202e" not in shown and "\u009b" not in shown and "\x1b[31m" not in shown
