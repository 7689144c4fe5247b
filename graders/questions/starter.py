"""The starter notebook students fill in (`hw3grade template hw3_starter.ipynb`), generated.

Nothing of the contract is written here. The cells' text is `starter.md`; each question's code
stubs are cut from its reference module, as otter-grader's `assign` does: a contract function
keeps its signature and docstring and loses everything between `# BEGIN SOLUTION` and
`# END SOLUTION`, which becomes `raise NotImplementedError(...)`; a contract constant written
`NAME = answer  # SOLUTION: placeholder` becomes `NAME = placeholder`. The `$name` values of a section
(q1's space, q5's network) come from its question's declaration (`starter_values`), the written answers'
ids from the declarations' `free_text`, so no answer can leak into the starter.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from string import Template

import nbformat

from graders.core.contract import ContractName
from graders.core.errors import HarnessError
from graders.questions import CONTRACT, FREE_TEXT_ANSWERS, QUESTIONS, reference_path

STARTER_TEXT = Path(__file__).with_name("starter.md")
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_CONSTANT = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*) = .*#\s*SOLUTION:\s*(?P<placeholder>.+)$")
_BLOCK = re.compile(r"^%%% (?P<kind>markdown|code|stubs|answers)(?: (?P<question>q\d+))?$", re.MULTILINE)


def build_template(*, path: str | Path) -> Path:
    """Write the starter notebook to `path` (folders are created).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(starter_notebook(self_check_name=path.name), path)
    return path


def starter_notebook(*, self_check_name: str = "hw3_starter.ipynb") -> nbformat.NotebookNode:
    """The starter notebook; its last cell tells how to self-check a file named `self_check_name`."""
    values = {"self_check_name": self_check_name, **_tables()}
    cells = []
    for kind, question, text in _blocks(STARTER_TEXT.read_text(encoding="utf-8")):
        if kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(Template(text).safe_substitute(values)))
        elif kind == "code":
            cells.append(nbformat.v4.new_code_cell(text))
        elif kind == "stubs":
            cells.append(nbformat.v4.new_code_cell(question_stubs(question)))
        else:
            cells.append(nbformat.v4.new_code_cell(_answers_stub()))
    for number, cell in enumerate(cells, start=1):
        cell.id = f"hw3-{number:02d}"  # stable ids: the same notebook on every build
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                              "language_info": {"name": "python"}})
    return notebook


def question_stubs(question: str) -> str:
    """The code cell of `question`: a stub for every contract name, cut from the reference.

    Raises:
        HarnessError: a contract name that the reference lacks, or defines without solution markers.
    """
    source = reference_path(question).read_text(encoding="utf-8")
    required = "\n\n\n".join(_stub(entry, source) for entry in CONTRACT[question] if not entry.optional)
    optional = "\n".join(_stub(entry, source) for entry in CONTRACT[question] if entry.optional)
    return required + (f"\n\n\n{optional}" if optional else "")


def _stub(entry: ContractName, source: str) -> str:
    if entry.optional:
        return f"# Optional: {entry.name} = {entry.returns}, written as a literal."
    if not entry.function:
        for line in source.splitlines():
            match = _CONSTANT.match(line)
            if match and match["name"] == entry.name:
                return f"{entry.name} = {match['placeholder'].strip()}  # {entry.returns}"
        raise HarnessError(f"reference for {entry.question}: no `{entry.name} = ...  # SOLUTION: placeholder` line")
    node = next((n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == entry.name), None)
    if node is None:
        raise HarnessError(f"reference for {entry.question} does not define {entry.name}")
    lines = source.splitlines()
    end = node.end_lineno  # the last statement: a trailing `# END SOLUTION` comment comes after it
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))):
        end += 1
    return "\n".join(_without_solution(lines[node.lineno - 1:end], entry.name)).rstrip()


def _without_solution(lines: list[str], name: str) -> list[str]:
    """The function's lines with its solution region replaced by a NotImplementedError stub."""
    starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise HarnessError(f"reference {name} needs one `{BEGIN}` ... `{END}` region around its solution")
    indent = lines[starts[0]][: len(lines[starts[0]]) - len(lines[starts[0]].lstrip())]
    stub = f'{indent}raise NotImplementedError("{name} is not implemented yet: replace this line with your code")'
    return [*lines[: starts[0]], stub, *lines[ends[0] + 1:]]


def _blocks(text: str) -> list[tuple[str, str | None, str]]:
    """(kind, question, text) of every `%%% kind [question]` block of starter.md."""
    matches = list(_BLOCK.finditer(text))
    return [(match["kind"], match["question"], text[match.end():following].strip())
            for match, following in zip(matches, [m.start() for m in matches[1:]] + [len(text)])]


def _tables() -> dict[str, str]:
    """The Markdown tables and values starter.md refers to, from the questions' declarations."""
    return {name: value for question in QUESTIONS if question.starter_values
            for name, value in question.starter_values().items()}


def _answers_stub() -> str:
    return "ANSWERS = {\n" + "".join(f'    "{key}": "",\n' for key in FREE_TEXT_ANSWERS) + "}"
