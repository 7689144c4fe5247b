"""What defining a function or class runs, read with `ast`, and whether the notebook filter may run it.

Defining a function runs its decorators, default values and annotations (unless `from __future__
import annotations` is in force); defining a class runs its decorators, base classes, keyword
arguments, metaclass and every statement of its body. The filter keeps a `def` or `class` only when
all of that is known to be harmless, so `def summarize(best=run_search()):` is skipped and listed
like a top-level call instead of running a search while the grader loads the notebook.

Known and harmless at definition time (nothing else is):
- the calls in `HARMLESS_CALLS`, resolved through the notebook's own imports (`from dataclasses
  import dataclass`, `import tensorflow as tf`; `tf.keras.X` counts as `keras.X`) or builtins the
  notebook does not rebind: dataclasses and their fields, property/staticmethod/classmethod,
  functools' caches, `wraps` and `total_ordering`, `abc.abstractmethod`, `enum.auto`, typing's
  decorators, Keras' `register_keras_serializable`, `tf.function`, `np.vectorize`, NumPy's array and
  scalar constructors, Keras objects built from their arguments (`keras.optimizers.*`, `losses`,
  `metrics`, `layers`, `initializers`, `regularizers`, `constraints`, `activations`: none trains or
  loads anything), and builtins that run no code of the notebook on the values a definition sees
  (print, len, isinstance, getattr, str, list, ...);
- calling a function the notebook defined (and kept) earlier whose body, when called, runs no loop
  and only harmless calls: a decorator that wraps its function, say (a decorator *factory* of the
  notebook's, `@repeat(3)`, is not: what it returns is not known);
- `@name.setter` / `.getter` / `.deleter` of a property defined earlier in the same class body.
A class the notebook defined runs its own code when another class derives from it only through
`__init_subclass__` / `__class_getitem__`, so it is a harmless base unless it defines one; a
metaclass must be a library class or `type`. Library classes, and names the notebook never binds
(a star import's, or another file's of the submission), are taken as they are.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from graders.submission.effects import bound_names, eager_nodes, local_names

HARMLESS_CALLS = frozenset({
    *(f"builtins.{name}" for name in (
        "property", "staticmethod", "classmethod", "print", "len", "isinstance", "issubclass", "hasattr",
        "getattr", "setattr", "callable", "repr", "str", "int", "float", "bool", "tuple", "list", "dict", "set",
        "frozenset")),
    "dataclasses.dataclass", "dataclasses.field",
    "functools.lru_cache", "functools.cache", "functools.cached_property", "functools.wraps",
    "functools.total_ordering",
    "abc.abstractmethod", "enum.auto", "enum.unique",
    "typing.overload", "typing.final", "typing.runtime_checkable", "typing.no_type_check",
    "keras.saving.register_keras_serializable", "keras.utils.register_keras_serializable",
    "tensorflow.function",
    "numpy.vectorize", "numpy.array", "numpy.asarray", "numpy.float32", "numpy.float64", "numpy.int32", "numpy.int64",
})
# Keras objects built from their arguments (a class attribute `loss_tracker = keras.metrics.Mean()`,
# a default `optimizer=keras.optimizers.Adam(1e-3)`): building one trains, loads and downloads nothing.
# `get`/`deserialize` (and a string identifier given to a constructor) can build a class the notebook
# registered, so a notebook could still run its own code this way: on purpose, and only against its own
# load time, which the sandbox's load timeout bounds and names.
HARMLESS_PREFIXES = tuple(f"keras.{module}." for module in (
    "optimizers", "losses", "metrics", "layers", "initializers", "regularizers", "constraints", "activations"))
_NOT_HARMLESS_NAMES = ("get", "deserialize", "TFSMLayer")  # build registered objects, or load a saved model
_CLASS_HOOKS = ("__init_subclass__", "__class_getitem__")  # run when a class derives from / subscripts it
_ACCESSORS = ("setter", "getter", "deleter")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_EAGER_REASONS = {ast.Await: "uses await", ast.Yield: "uses yield", ast.YieldFrom: "uses yield",
                  ast.NamedExpr: "uses :="}


@dataclass
class Bindings:
    """What the notebook's statements have bound so far, in order, as definition time sees it."""

    imports: dict[str, str] = field(default_factory=dict)  # name -> dotted path, from kept imports
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)  # kept defs
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)  # kept classes
    data: set[str] = field(default_factory=set)  # bound by kept assignments: values, not code
    bound: set[str] = field(default_factory=set)  # bound by any statement, kept or skipped
    star_modules: list[str] = field(default_factory=list)
    future_annotations: bool = False

    def keep(self, stmt: ast.stmt) -> None:
        """A kept statement ran: what it binds (an import, a def, a class, a value) becomes known."""
        self.forget(bound_names(stmt))
        for inner in _flattened(stmt):
            self._record_kept(inner)

    def forget(self, names) -> None:
        """`names` are bound (or changed) by a statement the worker will not run: nothing is known of them."""
        for name in names:
            self.bound.add(name)
            self.data.discard(name)
            for table in (self.imports, self.functions, self.classes):
                table.pop(name, None)

    def _record_kept(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                self.imports[local] = alias.name if alias.asname else local
        elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            if stmt.module == "__future__":
                self.future_annotations |= any(a.name == "annotations" for a in stmt.names)
            for alias in stmt.names:
                if alias.name == "*":
                    self.star_modules.append(stmt.module)
                else:
                    self.imports[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"
        elif isinstance(stmt, _FUNCTIONS):
            self.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            self.classes[stmt.name] = stmt
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self.data.update(bound_names(stmt))


class DefinitionRules:
    """Decides whether defining a function or class runs only known, harmless code.

    Args:
        bindings: what the notebook bound before the definition.
        skipped_names: names only a skipped statement sets: using one would raise NameError.
    """

    def __init__(self, bindings: Bindings, skipped_names: set[str]) -> None:
        self._bindings = bindings
        self._skipped_names = skipped_names
        self._harmless: dict[str, bool] = {}  # function name -> verdict; False while it is being decided

    def reason(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str | None:
        """Why the filter must not run this definition; None when it is harmless."""
        for node in eager_nodes(stmt, lazy_annotations=self._bindings.future_annotations):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in self._skipped_names:
                return f"definition uses {node.id!r}, which only a skipped statement sets"
        found = self._definition(stmt, scope=set())
        return None if found is None else f"definition {found[0]} when it is defined ({found[1]})"

    # -- definitions ---------------------------------------------------------------------

    def _definition(self, stmt, scope: set[str]) -> tuple[str, str] | None:
        """(what it runs, where) of the first thing a definition runs that is not known harmless."""
        for decorator in stmt.decorator_list:
            problem = self._decorator(decorator, scope)
            if problem:
                return problem, "a decorator"
        if isinstance(stmt, ast.ClassDef):
            return self._class(stmt)
        arguments = stmt.args
        for default in [*arguments.defaults, *filter(None, arguments.kw_defaults)]:
            problem = self._expression(default)
            if problem:
                return problem, "a default value"
        if not self._bindings.future_annotations:
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
            annotations = [a.annotation for a in every if a is not None and a.annotation is not None]
            for annotation in [*annotations, *filter(None, [stmt.returns])]:
                problem = self._expression(annotation)
                if problem:
                    return problem, "an annotation"
        return None

    def _class(self, stmt: ast.ClassDef) -> tuple[str, str] | None:
        for base in stmt.bases:
            problem = self._expression(base) or self._base(base)
            if problem:
                return problem, "a base class"
        for keyword in stmt.keywords:
            problem = self._expression(keyword.value)
            if problem is None and keyword.arg == "metaclass":
                problem = self._metaclass(keyword.value)
            if problem:
                return problem, "a class keyword"
        return self._class_body(stmt.body, set())

    def _decorator(self, decorator: ast.expr, scope: set[str]) -> str | None:
        """A decorator is called with the definition: its callee must be known harmless."""
        if isinstance(decorator, ast.Call):  # a factory, e.g. @dataclass(frozen=True): only known ones
            if not is_harmless(self._resolve(decorator.func)):
                return f"calls {call_text(decorator)}"
            return self._expression(decorator)
        if (isinstance(decorator, ast.Attribute) and decorator.attr in _ACCESSORS
                and isinstance(decorator.value, ast.Name) and decorator.value.id in scope):
            return None  # @value.setter of a property defined above in the same class body
        if self._harmless_callee(decorator):
            return None
        return f"calls the decorator {_short(decorator)}"

    def _base(self, base: ast.expr) -> str | None:
        if isinstance(base, ast.Subscript):
            return self._base(base.value)
        if isinstance(base, ast.Name) and base.id in self._bindings.classes:
            hooks = [h for h in _CLASS_HOOKS if h in _class_level_names(self._bindings.classes[base.id])]
            if hooks:
                return f"runs {base.id}.{hooks[0]}"
        return None  # a library class, or a name the notebook does not bind (another file, a star import)

    def _metaclass(self, value: ast.expr) -> str | None:
        qualified = self._resolve(value)
        root = qualified.split(".")[0] if qualified else None
        if qualified == "builtins.type" or (root and root != "builtins"):
            return None  # a library metaclass, e.g. abc.ABCMeta
        return f"runs the metaclass {_short(value)}"

    def _class_body(self, body: list[ast.stmt], scope: set[str]) -> tuple[str, str] | None:
        """Every statement of a class body runs when the class is defined."""
        for stmt in body:
            if isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
                problem = self._definition(stmt, scope)
                if problem:
                    return problem[0], f"{problem[1]} of {stmt.name}"
            else:
                problem = self._body_statement(stmt, scope)
                if problem:
                    return problem, "the class body"
            scope.update(bound_names(stmt))
        return None

    def _body_statement(self, stmt: ast.stmt, scope: set[str]) -> str | None:
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return "runs a loop"
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            return "runs a with block"
        if isinstance(stmt, ast.If):
            return self._expression(stmt.test) or self._nested(stmt.body + stmt.orelse, scope)
        if isinstance(stmt, (ast.Try, ast.TryStar)):
            types = [h.type for h in stmt.handlers if h.type is not None]
            inner = [*stmt.body, *(s for h in stmt.handlers for s in h.body), *stmt.orelse, *stmt.finalbody]
            return next(filter(None, map(self._expression, types)), None) or self._nested(inner, scope)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Delete, ast.Pass,
                             ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            return self._expression(stmt)
        return f"runs a {type(stmt).__name__.lower()} statement"

    def _nested(self, body: list[ast.stmt], scope: set[str]) -> str | None:
        found = self._class_body(body, scope)
        return found[0] if found else None

    # -- expressions and callees ---------------------------------------------------------

    def _expression(self, node: ast.AST) -> str | None:
        """What evaluating `node` runs that is not known harmless (None if nothing)."""
        for child in eager_nodes(node, lazy_annotations=self._bindings.future_annotations):
            reason = _EAGER_REASONS.get(type(child))
            if reason:
                return reason
            if isinstance(child, ast.Call) and not self._harmless_callee(child.func):
                return f"calls {call_text(child)}"
        return None

    def _harmless_callee(self, func: ast.expr) -> bool:
        if is_harmless(self._resolve(func)):
            return True
        return isinstance(func, ast.Name) and self._harmless_function(func.id)

    def _harmless_function(self, name: str) -> bool:
        """Calling the notebook's function `name` runs no loop and only harmless calls."""
        if name not in self._harmless:
            self._harmless[name] = False  # recursion is not harmless
            self._harmless[name] = self._decide_harmless(self._bindings.functions.get(name))
        return self._harmless[name]

    def _decide_harmless(self, node) -> bool:
        if not isinstance(node, ast.FunctionDef):
            return False  # unknown, or a coroutine
        local = local_names(node)
        for stmt in node.body:
            for child in eager_nodes(stmt):
                if isinstance(child, (*_LOOPS, ast.With, ast.AsyncWith, *_EAGER_REASONS)):
                    return False
                if isinstance(child, ast.Call):
                    if isinstance(child.func, ast.Name) and child.func.id in local:
                        return False  # e.g. a decorator that calls the function it decorates
                    if not self._harmless_callee(child.func):
                        return False
        return True

    def _resolve(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to through the notebook's imports, or a builtin's."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        dotted = ".".join([node.id, *reversed(parts)])
        bindings = self._bindings
        if node.id in bindings.imports:
            return _normalized(".".join([bindings.imports[node.id], *reversed(parts)]))
        if node.id in bindings.bound:
            return None
        for module in bindings.star_modules:
            candidate = _normalized(f"{module}.{dotted}")
            if is_harmless(candidate):
                return candidate
        return f"builtins.{dotted}" if hasattr(builtins, node.id) else None


def is_harmless(qualified: str | None) -> bool:
    """A call known to run nothing of the notebook's and no experiment: see the module docstring."""
    if qualified is None:
        return False
    built = qualified.startswith(HARMLESS_PREFIXES) and qualified.rsplit(".", 1)[1] not in _NOT_HARMLESS_NAMES
    return built or qualified in HARMLESS_CALLS


def call_text(call: ast.Call) -> str:
    """`run_search()` or `keras.optimizers.Adam(...)`: how a message names a call."""
    arguments = "..." if call.args or call.keywords else ""
    return f"{_short(call.func)}({arguments})"


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _normalized(dotted: str) -> str:
    """tf.keras is Keras 3 under TensorFlow 2.21: `tensorflow.keras.X` is `keras.X`."""
    return dotted.replace("tensorflow.keras.", "keras.", 1) if dotted.startswith("tensorflow.keras.") else dotted


def _class_level_names(node: ast.ClassDef) -> set[str]:
    return {name for stmt in node.body for name in bound_names(stmt)}


def _flattened(stmt: ast.stmt) -> list[ast.stmt]:
    """The statement, or the statements of a kept top-level if/try block, in order."""
    if isinstance(stmt, ast.If):
        return [s for inner in [*stmt.body, *stmt.orelse] for s in _flattened(inner)]
    if isinstance(stmt, (ast.Try, ast.TryStar)):
        blocks = [*stmt.body, *(s for h in stmt.handlers for s in h.body), *stmt.orelse, *stmt.finalbody]
        return [s for inner in blocks for s in _flattened(inner)]
    return [stmt]
