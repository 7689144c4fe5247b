"""Each student's code for each question: the contract's names plus the helpers they use.

Nothing here runs student code. A submission is read by the grader's own loader (so a notebook
is cut by the same filter that grading uses), every unit is parsed with `ast`, and a question's
code is the contract's definitions for it plus, transitively, the submission's own top-level
functions, classes and globals they refer to. A contract constant written out rather than
computed (`LAYER_TABLE = [...]`, `Q6A_ANSWER = 2`: literals, names, arithmetic, no call) is
left out: every right answer is the same table, so it says nothing about who wrote it.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from graders.core.contract import ANSWERS
from graders.core.errors import SubmissionLoadError
from graders.questions import CONTRACT
from graders.submission.loader import prepare_submission
from graders.submission.python import parse_python

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPUTING = (ast.Call, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.NamedExpr)


@dataclass(frozen=True)
class Definition:
    """One top-level definition of a submission, as written."""

    name: str
    node: ast.stmt
    source: str       # its lines, comments included, as the student wrote them
    origin: str       # the file (or notebook) it comes from
    first_line: int   # the line of `source`'s first line in its unit
    reads: frozenset[str] = frozenset()   # names it reads (calls, values, decorators, base classes)
    binds: frozenset[str] = frozenset()   # names it binds (parameters, assignment and loop targets)


@dataclass(frozen=True)
class Submission:
    """A parsed submission: its top-level definitions (the last one of a name wins) and its imports."""

    definitions: dict[str, Definition]
    aliases: dict[str, str]  # local name -> dotted module path, e.g. np -> numpy
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionCode:
    """A student's code for one question, ready to show and to fingerprint.

    `text` is the definitions joined in the order they were written, one blank line apart.
    """

    question: str
    definitions: tuple[Definition, ...]  # one per statement, in the order written
    roots: tuple[str, ...]  # the contract names (fingerprinting starts there)
    aliases: dict[str, str]
    names: dict[str, Definition] = field(default_factory=dict)  # every name defined -> its definition
    text: str = ""
    starts: tuple[int, ...] = ()  # 1-based line of `text` where each definition begins

    def display_line(self, definition: Definition, lineno: int) -> int:
        """The line of `text` that shows line `lineno` (of its unit) of `definition`."""
        index = next(i for i, d in enumerate(self.definitions) if d.node is definition.node)
        return self.starts[index] + lineno - definition.first_line


def read_submission(path: str | os.PathLike) -> Submission:
    """Parse a submission (.py, .ipynb, folder or .zip) into its top-level definitions, without running it.

    Raises:
        SubmissionLoadError: the submission cannot be loaded at all.
    """
    prepared = prepare_submission(path)
    definitions: dict[str, Definition] = {}
    aliases: dict[str, str] = {}
    problems = [f"{p.origin}: {p.message}" for p in prepared.problems]
    for unit in prepared.units:
        try:
            tree = parse_python(unit.code)
        except SubmissionLoadError as err:  # the loader keeps a notebook's kept code even when it cannot parse
            problems.append(f"{unit.origin}: {err}")
            continue
        lines = unit.code.splitlines()
        for node in tree.body:
            names = _defined_names(node)
            scan = _Scan(node)  # one walk per statement: this runs for every student of a class
            aliases.update(import_aliases(scan.imports))
            for name in names:
                definitions.pop(name, None)  # re-insert: the order is that of the last definition
                definitions[name] = definition_of(name, node, lines, unit.origin, scan)
    return Submission(definitions, aliases, tuple(problems))


def question_code(submission: Submission, question: str) -> QuestionCode | None:
    """The code that answers `question`: its contract definitions and the helpers they use.

    Returns:
        None when the submission defines none of the question's contract names (or only literals).
    """
    defined = submission.definitions
    roots = [e.name for e in CONTRACT[question] if e.name in defined and not _is_literal(defined[e.name])]
    if not roots:
        return None
    others = {e.name for q, entries in CONTRACT.items() if q != question for e in entries} | {ANSWERS}
    wanted, pending = set(roots), list(roots)
    while pending:
        for name in defined[pending.pop()].reads:
            if name in defined and name not in wanted and name not in others:
                wanted.add(name)
                pending.append(name)
    names = {name: d for name, d in defined.items() if name in wanted}  # in the order written
    return with_text(QuestionCode(question, _unique_nodes(tuple(names.values())), tuple(roots),
                                   submission.aliases, names))


def code_from_source(source: str, question: str, *, origin: str = "<source>") -> QuestionCode | None:
    """`question_code` of a piece of source text (the starter's stubs, a test's snippet).

    Raises:
        SubmissionLoadError: the text is not valid Python.
    """
    tree = parse_python(source)
    lines = source.splitlines()
    definitions = {name: definition_of(name, node, lines, origin) for node in tree.body for name in _defined_names(node)}
    return question_code(Submission(definitions, import_aliases(ast.walk(tree))), question)


class _Scan:
    """What one walk of a statement finds: the names it reads and binds, and its imports."""

    def __init__(self, node: ast.AST) -> None:
        reads, binds, self.imports = set(), set(), []
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                (reads if isinstance(child.ctx, ast.Load) else binds).add(child.id)
            elif isinstance(child, ast.arg):
                binds.add(child.arg)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                self.imports.append(child)
        self.reads, self.binds = frozenset(reads), frozenset(binds)


def import_aliases(nodes: Iterable[ast.AST]) -> dict[str, str]:
    """{local name: dotted path} for the imports among `nodes` (e.g. `ast.walk(tree)`).

    `import numpy as np` gives np -> numpy; `from keras import layers` gives layers -> keras.layers.
    """
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name)]
    if isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def definition_of(name: str, node: ast.stmt, lines: list[str], origin: str, scan: _Scan | None = None) -> Definition:
    """The definition of `name` by the top-level statement `node` of a unit whose lines are `lines`."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    source = "\n".join(lines[first - 1:node.end_lineno])
    scan = scan or _Scan(node)
    return Definition(name, node, source, origin, first, scan.reads, scan.binds)


def _is_literal(definition: Definition) -> bool:
    """A constant written out (literals, names, arithmetic) rather than computed by calls."""
    node = definition.node
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    return not any(isinstance(n, _COMPUTING) for n in ast.walk(node.value))


def _unique_nodes(definitions: tuple[Definition, ...]) -> tuple[Definition, ...]:
    """One entry per statement: `a, b = ...` defines two names but is shown (and fingerprinted) once."""
    seen: set[int] = set()
    unique = []
    for definition in definitions:
        if id(definition.node) not in seen:
            seen.add(id(definition.node))
            unique.append(definition)
    return tuple(unique)


def with_text(code: QuestionCode) -> QuestionCode:
    """`code` with its display text: the definitions' sources in order, one blank line apart."""
    starts, line = [], 1
    for definition in code.definitions:
        starts.append(line)
        line += definition.source.count("\n") + 2  # one blank line between definitions
    text = "\n\n".join(d.source for d in code.definitions)
    return QuestionCode(code.question, code.definitions, code.roots, code.aliases, code.names, text, tuple(starts))
