"""What a statement binds, evaluates and changes, read with `ast` (nothing here runs student code).

A statement the notebook filter skips may change a value that kept code set: `LAYER_TABLE.append(row)`
in a skipped loop, `BEST[k] = v`, or a call of the notebook's own function that does so.
`changed_names` finds these, so the filter can treat the value as set by the skipped statement.
"""

from __future__ import annotations

import ast

# Methods that change their object in place: a skipped `TABLE.append(row)` changes TABLE.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault", "add", "pop", "popitem",
                              "remove", "discard", "clear", "sort", "reverse", "fill", "__setitem__",
                              "__delitem__", "__iadd__"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def changed_names(stmt: ast.stmt, functions: dict, data: set) -> tuple[str, ...]:
    """The names in `data` that running `stmt` would change in place.

    `TABLE.append(row)`, `TABLE[i] = row`, `CONFIG.lr = 1`, or a call of a notebook function whose
    body does one of these to a global. Rebinding a name is not counted here (see `bound_names`).

    Args:
        functions: the notebook's kept functions by name: calls of them are followed.
        data: the names kept assignments set (values, not modules, functions or classes).
    """
    changed: list[str] = []
    memo: dict[str, list[str]] = {}  # each function once: a call graph can have exponentially many paths
    for node in eager_nodes(stmt):
        changed.extend(_changed_by_node(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            changed.extend(_function_changes(node.func.id, functions, memo))
    return tuple(name for name in dict.fromkeys(changed) if name in data)


def _function_changes(name: str, functions: dict, memo: dict[str, list[str]]) -> list[str]:
    """Globals that calling the notebook's function `name` changes (through `global` or in place)."""
    if name in memo:
        return memo[name]  # done, or in progress: a recursive call changes nothing more
    memo[name] = []
    node = functions.get(name)
    if node is None:
        return []
    declared = {n for s in ast.walk(node) if isinstance(s, ast.Global) for n in s.names}
    local = local_names(node) - declared
    changed: list[str] = []
    for stmt in node.body:
        for child in eager_nodes(stmt):
            changed.extend(n for n in _changed_by_node(child) if n not in local)
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)) and child.id in declared:
                changed.append(child.id)
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id not in local:
                changed.extend(_function_changes(child.func.id, functions, memo))
    memo[name] = list(dict.fromkeys(changed))  # each name once: the lists would double at every level
    return memo[name]


def _changed_by_node(node: ast.AST) -> list[str]:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_METHODS
            and isinstance(node.func.value, ast.Name)):
        return [node.func.value.id]
    if (isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del))
            and isinstance(node.value, ast.Name)):
        return [node.value.id]
    return []


def bound_names(stmt: ast.stmt) -> tuple[str, ...]:
    """Every name a statement binds in the module namespace, in source order."""
    names: list[str] = []
    pending: list[ast.AST] = [stmt]
    while pending:
        node = pending.pop()
        names.extend(_names_bound_by_node(node))
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda,
                                 ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            pending.extend(reversed(list(ast.iter_child_nodes(node))))  # their insides are another scope
    return tuple(dict.fromkeys(names))


def eager_nodes(node: ast.AST, *, lazy_annotations: bool = False):
    """Yield the nodes evaluated when `node` runs: not function or lambda bodies, which run later.

    Args:
        lazy_annotations: `from __future__ import annotations` is in force: annotations are not evaluated.
    """
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, _FUNCTIONS):
            returns = [] if lazy_annotations or current.returns is None else [current.returns]
            pending.extend([*current.decorator_list, current.args, *returns])
        elif isinstance(current, ast.Lambda):
            pending.append(current.args)
        elif lazy_annotations and isinstance(current, ast.arg):
            continue
        elif lazy_annotations and isinstance(current, ast.AnnAssign):
            pending.extend([current.target, *filter(None, [current.value])])
        else:
            pending.extend(ast.iter_child_nodes(current))


def local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Its parameters and every name its body binds (`global` ones included)."""
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    local = {a.arg for a in every if a is not None}
    for stmt in function.body:
        local.update(bound_names(stmt))
    return local


def _names_bound_by_node(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names if a.name != "*"]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []
