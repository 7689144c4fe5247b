"""graders.questions.q7: resampling, similarity metrics, the diagnosis, what the checks observe and how their judges
decide (on synthetic maps; tests/reference/test_sweep_q7.py decides on the grader's CNN's) and the report pictures."""

import base64
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import dataclasses  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders.core import judging  # noqa: E402
from graders.core.rubric import Rubric  # noqa: E402
from graders.questions.q7 import heatmaps, observations  # noqa: E402
from graders.questions.q7.cases import Case, Selection, Setup  # noqa: E402
from graders.questions.q7.judges import JUDGES, Settings  # noqa: E402
from graders.questions.q7.observations import StudentMaps  # noqa: E402

GRID = (28, 28)


def _blob(shape, centre, width=1.5):
    rows, cols = np.indices(shape)
    blob = np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * width**2))
    return blob / blob.max()


# -- resample -----------------------------------------------------------------------------

def test_resample_keeps_a_map_of_the_target_size():
    heatmap = np.random.default_rng(0).random((6, 6))
    np.testing.assert_allclose(heatmaps.resample(heatmap, (6, 6)), heatmap, atol=1e-12)


def test_resample_upwards_is_tf_image_resize_bilinear():
    import tensorflow as tf

    heatmap = np.random.default_rng(1).random((6, 6))
    expected = tf.image.resize(heatmap[..., None], GRID, method="bilinear").numpy()[..., 0]
    np.testing.assert_allclose(heatmaps.resample(heatmap, GRID), expected, atol=1e-6)


def test_resample_downwards_averages_areas():
    blocks = np.kron(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))  # 6x6 of 2x2 constant blocks
    np.testing.assert_allclose(heatmaps.resample(blocks, (3, 3)), np.arange(9.0).reshape(3, 3), atol=1e-12)


def test_resample_preserves_constants_both_ways():
    for shape, target in (((6, 6), GRID), ((26, 26), (6, 6)), ((28, 28), (6, 7))):
        np.testing.assert_allclose(heatmaps.resample(np.full(shape, 0.3), target), 0.3, atol=1e-12)


# -- metrics ------------------------------------------------------------------------------

def test_pearson_ignores_scale_and_offset_and_sees_sign():
    a = np.random.default_rng(2).random((6, 6))
    assert heatmaps.pearson(a, 3 * a + 1) == pytest.approx(1.0)
    assert heatmaps.pearson(a, -a) == pytest.approx(-1.0)


def test_pearson_of_a_constant_map_is_zero_even_after_resampling():
    pattern = np.random.default_rng(3).random((28, 28))
    for constant in (np.zeros((6, 6)), np.full((6, 6), 0.7)):
        assert heatmaps.pearson(heatmaps.resample(constant, GRID), pattern) == 0.0


def test_pearson_sees_the_pattern_of_a_tiny_map():
    a = np.random.default_rng(6).random((6, 6))
    assert heatmaps.pearson(a * 1e-9, a) == pytest.approx(1.0)


def test_top_overlap_counts_shared_top_pixels():
    a = np.arange(100.0).reshape(10, 10)
    assert heatmaps.top_overlap(a, a, 0.2) == 1.0
    assert heatmaps.top_overlap(a, -a, 0.2) == 0.0
    shifted = np.roll(a.ravel(), 10).reshape(10, 10)  # top 20 of a: 80..99; of shifted: positions 0..9 and 90..99
    assert heatmaps.top_overlap(shifted, a, 0.2) == pytest.approx(0.5)


def test_similarity_compares_maps_of_different_sizes_on_the_grid():
    small = _blob((6, 6), (2, 3))
    result = heatmaps.similarity(heatmaps.resample(small, GRID), small, grid=GRID, fraction=0.2)
    assert result == {"r": pytest.approx(1.0), "top_overlap": 1.0}


# -- value limits -------------------------------------------------------------------------

LIMITS = heatmaps.ValueLimits(negative_tol=1e-6, max_tol=0.01, upsampled_negative_tol=0.4,
                              upsampled_peak_range=(0.6, 1.4))


