"""graders.questions.q7.heatmaps: resampling, similarity metrics, the diagnosis, the checks' decisions (on synthetic
maps; tests/reference/test_sweep_q7.py decides on the real CNN's) and the report pictures."""

import base64
import os
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders.questions.q7 import heatmaps  # noqa: E402
from graders.questions.q7.variants import Case  # noqa: E402

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
                              upsampled_peak_range=(0.6, 1.4), image_shape=GRID, layer_shape=(6, 6))


def test_a_layer_sized_map_must_be_exactly_in_0_1_with_peak_1():
    good = _blob((6, 6), (2, 3))
    slightly_negative = good.copy()
    slightly_negative[0, 0] = -0.01
    assert LIMITS.negative([good, slightly_negative]) == [1]
    assert LIMITS.unnormalised([good, good * 0.98, good * 0.2]) == [1, 2]
    assert LIMITS.unnormalised([0.5 * _blob((26, 26), (5, 5))]) == [0]  # another layer's size is held to the same
    assert LIMITS.unnormalised([np.zeros((6, 6)), np.full((6, 6), 0.5)]) == []  # constant: no peak (the constant rule)


def test_an_upsampled_map_may_move_by_interpolation_but_not_by_a_mistake():
    import tensorflow as tf

    layer_map = np.maximum(_blob((6, 6), (2, 3)) - 0.2, 0) / 0.8
    upsampled = [tf.image.resize(layer_map[..., None], GRID, method=m).numpy()[..., 0] for m in ("bicubic", "bilinear")]
    assert min(m.min() for m in upsampled) < 0 and max(m.max() for m in upsampled) != 1  # they do move
    assert LIMITS.negative(upsampled) == [] and LIMITS.unnormalised(upsampled) == []
    unrelu = heatmaps.resample((_blob((6, 6), (2, 3)) - 0.6) / 0.4, GRID)  # lowest -1.5
    assert LIMITS.negative([unrelu]) == [0] and LIMITS.unnormalised([upsampled[1] * 0.2]) == [0]


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


# -- the checks' decisions ---------------------------------------------------------------

SETTINGS = SimpleNamespace(top_fraction=0.2, min_map_correlation=0.6, min_top_overlap=0.67, class_margin=0.5,
                           negative_evidence_margin=0.0, negative_evidence_min_r=0.9)
CASES = [Case(10, 3, "predicted", "clear"), Case(10, 5, "runner-up", "clear"), Case(10, 0, "class 0", "clear"),
         Case(10, 8, "other class", "clear"), Case(20, 4, "predicted", "ambiguous"),
         Case(20, 9, "runner-up", "ambiguous"), Case(30, 7, "predicted", "negative evidence")]
CENTRES = [(1, 1), (4, 4), (1, 4), (4, 1), (2, 2), (4, 3), (3, 1)]  # every case's evidence somewhere else


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


def _judge(maps, variants=None):
    variants = variants or _reference()
    limits = heatmaps.ValueLimits(negative_tol=1e-6, max_tol=0.01, upsampled_negative_tol=0.4,
                                  upsampled_peak_range=(0.6, 1.4), image_shape=GRID, layer_shape=(6, 6))
    return heatmaps.HeatmapJudge([np.asarray(m, dtype=float) for m in maps], CASES, variants, SETTINGS, limits, GRID)


def _failed(judge):
    checks = ("nonnegative", "normalised", "logit", "correlation", "top_overlap", "class_sensitivity")
    return {name for name in checks if not getattr(judge, name)().passed}


def _predicted_map_for_every_case(maps, only_class=None):
    predicted = {case.digit: maps[i] for i, case in enumerate(CASES) if case.predicted}
    return [predicted[case.digit] if only_class in (None, case.class_index) else m for case, m in zip(CASES, maps)]


def test_the_reference_and_its_upsampled_maps_pass_every_check():
    correct = _reference()["correct"]
    for maps in (correct, [heatmaps.resample(m, GRID) for m in correct], correct * (1 - 1e-7)):
        judge = _judge(maps)
        assert _failed(judge) == set() and judge.diagnosis.closest == heatmaps.CORRECT


def test_a_map_without_relu_and_a_min_max_scaled_map_lose_nonnegative_alone():
    no_relu = _reference()["no_relu"]
    min_max = [(m - m.min()) / (m.max() - m.min()) for m in no_relu]
    assert _failed(_judge(no_relu)) == {"nonnegative"}
    judge = _judge(min_max)
    assert min(m.min() for m in judge.maps) == 0.0  # no negative value left: only the pattern shows it
    assert _failed(judge) == {"nonnegative"} and judge.nonnegative().evidence["kept_negative_evidence"]


def test_ignoring_class_index_loses_class_sensitivity_alone_and_class_zero_is_named():
    correct = _reference()["correct"]
    ignored = _judge(_predicted_map_for_every_case(correct))
    assert _failed(ignored) == {"class_sensitivity"}
    assert ignored.class_sensitivity().evidence["mistake"] == "ignored_class_index"
    zero = _judge(_predicted_map_for_every_case(correct, only_class=0))
    assert _failed(zero) == {"class_sensitivity"}
    verdict = zero.class_sensitivity()
    assert verdict.evidence["mistake"] == "class_zero_as_none"
    assert [row["class"] for row in verdict.evidence["bad"]] == [0]


def test_softmax_gradient_and_ignored_class_index_are_both_caught():
    judge = _judge(_predicted_map_for_every_case(_reference()["softmax_gradient"]))
    assert _failed(judge) == {"logit", "class_sensitivity"}
    assert judge.diagnosis.closest == "softmax_gradient"


def test_a_class_blind_method_is_not_class_sensitivity_s_business():
    judge = _judge(_reference()["unweighted_activations"])
    assert "class_sensitivity" not in _failed(judge) and {"correlation", "top_overlap"} <= _failed(judge)


def test_constant_maps_never_pass_a_check_by_accident():
    for value in (0.0, 1.0):
        judge = _judge([np.full((6, 6), value)] * len(CASES))
        assert judge.degenerate and _failed(judge) == {"nonnegative", "normalised", "logit", "correlation",
                                                       "top_overlap", "class_sensitivity"}
        assert all(getattr(judge, name)().evidence.get("constant_only") for name in ("logit", "class_sensitivity"))
    trained = [np.zeros((6, 6))] * 3
    assert not heatmaps.randomisation_verdict(trained, trained, maximum=0.85, grid=GRID).passed


def test_one_constant_map_is_left_out_where_it_carries_no_pattern():
    maps = list(_reference()["correct"])
    maps[3] = np.zeros((6, 6))  # the reference returns zeros where nothing is positive
    judge = _judge(maps)
    assert _failed(judge) == set() and not judge.degenerate
    assert heatmaps.randomisation_verdict(maps[:3], [np.zeros((6, 6))] * 3, maximum=0.85, grid=GRID).passed


def test_singleton_axes_are_the_same_answer_for_every_check():
    shapes = [(6, 6), (1, 6, 6), (6, 6, 1), (1, 28, 28, 1)]
    assert heatmaps.shape_verdict(shapes, [(6, 6), GRID]).passed
    assert heatmaps.shape_verdict(shapes, [(6, 6), GRID]).evidence["with_singleton_axes"] == [
        "(1, 28, 28, 1)", "(1, 6, 6)", "(6, 6, 1)"]
    assert heatmaps.shape_verdict([(6, 6), (26, 26), (2, 6, 6)], [(6, 6), GRID]).evidence["wrong"] == [1, 2]



# -- pictures -----------------------------------------------------------------------------

def test_overlay_png_is_a_base64_png():
    from graders.questions.q7.pictures import overlay_png

    digit = np.random.default_rng(5).random((28, 28))
    encoded = overlay_png([("class 3", digit, [("reference", _blob((6, 6), (2, 2))),
                                               ("yours", np.full((26, 26), 7.0))]),
                           ("class 5", digit, [("reference", _blob((6, 6), (4, 1))),
                                               ("yours", _blob((28, 28), (20, 5), 3)[None])])])
    assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
