"""One-token mutants of the solution regions of reference/ (a small AST mutator).

A solution region is what the starter cuts out: the lines between `# BEGIN SOLUTION` and
`# END SOLUTION`, and a constant's line marked `# SOLUTION:`. Each mutant changes one thing there:
- an arithmetic operator (+ -, * /, // /, % //, ** *), a comparison (< <=, > >=, == !=, is / is not,
  in / not in), a boolean operator (and or), or drops a `not` or a unary minus;
- a number by +1 and -1, a boolean negated;
- a call dropped: replaced by one of its non-constant arguments, or by the object it is a method of; a
  keyword argument dropped (`x.mean(axis=axes)` -> `x.mean()`);
- an if's branches swapped (an if without else: its condition negated), a conditional expression's too.
A mutant is named by its function and the expression before and after (`same_padding: max(..., 0) -> ...`),
which stays the same when lines move; a repeated change in one function gets `#2`, `#3`.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BINARY = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
           ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}
MODULES = {"np", "math", "keras", "tf"}  # a call on a module is not a method: it has no object to fall back to


@dataclass(frozen=True)
class Mutant:
    """One mutant of a reference module: its name (where and what changed) and its whole source."""

    module: str  # "q6_batchnorm"
    name: str  # "batchnorm_forward: np.sqrt(var + epsilon) -> var + epsilon"
    source: str


@dataclass(frozen=True)
class _Site:
    index: int  # the node's position in ast.walk order (the same on every parse of the source)
    kind: str
    option: object = None


def solution_lines(source: str) -> set[int]:
    """The line numbers (1-based) of the solution regions of a reference module's source."""
    lines, inside = set(), False
    for number, text in enumerate(source.splitlines(), start=1):
        if re.match(r"\s*# BEGIN SOLUTION", text):
            inside = True
        elif re.match(r"\s*# END SOLUTION", text):
            inside = False
        elif inside or "# SOLUTION:" in text:
            lines.add(number)
    return lines


def mutants(path: Path, *, functions: tuple[str, ...] = ()) -> list[Mutant]:
    """Every one-token mutant of the solution regions of the module at `path`.

    Args:
        functions: only the regions inside these functions (default: every region).
    """
    source = path.read_text(encoding="utf-8")
    region = solution_lines(source)
    tree = ast.parse(source)
    owners = _owners(tree)
    found, counts = [], {}
    for site in _sites(tree, region):
        node = list(ast.walk(tree))[site.index]
        owner = owners.get(id(node), "<module>")
        if functions and owner not in functions:
            continue
        mutated_tree = ast.parse(source)
        before, after = _apply(mutated_tree, site)
        name = f"{owner}: {before} -> {after}"
        counts[name] = counts.get(name, 0) + 1
        if counts[name] > 1:
            name += f" #{counts[name]}"
        found.append(Mutant(path.stem, name, ast.unparse(ast.fix_missing_locations(mutated_tree))))
    return found


def _owners(tree: ast.Module) -> dict[int, str]:
    """{id(node): the name of the top-level function or constant it belongs to}."""
    owners = {}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef):
            name = statement.name
        elif isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
        else:
            continue
        for node in ast.walk(statement):
            owners[id(node)] = name
    return owners


def _in_region(node: ast.AST, region: set[int]) -> bool:
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    return start is not None and all(line in region for line in range(start, (end or start) + 1))


def _sites(tree: ast.Module, region: set[int]) -> Iterator[_Site]:
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for index, node in enumerate(ast.walk(tree)):
        if not _in_region(node, region) or id(node) in docstrings:
            continue
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINARY:
            yield _Site(index, "binary")
        elif isinstance(node, ast.Compare):
            yield from (_Site(index, "compare", k) for k, op in enumerate(node.ops) if type(op) in COMPARE)
        elif isinstance(node, ast.BoolOp):
            yield _Site(index, "boolean")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            yield _Site(index, "unary")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield _Site(index, "negate")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            yield from (_Site(index, "number", step) for step in (1, -1))
        elif isinstance(node, ast.Call):
            yield from (_Site(index, "drop_call", k) for k, argument in enumerate(node.args)
                        if not isinstance(argument, (ast.Constant, ast.Starred)))
            if isinstance(node.func, ast.Attribute) and not (
                    isinstance(node.func.value, ast.Name) and node.func.value.id in MODULES):
                yield _Site(index, "drop_call", "object")
            yield from (_Site(index, "drop_keyword", k) for k in range(len(node.keywords)))
        elif isinstance(node, (ast.If, ast.IfExp)):
            yield _Site(index, "branches")


def _apply(tree: ast.Module, site: _Site) -> tuple[str, str]:
    """Apply `site` to `tree` (a fresh parse) in place; (the expression before, after)."""
    nodes = list(ast.walk(tree))
    node = nodes[site.index]
    shown = node.test if isinstance(node, ast.If) else node
    before = ast.unparse(shown)
    if site.kind == "binary":
        node.op = BINARY[type(node.op)]()
    elif site.kind == "compare":
        node.ops[site.option] = COMPARE[type(node.ops[site.option])]()
    elif site.kind == "boolean":
        node.op = BOOLEAN[type(node.op)]()
    elif site.kind == "negate":
        node.value = not node.value
    elif site.kind == "number":
        node.value = type(node.value)(node.value + site.option)
    elif site.kind == "drop_keyword":
        del node.keywords[site.option]
    elif site.kind in ("unary", "drop_call"):
        replacement = (node.operand if site.kind == "unary" else
                       node.func.value if site.option == "object" else node.args[site.option])
        _replace(tree, node, copy.deepcopy(replacement))
        return before, ast.unparse(replacement)
    elif isinstance(node, ast.IfExp):
        node.body, node.orelse = node.orelse, node.body
    elif node.orelse:
        node.body, node.orelse = node.orelse, node.body
        return f"if {before}: A else: B", f"if {before}: B else: A"
    else:
        node.test = ast.UnaryOp(ast.Not(), node.test)
        return f"if {before}", f"if not ({before})"
    return before, ast.unparse(shown)


def _replace(tree: ast.Module, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[[item is old for item in value].index(True)] = new
                return
    raise ValueError("a mutated node has no parent")