def test_a_layer_sized_map_must_be_exactly_in_0_1_with_peak_1_and_an_upsampled_one_may_move():
    assert LIMITS.lowest(False) == -1e-6 and LIMITS.peak(False) == (0.99, 1.01)
    assert LIMITS.lowest(True) == -0.4 and LIMITS.peak(True) == (0.6, 1.4)
    assert heatmaps.upsampled((28, 28), image=GRID, layer=(6, 6))
    assert not heatmaps.upsampled((6, 6), image=GRID, layer=(6, 6))
    assert not heatmaps.upsampled((28, 28), image=GRID, layer=(28, 28))  # a layer of the image's size: held exactly


def test_upsampling_moves_values_within_the_upsampled_limits_and_a_mistake_beyond_them():
    import tensorflow as tf

    layer_map = np.maximum(_blob((6, 6), (2, 3)) - 0.2, 0) / 0.8
    upsampled = [tf.image.resize(layer_map[..., None], GRID, method=m).numpy()[..., 0] for m in ("bicubic", "bilinear")]
    assert min(m.min() for m in upsampled) < 0 and max(m.max() for m in upsampled) != 1  # they do move
    assert all(m.min() >= LIMITS.lowest(True) and LIMITS.peak(True)[0] <= m.max() <= LIMITS.peak(True)[1]
               for m in upsampled)
    unrelu = heatmaps.resample((_blob((6, 6), (2, 3)) - 0.6) / 0.4, GRID)  # lowest -1.5
    assert unrelu.min() < LIMITS.lowest(True) and (upsampled[1] * 0.2).max() < LIMITS.peak(True)[0]


# -- diagnosis ----------------------------------------------------------------------------

def _variants(n=4):
    """Maps of n cases by the reference and by some mistakes, each with its own pattern."""
    rng = np.random.default_rng(4)
    raw = np.stack([_blob((6, 6), rng.uniform(0, 5, 2)) for _ in range(n)]) - 0.3  # weighted sums, before ReLU
    correct = np.maximum(raw, 0) / 0.7
    return {
        "correct": correct,
        "no_relu": raw / 0.7,
        "not_normalised": correct * 0.05,
        "softmax_gradient": np.stack([_blob((6, 6), rng.uniform(0, 5, 2)) for _ in range(n)]),
        "layer:conv1": np.stack([_blob((26, 26), rng.uniform(0, 25, 2), 4) for _ in range(n)]),
    }


def _diagnose(maps, variants):
    return heatmaps.diagnose(list(maps), variants, grid=GRID)


def test_correct_maps_match_no_mistake_even_upsampled():
    variants = _variants()
    upsampled = [heatmaps.resample(m, GRID) for m in variants["correct"]]
    for maps in (variants["correct"], upsampled, variants["correct"] * 0.05):
        diagnosis = _diagnose(maps, variants)
        assert diagnosis.closest == heatmaps.CORRECT
        assert "no known mistake" in diagnosis.pattern()


def test_a_pattern_mistake_is_named_with_its_evidence():
    variants = _variants()
    diagnosis = _diagnose(variants["softmax_gradient"], variants)
    assert diagnosis.closest == "softmax_gradient"
    assert "softmax" in diagnosis.pattern() and "median r = 1.00" in diagnosis.pattern()


def test_another_layer_is_named_by_its_name():
    variants = _variants()
    diagnosis = _diagnose(variants["layer:conv1"], variants)
    assert (diagnosis.closest, diagnosis.layer) == ("wrong_layer", "conv1")
    assert "layer `conv1`" in diagnosis.pattern()


def test_a_map_without_its_relu_is_recognised_by_its_pattern():
    variants = _variants()
    assert _diagnose(variants["no_relu"], variants).closest == "no_relu"
    rescaled = [(m - m.min()) / (m.max() - m.min()) for m in variants["no_relu"]]  # min-max: no negative value left
    assert _diagnose(rescaled, variants).closest == "no_relu"


