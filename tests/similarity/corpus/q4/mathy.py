import math


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    # kernel can be given as k or as (kh, kw)
    try:
        size = math.prod(kernel_size)
    except TypeError:
        size = kernel_size ** 2
    total = size * in_channels * filters
    if use_bias:
        total += filters
    return int(total)


def dense_params(in_features, units):
    return int(in_features * units + units)


def _rnn_like(n_gates, input_dim, units, two_biases):
    W = input_dim * units
    U = units * units
    b = units * (2 if two_biases else 1)
    return int(n_gates * (W + U + b))


def simple_rnn_params(input_dim, units):
    return _rnn_like(1, input_dim, units, False)


def lstm_params(input_dim, units):
    return _rnn_like(4, input_dim, units, False)


def gru_params(input_dim, units, reset_after=True):
    return _rnn_like(3, input_dim, units, reset_after)
