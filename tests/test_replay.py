"""Replay tokens: they round-trip any input exactly, and `grade --replay` reproduces the failure."""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks import replay
from grader.checks.strategies import noncontiguous, sizes, tensors
from grader.errors import UsageError
from tests.conftest import ROOT, grade


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    shape = draw(st.lists(sizes(1, 3), min_size=1, max_size=3))
    t = draw(tensors(shape, draw(st.sampled_from([torch.float32, torch.float64]))))
    return {
        "x": noncontiguous(t) if draw(st.booleans()) else t,
        "n": draw(st.integers(-5, 5)),
        "mask": draw(st.none() | st.just(torch.tensor([True, False]))),
        "weights": [t, t * 2],
        "params": {"a.weight": t},
    }


@given(cases(), st.text(min_size=1, max_size=40))
def test_tokens_round_trip_exactly(case: dict[str, object], name: str) -> None:
    check, back = replay.decode(replay.encode(name, case))
    assert check == name and back.keys() == case.keys()
    for key, value in case.items():
        got = back[key]
        if isinstance(value, torch.Tensor):
            assert isinstance(got, torch.Tensor) and got.dtype == value.dtype
            assert torch.equal(got, value) and got.is_contiguous() == value.is_contiguous()
        elif isinstance(value, list):
            assert all(torch.equal(a, b) for a, b in zip(got, value, strict=True))  # type: ignore[arg-type]
        elif isinstance(value, dict):
            assert torch.equal(got["a.weight"], value["a.weight"])  # type: ignore[index]
        else:
            assert got == value


@pytest.mark.parametrize(("token", "why"), [
    ("", "not a replay token"), ("r2.abc", "not a replay token"), ("x" * 70000, "not a replay token"),
    ("r1.", "cut short"), ("r1.!!!", "characters a token never has"), ("r1." + "A" * 100, "checksum"),
    ("r1." + base64.urlsafe_b64encode(zlib.compress(b"not a frame")).decode(), "not to a check"),
    ("r1." + base64.urlsafe_b64encode(zlib.compress(b"\0" * (32 << 20))).decode(), "more than any input"),
])
def test_damaged_tokens_are_one_line_that_says_what_is_wrong(token: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        replay.decode(token)
    assert "\n" not in str(info.value) and why in str(info.value)
    korean = info.value.said("ko")  # a Korean student reads it in Korean, just as whole
    assert "\n" not in korean and re.search("[가-힣]", korean) and why not in korean


@given(st.binary(max_size=200))
def test_any_token_body_is_a_check_and_input_or_one_usage_line(body: bytes) -> None:
    token = "r1." + base64.urlsafe_b64encode(zlib.compress(body)).decode().rstrip("=")
    with pytest.raises(UsageError):
        replay.decode(token)


def test_replay_reproduces_the_failure_through_the_cli() -> None:
    student = ROOT / "tests" / "submissions" / "ex05" / "concat-order" / "ex05_forget_gate.py"
    first = grade("exercise-05", "--file", str(student), env={"COLUMNS": "80"})
    assert first.code == 1
    tokens = re.findall(r"--replay (r1\.[A-Za-z0-9_-]+)", first.out)
    assert tokens, first.out
    # Each command runs as printed: it names the file graded, and sits right after its check's panel.
    commands = re.findall(r"(grade exercise-05 .*--replay r1\.[A-Za-z0-9_-]+)", first.out)
    assert commands and all(f"--file {student}" in c for c in commands)
    assert first.out.count("--replay") == first.out.count("╰")  # one command after each failure panel
    again = grade("exercise-05", "--file", str(student), "--replay", tokens[0], env={"COLUMNS": "80"})
    assert again.code == 1
    assert "concat-order" in again.out
    snippet = first.out[first.out.index("h_prev = "): first.out.index("forget_gate(h_prev")]
    assert snippet in again.out
    assert "Inputs tried" in again.out and " 1\n" in again.out


def test_replay_of_a_fixed_file_passes(tmp_path: Path) -> None:
    student = ROOT / "tests" / "submissions" / "ex05" / "concat-order" / "ex05_forget_gate.py"
    first = grade("exercise-05", "--file", str(student))
    token = re.findall(r"--replay (r1\.[A-Za-z0-9_-]+)", first.out)[0]
    again = grade("exercise-05", "--file", "solutions/ex05_forget_gate.py", "--replay", token)
    assert again.code == 0, again.out


def test_bad_token_on_the_cli_is_exit_2() -> None:
    done = grade("exercise-05", "--replay", "r1.garbage")
    assert done.code == 2 and done.err.count("\n") == 1 and "--replay" in done.err


def test_feedback_for_gradescope_prints_no_command_its_reader_cannot_run() -> None:
    student = ROOT / "tests" / "submissions" / "ex05" / "concat-order" / "ex05_forget_gate.py"
    run = grade("exercise-05", "--file", str(student), "--json")
    assert run.code == 1 and "--replay" not in run.out and "r1." not in run.out
