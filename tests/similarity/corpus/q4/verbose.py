"""q4, written out step by step with checks on the arguments."""


def _check(value, what):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(what + " has to be an integer")
    if value <= 0:
        raise ValueError(what + " has to be positive")


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    if isinstance(kernel_size, int):
        height = width = kernel_size
    else:
        height, width = kernel_size
    _check(height, "kernel height")
    _check(width, "kernel width")
    _check(in_channels, "in_channels")
    _check(filters, "filters")
    weights = height * width * in_channels * filters
    biases = filters if use_bias else 0
    return weights + biases


def dense_params(in_features, units):
    _check(in_features, "in_features")
    _check(units, "units")
    weights = in_features * units
    biases = units
    return weights + biases


def simple_rnn_params(input_dim, units):
    _check(input_dim, "input_dim")
    _check(units, "units")
    input_weights = input_dim * units
    recurrent_weights = units * units
    biases = units
    return input_weights + recurrent_weights + biases


def lstm_params(input_dim, units):
    per_gate = simple_rnn_params(input_dim, units)
    gates = 4
    return gates * per_gate


def gru_params(input_dim, units, reset_after=True):
    per_gate = simple_rnn_params(input_dim, units)
    total = 3 * per_gate
    if reset_after:
        total = total + 3 * units
    return total
