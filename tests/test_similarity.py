"""Similarity: leads on alike submissions, from code (copydetect's winnowing) and from behaviour.

The class in ``submissions/similarity``: ana and ben hand in one multi-head attention
(renamed, reordered, recommented); cara wrote her own. fay and gus share a wrong
forget gate no known mistake explains; hal has another. ``_class`` adds dan and eve,
who hand in the stubs as given.
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import similarity
from grader.course import Course
from grader.grading import grade_file
from grader.results import CheckResult, ExerciseResult, Failure, Kind, Status
from tests.conftest import ROOT, grade

CLASS = ROOT / "tests" / "submissions" / "similarity"
EX12 = "ex12_multi_head_attention.py"
EX05 = "ex05_forget_gate.py"


def _stub(name: str) -> str:
    return (ROOT / "exercises" / name).read_text()


def _files(name: str) -> dict[str, str]:
    return {d.name: (d / name).read_text() for d in sorted(CLASS.iterdir()) if (d / name).is_file()}


def test_the_planted_pair_is_found_and_stub_sharers_are_not() -> None:
    found = similarity.code_matches("exercise-12", _stub(EX12), _files(EX12))
    assert [m.students for m in found] == [("ana", "ben")]
    assert min(found[0].shares) > 0.8
    # dan and eve handed in the same file, the stub: the stub is base code, so nothing is alike.
    assert similarity.code_matches("exercise-12", _stub(EX12), {"dan": _stub(EX12), "eve": _stub(EX12)}) == []


def test_code_is_compared_without_importing_pyplot_and_a_later_import_gets_the_real_one() -> None:
    """copydetect imports matplotlib.pyplot for a report never made here: a class run does not pay for it,
    and the student's notebook kernel, where check() may compare code too, can still plot."""
    script = f"""
import sys
from grader import similarity
found = similarity.code_matches("exercise-12", {_stub(EX12)!r}, {_files(EX12)!r})
assert [m.students for m in found] == [("ana", "ben")], found
assert "matplotlib.pyplot" not in sys.modules and "matplotlib" not in sys.modules
import matplotlib.pyplot as plt
assert callable(plt.figure) and type(plt).__name__ == "module"
import copydetect.detector
assert copydetect.detector.plt.figure is plt.figure  # copydetect's stand-in reaches the real one
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]


NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10).map(lambda s: f"v_{s}")


KEEP = {"multi_head_attention", "torch", "math", "Tensor", "query", "key", "value", "mask", "num_heads",
        "W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o", "ValueError", "float", "annotations"}
"""The graded function's API and the libraries: what a copy cannot rename."""


def _renamed(tree: ast.Module, names: list[str]) -> ast.Module:
    """Every name the student chose (locals, arguments, helpers) replaced by one of ``names``."""
    chosen = [getattr(n, f) for n in ast.walk(tree) for f in ("id", "arg", "name")
              if isinstance(getattr(n, f, None), str) and getattr(n, f) not in KEEP]
    fresh = dict(zip(dict.fromkeys(chosen), names, strict=False))
    for node in ast.walk(tree):
        for field in ("id", "arg", "name"):
            name = getattr(node, field, None)
            if isinstance(name, str) and name in fresh:
                setattr(node, field, fresh[name])
    return tree


@settings(max_examples=15, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), comment=st.text(min_size=1, max_size=40),
       names=st.lists(NAMES, min_size=40, max_size=40, unique=True))
def test_renaming_reordering_and_recommenting_never_hide_a_copy(seed: int, comment: str,
                                                               names: list[str]) -> None:
    original = _files(EX12)["ana"]
    tree = _renamed(ast.parse(original), names)
    head = [n for n in tree.body if not isinstance(n, ast.FunctionDef)]
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    random.Random(seed).shuffle(functions)
    tree.body = head + functions
    note = "# " + " ".join(comment.split())
    copied = "\n".join(f"{line}  {note}" if line.strip() and i % 3 == 0 else line
                       for i, line in enumerate(ast.unparse(tree).splitlines()))
    found = similarity.code_matches("exercise-12", _stub(EX12), {"ana": original, "copy": copied})
    assert [m.students for m in found] == [("ana", "copy")], copied


@settings(max_examples=20, derandomize=True, deadline=None)
@given(blank_lines=st.lists(st.integers(0, 40), max_size=6), indent_comment=st.booleans())
def test_files_that_only_share_the_stub_are_never_listed(blank_lines: list[int],
                                                         indent_comment: bool) -> None:
    lines = _stub(EX12).splitlines()
    for at in sorted(blank_lines, reverse=True):
        lines.insert(min(at, len(lines)), "    # TODO" if indent_comment else "")
    found = similarity.code_matches("exercise-12", _stub(EX12), {"a": _stub(EX12), "b": "\n".join(lines)})
    assert found == []


