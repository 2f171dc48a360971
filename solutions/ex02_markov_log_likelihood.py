"""Reference for exercise-02 (first-order Markov log-likelihood). Imports only torch."""

from __future__ import annotations

import torch
from torch import Tensor


def markov_log_likelihood(states: Tensor, initial: Tensor, transition: Tensor) -> Tensor:
    first = torch.log(initial)[states[:, 0]]
    steps = torch.log(transition)[states[:, :-1], states[:, 1:]]
    return first + steps.sum(dim=-1)