def test_a_tie_with_a_variant_of_the_same_pattern_goes_to_correct():
    variants = _variants()
    variants["no_relu"] = variants["correct"].copy()  # a raw map without negative values
    assert _diagnose(variants["correct"], variants).closest == heatmaps.CORRECT


def test_a_mistake_is_described_with_evidence_only_when_it_is_the_closest():
    variants = _variants()
    assert "median r = 1.00" in _diagnose(variants["no_relu"], variants).label("no_relu")
    assert "median r" not in _diagnose(variants["correct"], variants).label("no_relu")


# -- what the checks observe, and their judges --------------------------------------------

CASES = [Case(10, 3, "predicted", "clear"), Case(10, 5, "runner-up", "clear"), Case(10, 0, "class 0", "clear"),
         Case(10, 8, "other class", "clear"), Case(20, 4, "predicted", "ambiguous"),
         Case(20, 9, "runner-up", "ambiguous"), Case(30, 7, "predicted", "negative evidence")]
CENTRES = [(1, 1), (4, 4), (1, 4), (4, 1), (2, 2), (4, 3), (3, 1)]  # every case's evidence somewhere else
DESCRIPTIONS = [f"case {i}" for i in range(len(CASES))]


def _raw(centres, offset=0.3):
    """Weighted sums of feature maps, before ReLU: a blob per case; the last one mostly negative."""
    raw = np.stack([_blob((6, 6), c) for c in centres]) - offset
    raw[-1] = _blob((6, 6), centres[-1]) - 0.6 + 0.5 * _blob((6, 6), (5, 5), 1.0)  # strong negative evidence
    return raw


def _finish(raw, relu=True):
    maps = np.maximum(raw, 0) if relu else raw.copy()
    return maps / maps.max(axis=(1, 2), keepdims=True)


def _reference():
    raw, softmax = _raw(CENTRES), _raw([(c[1], c[0]) for c in CENTRES], 0.2)
    return {"correct": _finish(raw), "no_relu": _finish(raw, relu=False), "softmax_gradient": _finish(softmax),
            "softmax_no_relu": _finish(softmax, relu=False),
            "unweighted_activations": np.stack([_blob((6, 6), (2.5, 2.5), 3)] * len(CASES)),
            "layer:conv1": np.stack([_blob((26, 26), (4 * c[0], 4 * c[1]), 4) for c in CENTRES])}


SETUP = Setup(Selection(CASES, layer_digits=[10, 20], random_digits=[], random_classes=[], notes=[]),
              layer="conv3", other_layer="conv2", layer_shapes={"conv1": (26, 26), "conv2": (13, 13), "conv3": (6, 6)},
              variants=_reference(), layer_maps=np.zeros((2, 13, 13)))
SETTINGS = dataclasses.replace(Rubric.load().section("q7", Settings), top_fraction=0.2, min_map_correlation=0.6,
                               min_top_overlap=0.67, class_margin=0.5, negative_evidence_margin=0.0,
                               negative_evidence_min_r=0.9, negative_tol=1e-6, max_tol=0.01,
                               upsampled_negative_tol=0.4, upsampled_peak_range=(0.6, 1.4), layer_same_min_r=0.99,
                               random_max_correlation=0.85)
MAP_CHECKS = ("nonnegative", "normalised", "logit", "correlation", "top_overlap", "class_sensitivity")


def _judged(name, observations, settings=SETTINGS):
    """The verdict of judge `name` on `observations`, stored and read back as a grading stores them."""
    stored = json.loads(json.dumps(judging.normalise({**observations, judging.JUDGE: name})))
    return judging.judge(JUDGES, stored, settings)


def _student(maps, training_calls=0):
    return StudentMaps([np.asarray(m, dtype=float) for m in maps], SETUP, GRID, DESCRIPTIONS,
                       training_calls=training_calls)


def _verdicts(maps, training_calls=0) -> dict:
    student = _student(maps, training_calls)
    observed = {"nonnegative": student.nonnegative(), "normalised": student.normalised(), "logit": student.logit(),
                "correlation": student.correlation(), "top_overlap": student.top_overlap(SETTINGS.top_fraction),
                "class_sensitivity": student.class_sensitivity()}
    return {name: _judged(name, observations) for name, observations in observed.items()}


