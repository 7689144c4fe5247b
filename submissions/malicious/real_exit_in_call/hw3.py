"""Hostile sample: conv2d_params ends the worker (posix._exit); the worker is restarted and grading goes on."""
import posix


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    posix._exit(0)


def dense_params(in_features, units):
    return in_features * units + units
