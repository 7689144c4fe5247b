"""Hostile sample: ends the process underneath the guards (posix._exit) while imported: nothing loads, every check gets the reason."""
import posix

posix._exit(0)


def dense_params(in_features, units):
    return in_features * units + units
