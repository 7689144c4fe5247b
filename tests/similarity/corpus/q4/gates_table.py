# Q4: parameter counts. Every recurrent layer is "gates" copies of one dense cell.
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def _cell(input_dim, units):
    """one gate: kernel, recurrent kernel, bias"""
    return (input_dim + units + 1) * units


def _recurrent(kind, input_dim, units, extra_bias=False):
    count = GATES[kind] * _cell(input_dim, units)
    if extra_bias:
        count += GATES[kind] * units
    return count


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    return (kh * kw * in_channels + int(use_bias)) * filters


def dense_params(in_features, units):
    return (in_features + 1) * units


def simple_rnn_params(input_dim, units):
    return _recurrent("simple_rnn", input_dim, units)


def lstm_params(input_dim, units):
    return _recurrent("lstm", input_dim, units)


def gru_params(input_dim, units, reset_after=True):
    return _recurrent("gru", input_dim, units, extra_bias=reset_after)
