"""A sample submission (test data): placeholders instead of answers for q4, q5 and q6.

Every function returns a constant and LAYER_TABLE is nine (None, 0) rows; batchnorm_forward returns
zeros and the moving statistics unchanged. A placeholder is right on some inputs by accident (the last
pool row is (None, 0); a batch of one normalises to beta): expected, every check fails, and the
placeholder is called one (tests/golden/placeholder_answers/).
"""
import numpy as np

FC_BN_PARAMS = {"fc": 0, "bn_trainable": 0, "bn_non_trainable": 0}
Q6A_ANSWER = 0


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    return 0


def dense_params(in_features, units):
    return 0


def simple_rnn_params(input_dim, units):
    return 0


def lstm_params(input_dim, units):
    return 0


def gru_params(input_dim, units, reset_after=True):
    return 0


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    return 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    return 1


def same_padding(size, kernel, stride=1, dilation=1):
    return (0, 0)


LAYER_TABLE = [(None, 0)] * 9


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    return np.zeros_like(x), moving_mean, moving_var
