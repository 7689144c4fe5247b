import numpy as np


def _batch_statistics(x):
    axes = tuple(range(np.ndim(x) - 1))
    return x.mean(axis=axes), x.var(axis=axes)


def _update(moving, batch, momentum):
    return momentum * moving + (1 - momentum) * batch


def _normalise(x, mean, var, gamma, beta, epsilon):
    inv_std = 1.0 / np.sqrt(var + epsilon)
    return gamma * (x - mean) * inv_std + beta


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    x = np.array(x, dtype=np.float64)
    if not training:
        return _normalise(x, moving_mean, moving_var, gamma, beta, epsilon), moving_mean, moving_var
    mean, var = _batch_statistics(x)
    y = _normalise(x, mean, var, gamma, beta, epsilon)
    return y, _update(moving_mean, mean, momentum), _update(moving_var, var, momentum)


FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2
