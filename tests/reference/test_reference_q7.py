"""reference.q7_gradcam and the trusted q7 machinery: the CNN, Grad-CAM's properties, the model-randomisation
test, the model cache and the in-worker probes."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from graders import test_q7_gradcam as grader  # noqa: E402
from graders.core.mnist import load_mnist  # noqa: E402
from graders.core.rubric import Rubric  # noqa: E402
from graders.inside.probes import q7 as probes  # noqa: E402
from graders.questions.q7 import (
    heatmaps,
    reference_model,  # noqa: E402
    variants,  # noqa: E402
)
from reference.q7_gradcam import build_mnist_cnn, grad_cam  # noqa: E402

# Keras' own saving code trips NumPy 2's copy= deprecation; the students' Grad-CAM idiom passes a
# tensor where the model was built with a list of inputs: both are Keras' warnings, not ours.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
              pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match")]

SEED = 1234
LAST_CONV = "conv3"
GRID = (28, 28)


@pytest.fixture(scope="module")
def rubric():
    """The q7 settings of the shipped rubric."""
    return Rubric.load().section("q7", grader.Settings)


@pytest.fixture(scope="module")
def split():
    return load_mnist(seed=SEED)


@pytest.fixture(scope="module")
def trained_path(split, rubric):
    """The grader's own reference CNN (trained once, then from the shared cache)."""
    budget = reference_model.Budget(rubric.reference_cnn_epochs, rubric.reference_cnn_batch_size)
    return reference_model.trained_model_path(split.x_train, split.y_train, seed=SEED, budget=budget)


@pytest.fixture(scope="module")
def trained(trained_path):
    return reference_model.load(trained_path)


@pytest.fixture(scope="module")
def digits(split):
    return reference_model.as_model_input(split.x_test[:8])


def _predict(model, images):
    return np.asarray(model(images, training=False))


# -- the CNN ------------------------------------------------------------------------------

def test_build_mnist_cnn_is_the_homework_network():
    model = build_mnist_cnn()
    configs = [(type(layer).__name__, layer.get_config()) for layer in model.layers[1:]]
    described = [(kind, config.get("filters") or config.get("units"), config.get("padding"), config.get("activation"))
                 for kind, config in configs]
    assert described == [
        ("Conv2D", 32, "valid", "relu"), ("MaxPooling2D", None, "valid", None),
        ("Conv2D", 64, "same", "relu"), ("MaxPooling2D", None, "valid", None),
        ("Conv2D", 64, "same", "relu"), ("MaxPooling2D", None, "valid", None),
        ("Flatten", None, None, None), ("Dense", 128, None, "relu"), ("Dense", 10, None, "softmax")]
    assert model.count_params() == 130_890
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.optimizer is not None  # compiled, as the contract asks


def test_the_students_grad_cam_idiom_works_on_the_model_the_grader_hands_out(trained_path):
    """keras.Model(model.inputs, [layer.output, model.output]) needs a Functional model in Keras 3."""
    for model in (build_mnist_cnn(), keras.models.load_model(trained_path, compile=False)):
        assert not isinstance(model, keras.Sequential)
        grad_model = keras.Model(model.inputs, [model.get_layer(LAST_CONV).output, model.output])
        features, output = grad_model(np.zeros((1, 28, 28, 1), dtype="float32"))
        assert tuple(features.shape) == (1, 6, 6, 64) and tuple(output.shape) == (1, 10)


def test_the_trained_reference_learns_mnist(trained, split):
    images = reference_model.as_model_input(split.x_test)
    accuracy = np.mean(trained.predict(images, verbose=0).argmax(axis=1) == split.y_test)
    assert accuracy > 0.93  # 0.932-0.969 over 12 seeds (graders/rubric.toml [q7])


# -- grad_cam -----------------------------------------------------------------------------

def test_grad_cam_is_a_layer_sized_map_in_0_1_with_peak_1(trained, digits):
    for image in digits:
        heatmap = grad_cam(trained, image, LAST_CONV)
        assert heatmap.shape == (6, 6) and heatmap.dtype == np.float32
        assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
    assert grad_cam(trained, digits[0], "conv1").shape == (26, 26)


