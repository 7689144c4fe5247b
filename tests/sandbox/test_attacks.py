"""The attack suite: every hostile sample under submissions/malicious/ is graded under bubblewrap.

Each must end the same way: the grader survives; the attacked checks score 0 with a clear
message while the submission's other checks are still graded (its golden); nothing is
written outside the sandbox's temporary folder (sentinels, the project tree's hashes); another
grading's cgroup keeps its limits; no process is left running. CI runs it as root, the case
that matters most (Gradescope, Docker): the worker must still be unprivileged.
"""

import hashlib
import json
import os
import socket
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from graders.sandbox.cgroup import WorkerCgroup
from graders.sandbox.isolation import bubblewrap_works
from tests.grading import PROJECT, assert_matches_golden, golden_samples, load_golden, run_grader, sample_path

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not bubblewrap_works(), reason="the attack suite needs bubblewrap (.ci/run installs it)")]

ATTACKS = [sample for sample in golden_samples() if sample.startswith("malicious/")]
SENTINELS = [Path("/tmp/hw3-pwned"), Path("/tmp/hw3-pwned-pickle"), Path("/tmp/results.json"), Path("/work/hw3-pwned"),
             Path("/root/hw3-pwned"), Path("/hw3-pwned"), PROJECT / "results.json", PROJECT / "hw3-fill-0"]
LISTEN_PORT = 47391  # the port submissions/malicious/network_loopback tries to reach
# What a successful attack would leave in a file of the project (payloads and planted files carry them).
MARKERS = (b"hw3-attack", b"hw3-pwned", b"hw3_attack_payload")
UNHASHED = {".git", ".venv", "__pycache__", "out", ".hypothesis", ".pytest_cache"}
BYSTANDER_LIMITS = {"max_processes": 77, "memory_bytes": 3 * 2**30 + 4096 * 7}


def project_hashes() -> dict[str, tuple[str, bool]]:
    """{path: (sha256, whether it carries an attack's mark)} of every file of the project tree."""
    hashes = {}
    for root, dirs, files in os.walk(PROJECT):
        dirs[:] = [d for d in dirs if d not in UNHASHED]
        for name in files:
            path = Path(root, name)
            try:
                data = f"link:{os.readlink(path)}".encode() if path.is_symlink() else path.read_bytes()
            except OSError:
                continue
            hashes[str(path.relative_to(PROJECT))] = (hashlib.sha256(data).hexdigest(),
                                                      any(mark in data for mark in MARKERS))
    return hashes


def planted(before: dict, after: dict) -> list[str]:
    """Files of the project an attack created or changed: marked now and not before, or new links.

    People may edit this checkout while the suite runs, so a change alone is not an attack; an
    attack's payload always carries one of MARKERS (in CI nothing changes at all).
    """
    return [name for name, (_, marked) in after.items()
            if (marked and not before.get(name, ("", False))[1]) or (name not in before and (PROJECT / name).is_symlink())]


@pytest.fixture
def bystander():
    """Another grading's worker cgroup, as a concurrent grading would have it (None without cgroups)."""
    cgroup = WorkerCgroup.create(**BYSTANDER_LIMITS)
    yield cgroup
    if cgroup is not None:
        cgroup.remove()


def cgroups_work() -> bool:
    cgroup = WorkerCgroup.create(max_processes=8, memory_bytes=2**30)
    if cgroup is None:
        return False
    cgroup.remove()
    return True


