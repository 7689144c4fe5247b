import numpy as np


def _normalise(x, mean, var, gamma, beta, epsilon):
    inv_std = 1.0 / np.sqrt(var + epsilon)
    return gamma * (x - mean) * inv_std + beta


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    x = np.array(x, dtype=np.float64)
    if not training:
        return _normalise(x, moving_mean, moving_var, gamma, beta, epsilon), moving_mean, moving_var
    axes = tuple(range(np.ndim(x) - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    y = _normalise(x, mean, var, gamma, beta, epsilon)
    return y, momentum * moving_mean + (1 - momentum) * mean, momentum * moving_var + (1 - momentum) * var


FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2