def test_grad_cam_without_class_explains_the_predicted_class(trained, digits):
    predicted = _predict(trained, digits).argmax(axis=1)
    for image, cls in zip(digits, predicted):
        explicit = grad_cam(trained, image, LAST_CONV, int(cls))
        np.testing.assert_array_equal(grad_cam(trained, image, LAST_CONV), explicit)


def _keras_io_grad_cam(model, image, cls):
    """The textbook recipe on `model.output`, for comparison."""
    grad_model = keras.Model(model.inputs, [model.get_layer(LAST_CONV).output, model.output])
    with tf.GradientTape() as tape:
        features, output = grad_model(image[None])
        score = output[:, cls]
    weights = tf.reduce_mean(tape.gradient(score, features), axis=(0, 1, 2))
    heatmap = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()
    return heatmap / heatmap.max() if heatmap.max() > 0 else heatmap


def test_grad_cam_differentiates_the_logit_not_the_softmax(trained, digits):
    config = trained.get_config()
    config["layers"][-1]["config"]["activation"] = "linear"
    logit_model = keras.Model.from_config(config)
    logit_model.set_weights(trained.get_weights())
    correlations = []
    for image, cls in zip(digits, _predict(trained, digits).argmax(axis=1)):
        ours = grad_cam(trained, image, LAST_CONV, int(cls))
        np.testing.assert_allclose(ours, _keras_io_grad_cam(logit_model, image, int(cls)), atol=1e-5)
        correlations.append(heatmaps.pearson(ours, _keras_io_grad_cam(trained, image, int(cls))))
    assert min(correlations) < 0.99  # the softmax recipe is a different map