def test_the_same_unexplained_wrong_values_share_a_signature(course: Course) -> None:
    entry = course.resolve("exercise-05")
    results = [grade_file(course, entry, CLASS / s / EX05, student=s) for s in ("fay", "gus", "hal")]
    signed = [{c.name: c.failure.behaviour for c in r.checks if c.failure and c.failure.behaviour}
              for r in results]
    assert signed[0] and signed[0] == signed[1]  # fay and gus: written apart, the same values
    assert not set(signed[0].values()) & set(signed[2].values())  # hal's mistake is another
    groups = similarity.shared_outputs(results)
    assert [(g.exercise, g.students, g.common) for g in groups] == [("exercise-05", ("fay", "gus"), False)]
    assert groups[0].failure.mismatch is not None


def test_a_known_mistake_carries_no_signature(course: Course, tmp_path: Path) -> None:
    entry = course.resolve("exercise-05")
    known = "import torch\n\ndef forget_gate(h_prev, x_t, W_f, b_f):\n" \
            "    return torch.tanh(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f)\n"
    path = tmp_path / EX05
    path.write_text(known)
    result = grade_file(course, entry, path, student="x")
    failures = [c.failure for c in result.checks if c.failure is not None]
    assert any(f.suspected_mistake == "tanh-not-sigmoid" for f in failures)
    assert all(f.behaviour == "" for f in failures if f.suspected_mistake)


def _result(student: str, marks: tuple[str, ...]) -> ExerciseResult:
    checks = tuple(CheckResult(f"check {i}", "matches-reference", "f", "", Status.FAILED, 0.0, 1.0,
                               failure=Failure(Kind.WRONG_VALUE, behaviour=mark))
                   for i, mark in enumerate(marks))
    return ExerciseResult("exercise-05", "t", "f.py", checks, 0.0, student=student)


@settings(max_examples=60, derandomize=True)
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3),
                       st.tuples(st.sampled_from(["", "s1", "s2"]), st.sampled_from(["", "t1"])),
                       max_size=12))
def test_behaviour_groups_are_exactly_the_students_with_equal_signatures(
        marks: dict[str, tuple[str, str]]) -> None:
    groups = similarity.shared_outputs(_result(s, m) for s, m in marks.items())
    expected: dict[tuple[str, ...], set[str]] = {}
    for student, m in marks.items():
        if any(m):
            signed = tuple(sorted((f"check {i}", x) for i, x in enumerate(m) if x))
            expected.setdefault(signed, set()).add(student)
    wanted = sorted(tuple(sorted(g)) for g in expected.values() if len(g) > 1)
    assert sorted(g.students for g in groups) == wanted
    assert all(g.common == (len(g.students) > similarity.RARE_GROUP) for g in groups)


def _class(root: Path) -> Path:
    """The class, with dan and eve, who hand in the stubs unchanged."""
    shutil.copytree(CLASS, root / "submissions")
    for student in ("dan", "eve"):
        (root / "submissions" / student).mkdir()
        for name in (EX12, EX05):
            shutil.copy(ROOT / "exercises" / name, root / "submissions" / student / name)
    return root / "submissions"


@pytest.fixture(scope="module")
def class_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("similarity")
    _class(root)
    # Hostile code in a copied pair: it must land in the report as text, never as markup.
    hostile = _files(EX12)["ana"] + '\n# </pre><script>alert("x")</script><img src=x onerror=alert(1)>\n'
    for student in ("mal", "mel"):
        (root / "submissions" / student).mkdir()
        (root / "submissions" / student / EX12).write_text(hostile)
    run = grade("class", str(root / "submissions"), "--out", str(root / "grades"), "--workers", "1",
                timeout=400)
    assert run.code == 0, run.err[-3000:]
    return root


def test_the_class_report_lists_the_leads_side_by_side(class_run: Path) -> None:
    report = (class_run / "grades" / "report.md").read_text()
    assert "leads for a person, not verdicts" in report
    assert "ana ↔ ben" in report and "fay ↔ gus" in report and "dan ↔ eve" not in report
    page = (class_run / "grades" / "report.html").read_text()
    assert page.count('<details open><summary>exercise-12: ana ↔ ben') == 1
    assert "<mark>" in page and "each returned" in page
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;/pre&gt;&lt;script&gt;" in page


