"""Every sample submission is graded as a student would, and must match its golden results.

A golden (tests/golden/<sample>/<question>.json) pins each check's status and the scores,
plus substrings that a failed check's message must contain, so a wrong answer loses exactly
its own checks with a message that names the mistake.
"""

import pytest

from tests.grading import assert_matches_golden, golden_samples, load_golden, run_grader, sample_path

pytestmark = pytest.mark.slow  # grades in a subprocess, starts workers or trains

# The hostile samples run in tests/sandbox/test_attacks.py, with their containment checks.
SAMPLES_WITH_GOLDENS = [sample for sample in golden_samples() if not sample.startswith("malicious/")]


@pytest.mark.parametrize("sample", SAMPLES_WITH_GOLDENS)
def test_sample_matches_golden(sample, tmp_path):
    goldens, options = load_golden(sample)
    result, process = run_grader(sample_path(sample), tmp_path, questions=sorted(goldens),
                                 rubric_overrides=options.get("rubric"))
    assert result is not None, f"no results JSON written:\n{process.output[-6000:]}"
    assert (tmp_path / "report.html").exists()
    assert_matches_golden(result, goldens)
