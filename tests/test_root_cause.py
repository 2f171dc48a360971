"""One cause, one message: a root cause is explained once, and no failure hides another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.feedback.messages import LABELS, text
from tests.conftest import ROOT, grade


def _graded(tmp_path: Path, exercise: str, source: str, *args: str) -> dict[str, object]:
    student = tmp_path / "student.py"
    student.write_text(source)
    run = grade(exercise, "--file", str(student), "--json", *args, timeout=300)
    assert run.code in (0, 1), run.err[-2000:]
    document: dict[str, object] = json.loads(run.out)
    return document


STUBS = {
    "stub": "def forget_gate(h_prev, x_t, W_f, b_f):\n    raise NotImplementedError\n",
    "missing": "def forget_gat(h_prev, x_t, W_f, b_f):\n    return h_prev\n",
    "crash": "def forget_gate(h_prev, x_t, W_f, b_f):\n    return h_prev @ W_f.T.T.T.T.T.T.T[0:0]\n",
    "wrong-dtype": "import torch\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
                   "    return torch.sigmoid(torch.cat([h_prev, x_t], -1) @ W_f.T + b_f).half()\n",
}


@pytest.mark.parametrize("case", sorted(STUBS))
def test_a_root_cause_is_explained_once(tmp_path: Path, case: str) -> None:
    document = _graded(tmp_path, "exercise-05", STUBS[case])
    tests = document["tests"]
    assert isinstance(tests, list)
    explained = [t for t in tests if t["status"] == "failed"
                 and not t["output"].startswith("failed for the same cause")]
    collapsed = [t for t in tests if t["output"].startswith("failed for the same cause as forget_gate")]
    assert len(explained) == 1, [t["output"][:80] for t in explained]
    assert len(collapsed) == len(tests) - 1 - sum(t["status"] == "passed" for t in tests)


def test_in_korean_the_collapse_is_korean(tmp_path: Path) -> None:
    document = _graded(tmp_path, "exercise-05", STUBS["stub"], "--lang", "ko")
    outputs = [t["output"] for t in document["tests"]]  # type: ignore[union-attr]
    assert sum(o.endswith("같은 원인으로 실패") for o in outputs) == len(outputs) - 1


def test_a_forbidden_built_in_fails_its_own_check_and_the_values_are_still_judged(tmp_path: Path) -> None:
    """torch.softmax gives the right values: they are shown as right, earn nothing, and only the
    forbidden-call check fails; a wrong value next to it is still found in the same run."""
    right = _graded(tmp_path, "exercise-09",
                    "import torch\ndef softmax(x, dim=-1):\n    return torch.softmax(x, dim)\n")
    tests = right["tests"]
    assert isinstance(tests, list)
    failed = [t["name"] for t in tests if t["status"] == "failed"]
    assert failed and all("forbidden" in name for name in failed), failed
    assert right["score"] == 0
    withheld = {t["output"] for t in tests if t["status"] == "passed"}
    assert withheld == {text(LABELS, "forbidden-call", "en")}, withheld  # not "counts once the values match"
    wrong = _graded(tmp_path, "exercise-09",
                    "import torch\ndef softmax(x, dim=-1):\n    return torch.softmax(-x, dim)\n")
    failing = [t["name"] for t in wrong["tests"] if t["status"] == "failed"]  # type: ignore[union-attr]
    kinds = {name.split(": ", 2)[2].split(" (")[0] for name in failing}  # exercise-09: softmax: <title>
    assert "uses no forbidden built-in" in kinds and "matches the reference" in kinds


def test_the_reference_is_untouched_by_the_collapse() -> None:
    reference = ROOT / "solutions" / "ex05_forget_gate.py"
    run = grade("exercise-05", "--file", str(reference), "--json", timeout=300)
    document = json.loads(run.out)
    assert run.code == 0 and all(t["status"] == "passed" and t["output"] == "" for t in document["tests"])


@pytest.mark.parametrize(("source", "line", "named"), [
    ("import torch\ndef f(x):\n    return x\nprint(f(undefined))\n", "4", True),
    ("import torch\nW = torch.randn(3)\nfor i in range(3):\n    W = W @ torch.eye(4)\n", "4", True),
    ("import torch\nimport no_such_module\n", "2", False),
    ("import torch\ndef f(x):\n    return x\n", "3", False),
])
def test_an_import_error_in_top_level_code_is_named_with_its_line(source: str, line: str,
                                                                  named: bool) -> None:
    """Code at the top level runs on import: an error there says so, with its line; an error
    in an import, or reported inside a function, does not."""
    from grader.grading import at_top_level
    from grader.results import Failure, Kind

    problem = Failure(Kind.IMPORT_ERROR, {"file": "ex.py", "line": line, "type": "NameError", "message": ""})
    found = at_top_level(problem, source.encode()).pattern
    assert found == ({"pattern": "top-level-code", "line": line} if named else None)
    gone = at_top_level(Failure(Kind.TIMEOUT, {"detail": ""}), source.encode()).pattern
    assert gone == {"pattern": "top-level-slow"}