def test_grade_similarity_prints_the_leads_and_writes_a_page(class_run: Path) -> None:
    run = grade("similarity", str(class_run / "submissions"), "--out", str(class_run / "grades"), "--json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    pairs = {tuple(m["students"]) for m in data["code"]}
    assert ("ana", "ben") in pairs and ("mal", "mel") in pairs
    assert not any({"dan", "eve"} <= set(p) for p in pairs)
    assert [b["students"] for b in data["behaviour"]] == [["fay", "gus"]]
    assert "never findings" in run.err and (class_run / "grades" / "similarity.html").is_file()


def test_grade_similarity_without_grades_compares_code_and_says_so(tmp_path: Path) -> None:
    run = grade("similarity", str(_class(tmp_path)), "--out", str(tmp_path / "none"))
    assert run.code == 0, run.err
    assert "ana ↔ ben" in run.out and "fay ↔ gus" not in run.out and "dan ↔ eve" not in run.out
    assert "behaviour compared on 0 of" in " ".join(run.out.split())


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("SEQGRADE_REQUIRE_BROWSER"):  # CI installs Debian's chromium: it must be there
            pytest.fail("SEQGRADE_REQUIRE_BROWSER is set and no chromium is on PATH")
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run does)")
    return found


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Debian's chromium, headless, with no network chatter (this machine's network is closed)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1200,4000"]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


def test_the_report_opens_in_a_real_browser(class_run: Path, tmp_path: Path) -> None:
    from matplotlib import image

    chromium, page = _chromium(), (class_run / "grades" / "report.html").as_uri()
    shot = tmp_path / "report.png"
    taken = _headless(chromium, tmp_path / "profile", f"--screenshot={shot}", page)
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    pixels = image.imread(shot)
    assert pixels.shape[1] == 1200 and pixels[..., :3].std() > 0.05  # a rendered page, not a blank one
    dom = _headless(chromium, tmp_path / "profile", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "exercise-12: ana ↔ ben" in dom.stdout and "exercise-05: fay ↔ gus" in dom.stdout
    assert dom.stdout.count("<mark>") >= 2 and "<script" not in dom.stdout  # the hostile pair stayed text


def test_an_out_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "grades"
    taken.write_text("not a folder")
    run = grade("similarity", str(CLASS), "--out", str(taken))
    assert run.code == 2 and "--out: cannot write" in run.err and "Traceback" not in run.err
    assert taken.read_text() == "not a folder"  # nothing lost


def test_a_passage_in_more_than_ten_files_is_the_usual_way_not_a_lead() -> None:
    """MOSS's -m: code most of the class shares is dropped, and a pair sharing more still stands out."""
    usual = (ROOT / "solutions" / EX12).read_text()
    files = {f"s{i:02d}": usual + f"\n# mine: {i}\n" for i in range(similarity.COMMON_FILES + 1)}
    assert similarity.code_matches("exercise-12", _stub(EX12), files) == []
    files |= {name: _files(EX12)["ana"] + f"\n# {name}\n" for name in ("x1", "x2")}
    found = similarity.code_matches("exercise-12", _stub(EX12), files)
    assert [m.students for m in found] == [("x1", "x2")]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=8))
def test_files_alike_to_the_byte_are_tokenized_once_and_match_as_distinct_copies_would(
        picks: list[int]) -> None:
    originals = list(_files(EX12).values())
    files = {f"s{i}": originals[p % len(originals)] for i, p in enumerate(picks)}
    made: list[str] = []
    real = similarity._fingerprint

    def counted(text: str, base: set[int] | None = None) -> object:
        made.append(text)
        return real(text, base)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(similarity, "_fingerprint", counted)
        found = similarity.code_matches("exercise-12", _stub(EX12), files)
    assert len(made) == 1 + len(set(files.values()))  # the stub, then each distinct text once
    # A trailing comment makes each copy a text of its own and changes nothing a match reads
    # (but a passage that ends the file, which then reaches over the comment).
    distinct = {s: f"{text}\n# {s}\n" for s, text in files.items()}
    assert _clipped(found, files) == _clipped(similarity.code_matches("exercise-12", _stub(EX12), distinct),
                                              files)


def _clipped(found: list[similarity.CodeMatch], files: dict[str, str]) -> list[object]:
    """Each match, its passages cut where the code of the file as handed in ends."""
    return [(m.students, m.shares, [[(a, min(b, len(files[s].rstrip()))) for a, b in passages]
                                    for s, passages in zip(m.students, m.regions, strict=True)])
            for m in found]
