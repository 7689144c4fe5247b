"""A sample q6 submission (test data): a right BatchNorm whose statistics are kept with keepdims=True.

The moving mean and variance come back as (1, C) for an (N, C) batch and (1, 1, 1, C) for an
(N, H, W, C) one, the three outputs as a list, y in float32. These are the same answer: expected
full marks, the representations noted in the report (tests/golden/bn_keepdims_statistics/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": np.int64(220), "bn_trainable": 40.0, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    shape = (1,) * (x.ndim - 1) + (-1,)
    moving_mean, moving_var = np.reshape(moving_mean, shape), np.reshape(moving_var, shape)
    if training:
        mean = np.mean(x, axis=axes, keepdims=True)
        var = np.var(x, axis=axes, keepdims=True)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
    x_hat = (x - mean) / np.sqrt(var + epsilon)
    y = gamma * x_hat + beta
    return [y.astype(np.float32), moving_mean, moving_var]
