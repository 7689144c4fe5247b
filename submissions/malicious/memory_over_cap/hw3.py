"""Hostile sample: conv2d_params touches memory 256 MiB at a time up to 12 GiB (the old default cap
was 16 GiB: nothing stopped it). The worker must be stopped at its cap with a message naming
memory and the cap, and the submission's other answers still graded."""


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    hoard = []
    for _ in range(48):
        block = bytearray(256 * 2**20)
        for offset in range(0, len(block), 4096):  # touch every page: resident, not just reserved
            block[offset] = 1
        hoard.append(block)
    return len(hoard)


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

