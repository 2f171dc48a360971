def autoregressive_windows(x, n):
    T = x.shape[1]
    return x.unfold(1, max(n, 1), 1)[:, : max(T - n, 0)], x[:, n:]
