"""A sample q4/q5 submission (test data): right answers written differently.

NumPy arithmetic (np.int64 and integral np.float64 results, a one-element array), the kernel size
through np.broadcast_to, PyTorch's output-size formula, TensorFlow's documented 'same' padding rule
returning a list or an array, and LAYER_TABLE written as Keras prints shapes, (None, H, W, C).
These are the same answers: expected full marks (tests/golden/q4_q5_numpy_and_lists/).
"""
import math

import numpy as np


# q4
def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = np.broadcast_to(np.asarray(kernel_size), (2,))
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return np.prod([in_features, units]) + units


def simple_rnn_params(input_dim, units):
    return np.array([units * (input_dim + units + 1)])


def lstm_params(input_dim, units):
    return np.float64(4 * units * (input_dim + units + 1))


def gru_params(input_dim, units, reset_after=True):
    biases = 2 if reset_after else 1
    return np.int32(3 * (units * (input_dim + units) + biases * units))


# q5
def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    if padding.lower() == "same":
        return -(-size // stride)
    return np.floor((size + 2 * 0 - dilation * (kernel - 1) - 1) / stride) + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    stride = stride or pool
    if padding == "same":
        return np.ceil(size / stride)
    return math.floor((size - pool) / stride) + 1


def same_padding(size, kernel, stride=1, dilation=1):
    k = dilation * (kernel - 1) + 1
    total = max(k - stride, 0) if size % stride == 0 else max(k - size % stride, 0)
    pair = [total // 2, total - total // 2]
    return pair if stride == 1 else np.array(pair)


LAYER_TABLE = [
    ([None, 256, 256, 64], np.int64(1792)),
    ([None, 124, 124, 32], 51232),
    ([None, 62, 62, 32], 0),
    ([None, 62, 62, 128], 36992),
    ([None, 23, 23, 64], 204864),
    ([None, 11, 11, 64], 0.0),
    ([None, 11, 11, 256], 147712),
    (None, 819328),
    (None, 0),
]
