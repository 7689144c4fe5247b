"""A sample q6 submission (test data): BatchNorm that normalises with the batch's statistics at inference too.

Expected: the inference-mode checks fail and name the mistake; everything else passes
(tests/golden/bn_batch_stats_at_inference/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)  # MISTAKE: at inference the moving statistics should be used
    var = x.var(axis=axes)
    if training:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return y, moving_mean, moving_var
