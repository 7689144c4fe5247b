"""Hostile sample: numbers too large for a float where numbers are expected (10**400): wrong answers
with the usual message, never a grader error."""
HUGE = 10**400


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    return HUGE


def dense_params(in_features, units):
    return -HUGE


def simple_rnn_params(input_dim, units):
    return [HUGE]


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units + 1))


LAYER_TABLE = [((HUGE, 256, 64), HUGE)] * 9
BEST_VAL_ACCURACY = HUGE
