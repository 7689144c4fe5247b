"""Run the graders on a submission in a child pytest process, as a student or a TA would.

Shared by the harness's tests and `update_goldens.py`. A child process keeps each grading
run independent of the test session (its own plugin state, imports and sandbox).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from graders.core.options import GradingOptions
from graders.core.rubric import DEFAULT_RUBRIC
from graders.harness.run import grade_in_subprocess

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "submissions"
REFERENCE = PROJECT / "reference"  # written to the submission contract: graded as the reference sample
GOLDEN = PROJECT / "tests" / "golden"


def run_grader(submission, out_dir: Path, *, questions=None, args=(), rubric_overrides=None, timeout=900, env=None,
               **options):
    """Grade `submission` with `pytest graders` in a child process; return (results JSON, Graded).

    Args:
        args: extra pytest arguments (e.g. ["--hidden"]).
        rubric_overrides: {key: value} replacing `key = ...` lines of the default rubric
            (keys must be unique in the file, e.g. call_timeout_s).
        options: further GradingOptions fields (seed, select, isolation, ...).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if rubric_overrides:
        options["rubric"] = str(write_rubric(out_dir / "rubric.toml", rubric_overrides))
    grading = GradingOptions(submission=str(submission), questions=tuple(questions or ()),
                             extra_args=("-q", *args), **options).with_outputs(out_dir)
    graded = grade_in_subprocess(grading, timeout_s=timeout, env=env)
    return graded.data, graded


def write_rubric(path: Path, overrides: dict) -> Path:
    text = DEFAULT_RUBRIC.read_text(encoding="utf-8")
    for key, value in overrides.items():
        text, count = re.subn(rf"(?m)^{re.escape(key)} = [^#\n]*", f"{key} = {value} ", text)
        assert count == 1, f"rubric key {key!r} found {count} times"
    path.write_text(text, encoding="utf-8")
    return path


def sample_path(sample: str) -> Path:
    """The submission a golden's sample name stands for ("reference" is the reference/ folder itself)."""
    return REFERENCE if sample == "reference" else SAMPLES / sample


def golden_samples() -> list[str]:
    """Every sample (path relative to submissions/) that has golden results."""
    return sorted({str(path.parent.relative_to(GOLDEN)) for path in GOLDEN.rglob("q*.json")})


def load_golden(sample: str) -> tuple[dict, dict]:
    """({question: golden}, run options) of `sample`."""
    folder = GOLDEN / sample
    goldens = {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("q*.json"))}
    options_file = folder / "run.json"
    options = json.loads(options_file.read_text()) if options_file.exists() else {}
    return goldens, options


def assert_matches_golden(result: dict, goldens: dict) -> None:
    """Each question's scores and statuses equal the golden; failed checks' messages contain its fragments."""
    messages = {check["id"]: check["message"] for q in result["questions"] for check in q["checks"]}
    for question, golden in goldens.items():
        assert question_summary(result, question) == {k: golden[k] for k in ("score", "max_score", "checks")}
        for check_id, fragments in golden.get("messages", {}).items():
            for fragment in [fragments] if isinstance(fragments, str) else fragments:
                assert fragment in messages[check_id], f"{check_id}: {fragment!r} not in {messages[check_id]!r}"


def question_summary(result: dict, question: str) -> dict:
    """What a golden pins of one question: its score, max and every check's status."""
    for entry in result["questions"]:
        if entry["id"] == question:
            return {"score": entry["score"], "max_score": entry["max_score"],
                    "checks": {check["id"]: check["status"] for check in entry["checks"]}}
    raise KeyError(f"question {question} missing from the result")
