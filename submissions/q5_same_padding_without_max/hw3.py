"""A sample q5 submission (test data): 'same' padding without max(0, ...).

When the stride is larger than the kernel's reach the formula goes negative, e.g.
same_padding(10, 1, 2) gives (-1, 0) instead of (0, 0). Expected: exactly
q5.same_padding.strided fails, on every seed, naming the mistake (tests/golden/q5_same_padding_without_max/).
"""
import math


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    k = dilation * (kernel - 1) + 1
    return math.ceil(size / stride) if padding == "same" else (size - k) // stride + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    stride = stride or pool
    return math.ceil(size / stride) if padding == "same" else (size - pool) // stride + 1


def same_padding(size, kernel, stride=1, dilation=1):
    k = dilation * (kernel - 1) + 1
    total = (math.ceil(size / stride) - 1) * stride + k - size  # MISTAKE: max(0, ...) missing
    return total // 2, total - total // 2


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
