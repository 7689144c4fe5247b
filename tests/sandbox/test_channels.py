"""No channel between gradings: a writer leaves a message in every kernel object and writable place two
workers could share, and a reader graded after it (or beside it, in a batch) finds none of it.

Under bubblewrap every worker has its own IPC, network, PID and mount namespaces and fresh tmpfs, and
the seccomp filter refuses keyrings, SysV IPC and POSIX message queues. A plain process (where
bubblewrap cannot run) still has the filter: no keyring, no IPC object, no message queue; but it
shares the machine's /tmp, /dev/shm, /var/tmp and abstract Unix sockets (README, Security).
"""

import json
import shutil
from pathlib import Path

import pytest

from graders.commands.batch import grade_class
from graders.core.errors import StudentException
from graders.core.paths import PROJECT_ROOT
from graders.sandbox.isolation import BUBBLEWRAP, bubblewrap_works
from tests.sandbox.workers import LEVELS, make_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")]

SAMPLES = PROJECT_ROOT / "submissions" / "malicious"
WRITER, READER = SAMPLES / "channel_writer", SAMPLES / "channel_reader"
HOST_PLACES = ("/tmp", "/dev/shm", "/var/tmp")  # the machine's own, shared by plain processes


def message_of(box) -> str:
    with pytest.raises(StudentException) as failure:
        box.call("conv2d_params", 3, 1, 1)
    return str(failure.value)


@pytest.fixture
def host_cleanup():
    yield
    for folder in HOST_PLACES:
        Path(folder, "hw3chan").unlink(missing_ok=True)


@pytest.mark.parametrize("level", LEVELS)
def test_a_reader_graded_after_a_writer_finds_nothing(tmp_path, level, host_cleanup):
    (tmp_path / "w").mkdir()
    (tmp_path / "r").mkdir()
    with make_sandbox(tmp_path / "w", (WRITER / "hw3.py").read_text(), level=level) as writer:
        stored = message_of(writer)
    assert "kernel objects stored: []" in stored, stored  # the filter refused every keyring and IPC object
    with make_sandbox(tmp_path / "r", (READER / "hw3.py").read_text(), level=level) as reader:
        found = message_of(reader)
    if level == BUBBLEWRAP:
        assert "channels found: []" in found, found
    else:  # a plain process: only the machine's shared folders (a known limit), never a kernel object
        listed = found.split("channels found: ")[1].split("\n")[0]
        assert set(eval(listed)) <= {f"file:{folder}" for folder in HOST_PLACES}, found  # noqa: S307 - a list


@pytest.mark.skipif(not bubblewrap_works(), reason="a batch run by root needs bubblewrap")
@pytest.mark.parametrize("workers", [1, 2])
def test_in_a_batch_a_reader_finds_nothing_of_a_writer_before_or_beside_it(tmp_path, workers, host_cleanup):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    shutil.copytree(WRITER, class_dir / "1_writer")
    shutil.copytree(READER, class_dir / "2_reader")
    out = tmp_path / "out"
    grade_class(class_dir=class_dir, out=out, workers=workers, questions=["q4"], similarity=False,
                progress=lambda student: None)
    messages = {student: {c["id"]: c["message"] for q in json.loads((out / "students" / student / "results.json")
                                                                    .read_text())["questions"] for c in q["checks"]}
                for student in ("1", "2")}
    assert "kernel objects stored: []" in messages["1"]["q4.conv2d"], messages["1"]["q4.conv2d"]
    assert "channels found: []" in messages["2"]["q4.conv2d"], messages["2"]["q4.conv2d"]
