"""reference.q7_gradcam, the grader's own CNN and the trusted q7 machinery: the CNNs, Grad-CAM's properties on
the grader's CNN, the model-randomisation test, the graded cases, the caches and the in-worker probes."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from graders.core.mnist import load_embedded_mnist, load_mnist  # noqa: E402
from graders.core.rubric import Rubric  # noqa: E402
from graders.inside.probes import q7 as probes  # noqa: E402
from graders.questions.q7 import grader_model, heatmaps, trusted  # noqa: E402
from graders.questions.q7.cases import ROLES, Setup  # noqa: E402
from graders.questions.q7.judges import Settings  # noqa: E402
from reference.q7_gradcam import build_mnist_cnn, grad_cam  # noqa: E402

# Keras' own saving code trips NumPy 2's copy= deprecation; the students' Grad-CAM idiom passes a
# tensor where the model was built with a list of inputs: both are Keras' warnings, not ours.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
              pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match")]

SEED = 1234
LAST, OTHER = grader_model.LAST_CONV, grader_model.OTHER_LAYER
GRID = (28, 28)


@pytest.fixture(scope="module")
def settings():
    return Rubric.load().section("q7", Settings)


@pytest.fixture(scope="module")
def split():
    return load_mnist(seed=SEED)


@pytest.fixture(scope="module")
def paths():
    """The grader's CNN and its randomised copy (trained once per grader version, then from the cache)."""
    return grader_model.model_paths()


@pytest.fixture(scope="module")
def trained(paths):
    return grader_model.load(paths["trained"])


@pytest.fixture(scope="module")
def digits(split):
    return grader_model.as_model_input(split.x_test[:8])


def _predict(model, images):
    return np.asarray(model(images, training=False))


# -- the homework's CNN (the reference's answer) and the grader's ----------------------------

def _architecture(model) -> list:
    return [(type(layer).__name__, layer.get_config().get("filters") or layer.get_config().get("units"))
            for layer in model.layers]


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


def test_the_grader_cnn_is_not_the_answer_and_has_what_the_checks_need(trained):
    """Two convolutions to ask for (of sizes unlike each other's and the image's), BatchNormalization and Dropout
    (training=True changes the map), a Dense softmax at the end (the logit check), Functional (Keras 3 idiom)."""
    assert _architecture(trained) != _architecture(build_mnist_cnn())
    assert trained.count_params() == 66_538 != 130_890
    kinds = {type(layer).__name__ for layer in trained.layers}
    assert {"BatchNormalization", "Dropout"} <= kinds and not isinstance(trained, keras.Sequential)
    shapes = {name: tuple(trained.get_layer(name).output.shape[1:3]) for name in grader_model.LAYERS}
    assert shapes == {"conv1": (24, 24), "conv2": (12, 12), "conv3": (10, 10)}
    assert [layer.name for layer in trained.layers if isinstance(layer, keras.layers.Conv2D)][-1] == LAST
    head = trained.layers[-1]
    assert isinstance(head, keras.layers.Dense) and head.activation is keras.activations.softmax


def test_the_students_grad_cam_idiom_works_on_the_model_the_grader_hands_out(paths):
    """keras.Model(model.inputs, [layer.output, model.output]) needs a Functional model in Keras 3."""
    model = keras.models.load_model(paths["trained"], compile=False)
    for layer, size in ((LAST, 10), (OTHER, 12)):
        grad_model = keras.Model(model.inputs, [model.get_layer(layer).output, model.output])
        features, output = grad_model(np.zeros((1, 28, 28, 1), dtype="float32"))
        assert tuple(features.shape)[:3] == (1, size, size) and tuple(output.shape) == (1, 10)


def test_the_grader_cnn_learns_mnist(trained):
    held_out = load_embedded_mnist(seed=grader_model.SPLIT_SEED)
    accuracy = np.mean(trained.predict(grader_model.as_model_input(held_out.x_test), verbose=0).argmax(axis=1)
                       == held_out.y_test)
    assert accuracy > 0.95  # 0.97 on the 1,000 digits it did not train on


