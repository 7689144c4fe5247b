"""AST-level normalisation: a question's code as a stream of tokens that disguises do not change.

What the stream keeps is what a copier cannot change without rewriting the logic: the shape of
the syntax tree, operators, numbers, library calls (`keras.layers.Conv2D`, whatever the import
alias), attribute and keyword names, builtins. What it drops or unifies is what a copier changes
for free:

- identifiers the student chose (variables, parameters, helper names) all become `id`;
- comments, docstrings, whitespace, type annotations and string literals (`str`) disappear;
- a module reached through any alias is written out (`np.mean`, `numpy.mean`, `from numpy import
  mean` are one token), and `tensorflow.keras` is `keras`;
- `x += y` is `x = x + y`, `a > b` is `b < a`, lists and tuples are one kind, a comprehension is
  the loop it abbreviates;
- a use of one of the student's own helpers is replaced by the helper's body, so splitting a
  function in two or inlining a helper leaves the stream nearly as it was;
- each contract definition is its own stream, so the order of the definitions does not matter.

Every token carries the line of `QuestionCode.text` it comes from, to highlight matches.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from graders.similarity.extract import FUNCTIONS, Definition, QuestionCode

BUILTINS = frozenset(dir(builtins))
MAX_INLINE_DEPTH = 4  # helpers of helpers ... are inlined this deep; the token budget bounds the rest
_SWAPPED = {ast.Gt: "Lt", ast.GtE: "LtE"}
_ALIASED_PREFIXES = (("tensorflow.keras.", "keras."), ("tf.keras.", "keras."))


class TooLarge(Exception):
    """The code's token stream passed the limit (a pathological submission)."""


@dataclass
class Stream:
    """One definition's tokens and, for each, the line of the question's text it comes from."""

    tokens: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def token_streams(code: QuestionCode, *, max_tokens: int) -> list[Stream]:
    """One normalised stream per contract definition of `code` (helpers are expanded where used).

    Raises:
        TooLarge: more than `max_tokens` tokens in all.
        RecursionError: code nested too deeply to walk.
    """
    local = _bound_names(code)
    streams, budget = [], [max_tokens]
    for root in code.roots:
        walker = _Walker(code, local, budget)
        walker.definition(code.names[root], inline=False)
        streams.append(walker.stream)
    return streams


def _bound_names(code: QuestionCode) -> frozenset[str]:
    """Names the student binds (parameters, assignment and loop targets): never read as builtins or modules."""
    return frozenset().union(*(definition.binds for definition in code.definitions))


