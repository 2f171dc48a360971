"""A Markov chain log-likelihood written as a loop over steps, reading the transition matrix as P[to, from]."""
import torch


def markov_log_likelihood(states, initial, transition):
    batch, T = states.shape
    ll = torch.log(initial[states[:, 0]])
    for t in range(1, T):
        prev, cur = states[:, t - 1], states[:, t]
        ll = ll + torch.log(transition[cur, prev])
    return ll
