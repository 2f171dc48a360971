"""Softmax as the textbook formula, without subtracting the maximum first."""
import torch


def softmax(x, dim=-1):
    exp_x = torch.exp(x)
    return exp_x / torch.sum(exp_x, dim=dim, keepdim=True)
