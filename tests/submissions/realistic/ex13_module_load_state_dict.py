"""Exercise 13, the way a tutorial checks a layer by hand: build PyTorch's own layer and load the weights.

The values match, but load_state_dict copies the parameters into the module: no gradient
flows back to the tensors in ``params``.
"""

import torch
from torch import nn


def encoder_layer(x, params, num_heads, key_padding_mask=None):
    d_model = x.shape[-1]
    layer = nn.TransformerEncoderLayer(d_model, num_heads, dim_feedforward=params["linear1.weight"].shape[0],
                                       dropout=0.0, batch_first=True, device=x.device, dtype=x.dtype)
    layer.load_state_dict(params)
    layer.eval()
    padding = None if key_padding_mask is None else ~key_padding_mask
    return layer(x, src_key_padding_mask=padding)
