import numpy as np

FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2


def _training_pass(x, moving_mean, moving_var, momentum, epsilon):
    reduce_axes = tuple(range(x.ndim - 1))
    mu = np.mean(x, axis=reduce_axes, keepdims=True)
    sigma2 = np.mean((x - mu) ** 2, axis=reduce_axes, keepdims=True)
    x_hat = (x - mu) / np.sqrt(sigma2 + epsilon)
    new_mean = momentum * moving_mean + (1 - momentum) * mu.reshape(-1)
    new_var = momentum * moving_var + (1 - momentum) * sigma2.reshape(-1)
    return x_hat, new_mean, new_var


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        x_hat, new_mean, new_var = _training_pass(x, moving_mean, moving_var, momentum, epsilon)
    else:
        x_hat = (x - moving_mean) / np.sqrt(moving_var + epsilon)
        new_mean, new_var = moving_mean, moving_var
    out = gamma * x_hat + beta
    return out, new_mean, new_var