def test_grad_cam_leaves_the_model_as_given(trained, digits):
    weights, before = [w.copy() for w in trained.get_weights()], _predict(trained, digits)
    grad_cam(trained, digits[0], LAST_CONV, 3)
    assert trained.layers[-1].activation is keras.activations.softmax
    np.testing.assert_array_equal(_predict(trained, digits), before)
    for old, new in zip(weights, trained.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_grad_cam_without_positive_evidence_is_all_zero(trained, digits):
    silent = keras.models.clone_model(trained)
    silent.set_weights(trained.get_weights())
    silent.layers[-1].kernel.assign(tf.zeros_like(silent.layers[-1].kernel))  # no gradient reaches the features
    heatmap = grad_cam(silent, digits[0], LAST_CONV, 0)
    assert np.all(heatmap == 0.0)


def test_the_diagnosis_maps_of_the_reference_are_the_reference(trained, digits):
    classes = _predict(trained, digits).argmax(axis=1)
    maps = variants.variant_maps(trained, digits, classes, layer_name=LAST_CONV)
    expected = np.stack([grad_cam(trained, image, LAST_CONV, int(c)) for image, c in zip(digits, classes)])
    np.testing.assert_allclose(maps["correct"], expected, atol=1e-5)
    assert set(maps) >= {"no_relu", "not_normalised", "softmax_gradient", "softmax_no_relu", "unpooled_gradients",
                         "unweighted_activations", "layer:conv1", "layer:conv2"}


def test_mistake_maps_are_what_a_student_s_grad_cam_returns(trained, digits):
    asked = [None, 0, 5, None, 0, 2, None, 7]
    predicted = _predict(trained, digits).argmax(axis=1)
    maps = variants.mistake_maps(trained, digits, asked, layer_name=LAST_CONV)
    for i, (image, cls) in enumerate(zip(digits, asked)):
        np.testing.assert_allclose(maps["correct"][i], grad_cam(trained, image, LAST_CONV, cls), atol=1e-5)
        explained = grad_cam(trained, image, LAST_CONV, int(predicted[i]) if not cls else cls)  # `cls or argmax`
        np.testing.assert_allclose(maps["class_zero_as_none"][i], explained, atol=1e-5)
        np.testing.assert_allclose(maps["ignored_class_index"][i], grad_cam(trained, image, LAST_CONV), atol=1e-5)
    shifted = maps["min_max_scaled"]
    assert shifted.min() == 0.0 and np.allclose(shifted.max(axis=(1, 2)), 1.0)
    assert heatmaps.pearson(shifted[0], maps["no_relu"][0]) == pytest.approx(1.0)
    assert not maps["all_zero"].any()


# -- the model-randomisation test (Adebayo et al., 2018) ---------------------------------

@pytest.fixture(scope="module")
def selection(trained, trained_path, split, rubric):
    randomised = reference_model.load(reference_model.randomised_head_path(trained_path, seed=SEED + 1))
    images = reference_model.as_model_input(split.x_test)
    chosen = variants.select_cases(trained, randomised, images, split.y_test, np.random.default_rng(0),
                                   layer_name=LAST_CONV, **grader.selection_settings(rubric))
    return chosen, randomised, images


def test_the_reference_passes_the_model_randomisation_test(trained, selection, rubric):
    chosen, randomised, images = selection
    digits = chosen.random_digits

    def r(first, second):
        return heatmaps.pearson(heatmaps.resample(first, GRID), heatmaps.resample(second, GRID))

    ours = [r(grad_cam(trained, images[d], LAST_CONV, int(chosen.predicted[d])),
              grad_cam(randomised, images[d], LAST_CONV, int(chosen.predicted[d]))) for d in digits]
    activations = [r(variants.mean_activations(trained, images[[d]], layer_name=LAST_CONV)[0],
                     variants.mean_activations(randomised, images[[d]], layer_name=LAST_CONV)[0]) for d in digits]
    threshold = rubric.random_max_correlation
    assert np.mean(ours) < threshold < np.mean(activations)  # it tells a faithful map from a class-blind one
    assert np.mean(activations) == pytest.approx(1.0)  # the features were kept: only the classifier is random


def test_every_check_gets_cases_where_its_mistake_shows(trained, selection, rubric):
    chosen, _, images = selection
    roles = [(case.group, case.role) for case in chosen.cases]
    assert roles == [("clear", role) for role in variants.ROLES] * 3 + [
        ("ambiguous", "predicted"), ("ambiguous", "runner-up")] * 3 + [("negative evidence", "predicted")] * 2
    assert len(chosen.random_digits) == 6
    maps = {}
    for case in chosen.cases:
        maps[case.digit, case.role] = grad_cam(trained, images[case.digit], LAST_CONV, case.asked)
        assert np.count_nonzero(maps[case.digit, case.role]) >= rubric.gradcam_min_positive_cells
    for case in chosen.cases:
        predicted = maps[case.digit, "predicted"]
        if case.predicted:
            assert case.class_index == chosen.predicted[case.digit]
        else:  # a map of the wrong class would show
            assert case.class_index != chosen.predicted[case.digit]
            r = heatmaps.pearson(*(heatmaps.resample(m, GRID) for m in (maps[case.digit, case.role], predicted)))
            assert r <= rubric.class_distinct_max
    others = [case.class_index for case in chosen.cases if case.role == "other class"]
    runner_ups = {case.digit: case.class_index for case in chosen.cases if case.role == "runner-up"}
    assert 0 not in others and all(c != runner_ups[case.digit] for c, case in
                                   zip(others, [c for c in chosen.cases if c.role == "other class"]))
    for case in chosen.cases:
        if case.group == "negative evidence":  # the ReLU changes the reference's map: a map without it shows
            raw = variants.raw_cams(trained, images[[case.digit]], np.array([case.class_index]), layer_name=LAST_CONV)
            r = heatmaps.pearson(*(heatmaps.resample(m, GRID) for m in (variants.finish(raw)[0],
                                                                       variants.finish(raw, relu=False)[0])))
            assert r <= rubric.negative_evidence_max_r


@pytest.mark.parametrize("mistake", ["no_relu", "softmax_gradient", "unpooled_gradients", "unweighted_activations",
                                     "layer:conv1", "layer:conv2"])
def test_each_known_pattern_mistake_is_diagnosed_as_itself_on_the_predicted_class_maps(trained, selection, mistake):
    chosen, _, images = selection
    predicted = [case for case in chosen.cases if case.predicted]
    digits = np.array([case.digit for case in predicted])
    classes = np.array([case.class_index for case in predicted])
    maps = variants.variant_maps(trained, images[digits], classes, layer_name=LAST_CONV)
    diagnosis = heatmaps.diagnose(list(maps[mistake]), maps, grid=GRID)
    expected = ("wrong_layer", mistake.partition(":")[2]) if mistake.startswith("layer:") else (mistake, None)
    assert (diagnosis.closest, diagnosis.layer) == expected
    assert heatmaps.diagnose(list(maps["correct"]), maps, grid=GRID).closest == heatmaps.CORRECT


# -- the model cache ----------------------------------------------------------------------

TINY = reference_model.Budget(epochs=1, batch_size=32)


def test_cached_model_is_reused_and_keyed_by_seed_budget_and_data(split, tmp_path, monkeypatch):
    trainings = []

    def fake_training(x_train, y_train, *, seed, budget):
        trainings.append(seed)
        return reference_model._build(seed)

    monkeypatch.setattr(reference_model, "_train", fake_training)
    x, y = split.x_train[:64], split.y_train[:64]
    first = reference_model.trained_model_path(x, y, seed=1, budget=TINY, directory=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # written atomically: no temp file left
    assert reference_model.trained_model_path(x, y, seed=1, budget=TINY, directory=tmp_path) == first
    assert len(trainings) == 1
    changed = {reference_model.trained_model_path(x, y, seed=2, budget=TINY, directory=tmp_path),
               reference_model.trained_model_path(x, y[::-1], seed=1, budget=TINY, directory=tmp_path),
               reference_model.trained_model_path(x, y, seed=1, budget=reference_model.Budget(2, 32),
                                                  directory=tmp_path)}
    assert len(trainings) == 4 and first not in changed and len(changed) == 3
    assert keras.models.load_model(first, compile=False).count_params() == 130_890


def test_the_randomised_model_keeps_the_features_and_redraws_the_classifier(trained, trained_path):
    randomised = reference_model.load(reference_model.randomised_head_path(trained_path, seed=SEED + 1))
    for layer in trained.layers:
        pairs = list(zip(layer.get_weights(), randomised.get_layer(layer.name).get_weights()))
        unchanged = all(np.array_equal(old, new) for old, new in pairs)
        assert unchanged == (not isinstance(layer, keras.layers.Dense)), layer.name


def test_reference_maps_survive_the_npz_cache(trained, selection, split, tmp_path):
    _, randomised, images = selection
    computed = variants.reference_maps(trained, randomised, images, split.y_test, np.random.default_rng(0),
                                       n_clear=1, n_ambiguous=1, n_negative=1, n_random=2, min_positive=3,
                                       class_distinct_max=0.5, negative_evidence_max_r=0.85)
    calls = []

    def compute():
        calls.append(1)
        return computed.to_arrays()

    for _ in range(2):
        arrays = reference_model.cached_arrays("test", "key", compute, directory=tmp_path)
    restored = variants.ReferenceMaps.from_arrays(arrays)
    assert len(calls) == 1 and [p.suffix for p in tmp_path.iterdir()] == [".npz"]
    assert (restored.selection.cases, restored.selection.random_digits, restored.layer, restored.layer_shapes) == (
        computed.selection.cases, computed.selection.random_digits, "conv3",
        {"conv1": (26, 26), "conv2": (13, 13), "conv3": (6, 6)})
    assert restored.variants.keys() == computed.variants.keys()
    for key, maps in computed.variants.items():
        np.testing.assert_array_equal(restored.variants[key], maps)


def test_cache_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path))
    assert reference_model.cache_dir() == tmp_path
    monkeypatch.delenv("HW3_CACHE_DIR")
    assert reference_model.cache_dir() == Path.home() / ".cache" / "hw3grader"


