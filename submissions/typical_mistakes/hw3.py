"""A sample submission with the classic mistakes of q4 and q5 (test data for the grader).

Expected: each mistake loses exactly its own checks (see tests/golden/typical_mistakes/).
"""
import math


# q4 -- right, except the GRU (counted without reset_after's second bias vector) and a Conv2D
# kernel_size that may only be an int.
def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    # MISTAKE: kernel_size may also be a (kh, kw) pair; this raises TypeError on one
    return kernel_size * kernel_size * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units + 1)


def lstm_params(input_dim, units):
    return 4 * units * (input_dim + units + 1)


def gru_params(input_dim, units, reset_after=True):
    return 3 * units * (input_dim + units + 1)  # MISTAKE: ignores reset_after


# q5
def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    k = dilation * (kernel - 1) + 1
    if padding == "same":
        return math.ceil(size / stride)
    return (size - k) / stride  # MISTAKE: no floor and no +1


def pool_output_size(size, pool, stride=None, padding="valid"):
    stride = stride or pool
    if padding == "same":
        return math.ceil(size / stride)
    return size // stride  # MISTAKE: right only when pool == stride


def same_padding(size, kernel, stride=1, dilation=1):
    total = dilation * (kernel - 1)  # MISTAKE: right only for stride 1
    return total // 2, total - total // 2


LAYER_TABLE = [
    ((256, 256, 64), 1792),
    ((124, 124, 32), 51232),
    ((62, 62, 32), 0),
    ((62, 62, 128), 36992),
    ((23, 23, 64), 204864),
    ((11, 11, 64), 0),
    ((11, 11, 256), 147712),
    (None, 819328),
    (None, 0),
]
