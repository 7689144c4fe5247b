"""Hostile sample: conv2d_params sleeps for days."""
import time


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    time.sleep(10**6)


def dense_params(in_features, units):
    return in_features * units + units
