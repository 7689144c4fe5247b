"""The sandbox worker: calls by name, and survival of whatever student code does.

Each test starts a real worker process (under bubblewrap where it works here, and as a
plain process), so these are the guarantees graders rely on.
"""

import os
import time

import numpy as np
import pytest

from graders.core.errors import (
    CallTimeout,
    MissingName,
    StudentException,
    SubmissionLoadError,
    WorkerCrashed,
    WrongType,
)
from graders.core.paths import PROJECT_ROOT
from graders.sandbox.isolation import BUBBLEWRAP, PROCESS, Limits, bubblewrap_works, worker_environment
from graders.sandbox.sandbox import UnconfinedRootWarning
from tests.sandbox.workers import LEVELS, make_sandbox

# Every test starts a real worker; a plain process started by root warns (tested below), once is enough.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")]

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


def test_a_hang_costs_one_timeout_per_function(sandbox):
    with pytest.raises(CallTimeout) as first:
        sandbox.call("spin")
    assert sandbox.call("add", 1, 1) == 2 and sandbox.starts == 2
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(CallTimeout) as again:
            sandbox.call("spin")
        assert str(again.value) == str(first.value)
    assert time.monotonic() - started < 1 and sandbox.starts == 2  # no wait, no restart
    with pytest.raises(CallTimeout, match="ran longer than 4 s"):
        sandbox.call("spin", timeout=4)  # a larger budget is tried again


def test_a_load_timeout_names_the_statement_that_was_running(tmp_path):
    with make_sandbox(tmp_path, "import time\nx = 1\ntime.sleep(60)\n\ndef f():\n    return 1\n", load_timeout_s=3) as box:
        with pytest.raises(SubmissionLoadError, match=r"while running hw3.py, line 3: time.sleep\(60\)"):
            box.call("f")


def test_libraries_imported_inside_functions_are_imported_while_loading(tmp_path):
    # a call's budget is for its work: a first `import sklearn` inside it is paid by the load
    source = ("import sys\n\ndef f():\n    import sklearn.preprocessing\n    return 1\n\n"
              "def imported():\n    return 'sklearn.preprocessing' in sys.modules\n")
    with make_sandbox(tmp_path, source) as box:
        assert box.call("imported") is True
        assert box.call("f") == 1


TOUCH = """
def touch(gib):
    hoard = []
    for _ in range(int(gib * 8)):
        block = bytearray(128 * 2**20)
        for offset in range(0, len(block), 4096):
            block[offset] = 1
        hoard.append(block)
    return len(hoard)

def add(a, b):
    return a + b
"""


@pytest.mark.parametrize("level", LEVELS)
def test_memory_over_the_cap_is_stopped_with_a_message_naming_it(tmp_path, level):
    with make_sandbox(tmp_path, TOUCH, level=level, call_timeout_s=60, limits=Limits(memory_bytes=2**30)) as box:
        with pytest.raises((WorkerCrashed, StudentException), match="memory.*1.0 GiB|1.0 GiB of memory") as failure:
            box.call("touch", 3)
        if box.used_cgroup:  # the cgroup's cap (touched memory) acts first, and is named
            assert isinstance(failure.value, WorkerCrashed) and "ran out of memory" in str(failure.value)
        assert box.call("add", 1, 1) == 2


FORGED = ["forged_compressed", "forged_unreferenced", "forged_lying_sizes", "forged_huge_header",
          "forged_deep_nesting", "forged_endless_frame"]


def rss_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024


@pytest.mark.parametrize("sample", FORGED)
def test_forged_frames_fail_the_call_and_stay_within_the_grader_memory_bound(tmp_path, sample):
    """Student code writes its own reply frames; the grading process's peak memory stays bounded."""
    source = (PROJECT_ROOT / "submissions" / "malicious" / sample / "hw3.py").read_text()
    level = BUBBLEWRAP if bubblewrap_works() else PROCESS
    with make_sandbox(tmp_path, source, level=level, call_timeout_s=5) as box:
        box.call("dense_params", 2, 3)  # started and loaded
        baseline = rss_mib("VmRSS:")
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset this process's peak resident memory (VmHWM)
        with pytest.raises((WrongType, WorkerCrashed, CallTimeout)):
            box.call("conv2d_params", 3, 1, 1)
        growth = rss_mib("VmHWM:") - baseline
        limits = box.config.reply_limits
        bound = (limits.max_bytes + limits.max_header_bytes) / 2**20 * 2 + 64
        print(f"{sample}: grader peak RSS +{growth:.0f} MiB (bound {bound:.0f} MiB)")
        assert growth < bound
        assert box.call("dense_params", 2, 3) == 9  # restarted: the rest is graded


@pytest.mark.filterwarnings("default::graders.sandbox.sandbox.UnconfinedRootWarning")
@pytest.mark.skipif(os.geteuid() != 0, reason="only a grader run by root is unconfined root")
def test_a_plain_process_run_by_root_says_loudly_that_it_is_root(tmp_path):
    with pytest.warns(UnconfinedRootWarning, match="runs as root on this machine"):
        box = make_sandbox(tmp_path, level=PROCESS)
    with box:
        assert box.call("add", 1, 1) == 2
        assert box.isolation_description in ("process (unconfined root)", "process+cgroup (unconfined root)")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a worker that is root")
def test_the_worker_refuses_student_code_when_it_finds_itself_root(tmp_path):
    # fail closed: a misconfigured sandbox must not run a submission as root with the flag set
    import subprocess
    import sys

    from graders.inside import wire
    from graders.sandbox.sandbox import INSIDE_DIR

    (tmp_path / "hw3.py").write_text("open('ran', 'w').close()\n")
    requests_read, requests_write = os.pipe()
    results_read, results_write = os.pipe()
    worker = subprocess.Popen([sys.executable, "-I", str(INSIDE_DIR / "worker.py"), "--requests", str(requests_read),
                               "--results", str(results_write)], pass_fds=(requests_read, results_write),
                              cwd=tmp_path, stderr=subprocess.PIPE)
    os.close(requests_read)
    os.close(results_write)
    wire.write_frame(requests_write, {"submission_dir": str(tmp_path), "scratch_dir": str(tmp_path), "seed": 1,
                                      "units": [["hw3.py", "hw3.py"]], "id": 1, "unprivileged": True})
    assert worker.wait(timeout=60) == 70
    assert b"refusing" in worker.stderr.read() and not (tmp_path / "ran").exists()
    os.close(requests_write)
    os.close(results_read)
