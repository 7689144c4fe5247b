"""Hostile sample: ships conftest.py, numpy.py and sitecustomize.py beside its answers.

The loader ignores conftest.py and sitecustomize.py (and says so); numpy.py cannot shadow the
real numpy, because the submission's folder comes last on the worker's path.
"""
import numpy as np


def dense_params(in_features, units):
    return int(np.int64(in_features) * units + units)
