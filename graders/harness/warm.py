"""Keep a submission's worker between gradings in one process (`--keep-worker`): the kit's `check()`.

In a notebook, `check("q4")` after `check("q5")` grades the same definitions: the worker that loaded
them (and imported TensorFlow for them) is kept and handed to the next grading of the same code, seed
and sandbox configuration. Any change of the code the worker runs starts a fresh worker, and the kept
one is closed. A TA's grading never sets the option: each grading starts its own worker in a fresh folder.
"""

from __future__ import annotations

import atexit
import hashlib
import json

from graders.harness.student import StudentSandbox, open_sandbox

_kept: dict = {}  # {"sandbox": the kept StudentSandbox, "key": what it was started for}


def open_student(session) -> StudentSandbox:
    """The session's sandbox: the kept one when the session keeps workers and it fits, else a new one."""
    key = _key_of(session)
    kept = _kept.get("sandbox")
    if kept is not None and (not session.options.keep_worker or _kept.get("key") != key):
        close_kept()
        kept = None
    if kept is not None:
        kept.session = session
        kept.prepared = session.prepared  # the same code: its cells may be numbered anew (notebook cells added)
        return kept
    return open_sandbox(session)


def release(session, sandbox: StudentSandbox) -> None:
    """After a grading: keep the worker for the next one (`--keep-worker`), else close it."""
    if not session.options.keep_worker:
        sandbox.close()
        return
    if not _kept:
        atexit.register(close_kept)  # the worker ends with this process, never later
    _kept.update(sandbox=sandbox, key=_key_of(session))
    sandbox.session = None


def close_kept() -> None:
    """Close the kept worker, if any."""
    sandbox = _kept.pop("sandbox", None)
    _kept.pop("key", None)
    if sandbox is not None:
        sandbox.close()


def _key_of(session) -> tuple:
    """What a kept worker must have been started for: the same code, seed, options and sandbox settings.

    The code is what the worker ran (the loader's kept units), not the files' bytes: a notebook cell that
    only calls check() or prints adds nothing the worker runs, and keeps the worker.
    """
    options = session.options
    units = getattr(session.prepared, "units", None)
    code = None if units is None else hashlib.sha256(json.dumps(
        [[unit.origin, unit.filename, unit.code] for unit in units]).encode("utf-8")).hexdigest()
    return (code, str(options.submission), session.seed, options.isolation, options.threads, options.parallel,
            repr(session.rubric.data.get("sandbox")) if session.rubric else None)
