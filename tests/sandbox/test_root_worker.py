"""A grader run by root: the worker holds no capability and is not root, every writable place is capped,
and each start gets a fresh folder with no planted link followed."""

import os

import pytest

from graders.core.errors import WorkerCrashed
from graders.sandbox.isolation import BUBBLEWRAP, Limits, bubblewrap_works
from tests.sandbox.workers import make_sandbox

# Every test starts a real worker; a plain process started by root warns
# (tests/sandbox/test_sandbox.py tests that warning).
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")]

PRIVILEGES = """
import ctypes, errno, os, subprocess, sys

def _remount(path):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(None, path.encode(), None, 32 | 4096, None) == 0:  # MS_REMOUNT | MS_BIND: read-write
        return "remounted"
    return errno.errorcode.get(ctypes.get_errno(), "?")

def _writable(folder):
    try:
        open(os.path.join(folder, "hw3-pwned"), "w").close()
        return True
    except OSError:
        return False

def look():
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    folders = [os.path.dirname(os.getcwd()), sys.prefix, sys.base_prefix, "/etc", "/usr", "/sys/fs/cgroup"]
    nested = subprocess.run(["unshare", "-Urm", "sh", "-c", f"mount -o remount,bind,rw {folders[0]}"],
                            capture_output=True)
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
            "CapEff": status["CapEff"].strip(), "CapBnd": status["CapBnd"].strip(),
            "remount": {path: _remount(path) for path in folders},
            "written": [path for path in folders if _writable(path)],
            "nested_remount": nested.returncode,
            "cgroups": os.listdir("/sys/fs/cgroup"), "dev": sorted(os.listdir("/dev")),
            "processes": [p for p in os.listdir("/proc") if p.isdigit()]}
"""


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap does not work here")
def test_the_worker_holds_no_capability_and_is_not_root_whoever_starts_the_grader(tmp_path):
    with make_sandbox(tmp_path, PRIVILEGES, level=BUBBLEWRAP) as box:
        seen = box.call("look")
    assert seen["CapEff"] == "0000000000000000", seen
    assert seen["uid"] != 0 and seen["euid"] != 0 and seen["gid"] != 0 and 0 not in seen["groups"]
    if os.geteuid() == 0:
        assert seen["uid"] == 65534 and seen["CapBnd"] == "0000000000000000"
    assert set(seen["remount"].values()) == {"EPERM"}, seen["remount"]
    assert seen["nested_remount"] != 0, "a new user namespace could remount a read-only folder"
    assert seen["written"] == []
    assert seen["cgroups"] == [], "the worker can see the cgroup tree"
    assert set(seen["dev"]) <= {"core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
                                "stdout", "tty", "urandom", "zero"}
    assert len(seen["processes"]) <= 4, "the worker sees processes beyond its own namespace"


FILLER = """
import os

def fill(folder):
    written = 0
    try:
        with open(os.path.join(folder, "fill"), "wb") as handle:
            while written < 256:
                handle.write(b"x" * 2**20)
                handle.flush()
                written += 1
    except OSError as exc:
        return written, exc.strerror
    return written, None

def places():
    return ["/tmp", "/dev/shm", os.path.expanduser("~"), os.environ["TMPDIR"], os.getcwd()]
"""


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap does not work here")
def test_every_writable_place_is_capped_from_the_rubric(tmp_path):
    with make_sandbox(tmp_path, FILLER, level=BUBBLEWRAP, limits=Limits(scratch_bytes=8 * 2**20)) as box:
        for place in box.call("places"):
            assert box.call("fill", place) == (8, "No space left on device"), place
        assert box.call("fill", "/dev")[1] == "Permission denied"


def test_each_start_gets_a_fresh_folder_and_no_planted_link_is_followed(tmp_path):
    # a plain process can write its own folder (under bubblewrap it is read-only): the worst case
    victim = tmp_path / "victim"
    victim.mkdir()
    source = f"""
import os, posix

def swap_and_crash():
    folder = os.path.dirname(os.getcwd())
    os.rename(os.path.join(folder, "submission"), os.path.join(folder, "old"))
    os.symlink({str(victim)!r}, os.path.join(folder, "submission"))
    os.symlink({str(victim / 'model.keras')!r}, os.path.join(folder, "inputs", "model.keras"))
    posix._exit(3)

def plant(name):
    os.symlink({str(victim / 'planted')!r}, os.path.join(os.path.dirname(os.getcwd()), "inputs", name))

def where():
    return os.path.dirname(os.getcwd())

def given(path):
    return os.path.dirname(os.getcwd()), os.path.exists(path)
"""
    model = tmp_path / "model.keras"
    model.write_bytes(b"the grader's model")
    with make_sandbox(tmp_path, source, name="hw3.py") as box:
        first = box.call("where")
        with pytest.raises(WorkerCrashed, match="status 3"):
            box.call("swap_and_crash")
        second = box.call("where")
        assert second != first and not os.path.exists(first)
        assert os.path.realpath(box.share_file(model)).startswith(second)
        box.call("plant", "other.keras")
        other = tmp_path / "other.keras"
        other.write_bytes(b"x")
        with pytest.raises(WorkerCrashed, match="shares other.keras"):
            box.share_file(other)
        shared = box.share_file(other)
        folder, exists = box.call("given", shared)
        assert shared.startswith(folder) and exists
    assert list(victim.iterdir()) == []
