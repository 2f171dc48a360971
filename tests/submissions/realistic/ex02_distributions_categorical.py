"""Exercise 02 with torch.distributions, as a probabilistic-programming tutorial writes it.

Categorical clamps probabilities away from 0 before taking their log, so a zero
probability gives a large negative number instead of -inf.
"""

import torch
from torch.distributions import Categorical


def markov_log_likelihood(states, initial, transition):
    ll = Categorical(probs=initial).log_prob(states[:, 0])
    for t in range(1, states.shape[1]):
        ll = ll + Categorical(probs=transition[states[:, t - 1]]).log_prob(states[:, t])
    return ll
