"""The suite runs on two processes (`pytest tests -n 2`, README; pytest-xdist): the tests of one group below run on
one process, one after the other, and the groups go first (the longest work first, so neither process waits
for the other at the end); every other test is a unit of its own, given to whichever process is free."""

import shutil
import tempfile
from pathlib import Path

import pytest

# Each group: the folder or module whose tests must not share the machine with each other, by node id prefix.
GROUPS = {
    # One kit built and installed (a session fixture) for all its tests; its verdict test grades every sample.
    "kit": "tests/kit/",
    # The attack suite counts the machine's marked processes and cgroups, listens on a fixed loopback port,
    # and measures time budgets: one sandbox test at a time.
    "sandbox": "tests/sandbox/",
    # One module fixture grades every selected sample (as classes of a batch).
    "samples": "tests/test_samples.py",
}


def group_of(nodeid: str) -> str | None:
    return next((group for group, prefix in GROUPS.items() if nodeid.startswith(prefix)), None)


def pytest_collection_modifyitems(items):
    """The groups' tests first, in the order of GROUPS (a stable sort: each module's tests stay together)."""
    rank = {group: number for number, group in enumerate(GROUPS)}
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduling by scope, a scope being a group above or else the test itself (xdist's own
    `--dist loadgroup` reads marks that pytest 9.2's node ids no longer carry)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


@pytest.fixture
def short_tmp():
    """A scratch folder of a short path, for the TMPDIR of a batch: a Unix socket's path (the forkserver's, a
    worker slot's) holds at most 107 bytes, and pytest's folders are long (longer under xdist: popen-gwN/)."""
    folder = Path(tempfile.mkdtemp(prefix="hw3t-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
