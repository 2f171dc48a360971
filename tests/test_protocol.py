"""The wire format: values round-trip; anything malformed is rejected, never trusted."""

from __future__ import annotations

import math
import os
import threading

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.checks.strategies import noncontiguous, sizes, tensors
from grader.sandbox import protocol

DTYPES = [torch.float32, torch.float64, torch.int64, torch.bool, torch.float16, torch.uint8]


@st.composite
def any_tensors(draw: st.DrawFn) -> torch.Tensor:
    shape = draw(st.lists(sizes(0, 3), max_size=3))
    t = draw(tensors(shape, torch.float64)).to(draw(st.sampled_from(DTYPES)))
    return noncontiguous(t) if draw(st.booleans()) else t


def _round_trip(value: object, strict: bool) -> object:
    buffers: list[bytes] = []
    tree = protocol.encode(value, buffers)
    frame = protocol.pack({"value": tree}, buffers)
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, frame), os.close(w)))
    writer.start()
    header, payload = protocol.read_frame(r, deadline=None)
    writer.join()
    os.close(r)
    return protocol.decode(header["value"], payload, strict=strict)


@given(any_tensors())
def test_tensors_round_trip_with_dtype_shape_values_and_layout(t: torch.Tensor) -> None:
    """What the grader sends is what the worker sees: values, dtype, shape and contiguity."""
    got = _round_trip(t, strict=False)
    assert isinstance(got, torch.Tensor)
    assert got.dtype == t.dtype and got.shape == t.shape
    assert torch.equal(got, t)
    assert got.is_contiguous() == (t.is_contiguous() or t.numel() <= 1)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=10))
def test_plain_values_round_trip(value: object) -> None:
    got = _round_trip(value, strict=True)
    assert repr(got) == repr(value) or (isinstance(value, float) and math.isnan(value))


def test_tensor_subclass_comes_back_as_foreign() -> None:
    """A Tensor subclass never reaches the comparison as a tensor (its methods could lie)."""

    class Liar(torch.Tensor):
        pass

    got = _round_trip(torch.zeros(2).as_subclass(Liar), strict=True)
    assert isinstance(got, protocol.Foreign) and got.tensor_subclass


def test_meta_tensor_is_unreadable() -> None:
    got = _round_trip(torch.empty(3, device="meta"), strict=True)
    assert isinstance(got, protocol.Unreadable)


@pytest.mark.parametrize(("made", "kind", "said"), [
    (lambda t: t.to_sparse(), "wrong-layout", "sparse_coo"),
    (lambda t: t.to_sparse_csr(), "wrong-layout", "sparse_csr"),
    (lambda t: torch.nested.nested_tensor([t[0], t[1, :1]]), "wrong-layout", "nested"),
    (lambda t: t.to(torch.float8_e4m3fn), "wrong-dtype", "torch.float8_e4m3fn"),
    (lambda t: t.to("meta"), "wrong-device", "meta"),
], ids=["sparse-coo", "sparse-csr", "nested", "float8", "meta"])
@pytest.mark.filterwarnings("ignore::UserWarning")  # sparse CSR and nested tensors are "beta"
def test_a_tensor_that_cannot_cross_is_said_as_what_it_is(made: object, kind: str, said: str) -> None:
    """Sparse, nested or of a dtype the protocol does not carry: one failed check that names it, never a
    frame the grader rejects (which ends the student's process and every later check with it)."""
    from grader.checks.contract import contract_failure

    expected = torch.ones(2, 2)
    got = _round_trip(made(expected), strict=True)  # type: ignore[operator]
    assert isinstance(got, protocol.Unreadable)
    failure = contract_failure(got, expected)
    assert failure is not None and failure.kind.value == kind and said in failure.detail.values(), failure


@given(st.dictionaries(st.sampled_from(["layout", "dtype", "device", "expected_device"]), st.text()),
       st.sampled_from(["layout", "dtype", "device"]))
def test_what_an_unreadable_header_says_is_short_and_printable(info: dict[str, str], field: str) -> None:
    shown = protocol.Unreadable(info).said(field)  # a hostile peer writes these fields
    assert len(shown) <= 80 and shown.isprintable()


def test_arbitrary_objects_become_foreign() -> None:
    class AlwaysEqual:
        def __eq__(self, other: object) -> bool:
            return True

    got = _round_trip(AlwaysEqual(), strict=True)
    assert isinstance(got, protocol.Foreign)


@pytest.mark.parametrize("info", [
    pytest.param({"dtype": "float32", "shape": [2], "buffer": 0, "type": "torch.Tensor", "device": "cpu"},
                 id="short-buffer"),
    pytest.param({"dtype": "object", "shape": [1], "buffer": 0}, id="bad-dtype"),
    pytest.param({"dtype": "float32", "shape": [-1], "buffer": 0}, id="negative-dim"),
    pytest.param({"dtype": "float32", "shape": [1], "buffer": 7, "type": "torch.Tensor", "device": "cpu"},
                 id="missing-buffer"),
    pytest.param({"dtype": "float32", "shape": "x", "buffer": 0}, id="shape-not-list"),
])
def test_malformed_tensor_headers_are_rejected(info: dict[str, object]) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$tensor": info}, [b"\x00" * 4], strict=True)


def test_unknown_tags_are_rejected() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$pickle": "gASV"}, [], strict=True)


def test_read_frame_times_out_and_sees_eof() -> None:
    r, w = os.pipe()
    with pytest.raises(protocol.Timeout):
        protocol.read_frame(r, deadline=0)
    os.close(w)
    with pytest.raises(EOFError):
        protocol.read_frame(r, deadline=None)
    os.close(r)


def test_oversized_header_is_rejected() -> None:
    r, w = os.pipe()
    os.write(w, (protocol.MAX_HEADER + 1).to_bytes(8, "little"))
    os.close(w)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_frame(r, deadline=None)
    os.close(r)
