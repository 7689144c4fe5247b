"""Hostile sample: conv2d_params asks for 64 GiB at once; the worker's memory limit refuses it."""


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    hoard = bytearray(64 * 2**30)
    return len(hoard)


def dense_params(in_features, units):
    return in_features * units + units
