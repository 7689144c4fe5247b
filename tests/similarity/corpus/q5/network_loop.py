import math

# (kind, filters, kernel, stride, dilation, padding)
NET = [
    ("conv", 64, 3, 1, 1, "same"),
    ("conv", 32, 5, 2, 2, "valid"),
    ("pool", None, 2, 2, 1, "valid"),
    ("conv", 128, 3, 1, 1, "same"),
    ("conv", 64, 5, 2, 4, "valid"),
    ("pool", None, 2, 2, 1, "valid"),
    ("conv", 256, 3, 1, 1, "same"),
    ("conv", 128, 5, 2, 8, "valid"),
    ("pool", None, 2, 2, 1, "valid"),
]


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    span = (kernel - 1) * dilation + 1
    if padding.lower() == "same":
        return -(-size // stride)
    if span > size:
        return 0
    return 1 + (size - span) // stride


def pool_output_size(size, pool, stride=None, padding="valid"):
    if stride is None:
        stride = pool
    return conv_output_size(size, pool, stride, padding)


def same_padding(size, kernel, stride=1, dilation=1):
    span = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    need = (out - 1) * stride + span - size
    need = max(need, 0)
    return need // 2, need - need // 2


def _table():
    rows = []
    side, channels, alive = 256, 3, True
    for kind, filters, kernel, stride, dilation, padding in NET:
        if kind == "conv":
            params = kernel * kernel * channels * filters + filters
            side = conv_output_size(side, kernel, stride, padding, dilation) if alive else 0
            channels = filters
        else:
            params = 0
            side = pool_output_size(side, kernel, stride, padding) if alive else 0
        alive = alive and side > 0
        rows.append(((side, side, channels) if alive else None, params))
    return rows


LAYER_TABLE = _table()
