"""Tests for the notebook filter's rules: what runs at definition time, and values a skipped statement changes."""

from __future__ import annotations

import nbformat
import pytest

from graders.submission.notebook import filter_notebook


def notebook(*cells: str) -> str:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    return nbformat.writes(book)


def filtered(*cells: str):
    result = filter_notebook(notebook(*cells), origin="nb.ipynb")
    compile(result.code, "<kept>", "exec")  # the test may compile; the filter never does
    return result


def reasons(result) -> dict[str, str]:
    return {s.origin: s.reason for s in result.skipped}


# --- what a definition runs when it is defined ---------------------------------------------------

KEPT_DEFINITIONS = {
    "dataclass": ("from dataclasses import dataclass, field",
                  "@dataclass(frozen=True)\nclass C:\n    x: int = 1\n    ys: list = field(default_factory=list)"),
    "dataclass by module": ("import dataclasses", "@dataclasses.dataclass\nclass C:\n    x: int = 1"),
    "dataclass by star import": ("from dataclasses import *", "@dataclass\nclass C:\n    x: int = field(default=1)"),
    "property and setter": ("", ("class C:\n    @property\n    def x(self):\n        return 1\n"
                                "    @x.setter\n    def x(self, v):\n        pass\n"
                                "    @staticmethod\n    def s():\n        pass\n"
                                "    @classmethod\n    def c(cls):\n        pass")),
    "functools caches": ("import functools\nfrom functools import lru_cache",
                         ("@functools.lru_cache(maxsize=None)\ndef f(n):\n    return n\n"
                          "@lru_cache\ndef g(n):\n    return n\n@functools.cache\ndef h(n):\n    return n")),
    "keras 3 registration": ("import keras", ("@keras.saving.register_keras_serializable(package='hw3')\n"
                                             "class L(keras.layers.Layer):\n    def call(self, x):\n        return x")),
    "tf.keras registration": ("import tensorflow as tf", ("@tf.keras.utils.register_keras_serializable()\n"
                                                         "class L(tf.keras.layers.Layer):\n    pass")),
    "tf.function": ("import tensorflow as tf", "@tf.function(jit_compile=False)\ndef f(x):\n    return x"),
    "abstract method": ("import abc", "class Q(abc.ABC):\n    @abc.abstractmethod\n    def answer(self):\n        ..."),
    "library metaclass": ("import abc", "class Q(metaclass=abc.ABCMeta):\n    pass"),
    "enum auto": ("from enum import Enum, auto", "class P(Enum):\n    A = auto()\n    B = auto()"),
    "wrapping decorator": ("import functools",
                           ("def timed(f):\n    @functools.wraps(f)\n    def wrapper(*a):\n        return f(*a)\n"
                            "    return wrapper\n@timed\ndef g():\n    return 1")),
    "harmless function of the notebook": ("def default_units():\n    return int('64')",
                                          "def f(units=default_units()):\n    return units"),
    "keras objects": ("import keras\nimport numpy as np",
                      ("class M(keras.Model):\n    tracker = keras.metrics.Mean(name='loss')\n"
                       "    def fit(self, x, optimizer=keras.optimizers.Adam(1e-3), eps=np.float32(1e-3)):\n"
                       "        return x")),
    "lambda default": ("", "def f(g=lambda: run_search()):\n    return g"),  # a lambda's body runs later
    "literal defaults and annotations": ("import numpy as np",
                                         ("def f(x: np.ndarray, shape: tuple[int, int] = (28, 28)) -> np.ndarray:\n"
                                          "    return x")),
    "lazy annotations": ("from __future__ import annotations", "def f(x: make_type()) -> other():\n    return x"),
    "class literals and print": ("", ("class C:\n    '''Doc.'''\n    UNITS = 64\n    SIZES = [UNITS * 2]\n"
                                     "    print('defined')")),
    "unknown base class": ("", "class C(FromAnotherFile):\n    pass"),  # another file's, or a star import's
}


@pytest.mark.parametrize("case", KEPT_DEFINITIONS)
def test_harmless_definitions_are_kept(case):
    first, definition = KEPT_DEFINITIONS[case]
    result = filtered(first, definition)
    assert result.skipped == ()
    assert definition in result.code


