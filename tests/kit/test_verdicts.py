"""Same verdicts: the kit grades every sample with goldens as the full grader's self-check does at the public seed.

For each sample whose goldens cover the kit's questions (the hostile ones included, under their goldens'
rubric), the installed kit, alone, grades it as `hw3check` does; every check must have its golden status
(the full grader's self-check, which tests/test_samples.py and tests/sandbox/test_attacks.py hold to them),
except the checks of an answer that does not depend on the seed: the kit marks those as checked in the TA's
grading (skipped, out of its total), or fails them as the full grader does when their form is wrong. The
scores follow: the golden's, less the points of the checks the kit leaves to the TA.
"""

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders.core.trusted import CHECKED_BY_TA
from graders.harness.checks import TA_ONLY
from graders.questions import BY_ID
from tests.grading import golden_samples, load_golden, sample_path, write_rubric

pytestmark = pytest.mark.slow  # grades every sample (two at a time) with the installed kit
DRIVER = Path(__file__).with_name("grade_in_kit.py")


def answer_check(check_id: str) -> bool:
    """Whether `check_id` checks a seed-independent answer (its question's declared `answer_checks`)."""
    question, _, local = check_id.partition(".")
    return any(fnmatch.fnmatchcase(local, pattern) for pattern in BY_ID[question].answer_checks)


def requests_for(kit_questions, out: Path) -> list[tuple[str, dict, dict]]:
    found = []
    for sample in golden_samples():
        goldens, options = load_golden(sample)
        questions = sorted(set(goldens) & set(kit_questions))
        if not questions:
            continue
        folder = out / sample.replace("/", "_")
        folder.mkdir(parents=True)
        request = {"submission": str(sample_path(sample)), "questions": questions, "json": str(folder / "r.json"),
                   "report": str(folder / "r.html")}
        if options.get("rubric"):
            request["rubric"] = str(write_rubric(folder / "rubric.toml", options["rubric"]))
        found.append((sample, request, {q: goldens[q] for q in questions}))
    return found


def test_the_kit_gives_the_full_graders_verdicts_on_every_sample(kit, kit_questions, tmp_path):
    requests = requests_for(kit_questions, tmp_path)
    assert len(requests) >= 40, "every sample with goldens of q4 or q5, the hostile ones included"
    halves = [requests[0::2], requests[1::2]]
    processes = []
    for number, half in enumerate(halves):
        listing = tmp_path / f"requests-{number}.json"
        listing.write_text(json.dumps([request for _, request, _ in half]))
        processes.append(subprocess.Popen([sys.executable, str(DRIVER), str(listing)], cwd=tmp_path, env=kit.env,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [process.communicate(timeout=1800)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), "\n".join(output[-3000:] for output in outputs)
    differences = [difference for sample, request, goldens in requests
                   for difference in compare(sample, json.loads(Path(request["json"]).read_text()), goldens)]
    assert not differences, "\n".join(differences)


def compare(sample: str, result: dict, goldens: dict) -> list[str]:
    """How the kit's result differs from the goldens, beyond the checks it leaves to the TA."""
    differences = []
    assert result.get("kit", {}).get("public_checks"), f"{sample}: not graded by the kit"
    for question in result["questions"]:
        golden, by_ta_points, by_ta_passed = goldens[question["id"]], 0.0, 0.0
        for check in question["checks"]:
            expected = golden["checks"][check["id"]]
            if check["cause"] == CHECKED_BY_TA:
                if not answer_check(check["id"]) or check["message"] != TA_ONLY:
                    differences.append(f"{sample} {check['id']}: left to the TA, not a seed-independent answer")
                by_ta_points += check["max_score"]
                by_ta_passed += check["max_score"] if expected == "passed" else 0.0
            elif check["status"] != expected:
                differences.append(f"{sample} {check['id']}: the kit says {check['status']}, the grader {expected}: "
                                   f"{check['message'][:200]}")
        expected_scores = (golden["score"] - by_ta_passed, golden["max_score"] - by_ta_points)
        if (question["score"], question["max_score"]) != expected_scores:
            differences.append(f"{sample} {question['id']}: {question['score']}/{question['max_score']} vs golden "
                               f"{golden['score']}/{golden['max_score']} less {by_ta_passed}/{by_ta_points} by the TA")
        if set(golden["checks"]) != {check["id"] for check in question["checks"]}:
            differences.append(f"{sample} {question['id']}: other checks than the golden's")
    return differences


def test_the_reference_graded_by_the_kit_loses_no_check(kit, kit_questions, tmp_path):
    report = tmp_path / "report.html"
    run = kit.run("-m", "hw3check.cli", str(sample_path("reference")), "--questions", *kit_questions,
                  "--json", str(tmp_path / "r.json"), "--report", str(report), cwd=tmp_path)
    result = json.loads((tmp_path / "r.json").read_text())
    assert run.returncode == 0, run.stdout[-3000:]
    statuses = {check["status"] for question in result["questions"] for check in question["checks"]}
    assert statuses == {"passed", "skipped"} and result["score"] == result["max_score"] > 0
    assert all(check["cause"] == CHECKED_BY_TA or check["hidden"] for q in result["questions"]
               for check in q["checks"] if check["status"] == "skipped")  # hidden: the TA's grading only
    assert any(check["cause"] == CHECKED_BY_TA for q in result["questions"] for check in q["checks"])