class _Walker:
    """Walks definitions in source order and emits tokens."""

    def __init__(self, code: QuestionCode, local: frozenset[str], budget: list[int]) -> None:
        self.code, self.local, self.budget = code, local, budget
        self.stream = Stream()
        self.active: list[str] = []  # the definitions being emitted, outermost first (no recursion into them)
        self.current: Definition | None = None
        self.line = 1
        self.offset = 0  # display line - unit line, for the definition being emitted
        self.inline_depth = 0

    # -- emitting -------------------------------------------------------------------------

    def emit(self, token: str) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise TooLarge()
        self.stream.tokens.append(token)
        self.stream.lines.append(self.line)

    def at(self, node: ast.AST) -> None:
        lineno = getattr(node, "lineno", None)
        if lineno is not None:
            self.line = lineno + self.offset

    # -- definitions ----------------------------------------------------------------------

    def definition(self, definition: Definition, *, inline: bool) -> None:
        """Emit a top-level definition: a function's body (its signature is the contract's, or it is
        inlined where it is used), a class, a global's value; `inline`: it replaces a reference to it."""
        outer, outer_line, outer_offset = self.current, self.line, self.offset
        self.current = definition
        self.offset = self.code.display_line(definition, definition.first_line) - definition.first_line
        self.active.append(definition.name)
        self.inline_depth += inline
        node = definition.node
        self.at(node)
        if isinstance(node, FUNCTIONS):  # the signature is the contract's (a root) or a name (inlined)
            self.body(node.body)
        elif isinstance(node, ast.ClassDef):
            self.visit(node)
        elif node.value is not None:  # Assign, AnnAssign
            if not inline:
                self.emit("assign")
            self.visit(node.value)
        self.inline_depth -= inline
        self.active.pop()
        self.current, self.line, self.offset = outer, outer_line, outer_offset

    def function_header(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for decorator in getattr(node, "decorator_list", ()):
            self.emit("@")
            self.visit(decorator)
        self.emit("def")
        arguments = node.args
        for _ in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            self.emit("arg")
        for star in (arguments.vararg, arguments.kwarg):
            if star is not None:
                self.emit("*arg")
        for default in (*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)):
            self.visit(default)

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.visit(statement)

    # -- nodes ----------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        self.at(node)
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is not None:
            handler(node)
            return
        self.emit(type(node).__name__)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
                self.visit(child)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function_header(node)
        self.body(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.emit("@")
            self.visit(decorator)
        self.emit("class")
        for base in node.bases:
            self.visit(base)
        self.body(node.body)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not isinstance(node.value, ast.Constant):  # docstrings and stray strings say nothing
            self.visit(node.value)

    def visit_Pass(self, node: ast.Pass) -> None:
        pass

    def visit_Import(self, node: ast.AST) -> None:
        pass  # where a module comes from is resolved where it is used

    visit_ImportFrom = visit_Global = visit_Nonlocal = visit_Import

    def visit_Return(self, node: ast.Return) -> None:
        if not self.inline_depth:  # an inlined helper's value is used in place
            self.emit("return")
        if node.value is not None:
            self.visit(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.emit("assign")
        for target in node.targets:
            self.visit(target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.emit("assign")
            self.visit(node.target)
            self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.emit("assign")  # x += y is x = x + y
        self.visit(node.target)
        self.visit(node.target)
        self.emit(type(node.op).__name__)
        self.visit(node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.emit("for")
        self.visit(node.target)
        self.visit(node.iter)
        self.body(node.body)
        if node.orelse:
            self.emit("else")
            self.body(node.orelse)

    visit_AsyncFor = visit_For

    def visit_If(self, node: ast.If) -> None:
        self.emit("if")
        self.visit(node.test)
        self.body(node.body)
        if node.orelse:
            self.emit("else")
            self.body(node.orelse)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.emit("if")  # `a if c else b` is the statement `if c: a else: b`
        self.visit(node.test)
        self.visit(node.body)
        self.emit("else")
        self.visit(node.orelse)

    def visit_comprehension_loop(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        for generator in node.generators:  # [f(x) for x in xs if c] is the loop `for x in xs: if c: f(x)`
            self.emit("for")
            self.visit(generator.target)
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.emit("if")
                self.visit(condition)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_comprehension_loop

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.emit("lambda")
        self.visit(node.body)

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if not isinstance(node.ctx, ast.Load) or name in self.local:
            self.emit("id")
        elif name in self.code.names:
            self.helper(name)
        elif name in self.code.aliases:
            self.emit(_module_path(self.code.aliases[name]))
        elif name in BUILTINS:
            self.emit(name)
        else:
            self.emit("id")

    def inlines(self, name: str) -> bool:
        """Whether a use of `name` is replaced by its definition: one of the student's own, not
        itself (recursion), at most MAX_INLINE_DEPTH helpers deep."""
        return (name in self.code.names and name not in self.local and name not in self.active
                and self.inline_depth < MAX_INLINE_DEPTH)

    def helper(self, name: str) -> None:
        """A reference to the student's own definition: its body in place, or `fn`."""
        if self.inlines(name):
            self.definition(self.code.names[name], inline=True)
        else:
            self.emit("fn")

    def inlined_call(self, node: ast.Call) -> None:
        """`helper(a, b + 1)` as its inlined form would read: the computed arguments, then the body
        (plain names and constants as arguments are what the body's parameters stand for)."""
        values = [*node.args, *(keyword.value for keyword in node.keywords)]
        for value in values:
            if not isinstance(value, (ast.Name, ast.Constant)):
                self.visit(value)
        self.at(node)
        self.helper(node.func.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        chain.reverse()
        if (isinstance(base, ast.Name) and base.id in self.code.aliases and base.id not in self.local
                and base.id not in self.code.names):
            self.emit(_module_path(".".join([self.code.aliases[base.id], *chain])))
            return
        self.visit(base)
        for attribute in chain:
            self.emit(f".{attribute}")

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and self.inlines(node.func.id):
            self.inlined_call(node)
            return
        self.visit(node.func)
        self.emit("(")
        for argument in node.args:
            self.visit(argument)
        for keyword in node.keywords:
            self.emit(f"{keyword.arg}=" if keyword.arg else "**")
            self.visit(keyword.value)
        self.emit(")")

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        self.emit("str" if isinstance(value, (str, bytes)) else repr(value))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.emit("str")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.visit(node.left)
        self.emit(type(node.op).__name__)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.emit(type(node.op).__name__)
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for index, value in enumerate(node.values):
            if index:
                self.emit(type(node.op).__name__)
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) == 1 and type(node.ops[0]) in _SWAPPED:  # a > b is b < a
            self.visit(node.comparators[0])
            self.emit(_SWAPPED[type(node.ops[0])])
            self.visit(node.left)
            return
        self.visit(node.left)
        for operator, right in zip(node.ops, node.comparators):
            self.emit(type(operator).__name__)
            self.visit(right)

    def visit_sequence(self, node: ast.List | ast.Tuple) -> None:
        self.emit("seq")
        for element in node.elts:
            self.visit(element)
        self.emit("/seq")

    visit_List = visit_Tuple = visit_sequence

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self.emit("[")
        self.visit(node.slice)
        self.emit("]")


def _module_path(path: str) -> str:
    """`tensorflow.keras.layers.Dense` and `keras.layers.Dense` are one library name."""
    for prefix, replacement in _ALIASED_PREFIXES:
        if path.startswith(prefix) or path == prefix[:-1]:
            return replacement + path[len(prefix):] if path.startswith(prefix) else replacement[:-1]
    return path