def leftovers(scratch: Path) -> dict:
    """What an attack could leave behind: sandbox folders, cgroups, marked processes, sentinels."""
    marked = subprocess.run(["pgrep", "-f", "hw3-attack"], capture_output=True, text=True).stdout.split()
    cgroups = [p for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/memory"),
                              Path("/sys/fs/cgroup/cpu"))
               if root.exists() for p in root.glob("hw3grader-*") if not pid_alive(int(p.name.split("-")[1]))]
    return {"sandboxes": list(scratch.glob("hw3sandbox-*")), "cgroups": cgroups, "processes": marked,
            "sentinels": [path for path in SENTINELS if path.exists()]}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def loopback_listener():
    """A TCP listener on 127.0.0.1 that records whether anything connected."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", LISTEN_PORT))
    server.listen()
    server.settimeout(0.5)
    connections, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(server.accept()[0].recv(100))
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield connections
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_contained(attack, tmp_path, loopback_listener, bystander):
    if attack.endswith(("fork_bomb", "memory_over_cap")) and bystander is None:
        pytest.skip("this attack is contained only by a cgroup, and this machine allows none")
    scratch = tmp_path / "tmp"  # the grader's temporary folders, sandboxes included, go here
    scratch.mkdir()
    goldens, options = load_golden(attack)
    before = project_hashes()
    result, process = run_grader(sample_path(attack), tmp_path, questions=sorted(goldens),
                                 rubric_overrides=options.get("rubric"), env={"TMPDIR": str(scratch)})
    assert result is not None, f"the grader did not survive:\n{process.output[-6000:]}"
    assert result["isolation"].startswith(("bubblewrap", "none")), "none: the loader refused it, nothing ran"
    assert_matches_golden(result, goldens)
    after = leftovers(scratch)
    assert after["sandboxes"] == [], "a sandbox folder was left behind"
    assert after["cgroups"] == [] and after["processes"] == [], f"left behind: {after}"
    assert after["sentinels"] == [], f"written outside the sandbox: {after['sentinels']}"
    assert loopback_listener == [], "the sandbox reached a port of the host"
    assert planted(before, project_hashes()) == [], "the attack wrote into the project"
    if bystander is not None:
        assert bystander.pids() == set() and bystander.memory_limit() == BYSTANDER_LIMITS["memory_bytes"], \
            "another grading's cgroup was changed"
        assert read_limit(bystander, "pids.max") == str(BYSTANDER_LIMITS["max_processes"])
    for check in EXTRA_CHECKS.get(attack, ()):
        check(result, process, tmp_path)


def read_limit(cgroup: WorkerCgroup, key: str) -> str | None:
    for folder in cgroup.folders:
        if (folder / key).exists():
            return (folder / key).read_text().strip()
    return None


def one_timeout_per_function(result: dict, *_) -> None:
    """A hang costs one timeout: the first check of each looping function waits, the others fail at once."""
    checks = [check for question in result["questions"] for check in question["checks"]]
    waited = [check["id"] for check in checks if check.get("duration_s", 0) > 2]
    assert waited == ["q5.conv.valid", "q5.pool.default_stride", "q5.same_padding.stride1"], waited
    assert result["worker"]["starts"] == 4  # the first start, and one after each of the three timeouts


def bounded_everywhere(result: dict, process, out: Path) -> None:
    """A 50 MB message reaches neither the results JSON, nor the terminal, nor the report whole."""
    assert len(json.dumps(result)) < 200_000
    assert all(len(check["message"]) < 10_000 for question in result["questions"] for check in question["checks"])
    assert len(process.output) < 100_000
    assert (out / "report.html").stat().st_size < 2_000_000


def wrong_answers_not_grader_errors(result: dict, process, _) -> None:
    """10**400 where a number is expected is a wrong answer (exit code 1), never a grader error (3)."""
    assert {c["status"] for q in result["questions"] for c in q["checks"]} <= {"passed", "failed"}
    assert process.exit_code == 1


def one_budget_per_function(result: dict, *_) -> None:
    """Once a function's total is spent its remaining calls are not made: the grading takes about the totals."""
    q5 = sum(c.get("duration_s", 0) for q in result["questions"] for c in q["checks"])
    assert q5 < 3 * (4 + 5) + 15, q5  # three functions, each its 4 s total (and at most one call past it)


EXTRA_CHECKS = {"malicious/q5_loops_forever": [one_timeout_per_function],
                "malicious/huge_exception_message": [bounded_everywhere],
                "malicious/huge_numbers": [wrong_answers_not_grader_errors],
                "malicious/slow_every_call": [one_budget_per_function]}


def grade_broken(path: Path, tmp_path: Path) -> dict:
    result, process = run_grader(path, tmp_path / "out", questions=["q4"])
    assert result is not None, process.output[-3000:]
    return result


def test_a_2_gb_notebook_is_refused_without_reading_it(tmp_path):
    notebook = tmp_path / "hw3.ipynb"
    with open(notebook, "wb") as handle:
        handle.truncate(2 * 2**30)  # sparse: instant, and no disk used
    result = grade_broken(notebook, tmp_path)
    assert result["score"] == 0 and "limit" in result["load"]["error"]


def test_a_zip_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw3.py", "#" * (300 * 2**20))
    result = grade_broken(bomb, tmp_path)
    assert result["score"] == 0 and "hw3.py" in result["load"]["error"]


def test_zip_path_traversal_is_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../hw3-escaped.py", "def dense_params(a, b):\n    return a * b + b\n")
    result = grade_broken(evil, tmp_path)
    assert result["score"] == 0 and "hw3-escaped.py" in result["load"]["error"]
    assert not (tmp_path.parent / "hw3-escaped.py").exists()


def test_non_utf8_file_names_do_not_break_grading(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    name = os.fsdecode(b"h\xe9\xff.py")
    (folder / name).write_text("def dense_params(in_features, units):\n    return in_features * units + units\n")
    result = grade_broken(folder, tmp_path)
    checks = {c["id"]: c["status"] for c in result["questions"][0]["checks"]}
    assert checks["q4.dense"] == "passed"
