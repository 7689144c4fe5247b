"""A sample q6 submission (test data): epsilon folded into the batch variance, so the moving variance
moves towards var + epsilon.

y is right in both modes; only the moving variance is off, by (1 - momentum) * epsilon (1e-5 at the
defaults). Expected: exactly the two checks of the moving statistics (train.moving_update and
hyperparameters.momentum) fail and name the mistake (tests/golden/bn_epsilon_in_moving_variance/q6.json).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    axes = tuple(range(x.ndim - 1))
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes) + epsilon  # MISTAKE: epsilon belongs in the normalisation only
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
        y = gamma * (x - mean) / np.sqrt(var) + beta
    else:
        y = gamma * (x - moving_mean) / np.sqrt(moving_var + epsilon) + beta
    return y, moving_mean, moving_var
