"""Honest evaluation on a synthetic class: independent solutions in different styles and disguised copies.

Detection: every disguised copy scores above every independent pair of its question, and at or
above the rubric's threshold. False alarms: no independent pair reaches the threshold. Answers
too short to compare are never part of a match. The precision/recall table is printed (pytest -s).
"""

import pytest

from tests.similarity.evaluation import evaluate, table
from tests.similarity.synthetic import HAND, INDEPENDENT, TEXTBOOK, build_class

# Copies of these are too short to compare (the q3 minimal fix of the handed-out model, the one-line
# q4/q5 answers of typical_mistakes, q4's compact gates table): reported so, and never matched.
TOO_SHORT_ORIGINS = {"q3": {"reference", "minimal-fix"}, "q4": {"typical-mistakes", "gates-table"},
                     "q5": {"typical-mistakes"}}


def check(results):
    for result in results:
        assert result.below_independent == [], f"{result.disguise}: ranked below an independent pair"
        assert result.missed == [], f"{result.disguise}: below the threshold"
        assert result.false_alarms == [], f"{result.disguise}: independent solutions flagged"
        for entry in result.too_short:
            question, _, student = entry.partition(":")
            assert any(student.startswith(f"{question}-{origin}-") for origin in TOO_SHORT_ORIGINS[question]), entry


def test_structural_disguises(tmp_path, capsys):
    students = build_class(tmp_path / "class", automatic=False)
    kept = set(HAND.values()) | {INDEPENDENT, TEXTBOOK}
    results = evaluate(tmp_path / "class", [s for s in students if s.kind in kept], tmp_path / "work")
    with capsys.disabled():
        print("\n" + table(results, 0.5))
    assert {r.disguise for r in results} == set(HAND.values())
    check(results)
    assert all(r.comparable >= 4 for r in results)


@pytest.mark.slow  # ~15 s: nine reports over a class of about 170 generated submissions
def test_every_disguise(tmp_path, capsys):
    students = build_class(tmp_path / "class")
    results = evaluate(tmp_path / "class", students, tmp_path / "work")
    with capsys.disabled():
        print("\n" + table(results, 0.5))
    check(results)
    assert {r.disguise for r in results} >= {"renaming", "reordering", "re-commenting", "all three",
                                             "splitting a function", "inlining a helper", "loop style",
                                             "verbatim (notebook)", "rewritten (sample)"}
