"""Hostile sample: conv2d_params opens files until none are left."""
import os


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    handles = []
    while True:
        handles.append(open(os.devnull))


def dense_params(in_features, units):
    return in_features * units + units
