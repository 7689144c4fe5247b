import math


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    if padding not in ("valid", "same", "VALID", "SAME"):
        raise ValueError(padding)
    if padding in ("same", "SAME"):
        return math.ceil(size / stride)
    effective_kernel = dilation * (kernel - 1) + 1
    if size < effective_kernel:
        return 0
    return math.floor((size - effective_kernel) / stride) + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    if stride is None:
        stride = pool
    if padding in ("same", "SAME"):
        return math.ceil(size / stride)
    if size < pool:
        return 0
    return math.floor((size - pool) / stride) + 1


def same_padding(size, kernel, stride=1, dilation=1):
    effective_kernel = dilation * (kernel - 1) + 1
    output = math.ceil(size / stride)
    pad_total = (output - 1) * stride + effective_kernel - size
    if pad_total < 0:
        pad_total = 0
    pad_before = pad_total // 2
    pad_after = pad_total - pad_before
    return pad_before, pad_after


def conv_row(size, channels, filters, kernel, stride, dilation, padding):
    out = conv_output_size(size, kernel, stride, padding, dilation) if size else 0
    params = (kernel * kernel * channels + 1) * filters
    return out, params


h1, p1 = conv_row(256, 3, 64, 3, 1, 1, "same")
h2, p2 = conv_row(h1, 64, 32, 5, 2, 2, "valid")
h3 = pool_output_size(h2, 2, 2)
h4, p4 = conv_row(h3, 32, 128, 3, 1, 1, "same")
h5, p5 = conv_row(h4, 128, 64, 5, 2, 4, "valid")
h6 = pool_output_size(h5, 2, 2)
h7, p7 = conv_row(h6, 64, 256, 3, 1, 1, "same")
h8, p8 = conv_row(h7, 256, 128, 5, 2, 8, "valid")
h9 = pool_output_size(h8, 2, 2) if h8 else 0
LAYER_TABLE = [((h1, h1, 64), p1), ((h2, h2, 32), p2), ((h3, h3, 32), 0), ((h4, h4, 128), p4),
               ((h5, h5, 64), p5), ((h6, h6, 64), 0), ((h7, h7, 256), p7), (None, p8), (None, 0)]