def _failed(maps, training_calls=0):
    return {name for name, verdict in _verdicts(maps, training_calls).items() if verdict.status != "passed"}


def _predicted_map_for_every_case(maps, only_class=None):
    predicted = {case.digit: maps[i] for i, case in enumerate(CASES) if case.predicted}
    return [predicted[case.digit] if only_class in (None, case.class_index) else m for case, m in zip(CASES, maps)]


def test_the_reference_and_its_upsampled_maps_pass_every_check():
    correct = _reference()["correct"]
    for maps in (correct, [heatmaps.resample(m, GRID) for m in correct], correct * (1 - 1e-7)):
        assert _failed(maps) == set() and _student(maps).diagnosis.closest == heatmaps.CORRECT


def test_a_map_without_relu_and_a_min_max_scaled_map_lose_nonnegative_alone():
    no_relu = _reference()["no_relu"]
    min_max = [(m - m.min()) / (m.max() - m.min()) for m in no_relu]
    assert _failed(no_relu) == {"nonnegative"}
    assert min(m.min() for m in min_max) == 0.0  # no negative value left: only the pattern shows it
    assert _failed(min_max) == {"nonnegative"}
    assert _verdicts(min_max)["nonnegative"].diagnosis == "min_max_scaled"


def test_ignoring_class_index_loses_class_sensitivity_alone_and_class_zero_is_named():
    correct = _reference()["correct"]
    ignored = _verdicts(_predicted_map_for_every_case(correct))
    assert {name for name, v in ignored.items() if v.status != "passed"} == {"class_sensitivity"}
    assert ignored["class_sensitivity"].diagnosis == "ignored_class_index"
    zero = _verdicts(_predicted_map_for_every_case(correct, only_class=0))
    assert {name for name, v in zero.items() if v.status != "passed"} == {"class_sensitivity"}
    assert zero["class_sensitivity"].diagnosis == "class_zero_as_none" and "class_index=0" in zero[
        "class_sensitivity"].message


def test_softmax_gradient_and_ignored_class_index_are_both_caught():
    maps = _predicted_map_for_every_case(_reference()["softmax_gradient"])
    assert _failed(maps) == {"logit", "class_sensitivity"}
    assert _student(maps).diagnosis.closest == "softmax_gradient"


def test_a_class_blind_method_is_not_class_sensitivity_s_business():
    failed = _failed(_reference()["unweighted_activations"])
    assert "class_sensitivity" not in failed and {"correlation", "top_overlap"} <= failed


def test_training_mode_is_named_first_and_class_handling_is_not_judged_on_noise():
    noise = np.random.default_rng(7).random((len(CASES), 6, 6))
    noise /= noise.max(axis=(1, 2), keepdims=True)
    verdicts = _verdicts(noise, training_calls=3)
    failed = {name for name, v in verdicts.items() if v.status != "passed"}
    assert {"correlation", "top_overlap", "class_sensitivity"} <= failed
    assert all(verdicts[name].diagnosis == "training_mode" for name in failed)
    assert "training=True" in verdicts["correlation"].message
    assert _failed(_reference()["correct"], training_calls=0) == set()


def test_constant_maps_never_pass_a_check_by_accident():
    for value in (0.0, 1.0):
        verdicts = _verdicts([np.full((6, 6), value)] * len(CASES))
        assert {name for name, v in verdicts.items() if v.status != "passed"} == set(MAP_CHECKS)
        assert all(v.diagnosis == "constant" for v in verdicts.values())
    trained = [np.zeros((6, 6))] * 3
    randomisation = observations.randomisation(trained, trained, ["a", "b", "c"], grid=GRID)
    verdict = _judged("randomisation", {**randomisation, "diagnosis": _student(trained * 3).diagnosis.to_plain()})
    assert verdict.status == "failed" and verdict.diagnosis == "constant"


