import torch


def autoregressive_windows(x, n):
    B, T = x.shape
    if n < 1 or n >= T:
        raise ValueError("need 1 <= n < T")
    inputs = torch.stack([x[:, t:t + n] for t in range(T - n)], dim=1)
    targets = torch.stack([x[:, t + n] for t in range(T - n)], dim=1)
    return inputs, targets
