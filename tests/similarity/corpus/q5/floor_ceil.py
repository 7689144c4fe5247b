"""Question 5 -- convolution arithmetic."""
from math import ceil, floor


def effective(kernel, dilation):
    """size of the kernel once the holes of the dilation are counted"""
    return kernel + (kernel - 1) * (dilation - 1)


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    k = effective(kernel, dilation)
    padding = padding.lower()
    if padding == "valid":
        result = floor((size - k) / stride) + 1
        return result if result > 0 else 0
    elif padding == "same":
        return ceil(size / stride)
    raise ValueError("unknown padding " + padding)


def pool_output_size(size, pool, stride=None, padding="valid"):
    s = pool if stride is None else stride
    padding = padding.lower()
    if padding == "valid":
        result = floor((size - pool) / s) + 1
        return result if result > 0 else 0
    elif padding == "same":
        return ceil(size / s)
    raise ValueError("unknown padding " + padding)


def same_padding(size, kernel, stride=1, dilation=1):
    k = effective(kernel, dilation)
    if size % stride == 0:
        total = max(k - stride, 0)
    else:
        total = max(k - (size % stride), 0)
    before = total // 2
    after = total - before
    return (before, after)


LAYER_TABLE = [
    ((256, 256, 64), 1792),
    ((124, 124, 32), 51232),
    ((62, 62, 32), 0),
    ((62, 62, 128), 36992),
    ((23, 23, 64), 204864),
    ((11, 11, 64), 0),
    ((11, 11, 256), 147712),
    (None, 819328),
    (None, 0),
]