def test_one_constant_map_is_left_out_where_it_carries_no_pattern():
    maps = list(_reference()["correct"])
    maps[3] = np.zeros((6, 6))  # the reference returns zeros where nothing is positive
    assert _failed(maps) == set() and not _student(maps).degenerate
    randomisation = observations.randomisation(maps[:3], [np.zeros((6, 6))] * 3, ["a", "b", "c"], grid=GRID)
    assert _judged("randomisation", {**randomisation, "diagnosis": _student(maps).diagnosis.to_plain()}).status == \
        "passed"


def test_singleton_axes_are_the_same_answer_for_the_shape_check():
    shapes = [(6, 6), (1, 6, 6), (6, 6, 1), (1, 28, 28, 1)]
    verdict = _judged("shape", observations.shapes(shapes, SETUP, DESCRIPTIONS[:4], grid=GRID))
    assert verdict.status == "passed" and len(verdict.details["representations"]) == 3
    wrong = _judged("shape", observations.shapes([(6, 6), (26, 26), (2, 6, 6)], SETUP, DESCRIPTIONS[:3], grid=GRID))
    assert wrong.status == "failed" and "(26, 26) is the output size of layer `conv1`" in wrong.message
    assert "2 of 3 heatmaps have the wrong shape" in wrong.message and wrong.diagnosis == "wrong_layer"


def test_layer_name_fails_when_the_other_layer_gets_the_last_convolution_s_map():
    correct = _reference()["correct"]
    student = _student(correct)
    own = [correct[0], correct[4]]  # the layer digits' predicted-class maps at the last convolution
    other = [_blob((13, 13), (2, 9)), _blob((13, 13), (10, 3))]
    assert _judged("layer_name", student.layer_name(other, ["a", "b"])).status == "passed"
    upsampled = [heatmaps.resample(m, GRID) for m in other]
    assert _judged("layer_name", student.layer_name(upsampled, ["a", "b"])).status == "passed"
    same = _judged("layer_name", student.layer_name(own, ["a", "b"]))
    assert same.status == "failed" and same.diagnosis == "ignored_layer_name"
    assert "(6, 6) is the output size of `conv3`" in same.message
    same_upsampled = _judged("layer_name", student.layer_name([heatmaps.resample(m, GRID) for m in own], ["a", "b"]))
    assert same_upsampled.status == "failed" and "the same maps as for layer_name='conv3'" in same_upsampled.message
    first_layer = _judged("layer_name", student.layer_name([_blob((26, 26), (5, 5))] * 2, ["a", "b"]))
    assert first_layer.status == "failed" and "(26, 26) is the output size of `conv1`" in first_layer.message


def test_observations_are_compact():
    student = _student(_reference()["correct"])
    stored = [student.nonnegative(), student.normalised(), student.logit(), student.correlation(),
              student.top_overlap(0.2), student.class_sensitivity(), student.layer_name([np.ones((13, 13))] * 2, "ab")]
    assert len(json.dumps(judging.normalise(stored))) < 12_000  # numbers per case, never a map


# -- pictures -----------------------------------------------------------------------------

def test_overlay_png_is_a_png_of_the_panels_a_decoder_reads():
    from PIL import Image

    from graders.questions.q7.pictures import SCALE, caption, overlay_png

    digit = np.random.default_rng(5).random((28, 28))
    rows = [("class 3", digit, [("reference", _blob((6, 6), (2, 2))), ("yours", np.full((26, 26), 7.0))]),
            ("class 5", digit, [("reference", _blob((6, 6), (4, 1))), ("yours", _blob((28, 28), (20, 5), 3)[None])])]
    data = base64.b64decode(overlay_png(rows))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    picture = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    side = 28 * SCALE
    assert picture.shape[0] > 2 * side and picture.shape[1] > 3 * side  # 2 rows of 3 panels
    first = picture[3:3 + side, 3:3 + side]  # the digit alone: gray
    assert np.array_equal(first[..., 0], first[..., 1]) and np.array_equal(first[..., 1], first[..., 2])
    assert caption(rows) == "class 3: the digit, reference, yours; class 5: the digit, reference, yours"
