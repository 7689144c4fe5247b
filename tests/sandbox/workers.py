"""Real sandbox workers for the tests: a sandbox over a small student module, at each isolation level
that works here."""

import textwrap

import pytest

from graders.core.paths import PROJECT_ROOT
from graders.harness.student import HIDDEN_FROM_WORKER, StudentSandbox
from graders.sandbox.isolation import BUBBLEWRAP, PROCESS, bubblewrap_works
from graders.sandbox.sandbox import SandboxConfig
from graders.submission.loader import prepare_submission

LEVELS = [PROCESS, pytest.param(BUBBLEWRAP, marks=pytest.mark.skipif(not bubblewrap_works(),
                                                                     reason="bubblewrap does not work here"))]

STUDENT = """
import os, time
import numpy as np

def add(a, b):
    return a + b

def scaled(x):
    return np.asarray(x) * 2.0

def boom():
    raise ValueError("bad input")

def spin():
    while True:
        pass

def leave():
    import posix  # underneath the guarded os._exit: a real exit
    posix._exit(3)

def opaque():
    return object()

def uses_skipped():
    return model

def shout(n):
    print("x" * n, flush=True)
    return n

def hog(n_bytes):
    return len(bytearray(n_bytes))

TABLE = [((1, 2, 3), 4), (None, 0)]
"""


def make_sandbox(tmp_path, source=STUDENT, *, level=PROCESS, name="hw3.py", **config):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    hidden = tuple(PROJECT_ROOT / folder for folder in HIDDEN_FROM_WORKER)
    return StudentSandbox(prepare_submission(path), seed=7,
                   config=SandboxConfig(isolation=level, hidden_paths=hidden, **config))
