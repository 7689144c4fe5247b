"""No fixed answer in anything a student sees: the expected value of an answer that does not depend on the seed
(a judge's details["answer"]) shows in a TA's hidden run's report only; never in a self-check's report, the kit's,
a notebook cell, or Gradescope's output (a hidden run's too: students see it). Seeded values may show."""

import json
import re

import pytest

from graders.core.isolation import Isolation
from graders.core.results import CheckResult, GradingResult, QuestionResult
from graders.core.trusted import CHECKED_BY_TA
from graders.harness.checks import TA_ONLY
from reports.cell import Note, render_cell, text_lines
from reports.gradescope import gradescope_json
from reports.render import render_report

ANSWERS = ("(124, 124, 32)", "51232", "(256, 256, 64)", "1792")


def row(number, label, answer, actual, wrong):
    status = "failed" if wrong else "passed"
    return CheckResult(f"q5.table.layer{number}", status, float(not wrong), 1.0,
                       "LAYER_TABLE row: the output shape (60, 60, 32) is wrong" if wrong else "",
                       details={"layer": label},
                       judged={"layer": label, "actual": actual, "answer": answer, "wrong_cells": wrong})


def result(*, hidden: bool, kit: dict | None = None, isolation: str = "bubblewrap+cgroup") -> GradingResult:
    q5 = [CheckResult("q5.conv.valid", "failed", 0.0, 1.0, "conv_output_size(size=28, kernel=5): expected 24, got 23"),
          row(1, "Conv(64, 3x3, s1, same)", [[256, 256, 64], 1792], [[256, 256, 64], 1792], []),
          row(2, "DilatedConv(32, 5x5, s2, d2, valid)", [[124, 124, 32], 51232], [[60, 60, 32], 51232], ["shape"])]
    q6 = [CheckResult("q6.params", "failed", 0.0, 1.0, "FC_BN_PARAMS['fc'] is wrong",
                      judged={"answer": {"fc": 9911, "bn_trainable": 7733}})]
    return GradingResult(submission="hw3.ipynb", seed=1234, hidden=hidden, isolation=Isolation.parse(isolation),
                         dataset={}, duration_s=1.0, questions=[QuestionResult("q5", "Shapes", q5),
                                                                QuestionResult("q6", "BatchNorm", q6)], kit=kit or {})


@pytest.mark.parametrize("hidden", [False, True])
def test_a_self_checks_report_marks_wrong_cells_without_their_expected_values(hidden):
    html = render_report(result(hidden=hidden))
    rows = dict(re.findall(r'data-layer-row="q5\.table\.layer(\d+)">(.*?)</tr>', html, re.S))
    assert '<td class="wrong">(60, 60, 32)</td>' in rows["2"] and '<td class="num right">51232</td>' in rows["2"]
    if hidden:  # the TA's grading: the expected cells beside the student's, and the answer's details
        assert "<td>(124, 124, 32)</td>" in rows["2"] and "9911" in html
    else:
        assert "(124, 124, 32)" not in html, "row 2's expected shape; row 1's cells are the student's own"
        assert "9911" not in html and "expected values are not shown" in html


def test_gradescope_never_shows_an_answer_not_even_in_a_hidden_run():
    for hidden in (False, True):
        text = json.dumps(gradescope_json(result(hidden=hidden)))
        assert "9911" not in text and "(124, 124, 32)" not in text and "[124, 124, 32]" not in text
        assert "expected 24, got 23" in text, "a seeded case may show its expected value"


def test_a_kits_report_says_public_checks_and_a_plain_process_plainly():
    kit = {"name": "hw3check", "version": "0.1.0+k1", "questions": ["q5"], "public_checks": True}
    graded = result(hidden=False, kit=kit, isolation="process (unconfined root)")
    graded.questions[0].checks.append(CheckResult("q5.table.layer3", "skipped", 0.0, 1.0, TA_ONLY,
                                                  cause=CHECKED_BY_TA))
    html = render_report(graded)
    assert 'id="public-checks"' in html and "hidden checks on a secret seed" in html and "the 1 answer" in html
    assert 'id="plain-process"' in html and 'id="isolation-warning"' not in html and 'id="unconfined-root"' not in html
    assert "TA&#39;s grading" in html and "9911" not in html
    cell = render_cell(graded, notes=[Note("warning", "saved file differs")], report="r.html")
    assert "Public checks only" in cell and "saved file differs" in cell and "9911" not in cell
    assert 'data-check="q5.table.layer3" data-status="skipped"' in cell and "(124, 124, 32)" not in cell
    lines = text_lines(graded, notes=[], report="r.html")
    assert any("TA's grading" in line and "q5.table.layer3" in line for line in lines)
    assert not [answer for answer in ANSWERS if answer in "\n".join(lines) + cell]


def test_a_tas_report_without_bubblewrap_still_warns():
    html = render_report(result(hidden=True, isolation="process (unconfined root)"))
    assert 'id="unconfined-root"' in html and 'id="public-checks"' not in html
