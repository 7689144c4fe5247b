import math


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    return math.ceil(size / stride) if padding == "same" else (size - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, pool, stride=None, padding="valid"):
    return conv_output_size(size, pool, stride or pool, padding)