def test_the_grader_cnn_is_trained_deterministically(tmp_path):
    """The recipe (seeds, op determinism, one thread, a child process) gives the same weights on every run."""
    weights = []
    for run in ("first", "second"):
        grader_model._train_in_child(tmp_path / run, "key", epochs=1)
        weights.append(grader_model.load(tmp_path / run / "q7-grader-cnn-key.keras").get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_the_randomised_copy_keeps_the_features_and_redraws_the_classifier(trained, paths):
    randomised = grader_model.load(paths["randomised"])
    for layer in trained.layers:
        pairs = list(zip(layer.get_weights(), randomised.get_layer(layer.name).get_weights()))
        unchanged = all(np.array_equal(old, new) for old, new in pairs)
        assert unchanged == (not isinstance(layer, keras.layers.Dense)), layer.name


def test_model_files_are_cached_by_key_and_the_shipped_ones_win(tmp_path, monkeypatch):
    trainings = []

    def fake_training(folder, key, **kwargs):
        trainings.append(key)
        for name in grader_model.FILES.values():
            (folder / f"q7-{name}-{key}.keras").write_bytes(b"model")

    monkeypatch.setattr(grader_model, "_train_in_child", fake_training)
    first = grader_model.model_paths(tmp_path)
    assert grader_model.model_paths(tmp_path) == first and len(trainings) == 1
    assert trainings == [grader_model.cache_key()] and first["trained"].name.endswith(f"{trainings[0]}.keras")
    shipped = {kind: tmp_path / "shipped" / f"{kind}.keras" for kind in first}
    shipped["trained"].parent.mkdir()
    for path in shipped.values():
        path.write_bytes(b"shipped")
    monkeypatch.setattr(grader_model, "SHIPPED", shipped)
    assert grader_model.model_paths(tmp_path / "elsewhere") == shipped and len(trainings) == 1


def test_cache_folder_comes_from_the_environment(tmp_path, monkeypatch):
    from graders.core.paths import cache_dir

    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("HW3_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "hw3grader"


# -- grad_cam on the grader's CNN -----------------------------------------------------------

def test_grad_cam_is_a_layer_sized_map_in_0_1_with_peak_1(trained, digits):
    for image in digits:
        heatmap = grad_cam(trained, image, LAST)
        assert heatmap.shape == (10, 10) and heatmap.dtype == np.float32
        assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
    assert grad_cam(trained, digits[0], OTHER).shape == (12, 12)


def test_grad_cam_without_class_explains_the_predicted_class(trained, digits):
    for image, cls in zip(digits, _predict(trained, digits).argmax(axis=1)):
        np.testing.assert_array_equal(grad_cam(trained, image, LAST), grad_cam(trained, image, LAST, int(cls)))


def test_grad_cam_differentiates_the_logit_not_the_softmax(trained, digits):
    correlations = []
    for image, cls in zip(digits, _predict(trained, digits).argmax(axis=1)):
        softmax = trusted.finish(trusted.raw_cams(trained, image[None], np.array([cls]), layer_name=LAST,
                                                  score="softmax"))[0]
        correlations.append(heatmaps.pearson(grad_cam(trained, image, LAST, int(cls)), softmax))
    assert min(correlations) < 0.99  # the softmax recipe is a different map


def test_training_mode_turns_the_map_into_noise(trained, digits):
    """BatchNormalization right after the last convolution: on one image in training mode, the gradient that
    reaches the features averages to zero over the map, so the channel weights are rounding noise."""
    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    head = model.layers[-1]
    features_model = keras.Model(model.input, [model.get_layer(LAST).output, head.input])
    with tf.GradientTape() as tape:
        features, hidden = features_model(digits[:1], training=True)
        score = (tf.matmul(hidden, head.kernel) + head.bias)[0, 3]
    weights = tf.reduce_mean(tape.gradient(score, features), axis=(1, 2))
    inference = trusted.raw_cams(trained, digits[:1], np.array([3]), layer_name=LAST)
    assert float(tf.reduce_max(tf.abs(weights))) < 1e-6 * np.abs(inference).max()


def test_grad_cam_leaves_the_model_as_given(trained, digits):
    weights, before = [w.copy() for w in trained.get_weights()], _predict(trained, digits)
    grad_cam(trained, digits[0], LAST, 3)
    assert trained.layers[-1].activation is keras.activations.softmax
    np.testing.assert_array_equal(_predict(trained, digits), before)
    for old, new in zip(weights, trained.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_grad_cam_without_positive_evidence_is_all_zero(trained, digits):
    silent = keras.models.clone_model(trained)
    silent.set_weights(trained.get_weights())
    silent.layers[-1].kernel.assign(tf.zeros_like(silent.layers[-1].kernel))  # no gradient reaches the features
    assert np.all(grad_cam(silent, digits[0], LAST, 0) == 0.0)


def test_the_diagnosis_maps_of_the_reference_are_the_reference(trained, digits):
    classes = _predict(trained, digits).argmax(axis=1)
    maps = trusted.variant_maps(trained, digits, classes, layer_name=LAST)
    expected = np.stack([grad_cam(trained, image, LAST, int(c)) for image, c in zip(digits, classes)])
    np.testing.assert_allclose(maps["correct"], expected, atol=1e-5)
    assert set(maps) == {"correct", "no_relu", "not_normalised", "softmax_gradient", "softmax_no_relu",
                         "unpooled_gradients", "unweighted_activations", "layer:conv1", "layer:conv2"}


# -- the graded cases (the trusted side's value) ---------------------------------------------

@pytest.fixture(scope="module")
def setup(split, settings):
    return Setup.from_plain(trusted.setup(seed=SEED, images=split.x_test, labels=split.y_test,
                                          **settings.selection()))


def test_every_check_gets_cases_where_its_mistake_shows(trained, setup, split, settings):
    images = grader_model.as_model_input(split.x_test)
    chosen = setup.selection
    assert [(case.group, case.role) for case in chosen.cases] == [("clear", role) for role in ROLES] * 3 + [
        ("ambiguous", "predicted"), ("ambiguous", "runner-up")] * 3 + [("negative evidence", "predicted")] * 2
    assert len(chosen.random_digits) == 6 and len(chosen.layer_digits) == 4 and not chosen.notes
    predicted = _predict(trained, images).argmax(axis=1)
    maps = {}
    for case in chosen.cases:
        maps[case.digit, case.role] = grad_cam(trained, images[case.digit], LAST, case.asked)
        assert np.count_nonzero(maps[case.digit, case.role]) >= settings.gradcam_min_positive_cells
    for case in chosen.cases:
        if case.predicted:
            assert case.class_index == predicted[case.digit]
        else:  # a map of the wrong class would show
            assert case.class_index != predicted[case.digit]
            r = heatmaps.pearson(*(heatmaps.resample(maps[case.digit, role], GRID)
                                   for role in (case.role, "predicted")))
            assert r <= settings.class_distinct_max
    for digit, layer_map in zip(chosen.layer_digits, setup.layer_maps):  # another layer's map would show
        np.testing.assert_allclose(layer_map, grad_cam(trained, images[digit], OTHER), atol=1e-6)
        r = heatmaps.pearson(heatmaps.resample(layer_map, GRID), heatmaps.resample(maps[digit, "predicted"], GRID))
        assert r <= settings.layer_distinct_max
    for case in chosen.cases:
        if case.group == "negative evidence":  # the ReLU changes the reference's map: a map without it shows
            raw = trusted.raw_cams(trained, images[[case.digit]], np.array([case.class_index]), layer_name=LAST)
            r = heatmaps.pearson(*(heatmaps.resample(m, GRID) for m in (trusted.finish(raw)[0],
                                                                       trusted.finish(raw, relu=False)[0])))
            assert r <= settings.negative_evidence_max_r


def test_the_reference_passes_the_model_randomisation_test(trained, paths, setup, split, settings):
    randomised = grader_model.load(paths["randomised"])
    images = grader_model.as_model_input(split.x_test)
    chosen = setup.selection

    def r(first, second):
        return heatmaps.pearson(heatmaps.resample(first, GRID), heatmaps.resample(second, GRID))

    ours = [r(grad_cam(trained, images[d], LAST, c), grad_cam(randomised, images[d], LAST, c))
            for d, c in zip(chosen.random_digits, chosen.random_classes)]
    activations = [r(trusted.mean_activations(trained, images[[d]], layer_name=LAST)[0],
                     trusted.mean_activations(randomised, images[[d]], layer_name=LAST)[0]) for d in chosen.random_digits]
    assert np.mean(ours) < settings.random_max_correlation < np.mean(activations)
    assert np.mean(activations) == pytest.approx(1.0)  # the features were kept: only the classifier is random


@pytest.mark.parametrize("mistake", ["no_relu", "softmax_gradient", "unpooled_gradients", "unweighted_activations",
                                     "layer:conv1", "layer:conv2"])
def test_each_known_pattern_mistake_is_diagnosed_as_itself_on_the_predicted_class_maps(setup, mistake):
    predicted = [i for i, case in enumerate(setup.cases) if case.predicted]
    maps = {key: value[predicted] for key, value in setup.variants.items()}
    diagnosis = heatmaps.diagnose(list(maps[mistake]), maps, grid=GRID)
    expected = ("wrong_layer", mistake.partition(":")[2]) if mistake.startswith("layer:") else (mistake, None)
    assert (diagnosis.closest, diagnosis.layer) == expected
    assert heatmaps.diagnose(list(maps["correct"]), maps, grid=GRID).closest == heatmaps.CORRECT


def test_the_trusted_value_is_plain_data_computed_once(split, settings, paths, monkeypatch, tmp_path):
    monkeypatch.setenv("HW3_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(grader_model, "model_paths", lambda directory=None: paths)
    calls = []
    compute = trusted._setup_value

    def counted(**kwargs):
        calls.append(1)
        return compute(**kwargs)

    monkeypatch.setattr(trusted, "_setup_value", counted)
    inputs = {"seed": 5, "images": split.x_test, "labels": split.y_test, **settings.selection()}
    first, second = trusted.setup(**inputs), trusted.setup(**inputs)
    assert len(calls) == 1 and len(list(tmp_path.glob("q7-setup-*.json"))) == 1
    assert Setup.from_plain(first).cases == Setup.from_plain(second).cases
    for key, maps in first["variants"].items():
        np.testing.assert_array_equal(second["variants"][key], maps)


# -- the probes (run here in-process; in grading they run in the worker) -------------------

def test_every_grad_cam_call_gets_a_fresh_model_and_class_index_may_be_left_out(paths, digits):
    seen = []

    def mutating_grad_cam(model, image, layer_name, class_index="left out"):
        seen.append((model.layers[-1].activation.__name__, image.shape, image.dtype, layer_name, class_index))
        model.layers[-1].activation = None  # what students do to get logits
        model.layers[1].kernel.assign(tf.zeros_like(model.layers[1].kernel))
        return np.ones((10, 10))

    requests = [["trained", 0, LAST, None, False], ["trained", 1, OTHER, 4, False], ["randomised", 2, LAST, None, True]]
    result = probes.grad_cam_maps(grad_cam=mutating_grad_cam, models={k: str(v) for k, v in paths.items()},
                                  images=digits[:3], requests=requests)
    assert len(result["maps"]) == 3 and result["training"] == [False] * 3
    assert seen == [("softmax", (28, 28, 1), np.float32, LAST, None), ("softmax", (28, 28, 1), np.float32, OTHER, 4),
                    ("softmax", (28, 28, 1), np.float32, LAST, "left out")]


def test_the_probe_sees_a_model_run_in_training_mode(paths, digits):
    def training_grad_cam(model, image, layer_name, class_index=None):
        model(image[None], training=True)
        return np.ones((10, 10))

    result = probes.grad_cam_maps(grad_cam=training_grad_cam, models={"trained": str(paths["trained"])},
                                  images=digits[:2], requests=[["trained", i, LAST, None, False] for i in range(2)])
    assert result["training"] == [True, True]
    def inference_grad_cam(model, image, layer_name, class_index=None):
        model(image[None])
        return np.ones((10, 10))

    inference = probes.grad_cam_maps(grad_cam=inference_grad_cam, models={"trained": str(paths["trained"])},
                                     images=digits[:1], requests=[["trained", 0, LAST, None, False]])
    assert inference["training"] == [False]


def test_training_probe_does_not_train_a_model_compiled_for_one_hot_labels(split):
    def build(loss):
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
        return model

    x = grader_model.as_model_input(split.x_train[:64])
    for loss, one_hot in (("categorical_crossentropy", True), (keras.losses.CategoricalCrossentropy(), True),
                          ("sparse_categorical_crossentropy", False)):
        result = probes.train_cnn(build_mnist_cnn=lambda: build(loss), x_train=x, y_train=split.y_train[:64],
                                  x_test=x[:10], epochs=1, batch_size=32)
        assert result["one_hot_loss"] is one_hot and ("scores" in result) is not one_hot
    assert result.pop("scores").shape == (10, 10)
    assert result == {"loss": "sparse_categorical_crossentropy", "one_hot_loss": False, "params": 7850,
                      "kind": "Sequential", "output_activation": "linear", "from_logits": False, "optimizer": "SGD",
                      "learning_rate": pytest.approx(0.01), "momentum": 0.0, "input_scale": 1.0}


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

    x = grader_model.as_model_input(split.x_train[:32])
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
    x = grader_model.as_model_input(split.x_train[:256])
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
