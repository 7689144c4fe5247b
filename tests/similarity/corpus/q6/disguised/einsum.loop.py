import numpy as np


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, np.float64)
    gamma, beta = np.asarray(gamma, np.float64), np.asarray(beta, np.float64)
    count = x.size // x.shape[-1]
    if training:
        batch_mean = np.einsum("...c->c", x) / count
        deviation = x - batch_mean
        batch_var = np.einsum("...c,...c->c", deviation, deviation) / count
        stats = (batch_mean, batch_var)
        updated = []
        for m, b in zip((moving_mean, moving_var), stats):
            updated.append(momentum * m + (1.0 - momentum) * b)
    else:
        stats = (np.asarray(moving_mean), np.asarray(moving_var))
        updated = (moving_mean, moving_var)
    scale = gamma / np.sqrt(stats[1] + epsilon)
    shift = beta - stats[0] * scale
    return x * scale + shift, updated[0], updated[1]


FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}
Q6A_ANSWER = 2
