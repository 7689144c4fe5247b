"""Hostile sample: an exception whose message is 50 MB (and a load-time one too), which must not reach
the results JSON, the terminal or the report whole: it is cut like a traceback."""
BIG = "hw3-attack-message " * (50 * 2**20 // 19)

try:
    raise ValueError(BIG)
except ValueError:
    pass



def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    raise ValueError(BIG)


def dense_params(in_features, units):
    raise KeyError(BIG)


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units + 1)


assert False, BIG  # at load: a 50 MB load problem
