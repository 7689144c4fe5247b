"""A sample q6 submission (test data): BatchNorm with the unbiased variance (divided by N - 1).

Expected: every training-mode check fails and names the unbiased variance; inference,
FC_BN_PARAMS and Q6A_ANSWER pass (tests/golden/bn_unbiased_variance/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=1)  # MISTAKE: Keras uses the biased variance (ddof=0)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
    y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return y, moving_mean, moving_var
