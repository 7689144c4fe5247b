"""Hostile sample: prints 50 MB and returns the right answer: the output is capped, the check passes."""
import sys


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    for _ in range(50):
        sys.stdout.write("spam " * 200000 + "\n")
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return in_features * units + units
