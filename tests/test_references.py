"""Each reference agrees with PyTorch's own modules wherever the spec says "must agree with"."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from grader.course import load_course
from grader.exercise import Exercise, load_spec
from tests.conftest import NUMBERS, ROOT

COURSE = load_course(ROOT / "course.yaml")


def spec(number: str) -> Exercise:
    entry = COURSE.resolve(number)
    return load_spec(COURSE.spec_file(entry), entry.id)


def inputs(number: str, function: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    exercise = spec(number)
    fn = exercise.function(function) if function else exercise.functions[0]
    return fn.inputs(torch.float64)


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@given(inputs("03", "rnn_forward"), st.data())
def test_rnn_forward_agrees_with_nn_rnn(case: dict[str, Any], data: st.DataObject) -> None:
    H, I = case["W_xh"].shape
    rnn = torch.nn.RNN(I, H, batch_first=True, dtype=torch.float64)
    split = torch.tensor(data.draw(st.lists(st.floats(-1, 1), min_size=H, max_size=H)), dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(case["W_xh"])
        rnn.weight_hh_l0.copy_(case["W_hh"])
        rnn.bias_ih_l0.copy_(case["b_h"] - split)  # the two biases sum to b_h
        rnn.bias_hh_l0.copy_(split)
        hs, h_T = rnn(case["xs"], case["h0"].unsqueeze(0))
    ys, h = spec("03").function("rnn_forward").reference(**case)
    close(ys, hs @ case["W_hy"].T + case["b_y"])
    close(h, h_T[0])


@given(inputs("06"))
def test_lstm_cell_agrees_with_nn_lstmcell(case: dict[str, Any]) -> None:
    H, I = case["W_hh"].shape[1], case["W_ih"].shape[1]
    cell = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            getattr(cell, name.replace("W_", "weight_").replace("b_", "bias_")).copy_(case[name])
        h, c = cell(case["x_t"], (case["h_prev"], case["c_prev"]))
    got_h, got_c = spec("06").functions[0].reference(**case)
    close(got_h, h)
    close(got_c, c)


@given(inputs("07"))
def test_gru_cell_agrees_with_nn_grucell(case: dict[str, Any]) -> None:
    H, I = case["W_hh"].shape[1], case["W_ih"].shape[1]
    cell = torch.nn.GRUCell(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            getattr(cell, name.replace("W_", "weight_").replace("b_", "bias_")).copy_(case[name])
        h = cell(case["x_t"], case["h_prev"])
    close(spec("07").functions[0].reference(**case), h)


@given(inputs("09"))
def test_softmax_agrees_with_torch_softmax(case: dict[str, Any]) -> None:
    close(spec("09").functions[0].reference(**case), torch.softmax(case["x"], dim=case["dim"]))


@given(spec("09").functions[0].edge_cases["huge inputs"](torch.float32))
def test_softmax_agrees_with_torch_softmax_on_huge_inputs(case: dict[str, Any]) -> None:
    torch.testing.assert_close(spec("09").functions[0].reference(**case),
                               torch.softmax(case["x"], dim=case["dim"]))


@given(inputs("10"))
def test_attention_agrees_with_scaled_dot_product_attention(case: dict[str, Any]) -> None:
    out, weights = spec("10").functions[0].reference(**case)
    mask = case.get("mask")
    close(out, F.scaled_dot_product_attention(case["q"], case["k"], case["v"], attn_mask=mask))
    scores = case["q"] @ case["k"].transpose(-2, -1) / case["q"].shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    close(weights, torch.softmax(scores, dim=-1))


@given(spec("11").function("masked_attention").edge_cases["rows with no allowed key"](torch.float64))
def test_masked_attention_agrees_with_sdpa_and_zeroes_empty_rows(case: dict[str, Any]) -> None:
    fn = spec("11").function("masked_attention").reference
    out, weights = fn(**case)
    q, k, v = case["q"], case["k"], case["v"]
    allowed = torch.ones(q.shape[0], q.shape[1], k.shape[1], dtype=torch.bool)
    if case["causal"]:
        allowed &= torch.ones(q.shape[1], k.shape[1], dtype=torch.bool).tril()
    if "key_lengths" in case:
        allowed &= (torch.arange(k.shape[1]) < case["key_lengths"][:, None])[:, None, :]
    rows = allowed.any(-1)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    close(out[rows], expected[rows])
    assert not out.isnan().any()
    assert bool((out[~rows] == 0).all()) and bool((weights[~rows] == 0).all())


def test_causal_and_padding_masks_match_their_definitions() -> None:
    masks = spec("11")
    close(masks.function("causal_mask").reference(4).long(), torch.ones(4, 4).tril().long())
    got = masks.function("padding_mask").reference(torch.tensor([0, 2, 3]), 3)
    assert got.tolist() == [[False] * 3, [True, True, False], [True] * 3]


@given(inputs("12"))
def test_multi_head_attention_agrees_with_nn_multiheadattention(case: dict[str, Any]) -> None:
    D, h = case["W_q"].shape[0], case["num_heads"]
    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([case["W_q"], case["W_k"], case["W_v"]]))
        mha.in_proj_bias.copy_(torch.cat([case["b_q"], case["b_k"], case["b_v"]]))
        mha.out_proj.weight.copy_(case["W_o"])
        mha.out_proj.bias.copy_(case["b_o"])
    mask = case.get("mask")
    if mask is not None and mask.dim() == 3:
        mask = mask.repeat_interleave(h, dim=0)  # nn.MultiheadAttention wants (B * h, Lq, Lk)
    out, weights = mha(case["query"], case["key"], case["value"],
                       attn_mask=None if mask is None else ~mask, average_attn_weights=False)
    got_out, got_weights = spec("12").functions[0].reference(**case)
    close(got_out, out)
    close(got_weights, weights)


@given(inputs("13"))
def test_encoder_layer_agrees_with_nn_transformerencoderlayer(case: dict[str, Any]) -> None:
    params, h = case["params"], case["num_heads"]
    D, F_ = params["linear1.weight"].shape[1], params["linear1.weight"].shape[0]
    layer = torch.nn.TransformerEncoderLayer(D, h, F_, dropout=0.0, batch_first=True, dtype=torch.float64)
    layer.load_state_dict(params)
    layer.eval()
    mask = case.get("key_padding_mask")
    expected = layer(case["x"], src_key_padding_mask=None if mask is None else ~mask)
    close(spec("13").functions[0].reference(**case), expected)


@given(inputs("02"))
def test_markov_likelihood_agrees_with_categorical_log_probs(case: dict[str, Any]) -> None:
    s, p0, A = case["states"], case["initial"], case["transition"]
    expected = torch.distributions.Categorical(probs=p0).log_prob(s[:, 0])
    for t in range(1, s.shape[1]):
        expected = expected + torch.distributions.Categorical(probs=A[s[:, t - 1]]).log_prob(s[:, t])
    close(spec("02").functions[0].reference(**case), expected)


@given(inputs("04", "linear_collapse"), st.data())
def test_linear_collapse_equals_applying_the_layers(case: dict[str, Any], data: st.DataObject) -> None:
    weights = case["weights"]
    x = torch.randn(3, weights[0].shape[1], dtype=torch.float64,
                    generator=torch.Generator().manual_seed(data.draw(st.integers(0, 99))))
    y = x
    for W in weights:
        y = y @ W.T
    close(x @ spec("04").function("linear_collapse").reference(weights).T, y)


@given(inputs("04", "hidden_jacobian"), st.data())
def test_hidden_jacobian_is_the_autograd_jacobian(case: dict[str, Any], data: st.DataObject) -> None:
    """Build a real tanh RNN whose states are hs; autograd's ∂h_T/∂h_0 must match."""
    W, T, H = case["W_hh"], case["hs"].shape[0], case["W_hh"].shape[0]
    gen = torch.Generator().manual_seed(data.draw(st.integers(0, 99)))
    xs = torch.randn(T, H, dtype=torch.float64, generator=gen) * 0.3
    h0 = torch.randn(H, dtype=torch.float64, generator=gen) * 0.3

    def run(h: torch.Tensor) -> torch.Tensor:
        for t in range(T):
            h = torch.tanh(h @ W.T + xs[t])
        return h

    hs, h = [], h0
    for t in range(T):
        h = torch.tanh(h @ W.T + xs[t])
        hs.append(h)
    expected = torch.autograd.functional.jacobian(run, h0)
    close(spec("04").function("hidden_jacobian").reference(W, torch.stack(hs)), expected)


@pytest.mark.parametrize("number", NUMBERS)
def test_reference_files_import_only_torch(number: str) -> None:
    """A reference is gradable like a student file: it must not import the grader."""
    entry = COURSE.resolve(number)
    source = (COURSE.solutions_dir / entry.file).read_text()
    assert "grader" not in source and "hypothesis" not in source
