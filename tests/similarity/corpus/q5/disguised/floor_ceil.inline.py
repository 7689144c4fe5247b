"""Question 5 -- convolution arithmetic."""
from math import ceil, floor


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    k = kernel + (kernel - 1) * (dilation - 1)
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
    k = kernel + (kernel - 1) * (dilation - 1)
    if size % stride == 0:
        total = max(k - stride, 0)
    else:
        total = max(k - (size % stride), 0)
    before = total // 2
    after = total - before
    return (before, after)
