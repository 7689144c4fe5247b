"""The starter notebook: its content, the contract's signatures, and the load-and-grade round trip."""

import ast
import subprocess
import sys

import nbformat
import pytest

from graders.harness.loader import prepare_submission
from graders.harness.notebook import defined_names
from graders.harness.template import (CONTRACT, Q1_SEARCH_SPACE, Q5_INPUT_SHAPE, Q5_NETWORK, Q6_STATEMENTS,
                                      build_template, starter_notebook)
from reference import q5_shapes
from tests.grading import PROJECT, run_grader

GLOBALS = {"LAYER_TABLE", "FC_BN_PARAMS", "Q6A_ANSWER"}  # the contract's constants; the rest are functions
OPTIONAL = {"BEST_HYPERPARAMETERS", "BEST_VAL_ACCURACY"}  # left commented out in the template


@pytest.fixture(scope="module")
def notebook():
    return starter_notebook()


def sources(notebook, kind: str) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == kind)


def stub_functions(notebook) -> dict[str, ast.FunctionDef]:
    module = ast.parse(sources(notebook, "code"))
    return {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}


def signature(function: ast.FunctionDef) -> tuple:
    """Parameter names by kind, and the defaults as source text."""
    args = function.args
    return ([a.arg for a in args.posonlyargs + args.args], [a.arg for a in args.kwonlyargs],
            [ast.unparse(d) for d in args.defaults], [d and ast.unparse(d) for d in args.kw_defaults])


def test_notebook_is_valid_with_a_section_per_question(notebook):
    nbformat.validate(notebook)
    text = sources(notebook, "markdown")
    for question in CONTRACT:
        assert f"## {question.upper()} ·" in text
    for label, *_ in Q5_NETWORK:
        assert f"| {label} |" in text
    for number, statement in enumerate(Q6_STATEMENTS, start=1):
        assert f"{number}. {statement}" in text
    for name, kind, _ in Q1_SEARCH_SPACE:
        assert f"| `{name}` | {kind} |" in text
    last = notebook.cells[-1]
    assert last.cell_type == "markdown" and "pytest graders --submission hw3_starter.ipynb" in last.source


def test_stubs_have_the_contract_signatures_and_raise(notebook):
    stubs = stub_functions(notebook)
    contract_functions = {name for names in CONTRACT.values() for name in names} - GLOBALS
    assert set(stubs) == contract_functions
    checked = 0
    for path in sorted((PROJECT / "reference").glob("q*.py")):
        reference = {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        for name in contract_functions & set(reference):
            assert signature(stubs[name]) == signature(reference[name]), f"{name} differs from {path.name}"
            checked += 1
    assert checked >= 11, "q4, q5, q6 and q7 have references to compare with"
    for name, function in stubs.items():
        docstring, body = ast.get_docstring(function), function.body[1:]
        assert docstring and len(body) == 1 and isinstance(body[0], ast.Raise), f"{name} is not a bare stub"
        assert "NotImplementedError" in ast.unparse(body[0]) and name in ast.unparse(body[0])


def test_q5_network_is_the_graders_network():
    assert Q5_INPUT_SHAPE == q5_shapes.INPUT_SHAPE
    assert [(label, kind, filters, kernel, stride, dilation, padding)
            for label, kind, filters, kernel, stride, dilation, padding in Q5_NETWORK] == [
        (layer.label, layer.kind, layer.filters, layer.kernel, layer.stride, layer.dilation, layer.padding)
        for layer in q5_shapes.NETWORK]


def test_template_loads_every_name_and_skips_nothing(tmp_path):
    path = build_template(path=tmp_path / "hw3_starter.ipynb")
    prepared = prepare_submission(path)
    assert (prepared.skipped, prepared.problems, prepared.conflicts) == ((), (), {})
    names = {name for unit in prepared.units for name in defined_names(ast.parse(unit.code).body)}
    assert {name for names in CONTRACT.values() for name in names} | {"ANSWERS"} <= names


def test_cli_writes_the_same_notebook(tmp_path):
    out = tmp_path / "starter" / "hw3_starter.ipynb"
    process = subprocess.run([sys.executable, "-m", "graders.harness.cli", "template", str(out)],
                             cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-2000:]
    assert nbformat.read(out, as_version=4) == starter_notebook(self_check_name="hw3_starter.ipynb")


def test_template_scores_zero_with_clear_messages(tmp_path):
    path = build_template(path=tmp_path / "hw3_starter.ipynb")
    data, process = run_grader(path, tmp_path / "out")
    assert data is not None, process.stdout[-3000:] + process.stderr[-3000:]
    assert data["score"] == 0 and data["max_score"] > 0
    assert (tmp_path / "out" / "report.html").exists()
    for check in (c for q in data["questions"] for c in q["checks"]):
        assert check["status"] in ("failed", "skipped"), f"{check['id']}: {check['status']} {check['message'][:300]}"
        if check["status"] == "failed":
            message = check["message"]
            stub = "NotImplementedError" in message and "is not implemented yet" in message
            names = any(name in message for name in GLOBALS | OPTIONAL)
            assert stub or names, f"{check['id']}: the message does not say what is missing: {message[:500]!r}"
