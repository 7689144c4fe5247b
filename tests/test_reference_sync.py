"""The sample reference submission is the trusted reference, byte for byte."""

import pytest

from tests.grading import PROJECT, SAMPLES

REFERENCE_FILES = sorted((PROJECT / "reference").glob("q*.py"))


@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda p: p.name)
def test_sample_reference_matches_reference(path):
    copy = SAMPLES / "reference" / path.name
    assert copy.exists(), f"copy {path.name} into submissions/reference/"
    assert copy.read_bytes() == path.read_bytes(), f"submissions/reference/{path.name} differs from reference/"
