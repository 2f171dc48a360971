"""Exercise 05 with a quick interactive try left at the end of the file: input() runs when the
grader imports the file, finds no terminal, and the import fails."""

import torch


def forget_gate(h_prev, x_t, W_f, b_f):
    return torch.sigmoid(torch.cat([h_prev, x_t], dim=1) @ W_f.T + b_f)


size = int(input("hidden size? "))
print(forget_gate(torch.zeros(1, size), torch.zeros(1, 1), torch.zeros(size, size + 1), torch.zeros(size)))
