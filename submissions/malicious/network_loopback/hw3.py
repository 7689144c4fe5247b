"""Hostile sample: tries a TCP connection to a port the test listens on at 127.0.0.1; answers with what happened."""
import socket

PORT = 47391


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=3).sendall(b"exfiltrated")
    except OSError as exc:
        raise RuntimeError(f"no network: {type(exc).__name__}") from None
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return in_features * units + units
