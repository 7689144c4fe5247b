"""Hostile sample: conv2d_params raises KeyboardInterrupt."""
def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    raise KeyboardInterrupt


def dense_params(in_features, units):
    return in_features * units + units
