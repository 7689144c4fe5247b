"""Hostile sample: q5's functions are right but take a second on every call, just under the per-call
budget, so that q5's hundreds of cases would keep the grading busy for minutes. Each function has a
total budget over its calls ([sandbox] function_budget_s): once spent, its remaining cases fail at once."""
import math
import time


def _slow():
    time.sleep(1.0)


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    _slow()
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        return math.ceil(size / stride)
    return max(0, (size - effective) // stride + 1)


def pool_output_size(size, pool, stride=None, padding="valid"):
    _slow()
    stride = stride or pool
    if padding == "same":
        return math.ceil(size / stride)
    return max(0, (size - pool) // stride + 1)


def same_padding(size, kernel, stride=1, dilation=1):
    _slow()
    effective = dilation * (kernel - 1) + 1
    out = math.ceil(size / stride)
    total = max(0, (out - 1) * stride + effective - size)
    return total // 2, total - total // 2
