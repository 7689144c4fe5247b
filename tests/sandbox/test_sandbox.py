"""The sandbox worker: calls by name, and survival of whatever student code does.

Each test starts a real worker process (under bubblewrap where it works here, and as a
plain process), so these are the guarantees graders rely on.
"""

import os
import textwrap
import time

import numpy as np
import pytest

from graders.harness.errors import (CallTimeout, MissingName, StudentException, SubmissionLoadError,
                                    WorkerCrashed, WrongType)
from graders.sandbox.isolation import BUBBLEWRAP, PROCESS, Limits, bubblewrap_works, worker_environment
from graders.submission.loader import prepare_submission
from graders.sandbox.sandbox import Sandbox, SandboxConfig
from graders.harness.session import HIDDEN_FROM_WORKER, PROJECT_ROOT

pytestmark = pytest.mark.slow  # every test starts a real worker

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
    return Sandbox(prepare_submission(path), seed=7,
                   config=SandboxConfig(isolation=level, hidden_paths=hidden, **config))


@pytest.fixture(params=LEVELS)
def sandbox(request, tmp_path):
    with make_sandbox(tmp_path, level=request.param, call_timeout_s=3) as box:
        yield box


def test_calls_and_globals_come_back_as_plain_data(sandbox):
    assert sandbox.call("add", 2, 3) == 5
    assert np.array_equal(sandbox.call("scaled", np.arange(3)), [0.0, 2.0, 4.0])
    assert sandbox.get("TABLE") == [((1, 2, 3), 4), (None, 0)]
    assert sandbox.starts == 1


def test_student_exception_shows_the_students_frame_only(sandbox):
    with pytest.raises(StudentException) as failure:
        sandbox.call("boom")
    message = str(failure.value)
    assert "`boom(...)` raised ValueError: bad input" in message
    assert 'File "hw3.py", line' in message and "worker.py" not in message


def test_a_hang_times_out_and_the_next_call_gets_a_fresh_worker(sandbox):
    started = time.monotonic()
    with pytest.raises(CallTimeout, match="ran longer than 3 s"):
        sandbox.call("spin")
    assert time.monotonic() - started < 10
    assert sandbox.call("add", 1, 1) == 2
    assert sandbox.starts == 2


def test_a_crash_is_reported_and_grading_goes_on(sandbox):
    with pytest.raises(WorkerCrashed, match="exited with status 3"):
        sandbox.call("leave")
    assert sandbox.call("add", 1, 2) == 3


def test_non_plain_results_and_missing_names(sandbox):
    with pytest.raises(WrongType, match="builtins.object, not plain data"):
        sandbox.call("opaque")
    with pytest.raises(MissingName, match="`nothing` is not defined in your submission"):
        sandbox.call("nothing")
    with pytest.raises(MissingName, match="TABLE` cannot be called"):
        sandbox.call("TABLE")


def test_output_is_drained_and_capped(sandbox):
    assert sandbox.call("shout", 3_000_000) == 3_000_000
    time.sleep(0.5)
    assert 0 < len(sandbox.output_tail(10**9)) <= 70 * 1024


@pytest.mark.parametrize("level", LEVELS)
def test_exit_at_import_fails_every_call_without_restart_loops(tmp_path, level):
    with make_sandbox(tmp_path, "import posix\nposix._exit(0)\ndef f():\n    return 1\n", level=level) as box:
        for _ in range(3):
            with pytest.raises(SubmissionLoadError, match="exited with status 0"):
                box.call("f")
        assert box.starts == 1


def test_guarded_exit_at_import_is_refused_and_the_rest_loads(tmp_path):
    with make_sandbox(tmp_path, "import os\nos._exit(0)\ndef f():\n    return 1\n") as box:
        assert box.call("f") == 1
        assert "os._exit() is not allowed" in box.load_problems[0]["message"]


def test_a_slow_import_is_a_load_error_with_advice(tmp_path):
    with make_sandbox(tmp_path, "import time\ntime.sleep(60)\n", load_timeout_s=2) as box:
        with pytest.raises(SubmissionLoadError, match="__main__"):
            box.call("f")


def test_a_failing_statement_does_not_lose_the_definitions_after_it(tmp_path):
    source = "from google.colab import drive\n\ndef f():\n    return 1\n"
    with make_sandbox(tmp_path, source) as box:
        assert box.call("f") == 1
        assert box.load_problems[0]["origin"] == "hw3.py, line 1"
        assert "ModuleNotFoundError" in box.load_problems[0]["message"]


def test_memory_limit_turns_a_hog_into_a_clear_error(tmp_path):
    with make_sandbox(tmp_path, limits=Limits(memory_bytes=2 * 2**30)) as box:
        with pytest.raises(StudentException, match="MemoryError"):
            box.call("hog", 4 * 2**30)
        assert box.call("add", 1, 1) == 2


def test_closing_leaves_no_process_behind(tmp_path):
    box = make_sandbox(tmp_path)
    box.call("add", 1, 1)
    group = box._process.pid
    box.close()
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap does not work here")
def test_bubblewrap_hides_the_grader_and_blocks_writes_and_network(tmp_path):
    probe = f"""
import os, socket

def look():
    seen = {{}}
    for folder in ("reference", "graders"):
        seen[folder] = sorted(os.listdir(os.path.join({str(PROJECT_ROOT)!r}, folder)))
    try:
        open({str(PROJECT_ROOT / 'pwned.txt')!r}, "w")
        seen["write"] = "allowed"
    except OSError as exc:
        seen["write"] = type(exc).__name__
    try:
        socket.create_connection(("127.0.0.1", 22), timeout=2)
        seen["network"] = "connected"
    except OSError as exc:
        seen["network"] = type(exc).__name__
    seen["env"] = sorted(os.environ)
    return seen
"""
    with make_sandbox(tmp_path, probe, level=BUBBLEWRAP) as box:
        seen = box.call("look")
    assert seen["reference"] == [] and seen["graders"] == []
    assert not (PROJECT_ROOT / "pwned.txt").exists(), "a write reached the host"
    if not str(PROJECT_ROOT).startswith("/tmp/"):  # under /tmp it lands on the sandbox's private tmpfs
        assert seen["write"] != "allowed"
    assert seen["network"] != "connected"
    # bubblewrap adds PWD for its --chdir; nothing else of the grader's environment gets through
    assert set(seen["env"]) - {"PWD"} <= set(worker_environment(tmp_path, 2))
