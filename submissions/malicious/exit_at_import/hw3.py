"""Hostile sample: ends the process while it is imported. The grader must grade to the end anyway."""
import os

os._exit(0)


def dense_params(in_features, units):
    return in_features * units + units
