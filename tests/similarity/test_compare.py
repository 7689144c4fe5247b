"""Pair scores, the class-wide common-code filter, matched lines, boilerplate."""

import pytest

from graders.similarity.boilerplate import boilerplate_kgrams, starter_sources
from graders.similarity.compare import common_cutoff, compare, matched_lines
from graders.similarity.extract import code_from_source
from graders.similarity.fingerprint import Fingerprints, fingerprint
from graders.similarity.normalise import token_streams
from graders.similarity.report import line_ranges


def prints(hashes, line=1):
    return Fingerprints({h: {line + i} for i, h in enumerate(hashes)})


def test_the_score_is_the_share_of_the_smaller_set_and_the_matrix_is_symmetric():
    result = compare({"a": prints(range(10)), "b": prints(range(5, 25)), "c": prints(range(100, 110))},
                     cutoff=10, min_fingerprints=3)
    assert result.score("a", "b") == pytest.approx(0.5) and result.score("b", "a") == pytest.approx(0.5)
    assert result.score("a", "c") == 0.0 and result.score("a", "a") == 0.0 and result.score("a", "nobody") == 0.0
    assert int(result.shared[0, 1]) == 5


def test_fingerprints_most_of_the_class_shares_are_ignored_and_what_is_left_may_be_too_short():
    everyone = list(range(1000, 1010))  # the "textbook formula": every student has it
    students = {f"s{i}": prints(everyone + [i * 100 + j for j in range(4 if i < 2 else 20)]) for i in range(8)}
    result = compare(students, cutoff=common_cutoff(8, fraction=0.25, minimum=2), min_fingerprints=5)
    assert result.ignored == 10
    assert set(result.too_common) == {"s0", "s1"} and "s0" not in result.students
    assert result.scores.max() == 0.0  # what is left is each student's own


def test_the_cutoff_is_a_share_of_the_class_but_never_below_the_minimum():
    assert common_cutoff(200, fraction=0.25, minimum=6) == 50
    assert common_cutoff(10, fraction=0.25, minimum=6) == 6


def test_matched_lines_are_those_of_the_shared_fingerprints_on_each_side():
    a = Fingerprints({1: {3, 4}, 2: {9}, 3: {12}})
    b = Fingerprints({1: {30}, 3: {1, 2}, 4: {5}})
    assert matched_lines(a, b) == ((3, 4, 12), (1, 2, 30))
    assert line_ranges((1, 2, 3, 7, 9, 10)) == "1-3 7 9-10" and line_ranges(()) == ""


def test_the_starter_stubs_and_the_handed_out_regressor_are_boilerplate():
    sources = "\n".join(starter_sources())
    assert "raise NotImplementedError" in sources and "sigmoid" in sources
    boilerplate = boilerplate_kgrams(k=10, max_tokens=50_000)
    handed_out = code_from_source(
        "import keras\n\ndef build_regressor(input_shape):\n"
        "    model = keras.Sequential([keras.Input(shape=tuple(input_shape)),\n"
        "        keras.layers.Conv1D(64, kernel_size=1, activation='relu'), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(64, activation='relu'), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(1, activation='sigmoid')])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n"
        "    return model\n", "q3")
    found = fingerprint(token_streams(handed_out, max_tokens=50_000), k=10, window=5)
    assert len(found) > 5 and len(found.without(boilerplate)) == 0
