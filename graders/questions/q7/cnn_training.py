"""q7's CNN training check: what the trained model's description says about a missed accuracy
(the causes measured in rubric.toml [q7], cnn_likely_causes)."""

from __future__ import annotations

REFERENCE_PARAMS = 130_890  # the homework's CNN


def hints(result: dict, nonfinite: int, reference_params: int = REFERENCE_PARAMS) -> list[str]:
    """What the probe saw in the student's model that the calibration found to keep it from learning.

    Args:
        result: the train_cnn probe's description of the trained model (optimizer, learning_rate,
            momentum, params); nonfinite: test digits whose outputs were not all finite.
        reference_params: the homework CNN's parameter count.

    Returns:
        Sentences for the failure message (empty when nothing stands out).
    """
    found = []
    if nonfinite:
        found.append(f"{int(nonfinite)} test digits got NaN or inf outputs (training diverged: learning rate "
                     "too high?)")
    rate = result.get("learning_rate")
    optimizer = result.get("optimizer")
    if optimizer == "SGD" and isinstance(rate, float) and rate <= 0.01 and not result.get("momentum"):
        found.append(f"plain SGD (no momentum) at learning rate {rate:g} learns too slowly for this budget")
    elif optimizer == "Adagrad" and isinstance(rate, float) and rate <= 0.001:
        found.append(f"Adagrad at learning rate {rate:g} learns too slowly for this budget")
    elif isinstance(rate, float) and rate < 1e-4:
        found.append(f"learning rate {rate:g}: the slowest measured to pass is 1e-4 (Adam or RMSprop: 0.70-0.82)")
    if result.get("params") != reference_params:
        found.append(f"the model has {result.get('params')} parameters; the homework's CNN has {reference_params:,}")
    return found
