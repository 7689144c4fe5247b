"""A grader file handed to the worker for one check is gone before the student's code runs again.

Whatever the worker did with it (kept it open, loaded it into memory, copied it into a writable
tmpfs), a request that is not given the file runs in a new worker that never held it.
"""

import os

import pytest

from graders.sandbox.isolation import BUBBLEWRAP
from tests.sandbox.workers import LEVELS, make_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")]

HOARDER = """
import glob, os, shutil, tempfile

KEPT = {}

def places(everywhere):
    # a plain process shares the host's /tmp and /dev/shm (a known limit): copied there only under bubblewrap
    own = [os.path.expanduser("~"), tempfile.gettempdir(), os.getcwd()]
    return ["/tmp", "/dev/shm", *own] if everywhere else own

def hoard(path, everywhere):
    # everything a hostile submission could do with a file it can read once
    KEPT["bytes"] = open(path, "rb").read()
    KEPT["fd"] = os.open(path, os.O_RDONLY)
    copies = []
    for folder in places(everywhere):
        try:
            shutil.copy(path, os.path.join(folder, "stolen.keras"))
            copies.append(folder)
        except OSError:
            pass
    return copies

def find(path, everywhere):
    found = []
    if KEPT:
        found.append("memory")
    for fd in range(3, 256):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith("model.keras"):
                found.append("fd")
        except OSError:
            pass
    for folder in places(everywhere):
        if os.path.exists(os.path.join(folder, "stolen.keras")):
            found.append(folder)
    if os.path.exists(path):
        found.append("the shared copy")
    found += glob.glob(os.path.join(os.path.dirname(os.getcwd()), "inputs", "*"))
    return found

def pid():
    return os.getpid(), os.path.dirname(os.getcwd())
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"the grader's trained model" * 100)
    return path


@pytest.mark.parametrize("level", LEVELS)
def test_after_a_shared_block_the_next_request_runs_in_a_worker_that_never_held_the_file(tmp_path, model, level):
    everywhere = level == BUBBLEWRAP
    with make_sandbox(tmp_path, HOARDER, level=level) as box:
        with box.shared(model) as inside:
            assert box.call("hoard", inside, everywhere)  # at least the scratch folder took a copy
            assert "memory" in box.call("find", inside, everywhere)  # the same worker within the block
            first = box.call("pid")
        assert not os.path.exists(inside), "the copy outlived its block"
        assert box.call("find", inside, everywhere) == []
        assert box.call("pid") != first and box.starts == 2


@pytest.mark.parametrize("level", LEVELS)
def test_a_shared_file_is_seen_only_by_requests_given_it(tmp_path, model, level):
    with make_sandbox(tmp_path, HOARDER, level=level) as box:
        everywhere = level == BUBBLEWRAP
        inside = box.share_file(model)  # the compatible form: the requests that name it may read it
        box.call("hoard", inside, everywhere)
        assert "memory" in box.call("find", inside, everywhere) and box.starts == 1
        assert box.call("pid")[1] not in inside and box.starts == 2  # not given it: a new worker
        assert box.call("find", inside, everywhere) == []
        again = box.share_file(model)
        assert box.call("find", again, everywhere) == ["the shared copy", again] and box.starts == 2


def test_a_worker_restarted_inside_a_block_gets_the_file_again(tmp_path, model):
    source = HOARDER + "\ndef crash():\n    import posix\n    posix._exit(3)\n"
    with make_sandbox(tmp_path, source) as box:
        with box.shared(model) as inside:
            with pytest.raises(Exception, match="status 3"):
                box.call("crash")
            assert "the shared copy" in box.call("find", inside, False)  # the old path names the new copy
        assert box.call("find", inside, False) == []


def test_grad_cam_style_probes_share_the_worker_and_a_training_check_gets_a_clean_one(tmp_path, model):
    randomised = tmp_path / "randomised.keras"
    randomised.write_bytes(b"the grader's randomised model")
    with make_sandbox(tmp_path, HOARDER) as box:
        trained_inside = box.share_file(model)
        box.call("hoard", trained_inside, False)
        random_inside = box.share_file(randomised)
        assert "memory" in box.call("find", random_inside, False) and box.starts == 1  # both handed over
        assert box.call("find", "-", False) == [] and box.starts == 2  # given none: a worker that held none


def test_a_request_naming_a_file_after_a_block_gets_a_new_worker_with_only_that_file(tmp_path, model):
    other = tmp_path / "other.keras"
    other.write_bytes(b"another grader file")
    with make_sandbox(tmp_path, HOARDER) as box:
        with box.shared(model) as inside:
            box.call("hoard", inside, False)
        given = box.share_file(other)  # the block's worker is still running: it held the model
        found = box.call("find", given, False)
        assert "memory" not in found and "the shared copy" in found and box.starts == 2


def test_a_block_on_a_submission_that_cannot_load_fails_as_the_students_load_error(tmp_path, model):
    from graders.core.errors import SubmissionLoadError

    with make_sandbox(tmp_path, "import posix\nposix._exit(0)\n") as box:
        with pytest.raises(SubmissionLoadError):
            with box.shared(model):
                pass
        assert box._held.blocks == []


def test_answers_are_read_before_a_grader_file_is_handed_over_so_the_end_needs_no_new_worker(tmp_path, model):
    source = HOARDER + "\nANSWERS = {'q1a': 'because'}\n"
    with make_sandbox(tmp_path, source) as box:
        inside = box.share_file(model)
        box.call("hoard", inside, False)
        assert box.collect_answers() == {"q1a": "because"} and box.starts == 1
