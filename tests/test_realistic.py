"""Real code, written the way real code is written, gets a named cause in English and in Korean.

Each file under ``tests/submissions/realistic/`` carries one mistake as it appears in
textbooks, tutorials and homework (a module built inside the function, numpy ported to
torch, a textbook's variable names and gate order). Graded by the real ``grade``
command, each must be named: by its known mistake, or by a cause any wrong output can
show (``checks.patterns``), in both languages.
"""

from __future__ import annotations

import json
import re

import pytest

from grader.feedback.messages import PATTERNS
from tests.conftest import ROOT, grade

REALISTIC = ROOT / "tests" / "submissions" / "realistic"
CAUSES = {
    "ex01_assert.py": ("exercise-01", "pattern", "assert"),
    "ex02_loop_transposed.py": ("exercise-02", "mistake", "transition-transposed"),
    "ex03_numpy_style_relu.py": ("exercise-03", "mistake", "relu-not-tanh"),
    "ex05_keras_hard_sigmoid.py": ("exercise-05", "mistake", "hard-sigmoid-keras"),
    "ex05_module_concat_order.py": ("exercise-05", "mistake", "concat-order"),
    "ex05_numpy_float32.py": ("exercise-05", "mistake", "float32-output"),
    "ex05_only_x.py": ("exercise-05", "pattern", "as-if"),
    "ex06_dl2_fgio.py": ("exercise-06", "mistake", "gate-order-fgio"),
    "ex07_d2l_reset_before.py": ("exercise-07", "mistake", "reset-before-matmul"),
    "ex07_keras_reset_before_swapped.py": ("exercise-07", "mistake", "reset-before-matmul+update-inverted"),
    "ex08_bmm_3d.py": ("exercise-08", "pattern", "fixed-rank"),
    "ex08_tensor_dk.py": ("exercise-08", "pattern", "precision"),
    "ex09_textbook_unstable.py": ("exercise-09", "mistake", "not-stable"),
    "ex10_mask_zero.py": ("exercise-10", "mistake", "mask-filled-with-zero"),
    "ex11_minus_1e9.py": ("exercise-11", "mistake", "minus-1e9"),
    "ex12_view_no_transpose.py": ("exercise-12", "mistake", "heads-split-without-transpose"),
    "ex13_annotated_layernorm.py": ("exercise-13", "mistake", "layernorm-unbiased-std"),
}


def test_every_realistic_file_has_its_expected_cause() -> None:
    assert sorted(CAUSES) == sorted(p.name for p in REALISTIC.glob("*.py"))


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", sorted(CAUSES))
def test_real_code_gets_a_named_cause(name: str, lang: str) -> None:
    exercise, how, cause = CAUSES[name]
    run = grade(exercise, "--file", str(REALISTIC / name), "--json", "--lang", lang, timeout=300)
    assert run.code == 1, run.err[-2000:]
    outputs = "\n".join(t["output"] for t in json.loads(run.out)["tests"])
    if how == "mistake":
        named = set(re.findall(r"\*\* \\?\[([\w+-]+)\\?\]", outputs))
        assert cause in named, (named, outputs[:3000])
    else:
        opening = PATTERNS[cause][lang].split("{")[0][:20]
        assert opening.lower() in outputs.lower(), outputs[:3000]
    if lang == "ko":
        assert re.search("[가-힣]", outputs)