# -- the probes (run here in-process; in grading they run in the worker) -------------------

def test_every_grad_cam_call_gets_a_fresh_model(trained_path, digits):
    seen = []

    def mutating_grad_cam(model, image, layer_name, class_index=None):
        seen.append((model.layers[-1].activation.__name__, image.shape, image.dtype, layer_name, class_index))
        model.layers[-1].activation = None  # what students do to get logits
        return np.ones((6, 6))

    result = probes.grad_cam_maps(grad_cam=mutating_grad_cam, model_path=str(trained_path), images=digits[:3],
                                  layer_name=LAST_CONV, class_indices=[None, 4, 7])
    assert len(result) == 3
    assert seen == [("softmax", (28, 28, 1), np.float32, LAST_CONV, c) for c in (None, 4, 7)]


def test_training_probe_handles_one_hot_losses_and_reports_the_model(split):
    def build_mnist_cnn():
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="categorical_crossentropy")
        return model

    x = reference_model.as_model_input(split.x_train[:64])
    result = probes.train_cnn(build_mnist_cnn=build_mnist_cnn, x_train=x, y_train=split.y_train[:64], x_test=x[:10],
                              epochs=1, batch_size=32)
    assert result.pop("scores").shape == (10, 10)
    assert result == {"params": 7850, "kind": "Sequential", "output_activation": "linear", "from_logits": False,
                      "optimizer": "SGD", "learning_rate": pytest.approx(0.01), "momentum": 0.0, "input_scale": 1.0}