SKIPPED_DEFINITIONS = {
    "default value": ("def run_search():\n    return tuner.search(x)",
                      "def summarize(best=run_search()):\n    return best",
                      "definition calls run_search() when it is defined (a default value)"),
    "keyword-only default": ("import numpy as np", "def plot(*, history=np.load('h.npy')):\n    pass",
                             "definition calls np.load(...) when it is defined (a default value)"),
    "unknown decorator": ("", "@register\ndef f():\n    pass",
                          "definition calls the decorator register when it is defined (a decorator)"),
    "decorator factory of the notebook": ("def repeat(n):\n    def deco(f):\n        return f\n    return deco",
                                          "@repeat(3)\ndef f():\n    pass",
                                          "definition calls repeat(...) when it is defined (a decorator)"),
    "decorator that calls its function": ("def now(f):\n    f()\n    return f", "@now\ndef f():\n    pass",
                                          "definition calls the decorator now when it is defined (a decorator)"),
    "decorator that loops": ("def slow(f):\n    while True:\n        pass", "@slow\ndef f():\n    pass",
                             "definition calls the decorator slow when it is defined (a decorator)"),
    "recursive decorator": ("def rec(f):\n    return rec(f)", "@rec\ndef f():\n    pass",
                            "definition calls the decorator rec when it is defined (a decorator)"),
    "registry decorator": ("R = []\ndef reg(f):\n    R.append(f)\n    return f", "@reg\ndef f():\n    pass",
                           "definition calls the decorator reg when it is defined (a decorator)"),
    "annotation": ("import numpy as np", "def f(x: np.dtype('int64')):\n    pass",
                   "definition calls np.dtype(...) when it is defined (an annotation)"),
    "return annotation": ("", "def f() -> make_type():\n    pass",
                          "definition calls make_type() when it is defined (an annotation)"),
    "keras deserialize": ("import keras", "class M(keras.Model):\n    opt = keras.optimizers.get('my_registered')",
                          "definition calls keras.optimizers.get(...) when it is defined (the class body)"),
    "class body call": ("import keras", "class M(keras.Model):\n    best = keras.models.load_model('best.keras')",
                        "definition calls keras.models.load_model(...) when it is defined (the class body)"),
    "class body loop": ("", "class E:\n    results = []\n    for seed in (1, 2):\n        results.append(seed)",
                        "definition runs a loop when it is defined (the class body)"),
    "class body with": ("", "class E:\n    with open('x') as f:\n        pass",
                        "definition runs a with block when it is defined (the class body)"),
    "method default": ("import keras", ("class M(keras.Model):\n    def fit(self, x, epochs=epochs_from_search()):\n"
                                       "        pass"),
                       "definition calls epochs_from_search() when it is defined (a default value of fit)"),
    "base class call": ("from collections import namedtuple", "class P(namedtuple('P', 'x y')):\n    pass",
                        "definition calls namedtuple(...) when it is defined (a base class)"),
    "base with __init_subclass__": ("class Base:\n    def __init_subclass__(cls):\n        run_search()",
                                    "class Q(Base):\n    pass",
                                    "definition runs Base.__init_subclass__ when it is defined (a base class)"),
    "metaclass of the notebook": ("class Meta(type):\n    pass", "class A(metaclass=Meta):\n    pass",
                                  "definition runs the metaclass Meta when it is defined (a class keyword)"),
    "class keyword call": ("class Base:\n    pass", "class B(Base, flag=make()):\n    pass",
                           "definition calls make() when it is defined (a class keyword)"),
    "rebound builtin": ("def property(f):\n    run_search()\n    return f",
                        "class C:\n    @property\n    def x(self):\n        return 1",
                        "definition calls the decorator property when it is defined (a decorator of x)"),
    "shadowed module": ("import functools\nfunctools = load()", "@functools.lru_cache\ndef f():\n    pass",
                        "definition uses 'functools', which only a skipped statement sets"),
}


@pytest.mark.parametrize("case", SKIPPED_DEFINITIONS)
def test_definitions_that_would_run_unknown_code_are_skipped_and_listed(case):
    first, definition, reason = SKIPPED_DEFINITIONS[case]
    result = filtered(first, definition)
    assert reasons(result)["nb.ipynb, cell 2, line 1"] == reason
    assert definition not in result.code
    [skipped] = [s for s in result.skipped if s.origin == "nb.ipynb, cell 2, line 1"]
    assert skipped.kind == "definition" and skipped.source == definition


def test_the_issue_notebook_keeps_the_answers_after_a_definition_that_runs_a_search():
    result = filtered("import time\ndef run_search():\n    time.sleep(3600)",
                      "def summarize(best=run_search()):\n    return best",
                      "def dense_params(in_features, units):\n    return in_features * units + units")
    assert "summarize" not in result.code and "def dense_params" in result.code
    assert result.definitions == ("run_search", "dense_params")


# --- a name a skipped statement sets or changes counts as set by it ----------------------------------

