"""Regenerate the golden results of sample submissions (run by a maintainer, not by CI).

    python -m tests.update_goldens typical_mistakes --questions q4 q5

Scores and statuses are rewritten; the hand-written "messages" (substrings each failed
check's message must contain) are kept. Review the diff before committing it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.grading import GOLDEN, load_golden, question_summary, run_grader, sample_path


def update(sample: str, questions: list[str]) -> None:
    _, options = load_golden(sample)
    with tempfile.TemporaryDirectory() as scratch:
        result, process = run_grader(sample_path(sample), Path(scratch), questions=questions,
                                     rubric_overrides=options.get("rubric"))
    if result is None:
        raise SystemExit(f"grading {sample} wrote no results:\n{process.output[-6000:]}")
    for question in questions:
        path = GOLDEN / sample / f"{question}.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        golden = {**question_summary(result, question), "messages": old.get("messages", {})}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(golden, indent=2) + "\n")
        print(f"{path.relative_to(GOLDEN.parent.parent)}: {golden['score']:g}/{golden['max_score']:g}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sample", help="a path under submissions/, e.g. typical_mistakes")
    parser.add_argument("--questions", nargs="+", required=True)
    arguments = parser.parse_args()
    update(arguments.sample, arguments.questions)
