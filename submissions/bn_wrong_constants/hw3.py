"""A sample q6 submission (test data): a right forward pass, but wrong FC_BN_PARAMS and Q6A_ANSWER.

FC_BN_PARAMS counts the moving mean and variance as trainable. Expected: exactly the
fc_bn_params and q6a checks fail (tests/golden/bn_wrong_constants/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 80, "bn_non_trainable": 0}  # MISTAKE: 40 and 40
Q6A_ANSWER = 1  # MISTAKE: statement 1 is false


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
    y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return y, moving_mean, moving_var
