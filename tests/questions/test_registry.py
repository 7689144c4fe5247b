"""The question registry agrees with everything else that names a question.

For each declared question (graders/questions/qN/__init__.py): its folder, its grader module, its
reference module (every contract name, every handed-out function), its `[qN]` and `[qN.checks]`
rubric sections, the check ids its tests emit (each one has points, and every rubric key is
emitted by some test), its free-text and manual items (each has points in the rubric's [manual], and
every [manual] key is one), its section of the starter, its probe, and its reference golden. This list
is README's "Adding a question".
"""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib

import pytest

from graders.core.contract import definitions_in
from graders.core.options import GradingOptions, grader_modules
from graders.core.paths import GRADERS_DIR
from graders.core.rubric import DEFAULT_RUBRIC
from graders.harness.checks import CHECK_KEY
from graders.questions import QUESTIONS, Question
from graders.questions.starter import STARTER_TEXT
from tests.grading import GOLDEN, REFERENCE

PROBES = GRADERS_DIR / "inside" / "probes"


class _EmittedChecks:
    """A pytest plugin that records the check id of every collected grader test, by question."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session):
        for item in session.items:
            if CHECK_KEY in item.stash:
                self.ids.setdefault(item.module.__name__, []).append(item.stash[CHECK_KEY].id)


@pytest.fixture(scope="module")
def emitted() -> dict[str, list[str]]:
    """{grader module: the check ids its tests emit}, from pytest's own collection of graders/."""
    collector = _EmittedChecks()
    args = [*GradingOptions(submission=str(REFERENCE)).pytest_args(), "--collect-only", "-p", "no:terminal"]
    assert pytest.main(args, plugins=[collector]) == 0
    return collector.ids


def disagreements(questions: tuple[Question, ...], rubric: dict, starter: str, emitted: dict[str, list[str]]) -> list[str]:
    """Every way the registry, the rubric, the graders, the references and the starter disagree."""
    problems = []
    declared = [question.id for question in questions]
    if len(set(declared)) != len(declared):
        problems.append(f"a question is declared twice: {declared}")
    folders = sorted(p.name for p in (GRADERS_DIR / "questions").iterdir() if re.fullmatch(r"q\d+", p.name))
    if folders != sorted(declared):
        problems.append(f"question folders {folders} != declared questions {sorted(declared)}")
    graders = sorted(p.stem for p in GRADERS_DIR.glob("test_q*.py"))
    if graders != sorted(q.grader for q in questions):
        problems.append(f"grader modules {graders} != declared graders {sorted(q.grader for q in questions)}")
    tables = {name for name, table in rubric.items() if isinstance(table, dict) and "checks" in table}
    if tables != set(declared):
        problems.append(f"rubric sections with checks {sorted(tables)} != declared questions {sorted(declared)}")
    for question in questions:
        problems += _question_disagreements(question, rubric, starter, emitted.get(question.grader_module, []))
    items = [item for question in questions for item in (*question.free_text, *question.manual)]
    manual = rubric.get("manual") if isinstance(rubric.get("manual"), dict) else {}
    if sorted(manual) != sorted(items):
        problems.append(f"rubric [manual] items {sorted(manual)} != the questions' free-text and manual items "
                        f"{sorted(items)}")
    blocks = set(re.findall(r"^%%% stubs (q\d+)$", starter, re.M))
    if blocks - set(declared):
        problems.append(f"starter.md has stubs of undeclared questions {sorted(blocks - set(declared))}")
    return problems


