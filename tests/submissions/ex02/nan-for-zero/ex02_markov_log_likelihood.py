import torch


def markov_log_likelihood(states, initial, transition):
    # x * log(x) style "safety" that turns log(0) into NaN
    first = torch.log(initial[states[:, 0]])
    steps = transition[states[:, :-1], states[:, 1:]]
    return first + (torch.log(steps) * (steps > 0) / (steps > 0)).sum(-1)
