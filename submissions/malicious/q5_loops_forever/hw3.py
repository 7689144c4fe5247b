"""Hostile sample (issue 16): every q5 formula loops forever; q4 and the layer table are right.
Each looping function may cost one call timeout, once: later calls to it fail at once with the
same message, so the whole `-k "q4 or q5"` grading takes one timeout per function, not per check."""


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    while True:
        pass


def pool_output_size(size, pool, stride=None, padding="valid"):
    while True:
        pass


def same_padding(size, kernel, stride=1, dilation=1):
    while True:
        pass


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
