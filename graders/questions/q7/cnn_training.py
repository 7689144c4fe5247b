"""q7's CNN training check: what the trained model's description says about a missed accuracy
(the causes measured in rubric.toml [q7], cnn_likely_causes)."""

from __future__ import annotations

import numpy as np


def hints(result: dict, finite: np.ndarray, reference_params: int) -> list[str]:
    """What the probe saw in the student's model that the calibration found to keep it from learning.

    Args:
        result: the train_cnn probe's description of the trained model (optimizer, learning_rate,
            momentum, params); finite: per test digit, whether its outputs were all finite.
        reference_params: the homework CNN's parameter count.

    Returns:
        Sentences for the failure message (empty when nothing stands out).
    """
    found = []
    if not finite.all():
        found.append(f"{int((~finite).sum())} test digits got NaN or inf outputs (training diverged: learning rate "
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