def test_a_model_that_rescales_its_own_input_gets_raw_pixels(split):
    seen = []

    def build_mnist_cnn(rescaling):
        prefix = [keras.layers.Rescaling(1 / 255)] if rescaling else []
        model = keras.Sequential([keras.Input((28, 28, 1)), *prefix, keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        fit = model.fit
        model.fit = lambda x, y, **kwargs: seen.append(float(np.max(x))) or fit(x, y, **kwargs)
        return model

    x = reference_model.as_model_input(split.x_train[:32])
    for rescaling, scale in ((True, 255.0), (False, 1.0)):
        result = probes.train_cnn(build_mnist_cnn=lambda: build_mnist_cnn(rescaling), x_train=x,
                                  y_train=split.y_train[:32], x_test=x[:4], epochs=1, batch_size=32)
        assert result["input_scale"] == scale and seen[-1] == pytest.approx(scale)


def test_batch_norm_statistics_are_those_of_the_training_digits_after_the_short_budget(split):
    """Else a model with BatchNormalization predicts one class after ~60 steps (moving averages at momentum 0.99)."""
    inputs = keras.Input((28, 28, 1))
    features = keras.layers.Conv2D(4, 3)(inputs)
    normed = keras.layers.BatchNormalization(name="bn")(features)
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Dropout(0.5)(normed)))
    model = keras.Model(inputs, outputs)
    x = reference_model.as_model_input(split.x_train[:256])
    probes._recalibrate_batch_norm(model, x, n=128)
    expected = np.asarray(keras.Model(inputs, features)(x[:128])).reshape(-1, 4)
    np.testing.assert_allclose(model.get_layer("bn").moving_mean.numpy(), expected.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.get_layer("bn").moving_variance.numpy(), expected.var(axis=0), rtol=1e-3)
    assert model.get_layer("bn").momentum == 0.99 and model.layers[-3].rate == 0.5  # restored


def test_training_probe_refuses_an_uncompiled_model():
    def uncompiled():
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])

    arrays = {"x_train": np.zeros((2, 28, 28, 1)), "y_train": np.zeros(2, int), "x_test": np.zeros((2, 28, 28, 1)),
              "epochs": 1, "batch_size": 2}
    with pytest.raises(RuntimeError, match="not compiled"):
        probes.train_cnn(build_mnist_cnn=uncompiled, **arrays)
