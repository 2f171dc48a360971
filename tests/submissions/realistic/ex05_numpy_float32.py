"""A numpy forget gate ported to torch through float32 arrays (the numpy default in many notebooks)."""
import numpy as np
import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    h, x = h_prev.detach().numpy().astype(np.float32), x_t.detach().numpy().astype(np.float32)
    W, b = W_f.detach().numpy().astype(np.float32), b_f.detach().numpy().astype(np.float32)
    z = np.concatenate([h, x], axis=-1) @ W.T + b
    return torch.from_numpy(1.0 / (1.0 + np.exp(-z)))
