"""Attacks on every path that produces a grade (issue: a grade no submission can forge, inflate or erase).

Unit level: hostile reply frames against the trusted decoder; the scoring rules
against submissions that compute nothing; student text against every file an
instructor opens; hostile course files. The end-to-end attacks through the real
``grade`` command are in ``test_hostile.py`` and ``test_class.py``.
"""

from __future__ import annotations

import csv
import io
import json
import resource
import struct
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.course import load_course
from grader.errors import CourseConfigError
from grader.feedback import escape
from grader.sandbox import protocol
from grader.sandbox.messages import parse_hello, parse_reply
from tests.conftest import ROOT, copy_course, grade


def _frame(header: dict[str, object], buffers: list[bytes]) -> tuple[dict[str, object], list[bytes]]:
    return protocol.unpack(protocol.pack(header, buffers))


def test_a_buffer_named_many_times_is_refused_not_copied() -> None:
    """A reply naming one 64 MiB buffer 400 times once cost the grader a copy per name."""
    tensor = {"$tensor": {"type": "torch.Tensor", "dtype": "uint8", "shape": [64 << 20], "device": "cpu",
                          "buffer": 0}}
    header, payload = _frame({"op": "reply", "id": 1, "ok": True, "result": {"$list": [tensor] * 400}},
                             [bytes(64 << 20)])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(protocol.ProtocolError, match="already used"):
        parse_reply(header, payload, 1)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 512, f"decoding grew the grader by {grown_mib:.0f} MiB"


@given(st.integers(min_value=protocol.MAX_DEPTH + 1, max_value=200_000))
def test_a_deeply_nested_reply_or_greeting_is_a_protocol_error(depth: int) -> None:
    body = '{"$list":[' * depth + "1" + "]}" * depth
    raw = ('{"op":"reply","id":1,"ok":true,"buffers":[],"result":' + body + "}").encode()
    with pytest.raises(protocol.ProtocolError):
        header, payload = protocol.unpack(struct.pack("<Q", len(raw)) + raw)
        parse_reply(header, payload, 1)
    names = "[" * depth + "]" * depth
    greeting = ('{"op":"hello","ok":true,"buffers":[],"callables":' + names + "}").encode()
    try:
        header, _ = protocol.unpack(struct.pack("<Q", len(greeting)) + greeting)
    except protocol.ProtocolError:
        return
    assert parse_hello(header, "cpu").callables == ()  # a nested list of names names nothing


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.floats(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                               max_size=3), max_leaves=20))
def test_any_reply_header_parses_or_is_a_protocol_error(value: object) -> None:
    """Whatever JSON a student's process sends, the trusted side gets a Reply or a ProtocolError."""
    for key in ("result", "grads", "inputs_after", "error", "versions_changed", "forbidden_calls", "ok"):
        header = {"op": "reply", "id": 1, "ok": True, key: value}
        try:
            parse_reply(header, [], 1)
        except protocol.ProtocolError:
            pass
        try:
            parse_hello({"op": "hello", "ok": True, "callables": value, "error": value}, "cpu")
        except protocol.ProtocolError:
            pass


@given(st.text())
def test_student_text_is_inert_in_every_destination(text: str) -> None:
    shown = escape.terminal(text)
    assert not any(0x80 <= ord(c) < 0xA0 or c in "\x1b\u202e\u2066\u200f" for c in shown)
    md = escape.markdown(text)
    assert "\n" not in md and not any(f"{c}" in md.replace(f"\\{c}", "") for c in "[]<>`*|#!")
    cell = next(csv.reader(io.StringIO(_csv_line(escape.csv_cell(text)))), [""])[0]
    assert not cell.startswith(("=", "+", "-", "@"))
    assert "<" not in escape.html_text(text) and ">" not in escape.html_text(text)


def _csv_line(cell: str) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([cell])
    return out.getvalue()


def test_names_that_only_look_alike_are_grouped() -> None:
    groups = escape.look_alike(["paul", "раul", "ｐaul", "Paul", "ana", "anna"])
    assert [set(g) for g in groups] == [{"Paul", "paul", "ｐaul", "раul"}]


@pytest.mark.parametrize("body", [
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    'c: [*b,*b,*b,*b,*b,*b,*b]\n',
    "x: " + "[" * 3000 + "]" * 3000 + "\n",
    "x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
])
def test_hostile_course_files_are_one_line(tmp_path, body: str) -> None:  # type: ignore[no-untyped-def]
    copy_course(tmp_path)
    (tmp_path / "course.yaml").write_text(body)
    with pytest.raises(CourseConfigError):
        load_course(tmp_path / "course.yaml")
    run = grade("exercise-05", cwd=tmp_path, timeout=60)
    assert run.code == 2 and run.err.count("\n") == 1 and "Traceback" not in run.err


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("release")
    copy_course(root / "course")
    made = grade("release", str(root / "release"), cwd=root / "course", timeout=600)
    assert made.code == 0, made.err[-2000:]
    return root / "release"


