"""What the q1 probes saw in a student's model, in a student's words: what keeps a corner build from
being a compiled 10-class classifier, and the likely causes of a slow budgeted training.

Policies (README, rubric.toml [q1]): a model that ends in logits and compiles its loss with
`from_logits=True` is a correct classifier; a loss for one-hot labels (categorical cross-entropy) is
the training check's mistake only, since the contract's labels are integers; an optimizer whose
(initial) learning rate is the tuned one is right, whichever optimizer. A part the probe found right
is never named as a likely cause: when every part it can see is right, the message says so and names
what it cannot see (how fast the architecture starts to learn).
"""

from __future__ import annotations

import math

SPARSE_LOSS = "sparse_categorical_crossentropy"
ONE_HOT_FIX = (f"the labels are integers 0..9, as the contract says: compile with loss='{SPARSE_LOSS}' "
               "(or keras.losses.SparseCategoricalCrossentropy())")
GLOBAL_POOLING = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")
SGD_CAUSE = ("SGD at the tuned learning rates (1e-4 to 1e-3) learns far too slowly: Adam, RMSprop or Nadam at the "
             "same rate reach the threshold")


def model_problems(result: dict, atol: float) -> list[str]:
    """What keeps a built model (the corner_build probe's description) from being a compiled 10-class
    classifier. The learning rate is the learning_rate family's check and the loss's label format
    the training check's: neither is judged here."""
    problems = []
    shape = result.get("output_shape")
    logits = result.get("from_logits") is True
    if shape != [None, 10]:
        problems.append(f"the output shape is {_shape_text(shape)}; expected (None, 10), one score per digit")
    elif not logits and not probabilities(result, atol):
        problems.append(f"the outputs are not probabilities (final activation {result.get('final_activation')!r}; "
                        "rows should be >= 0 and sum to 1): end with Dense(10, activation='softmax'), or keep the "
                        "logits and compile the loss with from_logits=True")
    if not result.get("compiled"):
        return problems + ["the model is not compiled: call model.compile(...) inside build_model"]
    if is_sparse_loss(result.get("loss")):
        if logits and shape == [None, 10] and probabilities(result, atol):
            problems.append("the loss has from_logits=True but the model outputs probabilities (softmax): drop "
                            "from_logits=True, or end with Dense(10) and keep it")
    elif not result.get("one_hot_loss"):
        problems.append(f"the loss is {result.get('loss')!r}; expected sparse categorical cross-entropy "
                        "(the labels are integers 0..9)")
    return problems


def probabilities(result: dict, atol: float) -> bool:
    """Whether the outputs on the probe's digits are rows of probabilities."""
    sums, low = result.get("row_sums"), result.get("min_output")
    if not isinstance(sums, list) or not isinstance(low, (int, float)):
        return False
    return low >= -atol and all(isinstance(s, (int, float)) and abs(s - 1.0) <= atol for s in sums)


def is_sparse_loss(loss) -> bool:
    return "sparsecategoricalcrossentropy" in str(loss).lower().replace("_", "")


def one_hot_note(model: dict) -> str:
    """The sentence for a model compiled for one-hot labels, or ""."""
    if not model.get("one_hot_loss"):
        return ""
    return f"the model is compiled with {model.get('loss')!r}, a loss for one-hot labels; {ONE_HOT_FIX}"


def likely_causes(curve: dict, model: dict, *, tuned_rate, rtol: float) -> str:
    """The message's end for a training that missed its threshold: the causes the probe measured, or,
    when every part it can see is right, what those parts are and what it could not check."""
    causes, right = _causes(model, tuned_rate, rtol)
    near_chance = max(curve.get("val_accuracy") or [0.0]) <= 0.2
    lead = " The accuracy stays near chance (0.1)." if near_chance else ""
    if causes:
        return f".{lead} Likely causes:" + "".join(f"\n- {cause}" for cause in causes)
    if not model:
        return f".{lead}"
    checked = f" ({', '.join(right)})" if right else ""
    return (f".{lead} Everything the probe can check is right{checked}; what it cannot check is how fast this "
            f"architecture starts to learn from scratch{_slow_start(model)}")


def _causes(model: dict, tuned_rate, rtol: float) -> tuple[list[str], list[str]]:
    """(likely causes, the parts found right) of a model's slow training."""
    causes, right = [], []
    optimizer, rate = model.get("optimizer"), model.get("learning_rate")
    if optimizer == "SGD":
        causes.append(SGD_CAUSE)
    elif _is_number(rate) and _is_number(tuned_rate) and not math.isclose(rate, tuned_rate, rel_tol=rtol):
        causes.append(f"the optimizer's learning rate is {rate:g}, not the tuned learning_rate {tuned_rate:g}")
    elif _is_number(rate) and optimizer:
        schedule = model.get("learning_rate_schedule")
        right.append(f"{optimizer} at the tuned learning rate {rate:g}" + (f" ({schedule}'s initial rate)"
                                                                          if schedule else ""))
    loss, logits, final = model.get("loss"), model.get("from_logits") is True, model.get("final_activation")
    if model.get("one_hot_loss"):
        causes.append(one_hot_note(model))
    elif is_sparse_loss(loss):
        right.append("sparse categorical cross-entropy" + (" on logits" if logits else ""))
    elif loss is not None:
        causes.append(f"the loss is {loss!r}; a classifier of integer labels trains with {SPARSE_LOSS}")
    if logits and final == "softmax":
        causes.append("the loss has from_logits=True but the model ends with softmax: it applies a second softmax")
    elif logits:
        right.append("logits out, with from_logits=True")
    elif final == "softmax":
        right.append("a softmax output")
    elif model:
        causes.append(f"the output layer's activation is {final!r}, not softmax (and the loss does not take logits)")
    causes += _layer_causes(model.get("layers") if isinstance(model.get("layers"), list) else [])
    return causes, right


def _layer_causes(layers: list) -> list[str]:
    causes = []
    hidden = {str(layer.get("activation")) for layer in layers[:-1] if isinstance(layer, dict)
              and layer.get("kind") in ("conv", "dense")}
    if "sigmoid" in hidden:
        causes.append("sigmoid activations in the hidden layers barely learn in this budget: use relu")
    if any(isinstance(layer, dict) and layer.get("class") == "Rescaling" for layer in layers):
        causes.append("the model rescales its inputs (a Rescaling layer), but the digits already come in [0, 1]: "
                      "scaled twice, they are too faint to learn from")
    return causes


def _slow_start(model: dict) -> str:
    layers = model.get("layers") if isinstance(model.get("layers"), list) else []
    pooled = next((layer.get("class") for layer in layers if isinstance(layer, dict)
                   and layer.get("class") in GLOBAL_POOLING), None)
    if pooled is None:
        return " (the layers between the convolutions and the output, say)."
    return (f": here a {pooled} head reduces each feature map to one number before the Dense layers, which learns "
            "far more slowly in the first few hundred steps than a Flatten head (the reference's, which reaches the "
            "threshold in this budget). A long search can still tune such a model; the budget cannot wait for it.")


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")" if isinstance(shape, list) else repr(shape)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
