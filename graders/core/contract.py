"""The submission contract's types: a name a submission defines, and how a signature is read from a reference.

Which names answer which question is declared once per question in `graders.questions` (the registry);
a function's signature is not repeated there: it is read (by `ast`, without importing anything)
from the reference module that answers the question.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ANSWERS = "ANSWERS"  # optional, every question: {answer id: free text}, shown for manual grading


@dataclass(frozen=True)
class ContractName:
    """One name a submission defines: a function, or a constant written as a literal."""

    name: str
    function: bool
    returns: str  # what it returns (a function) or holds (a constant), for messages and the starter
    optional: bool = False
    question: str = ""  # filled in by the question that declares it


def function(name: str, returns: str) -> ContractName:
    """A contract function and what it returns."""
    return ContractName(name, True, returns)


def constant(name: str, holds: str, *, optional: bool = False) -> ContractName:
    """A contract constant (written as a literal) and what it holds."""
    return ContractName(name, False, holds, optional)


@functools.lru_cache(maxsize=None)
def definitions_in(path: Path) -> dict[str, ast.stmt]:
    """{name: top-level def or assignment} of the module at `path`, parsed, not imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            found.update({target.id: node for target in node.targets if isinstance(target, ast.Name)})
    return found


def signature_of(node: ast.FunctionDef) -> str:
    """`conv_output_size(size, kernel, stride=1, padding='valid', dilation=1)`: a def's header, no annotations."""
    return f"{node.name}({ast.unparse(_without_annotations(node.args))})"


def _without_annotations(arguments: ast.arguments) -> ast.arguments:
    copy = ast.parse(f"def f({ast.unparse(arguments)}): pass").body[0].args
    for argument in (*copy.posonlyargs, *copy.args, *copy.kwonlyargs, copy.vararg, copy.kwarg):
        if argument is not None:
            argument.annotation = None
    return copy
