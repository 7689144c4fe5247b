"""Automatic disguises of a piece of code, as a copier would apply them: renaming, reordering, re-commenting.

The structural disguises (splitting a function in two, inlining a helper, changing the loop
style) are written by hand in corpus/<question>/disguised/. Each function here returns valid
Python source.
"""

from __future__ import annotations

import ast
import io
import random
import tokenize

from graders.questions import BY_NAME

WORDS = ("value", "thing", "result", "temp", "data", "item", "acc", "val", "stuff", "out", "tmp", "res")
NEW_COMMENTS = ("# compute the answer here", "# my own approach", "# helper step", "# TODO tidy up",
                "# as discussed in class", "# works on my tests")


def rename(source: str, *, seed: int = 0, prefix: str = "") -> str:
    """Every name the code binds (variables, parameters, helpers; not the contract's names) renamed."""
    tree = ast.parse(source)
    imported = {alias.asname or alias.name.partition(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
    bound -= set(BY_NAME) | imported
    rng = random.Random(seed)
    names = {name: f"{prefix}{rng.choice(WORDS)}_{index}_{rng.randrange(100)}" for index, name in enumerate(sorted(bound))}
    out, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in names and not (previous and previous.string == "."):
            token = token._replace(string=names[token.string])
        out.append(token)
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token
    return tokenize.untokenize(out)


def reorder(source: str) -> str:
    """The top-level functions and classes in reverse order (everything else stays where it was)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = [(_first_line(node), node.end_lineno) for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    blocks = [lines[start - 1:end] for start, end in spans]
    out, cursor = [], 1
    for (start, end), block in zip(spans, reversed(blocks)):
        out += lines[cursor - 1:start - 1] + block
        cursor = end + 1
    return "\n".join(out + lines[cursor - 1:]) + "\n"


def recomment(source: str, *, seed: int = 0) -> str:
    """Comments and docstrings removed, other comments added before every def and return."""
    rng = random.Random(seed)
    drop = _docstring_lines(source)
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.start[1]
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        if number in drop:
            continue
        if number in comments:
            line = line[:comments[number]].rstrip()
            if not line.strip():
                continue
        stripped = line.lstrip()
        if stripped.startswith(("def ", "return ", "return\n")) or stripped == "return":
            out.append(line[: len(line) - len(stripped)] + rng.choice(NEW_COMMENTS))
        out.append(line)
    return "\n".join(out) + "\n"


def all_three(source: str, *, seed: int = 0) -> str:
    """Re-commented, reordered and renamed."""
    return rename(reorder(recomment(source, seed=seed)), seed=seed)


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])


def _docstring_lines(source: str) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                if len(node.body) == 1:
                    continue  # the body would be empty: keep it
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines
