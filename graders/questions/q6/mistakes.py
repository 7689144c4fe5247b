"""q6's known mistakes, as students are told about them, and the checks each one alone loses on every seed.

What each mistake computes is trusted code (trusted.py: the reference's forward pass done wrong one
way), so the student kit holds these texts only and no code that computes a BatchNorm.
"""

from graders.core.expect import Mistake

# The checks that compare y in training mode (every check of the forward pass but inference and the
# moving statistics' two), and the two that compare the moving statistics.
Y_TRAINING = ("train.output", "hyperparameters.epsilon", "conv4d", "batch_of_one", "zero_variance",
              "large_values.float32", "large_values.float64")
MOVING = ("train.moving_update", "hyperparameters.momentum")

# Order matters on ties: a check that compares only the moving statistics cannot tell the two
# unbiased variances apart, and names the first.
MISTAKES = (
    Mistake("unbiased variance in the moving update", "the moving variance is updated with the unbiased "
            "(N - 1) batch variance, as PyTorch does; Keras uses the biased one (divided by N)", loses=MOVING),
    Mistake("unbiased variance", "the batch variance is divided by N - 1 (unbiased); BatchNormalization "
            "divides by N (the biased variance), both to normalise and in the moving update",
            loses=Y_TRAINING + MOVING),
    Mistake("epsilon outside the square root", "epsilon is added to the standard deviation; it belongs "
            "inside the square root: (x - mean) / sqrt(var + epsilon)",
            loses=("train.output", "inference", "hyperparameters.epsilon", "conv4d", "zero_variance",
                   "large_values.float64")),
    Mistake("the wrong axis (per sample)", "the statistics are taken over the feature axis of each sample; "
            "BatchNorm averages over the batch, one mean and variance per feature", loses=Y_TRAINING + MOVING),
    Mistake("the wrong axis (batch axis only)", "for (N, H, W, C) inputs the statistics are taken over "
            "axis 0 only; BatchNorm averages over N, H and W, one mean and variance per channel",
            loses=("conv4d",)),
    Mistake("batch statistics used at inference", "in inference mode (training=False) the output must "
            "be normalised with the moving mean and variance, not with the batch's own statistics",
            loses=("inference",)),
    Mistake("moving statistics used in training", "in training mode the output must be normalised with "
            "the batch's own mean and variance, not the moving ones", loses=Y_TRAINING),
    Mistake("moving statistics not updated", "in training mode the moving mean and variance must move "
            "towards the batch statistics: new = momentum * moving + (1 - momentum) * batch", loses=MOVING),
    Mistake("momentum convention reversed", "momentum weighs the OLD moving value (Keras): new = momentum "
            "* moving + (1 - momentum) * batch; this is PyTorch's reversed convention", loses=MOVING),
    Mistake("epsilon folded into the moving variance", "epsilon belongs in the normalisation only: the moving "
            "variance moves towards the batch variance itself, not towards variance + epsilon", loses=MOVING),
    Mistake("moving statistics updated at inference", "in inference mode (training=False) the moving mean and "
            "variance are returned unchanged; only training updates them", loses=("inference",)),
    Mistake("momentum ignored", "the momentum argument must be used; the update uses the default 0.99 whatever "
            "momentum is passed", loses=("hyperparameters.momentum",)),
    Mistake("epsilon ignored", "the epsilon argument must be used; the normalisation uses the default 1e-3 "
            "whatever epsilon is passed", loses=("hyperparameters.epsilon",)),
    Mistake("variance as mean(x**2) - mean(x)**2", "this formula loses all precision for large inputs in "
            "float32; compute the mean of the squared deviations, mean((x - mean)**2)",
            loses=("large_values.float32",)),
    Mistake("computed in float32", "the inputs are float64 and lose precision when cast to float32 "
            "(say by TensorFlow ops): compute in NumPy, in the inputs' precision or float64",
            loses=("large_values.float64",)),
)

# FC_BN_PARAMS, key by key: what each count is made of, said when the count is wrong (never the count).
FC_BN_KEYS = ("fc", "bn_trainable", "bn_non_trainable")
FC_BN_HINTS = {
    "fc": "a Dense layer has a weight per input and unit, plus a bias per unit",
    "bn_trainable": "only gamma and beta are trained, one of each per feature",
    "bn_non_trainable": "the moving mean and moving variance are not trained, one of each per feature",
}
# Known ways to get a key wrong; the trusted side says which values they give (an answer too: TA-only).
FC_BN_MISTAKES = (
    Mistake("no bias", "the Dense layer's biases are left out: it has one per unit, beside a weight per input "
            "and unit", loses=("fc_bn_params",)),
    Mistake("a bias per input", "a Dense layer has one bias per unit (output), not per input",
            loses=("fc_bn_params",)),
    Mistake("every BatchNorm vector counted as trainable", "of BatchNormalization's four vectors only gamma and "
            "beta are trained; the moving mean and variance are updated, not trained", loses=("fc_bn_params",)),
    Mistake("one BatchNorm vector per kind", "BatchNormalization keeps two trained vectors (gamma, beta) and two "
            "non-trained ones (moving mean, moving variance), each with one value per feature",
            loses=("fc_bn_params",)),
)
