"""The code every student was given: the starter notebook's code and the handed-out broken regressor.

Its k-grams are removed from every student's fingerprints, wherever they appear, so filling in
the same stubs, or fixing the same handed-out model, is never a match in itself.
"""

from __future__ import annotations

import ast
import functools

from graders.questions import QUESTIONS
from graders.questions.starter import starter_notebook
from graders.similarity.extract import QuestionCode, definition_of, import_aliases, with_text
from graders.similarity.fingerprint import all_kgrams
from graders.similarity.normalise import token_streams


def starter_sources() -> list[str]:
    """The code cells of the starter notebook, and the handed-out code with its module's imports."""
    sources = [cell.source for cell in starter_notebook().cells if cell.cell_type == "code"]
    for question in (q for q in QUESTIONS if q.handed_out):
        renames = {given.function: given.answers for given in question.handed_out}
        tree = ast.parse(question.reference_path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                sources.append(ast.unparse(node))
            elif isinstance(node, ast.FunctionDef) and node.name in renames:
                node.name = renames[node.name]
                sources.append(ast.unparse(node))
    return sources


@functools.lru_cache(maxsize=8)
def boilerplate_kgrams(*, k: int, max_tokens: int) -> frozenset[int]:
    """Every k-gram hash of the given code, normalised as students' code is (one namespace, as a notebook)."""
    body: list[ast.stmt] = []
    for source in starter_sources():
        try:
            body += ast.parse(source).body
        except SyntaxError:  # a cell with a magic: it defines nothing
            continue
    tree = ast.Module(body=body, type_ignores=[])
    source = ast.unparse(tree)  # one text, so every definition's lines are its own
    code = _everything(ast.parse(source), source)
    return frozenset(all_kgrams(token_streams(code, max_tokens=max_tokens), k=k))


def _everything(tree: ast.Module, source: str) -> QuestionCode:
    """All the top-level functions and classes of `source`, each one a root."""
    lines = source.splitlines()
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.pop(node.name, None)
            names[node.name] = definition_of(node.name, node, lines, "starter")
    code = QuestionCode("starter", tuple(names.values()), tuple(names), import_aliases(ast.walk(tree)), names)
    return with_text(code)
