"""Property: whatever bytes, notebooks or zips a student hands in, the loader only ever raises
SubmissionLoadError (never crashes, never runs code)."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.core.errors import SubmissionLoadError
from graders.submission.loader import LoaderLimits, prepare_submission
from tests.submission.files import assert_compiles

# --- property: bad input only ever raises SubmissionLoadError ------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PYTHONISH = st.sampled_from([
    "import os", "x = 1", "x = f()", "%time x", "!ls", "%%time\nx", "def f(:", "def f():\n    return 1",
    "if __name__ == '__main__':\n  pass", "try:\n    import a\nexcept A:\n    pass", "\x00", "\ud800",
    "class A:\n    x = y", "for i in x:\n    pass", "@d\nclass B: pass", "a, *b = c", "async def g(): await h()",
    "@d(x)\ndef f(a=g(), *, b: h() = 1) -> k():\n    pass", "class C(B, metaclass=M, k=f()):\n    x = f()",
    "T = []\nT.append(1)\nT[0] += 1", "def h():\n    global T\n    T = 1\nh()", "from m import *",
])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | PYTHONISH,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
CELL = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", 3]), "metadata": st.just({}),
     "source": PYTHONISH | st.lists(PYTHONISH, max_size=3) | st.text(max_size=30) | JSONISH},
    optional={"outputs": st.just([]), "execution_count": st.none()},
)
NOTEBOOK = st.fixed_dictionaries(
    {"nbformat": st.sampled_from([4, 3, "4", 99]), "nbformat_minor": st.integers(0, 5),
     "metadata": st.just({}) | JSONISH, "cells": st.lists(CELL | JSONISH, max_size=5)},
) | JSONISH


def loads_or_refuses(path: Path, limits: LoaderLimits = LoaderLimits()) -> None:
    try:
        prepared = prepare_submission(path, limits=limits)
    except SubmissionLoadError:
        return
    json.dumps(prepared.to_json())
    for unit in prepared.units:
        if unit.origin.endswith(".ipynb"):
            assert_compiles(unit.code)


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".py", ".ipynb", ".zip"]))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    loads_or_refuses(path)


@FUZZ
@given(notebook=NOTEBOOK)
def test_random_notebooks(tmp_path, notebook):
    path = tmp_path / "fuzz.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    loads_or_refuses(path)


# zipfile itself cannot write names with NUL or lone surrogates
NAME_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
MEMBER_NAME = st.sampled_from(["a.py", "d/b.py", "d/", "c.ipynb", "../e.py", "/f.py", ".h/g.py", "x.txt"]) | (
    NAME_TEXT.map(lambda s: s + ".py"))


@FUZZ
@given(members=st.lists(st.tuples(MEMBER_NAME, st.binary(max_size=50) | PYTHONISH), max_size=5),
       flip=st.integers(0, 400))
def test_random_zips(tmp_path, members, flip):
    path = tmp_path / "fuzz.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of the fuzzing
        for name, data in members:
            archive.writestr(name, data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    raw = bytearray(path.read_bytes())
    if raw and flip < len(raw):
        raw[flip] ^= 0xFF  # corrupt one byte somewhere
    path.write_bytes(bytes(raw))
    loads_or_refuses(path, LoaderLimits(max_files=3, max_file_bytes=40))
