def autoregressive_windows(x, n):
    T = x.shape[1]
    if not 1 <= n < T:
        raise ValueError("bad n")
    return x.unfold(1, n, 1)[:, : T - n], x[:, n - 1 : T - 1]
