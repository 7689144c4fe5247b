from math import ceil


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    # the formula from the lecture slides
    if padding == "same":
        return ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    return conv_output_size(size, pool, stride or pool, padding)
