"""A grading stopped by SIGTERM or SIGINT leaves nothing behind: its worker and everything the worker
started are killed, its cgroup and its sandbox folder removed (graders/sandbox/cleanup.py); a batch
stops a grading past its time limit the same way. What a grading killed with SIGKILL leaves, the next
one removes."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from graders.commands.batch import grade_class
from graders.core.options import GradingOptions
from graders.core.paths import PROJECT_ROOT
from graders.sandbox import workdir
from graders.sandbox.cgroup import CGROUP_ROOT
from tests.grading import sample_path

pytestmark = pytest.mark.slow

HANGING = sample_path("malicious/sleep_forever")


def cgroups_of(pid: int) -> list[Path]:
    roots = [CGROUP_ROOT, CGROUP_ROOT / "pids", CGROUP_ROOT / "memory", CGROUP_ROOT / "cpu"]
    return [path for root in roots if root.exists() for path in root.glob(f"hw3grader-{pid}-*")]


def wait_for(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_grading_stopped_by_a_signal_removes_its_sandbox(tmp_path, number):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    options = GradingOptions(submission=str(HANGING), questions=("q4",), extra_args=("-q",)).with_outputs(tmp_path)
    grading = subprocess.Popen([sys.executable, "-m", "pytest", *options.pytest_args()], cwd=PROJECT_ROOT,
                               env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: list(scratch.glob("hw3sandbox-*")) and cgroups_of(grading.pid)), "no worker started"
        time.sleep(2)  # the worker is loading or running the hanging call
        grading.send_signal(number)
        grading.wait(timeout=60)
    finally:
        grading.kill()
    assert list(scratch.glob("hw3sandbox-*")) == [], "the sandbox folder outlived its grading"
    assert cgroups_of(grading.pid) == [], "the worker's cgroup outlived its grading"


def test_a_batch_stops_a_grading_past_its_limit_without_leaving_its_sandbox(tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "1_hang.py").write_text((HANGING / "hw3.py").read_text())
    started = time.time()
    grade_class(class_dir=class_dir, out=tmp_path / "out", workers=1, questions=["q4"], timeout_s=10,
                similarity=False, progress=lambda student: None)
    result = json.loads((tmp_path / "out" / "students" / "1" / "results.json").read_text())
    assert "grading took longer than 10 s" in result["load"]["error"], result["load"]
    left = [folder for folder in Path(tempfile.gettempdir()).glob(f"{workdir.PREFIX}*")
            if folder.stat().st_mtime >= started and not alive(owner(folder))]
    assert left == [], "a stopped grading left its sandbox folder"


def test_the_folder_of_a_grading_killed_outright_is_removed_by_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f"{workdir.PREFIX}{int(dead.stdout)}-abcd1234"
    (orphan / "scratch").mkdir(parents=True)
    mine = tmp_path / f"{workdir.PREFIX}{os.getpid()}-efgh5678"
    mine.mkdir()
    workdir.remove_orphans()
    assert not orphan.exists() and mine.exists()


def owner(folder: Path) -> int:
    try:
        return int(folder.name[len(workdir.PREFIX):].split("-")[0])
    except ValueError:
        return os.getpid()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
