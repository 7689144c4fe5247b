"""Judging checks from their observations: the same path for a grading and for a rescore.

A grading's plugin judges each check right after it observed (`verdict_of`); `rejudge` judges a
stored result again under another rubric. Both go through `judge_check`, so a rescore gives what a
fresh grading under the new rubric gives, as long as the new rubric changes no setting that checks
observe (`observation_changes` lists those, and the checks they affect).
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace

from graders.core import judging
from graders.core.errors import HarnessError
from graders.core.judging import Verdict
from graders.core.results import ERROR, PASSED, SKIPPED, CheckResult, GradingResult, QuestionResult
from graders.core.rubric import Rubric, observed_by
from graders.questions import BY_ID

HIDDEN_SKIP = "hidden check: it runs in the TA's grading only"
SANDBOX = "sandbox"  # the rubric section every observation depends on (timeouts, limits)


def judge_check(check_id: str, observations: dict, rubric: Rubric) -> Verdict:
    """The verdict of `check_id` on its stored `observations` under `rubric`.

    Raises:
        HarnessError: a check of no declared question, or a question without judges.
    """
    question = BY_ID.get(check_id.partition(".")[0])
    if question is None or question.judges is None:
        if judging.ERROR in observations:  # a failure while observing needs no judge
            return judging.judge(judging.Judges("?"), observations, None)
        raise HarnessError(f"{check_id}: its question declares no judges")
    settings = rubric.section(question.id, question.settings) if question.settings else None
    return judging.judge(question.judges, observations, settings)


def rejudge(result: GradingResult, rubric: Rubric) -> GradingResult:
    """`result` judged again under `rubric` from the observations it stored (no student code runs).

    Checks that were errors of the grader stay errors; skipped checks stay skipped; a check that the
    new rubric hides is skipped in a self-check's result, as a fresh self-check would skip it.

    Raises:
        HarnessError: a check the rubric gives no points, or one that must be observed again
            (call `observation_changes` first to refuse such a rubric with its reasons).
    """
    questions = []
    for question in result.questions:
        checks = [_rejudged(check, rubric, hidden_run=result.hidden) for check in question.checks]
        title = rubric.title(question.id, default=BY_ID[question.id].title if question.id in BY_ID else None)
        questions.append(QuestionResult(question.id, title, checks))
    return replace(result, questions=questions, rubric=rubric.snapshot())


def _rejudged(check: CheckResult, rubric: Rubric, *, hidden_run: bool) -> CheckResult:
    rule = rubric.rule(check.id)
    check = replace(check, max_score=rule.points, hidden=rule.hidden)
    if rule.hidden and not hidden_run:
        return replace(check, status=SKIPPED, category=SKIPPED, score=0.0, message=HIDDEN_SKIP, cause="", judged={})
    if check.status in (ERROR, SKIPPED) or not check.observations:
        if check.status == SKIPPED and check.message == HIDDEN_SKIP and not rule.hidden:
            raise HarnessError(f"{check.id} was hidden when it was graded: it has no observations to judge")
        return replace(check, score=rule.points if check.status == PASSED else 0.0)
    return with_verdict(check, judge_check(check.id, check.observations, rubric), rule.points)


def with_verdict(check: CheckResult, verdict: Verdict, points: float) -> CheckResult:
    """`check` decided by `verdict`: its status, score, message, cause, category and judged details."""
    judged = {**verdict.details, **({"diagnosis": verdict.diagnosis} if verdict.diagnosis else {})}
    return replace(check, status=verdict.status, score=points if verdict.status == PASSED else 0.0,
                   message=verdict.message, cause=verdict.cause, category=verdict.category or verdict.status,
                   judged=judged)


def observation_changes(result: GradingResult, rubric: Rubric) -> dict[str, list[str]]:
    """{check id: why it must be observed again} for the checks of `result` that `rubric` cannot rejudge.

    A change of a setting declared `observed(...)`, of any sandbox limit or time budget, or a check
    that was skipped as hidden and is visible in the new rubric, needs the check run again.
    """
    old = result.rubric.get("data") or {}
    reasons: dict[str, list[str]] = {}
    changed_sandbox = _changed_keys(old.get(SANDBOX, {}), rubric.data.get(SANDBOX, {}))
    for question in result.questions:
        declared = BY_ID.get(question.id)
        changed = _changed_keys(_settings_of(old.get(question.id, {})), _settings_of(rubric.data.get(question.id, {})))
        for check in question.checks:
            local = check.id.partition(".")[2]
            why = [f"[{SANDBOX}] {key} changed" for key in changed_sandbox]
            for key in changed:
                patterns = observed_by(declared.settings, key) if declared and declared.settings else ("*",)
                if any(fnmatch.fnmatchcase(local, pattern) for pattern in patterns):
                    why.append(f"[{question.id}] {key} changed: it changes what this check observes")
            if check.status == SKIPPED and check.message == HIDDEN_SKIP and not rubric.rule(check.id).hidden:
                why.append("it was hidden when graded (not run) and the rubric now shows it")
            if why:
                reasons[check.id] = why
    return reasons


def _settings_of(section: dict) -> dict:
    return {key: value for key, value in section.items() if key not in ("title", "checks")}


def _changed_keys(old: dict, new: dict) -> list[str]:
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
