"""A sample q6 submission (test data): BatchNorm with epsilon added outside the square root.

Expected: the checks whose output y depends on epsilon fail and name the mistake; the moving
statistics, a batch of one, the float32 large-value check, FC_BN_PARAMS and Q6A_ANSWER pass
(tests/golden/bn_eps_outside_sqrt/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = moving_mean, moving_var
    y = gamma * (x - mean) / (np.sqrt(var) + epsilon) + beta  # MISTAKE: sqrt(var + epsilon)
    return y, new_mean, new_var
