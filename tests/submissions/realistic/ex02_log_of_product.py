"""Probabilities multiplied along the chain, the log taken at the end (as a probability book writes it)."""
import torch


def markov_log_likelihood(states, initial, transition):
    B, T = states.shape
    out = []
    for b in range(B):
        p = initial[states[b, 0]]
        for t in range(1, T):
            p = p * transition[states[b, t - 1], states[b, t]]
        out.append(p)
    return torch.stack(out)
