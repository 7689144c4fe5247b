"""Worker slots (a batch's zygotes, graders/sandbox/zygotes.py and graders/inside/zygote.py): a worker forked
by a slot's zygote is confined as a fresh bubblewrap worker is, the next student of the same slot finds
nothing of the previous one, and a slot leaves nothing behind: not after its batch, not after SIGTERM.

All of it needs what CI has: root, bubblewrap and writable cgroups.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders.core.paths import PROJECT_ROOT
from graders.harness.student import HIDDEN_FROM_WORKER, StudentSandbox
from graders.sandbox import slots
from graders.sandbox.cgroup import CGROUP_ROOT, WorkerCgroup, remove_orphans
from graders.sandbox.isolation import BUBBLEWRAP, Limits, bubblewrap_works, running_as_root
from graders.sandbox.sandbox import SandboxConfig
from graders.sandbox.slots import SlotWorker
from graders.sandbox.zygotes import SlotPool
from graders.submission.loader import prepare_submission
from tests.grading import sample_path

STUDENTS = Path(__file__).parent / "slot_students"
HIDDEN = tuple(PROJECT_ROOT / folder for folder in HIDDEN_FROM_WORKER)
ZERO = "0000000000000000"


def slots_work() -> bool:
    if not (running_as_root() and bubblewrap_works()):
        return False
    cgroup = WorkerCgroup.create(max_processes=8, memory_bytes=2**30)
    if cgroup is not None:
        cgroup.remove()
    return cgroup is not None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(not slots_work(), reason="worker slots need root, bubblewrap "
                                                                            "and cgroups (as CI has)")]


@pytest.fixture(scope="module")
def pool():
    """Two slots, made as a batch makes them (default limits: the tests' sandboxes use them too)."""
    with SlotPool(2, limits=Limits(), hidden=list(HIDDEN)) as made:
        yield made


@pytest.fixture
def lend(pool):
    """`lend(i)`: this process's next workers are forked by slot i's zygote."""
    yield lambda index: slots.assign(pool.zygotes[index].slot)
    slots.assign(None)


def sandbox(folder: Path, source: str, **config) -> StudentSandbox:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hw3.py").write_text(source)
    return StudentSandbox(prepare_submission(folder / "hw3.py"), seed=7,
                          config=SandboxConfig(isolation=BUBBLEWRAP, hidden_paths=HIDDEN, **config))


def test_the_next_student_of_a_slot_finds_nothing_of_a_hostile_one(tmp_path, lend):
    lend(0)
    with sandbox(tmp_path / "hostile", (STUDENTS / "hostile.py").read_text()) as hostile:
        done = hostile.call("attack", timeout=120)
        assert hostile.starts == 1 and hostile._process is None, "the call left processes: its worker is gone"
    # The attack did what it could, so that finding nothing below means something.
    assert len(done["written"]) >= 5 and all(pid > 2 for pid in done["daemons"]), done
    assert done["memory"] > 100_000, "the memory scan finds a marker that is there"
    # ... and reached neither the zygote nor its init: it sees its init (1) and its own processes alone.
    assert (done["pid"], done["parent"]) == (2, 1) and set(done["processes"]) == {1, 2, *done["daemons"]}, done
    assert done["kernel"] == dict.fromkeys(done["kernel"], False), done["kernel"]
    assert {done[key] for key in ("parent_memory", "parent_environ", "signal_parent")} == {"PermissionError"}, done
    lend(0)
    with sandbox(tmp_path / "honest", (STUDENTS / "honest.py").read_text()) as honest:
        seen = honest.call("look", timeout=120)
        assert isinstance(honest._process, SlotWorker)
        assert honest.call("dense_params", 3, 4) == 16
    assert seen["files"] == [] and seen["unix_sockets"] == [] and not seen["abstract_socket"], seen
    assert {int(pid) for pid in seen["processes"]} == {1, 2}, seen["processes"]
    assert seen["sysv"] == {"shm": [], "sem": [], "msg": []} and not seen["keyring"]
    assert seen["environment"] == {}
    assert seen["memory"] < 16, "the hostile student's memory is in the honest one's"
    slots.assign(None)
    with sandbox(tmp_path / "fresh", (STUDENTS / "honest.py").read_text()) as fresh:  # a fresh bubblewrap worker
        alone = fresh.call("look", timeout=120)
        assert not isinstance(fresh._process, SlotWorker)
    assert {**seen, "processes": set(seen["processes"]), "memory": 0} == \
        {**alone, "processes": set(alone["processes"]), "memory": 0}, "graded otherwise than by a fresh worker"


CONFINEMENT = """
import os, socket

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    return {key: value.strip() for key, value in fields.items()}

def look():
    mine = status()
    init = dict(line.split(":", 1) for line in open("/proc/1/status") if ":" in line)
    return {"pid": os.getpid(), "parent": os.getppid(), "uid": [os.getuid(), os.geteuid(), os.getgid()],
            "groups": os.getgroups(), "status": {k: mine[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
            "CapAmb", "NoNewPrivs", "Seccomp", "NSpid")}, "init": {k: init[k].strip() for k in ("Uid", "CapEff",
            "CapBnd", "CapPrm")}, "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "sid": os.getsid(0), "hostname": socket.gethostname(),
            "writable": [root for root, dirs, _ in os.walk("/") if not root.startswith(("/proc", "/sys"))
                         and os.access(root, os.W_OK)],
            "readable": {root: len(dirs) + len(files) for root, dirs, files in os.walk("/")
                         if not root.startswith(("/proc", "/sys"))},
            "dev": sorted(os.listdir("/dev")), "limits": open("/proc/self/limits").read(),
            "cwd": os.getcwd(), "home": os.environ["HOME"], "tmpdir": os.environ["TMPDIR"]}

def hold():
    import time
    time.sleep(30)
"""


def test_a_slot_worker_is_confined_as_a_fresh_bubblewrap_worker(tmp_path, lend):
    with sandbox(tmp_path / "fresh", CONFINEMENT) as fresh:
        alone = fresh.call("look", timeout=60)
        folder = str(fresh._seen_at)
    lend(0)
    with sandbox(tmp_path / "slot", CONFINEMENT) as boxed:
        forked = boxed.call("look", timeout=60)
        assert isinstance(boxed._process, SlotWorker)
        seen_at = str(boxed._seen_at)
    assert (forked["pid"], forked["parent"], forked["processes"]) == (2, 1, [1, 2]), forked
    assert forked["uid"] == [65534] * 3 and forked["groups"] == []
    assert forked["status"] == {"CapInh": ZERO, "CapPrm": ZERO, "CapEff": ZERO, "CapBnd": ZERO, "CapAmb": ZERO,
                                "NoNewPrivs": "1", "Seccomp": "2", "NSpid": "2"}
    # Its init (PID 1, as bubblewrap's) is root as bubblewrap's is, but holds no capability at all.
    assert forked["init"]["Uid"].split()[0] == "0" and forked["init"]["CapEff"] == ZERO == forked["init"]["CapBnd"]
    same = json.loads(json.dumps({**forked, "init": None}).replace(seen_at, "WORK"))
    # the slot's folder, one level above this grading's, holds this grading's folder alone
    assert same["readable"].pop(str(Path(seen_at).parent)) == 1
    assert same == json.loads(json.dumps({**alone, "init": None}).replace(folder, "WORK")), \
        "a slot's worker sees the machine otherwise than a fresh bubblewrap worker"


def test_workers_of_slots_see_neither_each_other_nor_a_zygote(tmp_path, lend):
    started = []
    for index, name in ((0, "a"), (1, "b"), (0, "c")):  # c: the same slot as a, while a is busy
        lend(index)
        started.append(sandbox(tmp_path / name, CONFINEMENT))
        if name == "c":
            busy = threading.Thread(target=lambda: pytest.raises(Exception, started[0].call, "hold", timeout=60),
                                    daemon=True)
            busy.start()
        started[-1].call("look")
    try:
        views = [box.call("look") for box in started[1:]]
        assert started[0]._process.poll() is None, "the busy worker of the same slot is running"
        assert all(isinstance(box._process, SlotWorker) for box in started)
    finally:
        for box in started:
            box.close()
    for view in views:
        assert view["processes"] == [1, 2] and view["status"]["NSpid"] == "2", view


CRASHING = CONFINEMENT + """
def crash():
    import posix
    posix._exit(3)
"""


def zygote_state(zygote) -> dict:
    """The zygote process (PID 2 of its bubblewrap, in its slot's cgroup): its descriptors, threads, children."""
    pid = next(pid for pid in zygote.cgroup.pids() if namespace_pids(pid)[1:] == [2])
    children = [int(child) for child in os.listdir("/proc") if child.isdigit() and parent_of(int(child)) == pid]
    return {"fds": sorted(os.listdir(f"/proc/{pid}/fd")), "threads": len(os.listdir(f"/proc/{pid}/task")),
            "children": children}


def namespace_pids(pid: int) -> list[int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return [int(field) for field in status.split("NSpid:")[1].split("\n")[0].split()]


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_worker_that_ends_leaves_nothing_in_its_zygote(tmp_path, pool, lend):
    zygote = pool.zygotes[1]
    lend(1)
    with sandbox(tmp_path / "warm", CONFINEMENT) as box:
        box.call("look", timeout=120)  # the zygote has imported everything: its steady state
    assert wait_for(lambda: zygote_state(zygote)["children"] == [])
    before = zygote_state(zygote)
    with sandbox(tmp_path / "ends", CRASHING) as box:
        box.call("look")
        with pytest.raises(Exception, match="status 3"):
            box.call("crash")  # the worker exits
        box.call("look")  # a new one, forked again
        assert box.forked_starts == 2
    # killed with its sandbox: the zygote reaps its init and keeps nothing of it
    assert wait_for(lambda: zygote_state(zygote) == before), (zygote_state(zygote), before)
    assert before["threads"] == 1 and before["children"] == []


def processes_under(root: Path) -> list[int]:
    """Every process whose command line names the slot's folder: its bubblewrap, zygote, inits and workers."""
    found = subprocess.run(["pgrep", "-f", str(root)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def test_a_slot_and_its_workers_are_gone_when_its_pool_closes(tmp_path):
    made = SlotPool(1, limits=Limits(), hidden=list(HIDDEN))
    zygote = made.zygotes[0]
    root, cgroups = zygote.root, zygote.cgroup.folders
    slots.assign(zygote.slot)
    try:
        running = sandbox(tmp_path / "running", CONFINEMENT)
        running.call("look", timeout=120)
        worker_cgroup = running._cgroup
        assert processes_under(root) and worker_cgroup.pids()
        made.close()
    finally:
        slots.assign(None)
    assert wait_for(lambda: not processes_under(root)), processes_under(root)
    assert wait_for(lambda: not worker_cgroup.pids()), "a worker outlived its slot's zygote"
    assert not root.exists() and not any(folder.exists() for folder in cgroups)
    running.close()


@pytest.mark.parametrize("gone", ["zygote", "slot"])
def test_a_slot_that_cannot_start_a_worker_gives_way_to_a_fresh_one(tmp_path, gone, capfd):
    made = SlotPool(1, limits=Limits(), hidden=list(HIDDEN))
    zygote = made.zygotes[0]
    slots.assign(zygote.slot)
    try:
        if gone == "zygote":  # its process died: its socket refuses
            os.killpg(zygote.process.pid, signal.SIGKILL)
            zygote.cgroup.kill_all()
        else:  # the batch closed it: its folder and inbox are gone too
            made.close()
        with sandbox(tmp_path, CONFINEMENT) as box:
            seen = box.call("look", timeout=120)
            assert not isinstance(box._process, SlotWorker) and box.forked_starts == 0
            assert slots.assigned() is None, "a slot that failed once is not asked again"
        assert seen["uid"] == [65534] * 3 and seen["status"]["Seccomp"] == "2"
        assert "starting fresh workers instead" in capfd.readouterr().err
    finally:
        slots.assign(None)
        made.close()


def wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


BATCH = """
import sys
from graders.commands.batch import grade_class
if __name__ == "__main__":
    grade_class(class_dir=sys.argv[1], out=sys.argv[2], workers=1, questions=["q4"], similarity=False,
                progress=lambda student: None)
"""


def test_a_batch_stopped_by_sigterm_leaves_no_slot(tmp_path, short_tmp):
    scratch, class_dir = short_tmp, tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "1_hang.py").write_text((sample_path("malicious/sleep_forever") / "hw3.py").read_text())
    script = tmp_path / "batch.py"
    script.write_text(BATCH)
    batch = subprocess.Popen([sys.executable, str(script), str(class_dir), str(tmp_path / "out")], cwd=PROJECT_ROOT,
                             env={**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(PROJECT_ROOT)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_for(lambda: any(scratch.glob("*-slot-*/inbox/hw3sandbox-*")), 180), "no slot worker started"
        root = next(scratch.glob("*-slot-*"))
        time.sleep(2)  # the worker is loading or hanging in its call
        batch.send_signal(signal.SIGTERM)
        batch.wait(timeout=60)
        assert wait_for(lambda: not processes_under(root)), processes_under(root)
        assert not root.exists(), "the slot's folder outlived its batch"
        roots = [CGROUP_ROOT, *(CGROUP_ROOT / name for name in ("pids", "memory", "cpu"))]
        assert [path for base in roots for path in base.glob(f"hw3grader-{batch.pid}-*")] == []
    finally:
        try:
            os.killpg(batch.pid, signal.SIGKILL)  # the batch's own gradings (forked children) end with the test
        except ProcessLookupError:
            pass
        time.sleep(1)
        remove_orphans()
