"""Every sample submission is graded as a student would, and must match its golden results.

A golden (tests/golden/<sample>/<question>.json) pins each check's status and the scores,
plus substrings that a failed check's message must contain, so a wrong answer loses exactly
its own checks with a message that names the mistake.
"""

import pytest

from tests.grading import SAMPLES, golden_samples, load_golden, question_summary, run_grader


@pytest.mark.parametrize("sample", golden_samples())
def test_sample_matches_golden(sample, tmp_path):
    goldens, options = load_golden(sample)
    result, process = run_grader(SAMPLES / sample, tmp_path, questions=sorted(goldens),
                                 rubric_overrides=options.get("rubric"))
    assert result is not None, f"no results JSON written:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
    assert (tmp_path / "report.html").exists()
    messages = {check["id"]: check["message"] for q in result["questions"] for check in q["checks"]}
    for question, golden in goldens.items():
        assert question_summary(result, question) == {k: golden[k] for k in ("score", "max_score", "checks")}
        for check_id, fragments in golden.get("messages", {}).items():
            for fragment in [fragments] if isinstance(fragments, str) else fragments:
                assert fragment in messages[check_id], f"{check_id}: {fragment!r} not in {messages[check_id]!r}"