CHANGED = {
    "append in a loop": ("TABLE = []", "for i in range(3):\n    TABLE.append(i)", "loop"),
    "top-level append": ("TABLE = []", "TABLE.append((None, 0))", "top-level call"),
    "item assignment that calls": ("PARAMS = {}", "PARAMS['fc'] = dense_params(1, 2)", "assignment calls a function"),
    "update": ("PARAMS = {}", "PARAMS.update(best.values)", "top-level call"),
    "augmented assignment": ("TOTAL = 0", "TOTAL += 5", "augmented assignment"),
    "attribute set": ("CONFIG = Namespace", "CONFIG.lr = tune()", "assignment calls a function"),
    "rebinding by a call": ("BEST = 0.0", "BEST = tuner.best_score()", "assignment calls a function"),
    "a function of the notebook": ("TABLE = []\ndef add(row):\n    TABLE.append(row)", "add((None, 0))",
                                   "top-level call"),
    "a function through global": ("BEST = {}\ndef keep(v):\n    global BEST\n    BEST = v", "keep(search())",
                                  "top-level call"),
    "a %%time cell": ("TABLE = []", "%%time\nfor i in range(3):\n    TABLE.append(i)", "cell magic"),
    "a shell assignment": ("FILES = []", "FILES = !ls", "shell command"),
}


@pytest.mark.parametrize("case", CHANGED)
def test_a_value_changed_by_a_skipped_statement_is_left_undefined(case):
    first, change, reason = CHANGED[case]
    name = first.split(" ")[0]
    result = filtered(first, change, f"def reader():\n    return {name}", f"COPY = {name}")
    [skipped] = [s for s in result.skipped if s.origin.startswith("nb.ipynb, cell 2")]
    assert skipped.reason == reason and name in skipped.names
    assert f"try:  # {skipped.origin} (skipped) sets or changes {name}\n    del {name}\n" in result.code
    assert "def reader" in result.code  # a body runs later: it reads the name, and the grader says why it is missing
    expected = f"assignment uses {name!r}, which only a skipped statement sets"
    assert reasons(result)["nb.ipynb, cell 4, line 1"] == expected
    assert name not in result.definitions


def test_in_place_changes_are_named_as_such():
    result = filtered("TABLE = []\nBEST = 0", "for row in rows():\n    TABLE.append(row)\n    BEST = row")
    [loop] = result.skipped
    assert loop.names == ("row", "BEST", "TABLE") and loop.changes == ("TABLE",)


def test_a_later_literal_makes_the_name_defined_again():
    result = filtered("TABLE = []", "for i in range(3):\n    TABLE.append(i)", "TABLE = [(None, 0)]")
    assert result.code.endswith("TABLE = [(None, 0)]") and "TABLE" in result.definitions


def test_kept_changes_and_library_state_are_not_changes_of_a_value():
    result = filtered("import numpy as np\nimport matplotlib.pyplot as plt\nANSWERS = {'q1a': 'x'}",
                      "ANSWERS['q4a'] = 'shared weights'\nnp.random.seed(0)\nplt.rcParams.update({'a': 1})",
                      "def f():\n    return np, plt")
    assert "del" not in result.code and "ANSWERS['q4a'] = 'shared weights'" in result.code
    assert [s.changes for s in result.skipped] == [(), ()]


# --- where things are: cells and lines ---------------------------------------------------------------

def test_the_line_map_points_every_kept_line_at_the_students_cell_and_line():
    cells = ("%matplotlib inline\nimport numpy as np", ("x = load()\n\n\nSCALE = 2; y = f()\n"
             "@staticmethod\ndef g(a,\n      b):\n    return a"), "from __future__ import annotations")
    result = filtered(*cells)
    lines = result.code.split("\n")
    assert len(result.line_map) == len(lines)
    for text, (cell, line) in zip(lines, result.line_map):
        if cell == 0:
            assert text.startswith("# --- nb.ipynb, cell ")
        else:
            assert cells[cell - 1].split("\n")[line - 1].startswith(text)
    assert result.line_map[0] == (3, 1)  # the __future__ import, hoisted to the top
    assert "SCALE = 2\n" in result.code and reasons(result)["nb.ipynb, cell 2, line 4"] == "assignment calls a function"


def test_skipped_statements_are_listed_as_code_cut_to_a_few_lines():
    long_loop = "for i in range(3):\n" + "".join(f"    step_{n}(i)\n" for n in range(12))
    result = filtered(long_loop, "x = [" + ", ".join(["compute()"] * 100) + "]")
    loop, long_line = result.skipped
    assert loop.source.split("\n") == ["for i in range(3):", *(f"    step_{n}(i)" for n in range(7)), "..."]
    assert len(long_line.source) == 200 and long_line.source.endswith("...")


def test_deep_call_graphs_are_analysed_in_linear_time():
    """Each function calls the next twice: 2**60 call paths, but each function is read once."""
    chain = "\n".join(f"def f{n}(x=None):\n    f{n + 1}()\n    f{n + 1}()\n    return x" for n in range(60))
    result = filtered("TABLE = []", chain + "\ndef f60(x=None):\n    TABLE.append(1)\n    return x",
                      "@f0\ndef g():\n    pass", "f0()")
    assert reasons(result)["nb.ipynb, cell 3, line 1"].startswith("definition calls the decorator f0")
    assert result.skipped[-1].changes == ("TABLE",)
