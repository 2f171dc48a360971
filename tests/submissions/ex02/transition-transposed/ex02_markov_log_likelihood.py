import torch


def markov_log_likelihood(states, initial, transition):
    logp = torch.log(initial)[states[:, 0]]
    return logp + torch.log(transition)[states[:, 1:], states[:, :-1]].sum(-1)
