"""Q6: batch normalisation by hand.

Trick: flatten everything except the channel axis, so (N, D) and (N, H, W, C) are the same case.
"""
import numpy as np

FC_BN_PARAMS = dict(fc=10 * 20 + 20, bn_trainable=2 * 20, bn_non_trainable=2 * 20)
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    shape = np.shape(x)
    flat = np.reshape(x, (-1, shape[-1])).astype(np.float64)
    n = flat.shape[0]
    if training:
        mean = flat.sum(axis=0) / n
        centered = flat - mean
        var = (centered * centered).sum(axis=0) / n
        running_mean = moving_mean * momentum + mean * (1.0 - momentum)
        running_var = moving_var * momentum + var * (1.0 - momentum)
    else:
        mean = moving_mean
        var = moving_var
        running_mean = moving_mean
        running_var = moving_var
    normalized = (flat - mean) / np.sqrt(var + epsilon)
    y = normalized * gamma + beta
    return y.reshape(shape), running_mean, running_var
