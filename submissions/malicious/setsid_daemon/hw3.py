"""Hostile sample: starts a daemon in a new session that would outlive the worker; answers right."""
import subprocess


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    subprocess.Popen(["bash", "-c", "exec -a hw3-attack-daemon sleep 1000"], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def dense_params(in_features, units):
    return in_features * units + units
