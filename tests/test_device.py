"""--device: the same checks on the device the inputs live on; nothing depends on a GPU.

The CUDA path itself runs only where torch sees a GPU; everywhere the wire
format and the contract are tested with the ``meta`` device standing in for
another device (it has no data, so only placement can be checked with it).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.contract import contract_failure
from grader.checks.strategies import noncontiguous, sizes, tensors
from grader.results import Kind
from grader.sandbox import protocol
from tests.conftest import grade


@given(st.lists(sizes(1, 3), min_size=1, max_size=3), st.booleans(), st.booleans())
def test_worker_side_places_inputs_on_the_device_keeping_layout_and_grad(
        shape: list[int], strided: bool, grad: bool) -> None:
    t = torch.zeros(shape, dtype=torch.float64)
    t = noncontiguous(t) if strided else t
    t.requires_grad_(grad)
    buffers: list[bytes] = []
    tree = protocol.encode(t, buffers)
    placed = protocol.decode(tree, buffers, device="meta")
    assert placed.device.type == "meta"
    assert placed.shape == t.shape and placed.dtype == t.dtype
    assert placed.requires_grad == grad and placed.is_leaf
    assert placed.is_contiguous() == (t.is_contiguous() or t.numel() <= 1)


@given(tensors([2, 3], torch.float32), st.sampled_from(["cuda:0", "meta"]))
def test_trusted_side_marks_an_output_elsewhere_as_wrong_device(t: torch.Tensor, expected: str) -> None:
    buffers: list[bytes] = []
    tree = protocol.encode(t, buffers)  # a CPU output, where the inputs were on ``expected``
    obtained = protocol.decode(tree, buffers, strict=True, device=expected)
    assert isinstance(obtained, protocol.Unreadable)
    failure = contract_failure(obtained, t)
    assert failure is not None and failure.kind is Kind.WRONG_DEVICE
    assert failure.detail["expected"] == expected and failure.detail["obtained"] == "cpu"


@given(tensors([2, 3], torch.float32))
def test_trusted_side_reads_an_output_on_the_expected_device(t: torch.Tensor) -> None:
    buffers: list[bytes] = []
    tree = protocol.encode(t, buffers)
    tree["$tensor"]["device"] = "cuda:0"  # as a CUDA worker's encoder labels a copied-out tensor
    obtained = protocol.decode(tree, buffers, strict=True, device="cuda:0")
    assert isinstance(obtained, torch.Tensor) and obtained.device.type == "cpu"
    assert torch.equal(obtained, t)


@pytest.mark.parametrize("choice", ["auto", "cpu"])
def test_auto_and_cpu_grade_the_reference_on_any_machine(choice: str) -> None:
    run = grade("exercise-09", "--file", "solutions/ex09_softmax.py", "--device", choice)
    assert run.code == 0, run.out + run.err


def test_cuda_grades_on_a_gpu_and_is_one_usage_line_without_one() -> None:
    run = grade("exercise-05", "--file", "solutions/ex05_forget_gate.py", "--device", "cuda")
    if torch.cuda.is_available():
        assert run.code == 0 and "[cuda:0]" in run.out, run.out + run.err
    else:
        assert run.code == 2 and run.out == ""
        assert run.err.count("\n") == 1 and "--device cuda" in run.err and "Traceback" not in run.err


def test_an_answer_moved_off_its_inputs_device_is_a_device_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # On a GPU: CUDA inputs, a CPU answer. Without one, the CPU twin: CPU inputs, a meta answer.
    device, elsewhere = ("cuda", "cpu") if torch.cuda.is_available() else ("cpu", "meta")
    path = tmp_path / "ex09_softmax.py"
    path.write_text("def softmax(x, dim=-1):\n"
                    f"    return (x.exp() / x.exp().sum(dim, keepdim=True)).to({elsewhere!r})\n")
    run = grade("exercise-09", "--file", str(path), "--device", device, "--lang", "en")
    assert run.code == 1 and "device" in run.out.lower(), run.out + run.err
