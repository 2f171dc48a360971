"""exercise-04 gradient-flow: why plain RNNs are hard to train (기울기 소실과 폭발).

Fill in ``linear_collapse`` and ``hidden_jacobian`` below, then run ``grade exercise-04``.
"""

from __future__ import annotations

from torch import Tensor


def linear_collapse(weights: list[Tensor]) -> Tensor:
    """The one matrix W with x Wᵀ equal to the whole stack of linear layers.

    선형 함수만 쌓은 네트워크는 히든 레이어가 없는 하나의 선형 층과 같습니다 (y = c·c·c·x = a·x).
    Layer k maps x ↦ x weights[k]ᵀ, and the layers are applied in list order.

    Shapes / 크기:
        weights[k] (d_{k+1}, d_k), a non-empty list  ->  W (d_last, d_0)

    Trap / 주의:
        Layer 0 acts first, so it is the rightmost factor. / 0번 층이 먼저 적용되므로 가장 오른쪽 인수입니다.
    """
    raise NotImplementedError("exercise-04: implement linear_collapse")


def hidden_jacobian(W_hh: Tensor, hs: Tensor) -> Tensor:
    """∂h_T/∂h_0 of a tanh RNN: D_T W_hh D_{T-1} W_hh … D_1 W_hh with D_t = diag(1 − h_t²).

    h0가 h_T까지 가려면 같은 W와 비선형 함수를 여러 번 거칩니다. 이 곱이 작아지면
    vanishing gradient, 커지면 exploding gradient가 생깁니다.

    Shapes / 크기:
        W_hh (H, H), hs (T, H) holding h_1 … h_T (hs[t-1] is h_t)  ->  J (H, H)

    Trap / 주의:
        h_t is already tanh(...), so tanh' = 1 − h_t² (not 1 − tanh(h_t)²); the latest step is leftmost.
        h_t는 이미 tanh 값이므로 도함수는 1 − h_t²이고, 가장 최근 시점이 가장 왼쪽입니다.
    """
    raise NotImplementedError("exercise-04: implement hidden_jacobian")
