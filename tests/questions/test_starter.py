"""The starter notebook: generated from the contract and the references, with no answer in it."""

import ast
import subprocess
import sys

import nbformat
import pytest

from graders.core.errors import HarnessError
from graders.questions import CONTRACT, reference_path
from graders.questions import starter as template
from graders.questions.q1.space import SPACE
from graders.questions.starter import build_template, question_stubs, starter_notebook
from graders.submission.loader import prepare_submission
from graders.submission.python import defined_names
from reference import q5_shapes
from tests.grading import PROJECT, load_golden, run_grader

REQUIRED = {entry.name for entries in CONTRACT.values() for entry in entries if not entry.optional}
FUNCTIONS = {entry.name for entries in CONTRACT.values() for entry in entries if entry.function}


@pytest.fixture(scope="module")
def notebook():
    return starter_notebook()


def sources(notebook, kind: str) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == kind)


def test_notebook_is_valid_with_a_section_per_question(notebook):
    nbformat.validate(notebook)
    text = sources(notebook, "markdown")
    for question in CONTRACT:
        assert f"## {question.upper()} ·" in text
    for layer in q5_shapes.NETWORK:
        assert f"| {layer.label} |" in text
    for family in SPACE:
        assert f"| `{family.label}` | {family.kind} |" in text
    assert "$" not in text.replace("$$", ""), "a placeholder of starter.md was left unfilled"
    last = notebook.cells[-1]
    assert last.cell_type == "markdown" and "hw3check hw3_starter.ipynb" in last.source and 'check("q5")' in last.source


def test_stubs_keep_the_reference_signature_and_docstring_and_raise(notebook):
    module = ast.parse(sources(notebook, "code"))
    stubs = {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}
    assert set(stubs) == FUNCTIONS
    for question, entries in CONTRACT.items():
        reference = {n.name: n for n in ast.parse(reference_path(question).read_text()).body
                     if isinstance(n, ast.FunctionDef)}
        for entry in (e for e in entries if e.function):
            stub, solution = stubs[entry.name], reference[entry.name]
            assert ast.unparse(stub.args) == ast.unparse(solution.args)
            assert ast.get_docstring(stub) == ast.get_docstring(solution)
            body = stub.body[1:]
            assert len(body) == 1 and isinstance(body[0], ast.Raise) and entry.name in ast.unparse(body[0])


def test_no_line_of_a_solution_reaches_the_starter(notebook):
    """Every line between the solution markers, and every constant's answer, stays out of the notebook."""
    code = sources(notebook, "code")
    for question in CONTRACT:
        inside, leaked = False, []
        for line in reference_path(question).read_text().splitlines():
            stripped = line.strip()
            if stripped in (template.BEGIN, template.END):
                inside = stripped == template.BEGIN
            elif inside and len(stripped) > 12 and stripped in code:
                leaked.append(stripped)
            elif "# SOLUTION:" in line and line.split("#")[0].strip() in code:
                leaked.append(line)
        assert leaked == [], f"{question}: {leaked}"
    assert "220" not in code and "Q6A_ANSWER = 2" not in code


def test_a_reference_function_without_markers_is_refused():
    with pytest.raises(HarnessError, match="BEGIN SOLUTION"):
        template._without_solution(["def f(x):", '    """Doc."""', "    return x"], "f")


def test_each_question_has_a_stub_per_contract_name():
    for question, entries in CONTRACT.items():
        stubs = question_stubs(question)
        assert stubs.count("raise NotImplementedError") == sum(entry.function for entry in entries)
        for entry in entries:
            assert entry.name in stubs


def test_template_loads_every_name_and_skips_nothing(tmp_path):
    path = build_template(path=tmp_path / "hw3_starter.ipynb")
    prepared = prepare_submission(path)
    assert (prepared.skipped, prepared.problems, prepared.conflicts) == ((), (), {})
    names = {name for unit in prepared.units for name in defined_names(ast.parse(unit.code).body)}
    assert REQUIRED | {"ANSWERS"} <= names


@pytest.mark.slow
def test_cli_writes_the_same_notebook(tmp_path):
    out = tmp_path / "starter" / "hw3_starter.ipynb"
    process = subprocess.run([sys.executable, "-m", "graders.commands.cli", "template", str(out)],
                             cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-2000:]
    assert nbformat.read(out, as_version=4) == starter_notebook(self_check_name="hw3_starter.ipynb")


@pytest.mark.slow
def test_the_untouched_starter_is_not_attempted_everywhere_with_a_fixed_total(tmp_path):
    path = build_template(path=tmp_path / "hw3_starter.ipynb")
    reference, _ = run_grader(PROJECT / "reference", tmp_path / "reference", questions=["q3", "q4", "q5", "q6"])
    data, process = run_grader(path, tmp_path / "out", questions=["q3", "q4", "q5", "q6"])
    assert data is not None, process.output[-6000:]
    assert process.exit_code == 1
    assert data["score"] == 0 and data["max_score"] == reference["max_score"]
    for question in data["questions"]:
        assert question["not_attempted"], f"{question['id']} should read as not attempted"
    assert "not attempted" in process.output and "Traceback" not in process.output
    assert "ERROR at setup" not in process.output


@pytest.mark.slow
def test_the_untouched_starter_s_probed_questions_are_not_attempted_too(tmp_path):
    """q1 and q7 reach the student's stubs through probes (their errors come back as text): the
    stub still reads as not attempted, with the function named, and the total is the reference's."""
    path = build_template(path=tmp_path / "hw3_starter.ipynb")
    data, process = run_grader(path, tmp_path / "out", questions=["q1", "q7"])
    assert data is not None, process.output[-6000:]
    goldens, _ = load_golden("reference")
    attempted = {q["id"]: q["not_attempted"] for q in data["questions"]}
    assert attempted == {"q1": "`build_model(...)` raises NotImplementedError",
                         "q7": "`build_mnist_cnn(...)` raises NotImplementedError"}  # its first check
    assert data["score"] == 0 and data["max_score"] == goldens["q1"]["max_score"] + goldens["q7"]["max_score"]
    assert "Traceback" not in process.output and "ERROR at setup" not in process.output
