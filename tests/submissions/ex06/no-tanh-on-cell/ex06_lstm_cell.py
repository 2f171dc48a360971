

def lstm_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh).chunk(4, -1)
    c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    return o.sigmoid() * c, c
