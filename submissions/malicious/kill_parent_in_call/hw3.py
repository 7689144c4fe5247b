"""Hostile sample: conv2d_params SIGKILLs its parent (underneath the guards); under bubblewrap that is only the sandbox."""
import os
import posix


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    posix.kill(os.getppid(), 9)
    return 0


def dense_params(in_features, units):
    return in_features * units + units