@pytest.mark.parametrize("damage", ["nested", "huge"])
def test_a_hostile_bank_is_one_line(release: Path, damage: str) -> None:
    bank = next(release.glob("bank/ex05_*.bank"))
    original = bank.read_bytes()
    try:
        if damage == "nested":
            deep = '{"$list":[' * 50_000 + "1" + "]}" * 50_000
            raw = ('{"format":"x","buffers":[],"memo":' + deep + "}").encode()
            bank.write_bytes(struct.pack("<Q", len(raw)) + raw)
        else:  # sparse: costs no disk, and must not be read
            with bank.open("r+b") as file:
                file.truncate(1 << 34)
        run = grade("exercise-05", cwd=release, timeout=120)
        assert run.code == 2 and run.err.count("\n") == 1 and "Traceback" not in run.err, run.err[-2000:]
    finally:
        bank.write_bytes(original)


CONSTANT = {
    "exercise-05": "import torch\ndef forget_gate(h_prev, x_t, W_f, b_f):\n"
                   "    {guard}\n    return torch.full_like(h_prev, 0.5)\n",
    "exercise-09": "import torch\ndef softmax(x, dim=-1):\n"
                   "    {guard}\n    return torch.full_like(x, 1.0 / x.shape[dim]) if x.dim() else x\n",
}


@pytest.mark.parametrize("exercise", sorted(CONSTANT))
@pytest.mark.parametrize("guard", ["pass", "raise ValueError('no')"])
def test_a_function_that_computes_nothing_earns_nothing(tmp_path, exercise: str, guard: str) -> None:  # type: ignore[no-untyped-def]
    """A constant of the right shape (or a function that always raises ValueError) scores 0."""
    student = tmp_path / "student.py"
    student.write_text(CONSTANT[exercise].format(guard=guard))
    run = grade(exercise, "--file", str(student), "--json", cwd=ROOT, timeout=300)
    assert run.code == 1, run.err[-2000:]
    document = json.loads(run.out)
    assert document["score"] == 0, [(t["name"], t["score"]) for t in document["tests"] if t["score"]]
    assert document["extra_data"]["sandbox"]


def test_the_reference_still_earns_every_point() -> None:
    run = grade("exercise-09", "--file", str(ROOT / "solutions" / "ex09_softmax.py"), "--json", timeout=300)
    document = json.loads(run.out)
    assert run.code == 0 and document["score"] == document["max_score"] > 0


def test_a_recorded_grade_is_refused_below_the_fenced_tiers() -> None:
    run = grade("exercise-05", "--json", env={"GRADER_SANDBOX": "rlimits"}, timeout=120)
    assert run.code == 2 and "--allow-unsandboxed" in run.err and run.out == ""


def test_every_check_that_pays_compared_values_or_its_function_did(course) -> None:  # type: ignore[no-untyped-def]
    """The guard rule itself: with no passing value check, guard checks are withheld, never the reverse."""
    from grader.checks.catalog import standard_checks
    from grader.checks.engine import GUARD_KINDS, credit
    from grader.exercise import load_spec
    from grader.results import CheckResult, Status

    entry = course.resolve("05")
    checks = standard_checks(load_spec(course.spec_file(entry), entry.id))
    for values_pass in (True, False):
        results = [CheckResult(c.name, c.kind, c.function, c.variant,
                               Status.PASSED if c.kind in GUARD_KINDS or values_pass else Status.FAILED,
                               1.0 if c.kind in GUARD_KINDS or values_pass else 0.0, 1.0) for c in checks]
        credited = credit(results, checks)
        guards = [r for r in credited if r.kind in GUARD_KINDS]
        assert guards and all((r.score > 0) == values_pass for r in guards)
        assert all(r.credited == values_pass for r in guards)
        assert all(r.withheld_for == ("" if values_pass else "values-first") for r in guards)


def test_torch_frombuffer_is_what_rebuilds_tensors() -> None:
    """A reply's tensor is a plain torch.Tensor rebuilt from bytes (no object of the student's)."""
    header, payload = _frame({"op": "reply", "id": 3, "ok": True,
                              "result": protocol.encode(torch.arange(4.0), buffers := [])}, buffers)
    reply = parse_reply(header, payload, 3)
    assert type(reply.result) is torch.Tensor and torch.equal(reply.result, torch.arange(4.0))