def _question_disagreements(question: Question, rubric: dict, starter: str, ids: list[str]) -> list[str]:
    q, problems = question.id, []
    if not question.grader_path.exists() or grader_modules([q]) != [str(question.grader_path)]:
        problems.append(f"{q}: its grader is not graders/{question.grader}.py alone")
    if not question.reference_path.exists():
        return problems + [f"{q}: no reference module {question.reference_path}"]
    defined = definitions_in(question.reference_path)
    for entry in question.contract:
        node = defined.get(entry.name)
        if node is None and not entry.optional:
            problems.append(f"{q}: reference/{question.reference}.py does not define {entry.name}")
        elif node is not None and isinstance(node, ast.FunctionDef) != entry.function:
            problems.append(f"{q}: {entry.name} is {'not ' if entry.function else ''}a function in the reference")
    problems += [f"{q}: handed-out {given.function} is not in the reference" for given in question.handed_out
                 if given.function not in defined]
    problems += [f"{q}: free-text answer {answer!r} is not named after it" for answer in question.free_text
                 if not answer.startswith(q)]
    section, checks = rubric.get(q), (rubric.get(q) or {}).get("checks")
    if not isinstance(section, dict) or not isinstance(checks, dict):
        problems.append(f"{q}: the rubric has no [{q}] and [{q}.checks] sections")
        checks = {}
    elif "title" in section:
        problems.append(f"{q}: the rubric repeats its title (it is declared in graders/questions/{q}/)")
    if not ids:
        problems.append(f"{q}: graders/{question.grader}.py emits no check")
    for check_id in ids:
        local = check_id.removeprefix(f"{q}.")
        if local == check_id:
            problems.append(f"{q}: check {check_id} is not one of {q}'s")
        elif not any(key == local or fnmatch.fnmatchcase(local, key) for key in checks):
            problems.append(f"{q}: check {check_id} has no points in [{q}.checks]")
    locals_ = [check_id.removeprefix(f"{q}.") for check_id in ids]
    problems += [f"{q}: rubric key [{q}.checks] {key!r} is emitted by no test" for key in checks
                 if not any(key == local or fnmatch.fnmatchcase(local, key) for local in locals_)]
    if not re.search(rf"^## {q.upper()} · ", starter, re.M) or not re.search(rf"^%%% stubs {q}$", starter, re.M):
        problems.append(f"{q}: starter.md has no `## {q.upper()} · ...` section with `%%% stubs {q}`")
    if question.probe is not None and not (PROBES / f"{question.probe}.py").exists():
        problems.append(f"{q}: no probe graders/inside/probes/{question.probe}.py")
    if not (GOLDEN / "reference" / f"{q}.json").exists():
        problems.append(f"{q}: no golden tests/golden/reference/{q}.json (the reference sample's result)")
    return problems


@pytest.fixture
def rubric() -> dict:
    """A fresh parse for each test: some change it."""
    return tomllib.loads(DEFAULT_RUBRIC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def starter() -> str:
    return STARTER_TEXT.read_text(encoding="utf-8")


def test_the_registry_the_rubric_the_graders_the_references_and_the_starter_agree(rubric, starter, emitted):
    assert disagreements(QUESTIONS, rubric, starter, emitted) == []


def test_a_rubric_key_that_no_test_emits_is_refused(rubric, starter, emitted):
    rubric["q4"]["checks"]["gru.reset_sideways"] = 1
    assert disagreements(QUESTIONS, rubric, starter, emitted) == [
        "q4: rubric key [q4.checks] 'gru.reset_sideways' is emitted by no test"]


def test_a_removed_rubric_key_or_section_is_refused(rubric, starter, emitted):
    del rubric["q6"]["checks"]["batch_of_one"]
    assert disagreements(QUESTIONS, rubric, starter, emitted) == ["q6: check q6.batch_of_one has no points in [q6.checks]"]
    del rubric["q3"]
    assert any("no [q3] and [q3.checks]" in problem for problem in disagreements(QUESTIONS, rubric, starter, emitted))


def test_a_manual_item_without_points_or_points_for_no_item_are_refused(rubric, starter, emitted):
    del rubric["manual"]["q4a"]
    rubric["manual"]["q9z"] = 1
    assert disagreements(QUESTIONS, rubric, starter, emitted) == [
        "rubric [manual] items ['q1a', 'q6c', 'q9z'] != the questions' free-text and manual items "
        "['q1a', 'q4a', 'q6c']"]


def test_a_removed_starter_section_is_refused(rubric, starter, emitted):
    without_q5 = re.sub(r"^%%% stubs q5$", "", starter, flags=re.M)
    assert disagreements(QUESTIONS, rubric, without_q5, emitted) == [
        "q5: starter.md has no `## Q5 · ...` section with `%%% stubs q5`"]
