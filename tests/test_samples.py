"""Every sample submission is graded as a student would, and must match its golden results.

A golden (tests/golden/<sample>/<question>.json) pins each check's status and the scores,
plus substrings that a failed check's message must contain, so a wrong answer loses exactly
its own checks with a message that names the mistake.

The selected samples are graded two at a time (each in its own grading process and worker, as a
batch with two workers grades them): much of a grading is one core's work (starting Python, pytest
and the worker, importing TensorFlow), so the pair keeps both cores of a CI machine busy.
"""

from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.grading import assert_matches_golden, golden_samples, load_golden, run_grader, sample_path

pytestmark = pytest.mark.slow  # grades in a subprocess, starts workers or trains

# The hostile samples run in tests/sandbox/test_attacks.py, with their containment checks.
SAMPLES_WITH_GOLDENS = [sample for sample in golden_samples() if not sample.startswith("malicious/")]
GRADINGS_AT_ONCE = 2


@pytest.fixture(scope="module")
def gradings(request, tmp_path_factory):
    """{sample: a Future of (results JSON, Graded, output folder)} of every sample this run selected."""
    selected = [item.callspec.params["sample"] for item in request.session.items
                if item.originalname == "test_sample_matches_golden" and item.module is request.module]
    root = tmp_path_factory.mktemp("samples")

    def grade(sample: str):
        goldens, options = load_golden(sample)
        out = root / sample.replace("/", "_")
        result, process = run_grader(sample_path(sample), out, questions=sorted(goldens),
                                     rubric_overrides=options.get("rubric"))
        return result, process, out

    with ThreadPoolExecutor(GRADINGS_AT_ONCE) as pool:
        yield {sample: pool.submit(grade, sample) for sample in selected}
        pool.shutdown(cancel_futures=True)  # a stopped run (-x, Ctrl-C) grades no more


@pytest.mark.parametrize("sample", SAMPLES_WITH_GOLDENS)
def test_sample_matches_golden(sample, gradings: dict[str, Future]):
    goldens, _ = load_golden(sample)
    result, process, out = gradings[sample].result()
    assert result is not None, f"no results JSON written:\n{process.output[-6000:]}"
    assert (out / "report.html").exists()
    assert_matches_golden(result, goldens)
