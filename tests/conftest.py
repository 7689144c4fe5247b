"""The suite runs on two processes (`pytest tests -n 2 --dist loadgroup`, README): tests that must not share the
machine with each other are kept on one of them, in order, by the group of their folder or module."""

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
GROUPS = {
    # The attack suite counts the machine's marked processes and cgroups, listens on a fixed loopback port,
    # and measures time budgets: one sandbox test at a time.
    "sandbox": TESTS / "sandbox",
    # One kit built and installed (a session fixture) for all its tests.
    "kit": TESTS / "kit",
    # One module fixture grades every selected sample (as classes of a batch).
    "samples": TESTS / "test_samples.py",
}


def pytest_collection_modifyitems(items):
    for item in items:
        path = Path(item.path)
        for group, where in GROUPS.items():
            if path == where or where in path.parents:
                item.add_marker(pytest.mark.xdist_group(group))
