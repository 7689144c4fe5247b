"""Hostile sample: conv2d_params calls sys.exit(); that check fails, the rest is graded."""
import sys


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    sys.exit(0)


def dense_params(in_features, units):
    return in_features * units + units
