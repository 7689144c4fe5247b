"""The seeds of a grading: the run's own (public or secret), and those derived from it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEFAULT_SEED = 1234  # a student's self-check: public and deterministic


def resolve_seed(seed: int | None, *, hidden: bool) -> tuple[int, str]:
    """(the seed, where it came from): given; else a fresh 64-bit secret for a hidden run; else the default."""
    if seed is not None:
        return int(seed), "given"
    if hidden:
        return secrets.randbits(64), "fresh"
    return DEFAULT_SEED, "default"


def library_seed(seed: int) -> int:
    """A seed NumPy's legacy generator and Keras accept (below 2**32): the seed itself when it fits, else a
    hash of it (a hidden run's 64-bit seed)."""
    if 0 <= seed < 2**32:
        return seed
    return int.from_bytes(hashlib.sha256(f"hw3grader library seed {seed}".encode()).digest()[:4], "big")


def worker_seed(seed: int) -> int:
    """The seed the worker sees, derived from the run's seed with a keyed hash (HMAC-SHA256).

    The key is the run's seed itself, which never enters the worker: knowing the 32-bit worker
    seed and this function, a submission would still have to search the 2**64 hidden seeds to
    regenerate the grader's data.
    """
    key = int(seed).to_bytes(16, "big", signed=True)
    return int.from_bytes(hmac.new(key, b"hw3grader worker seed", hashlib.sha256).digest()[:4], "big")
