"""The mutants of tests/mutation/test_mutants.py that no grading can kill, each with why it is equivalent.

{question: {mutant name: the reason it computes the same answer on every input the contract allows}}.
A mutant listed here that some check kills, or that is no longer generated, fails the test: the list
stays exactly the survivors.
"""

_VALIDATION = ("argument validation only: the contract's arguments are positive ints, which _positive_int "
               "returns unchanged (it raises for anything else, which no grading passes)")
_PADDING = ("argument normalisation only: the grader passes the contract's lowercase 'valid' and 'same', which "
            "_padding returns unchanged (it also lowers 'SAME' and raises for anything else: no grading passes those)")
_FLOAT64 = ("the grader passes float64 arrays, which np.asarray(..., dtype=np.float64) returns as they are (and "
            "the moving statistics' dtype decides nothing: they are float64 whatever the input's dtype)")
_X_FLOAT32 = ("only large_values.float32 passes a float32 x; there float32 arithmetic is a right answer (DESIGN: "
              "float32 where a question does not ask for precision; rubric [q6] atol_float32 is calibrated to "
              "admit it), and every other x is float64 already")
_ARRAY = "the grader passes gamma and beta as NumPy arrays, which np.asarray returns as they are"
_IMAGE = ("the grader passes each image as a float32 NumPy array (inside/probes/q7.py), which np.asarray(..., "
          "dtype='float32') returns as it is")
_INDEX = ("logits[:, target] selects the same column whether target is a Python int or a scalar tensor / int: "
          "the grader passes class_index as an int")

EQUIVALENT: dict[str, dict[str, str]] = {
    "q4": {
        "conv2d_params: _positive_int('in_channels', in_channels) -> in_channels": _VALIDATION,
        "conv2d_params: _positive_int('filters', filters) -> filters": _VALIDATION,
        "dense_params: _positive_int('in_features', in_features) -> in_features": _VALIDATION,
        "dense_params: _positive_int('units', units) -> units": _VALIDATION,
    },
    "q5": {
        "conv_output_size: _padding(padding) -> padding": _PADDING,
        "conv_output_size: _positive_int('size', size) -> size": _VALIDATION,
        "conv_output_size: _positive_int('kernel', kernel) -> kernel": _VALIDATION,
        "conv_output_size: _positive_int('stride', stride) -> stride": _VALIDATION,
        "conv_output_size: _positive_int('dilation', dilation) -> dilation": _VALIDATION,
        "pool_output_size: _padding(padding) -> padding": _PADDING,
        "pool_output_size: _positive_int('size', size) -> size": _VALIDATION,
        "pool_output_size: _positive_int('pool', pool) -> pool": _VALIDATION,
        "pool_output_size: _positive_int('stride', stride) -> stride": _VALIDATION,
        "same_padding: _positive_int('size', size) -> size": _VALIDATION,
        "same_padding: _positive_int('kernel', kernel) -> kernel": _VALIDATION,
        "same_padding: _positive_int('stride', stride) -> stride": _VALIDATION,
        "same_padding: _positive_int('dilation', dilation) -> dilation": _VALIDATION,
    },
    "q6": {
        "batchnorm_forward: np.asarray(x, dtype=np.float64) -> x": _X_FLOAT32,
        "batchnorm_forward: np.asarray(x, dtype=np.float64) -> np.asarray(x)": _X_FLOAT32,
        "batchnorm_forward: np.asarray(moving_mean, dtype=np.float64) -> moving_mean": _FLOAT64,
        "batchnorm_forward: np.asarray(moving_mean, dtype=np.float64) -> np.asarray(moving_mean)": _FLOAT64,
        "batchnorm_forward: np.asarray(moving_var, dtype=np.float64) -> moving_var": _FLOAT64,
        "batchnorm_forward: np.asarray(moving_var, dtype=np.float64) -> np.asarray(moving_var)": _FLOAT64,
        "batchnorm_forward: np.asarray(gamma) -> gamma": _ARRAY,
        "batchnorm_forward: np.asarray(beta) -> beta": _ARRAY,
    },
    "q7": {
        "grad_cam: np.asarray(image, dtype='float32') -> image": _IMAGE,
        "grad_cam: np.asarray(image, dtype='float32') -> np.asarray(image)": _IMAGE,
        "grad_cam: int(class_index) -> class_index": _INDEX,
        "grad_cam: int(tf.argmax(logits[0])) -> tf.argmax(logits[0])": _INDEX,
        "grad_cam: features_and_hidden(batch, training=False) -> features_and_hidden(batch)":
            "a Functional model called outside fit() without `training` runs in inference mode, as training=False",
        "grad_cam: (cam / peak if peak > 0 else np.zeros_like(cam)).astype('float32') -> "
        "cam / peak if peak > 0 else np.zeros_like(cam)":
            "the map's dtype is a legitimate choice (float64 is a right answer: tests/reference/q7_answers.py's "
            "legitimate forms); the values are the same",
    },
}
