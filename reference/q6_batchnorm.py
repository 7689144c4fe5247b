"""Q6 reference: the BatchNormalization forward pass in NumPy, as keras.layers.BatchNormalization does it.

Channels-last: statistics are taken over every axis but the last, so an `(N, D)` batch has
one mean per feature and an `(N, H, W, C)` batch one mean per channel. Training mode
normalises with the batch's own mean and *biased* variance (divided by N) and moves the
moving statistics towards them; inference mode normalises with the moving statistics and
leaves them unchanged.
"""

from __future__ import annotations

import numpy as np

__all__ = ["batchnorm_forward", "FC_BN_PARAMS", "Q6A_ANSWER"]

# Dense(20) on 10 inputs followed by BatchNormalization: weights 10 * 20 + biases 20;
# BN keeps 4 vectors of 20: gamma and beta are trained, the moving mean and variance are not.
FC_BN_PARAMS = {"fc": 220, "bn_trainable": 40, "bn_non_trainable": 40}  # SOLUTION: {"fc": None, "bn_trainable": None, "bn_non_trainable": None}

# "BatchNorm normalises each layer's output distribution so that it is more uniform across dimensions."
Q6A_ANSWER = 2  # SOLUTION: None


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """BatchNormalization's forward pass, channels last.

    Args:
        x: a batch of shape (N, D) or (N, H, W, C).
        gamma, beta, moving_mean, moving_var: one value per feature (the last axis of x).
        training: use the batch's statistics and update the moving ones (True), or use the moving ones (False).
        momentum: as in keras.layers.BatchNormalization.
        epsilon: as in keras.layers.BatchNormalization.

    Returns:
        (y, new_moving_mean, new_moving_var).
    """
    # BEGIN SOLUTION
    # Normalise over every axis but the last, then scale by gamma and shift by beta. Training:
    # the batch's mean and biased variance (divided by N), and moving = momentum * moving +
    # (1 - momentum) * batch. Inference: the moving statistics, unchanged. epsilon is added to the
    # variance inside the square root. Computed in float64.
    x = np.asarray(x, dtype=np.float64)
    moving_mean = np.asarray(moving_mean, dtype=np.float64)
    moving_var = np.asarray(moving_var, dtype=np.float64)
    if training:
        axes = tuple(range(x.ndim - 1))
        mean = x.mean(axis=axes)
        var = ((x - mean) ** 2).mean(axis=axes)  # biased (divided by N), two-pass: exact for large values
        new_mean = momentum * moving_mean + (1.0 - momentum) * mean
        new_var = momentum * moving_var + (1.0 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = moving_mean, moving_var
    y = np.asarray(gamma) * (x - mean) / np.sqrt(var + epsilon) + np.asarray(beta)
    return y, new_mean, new_var
    # END SOLUTION
