"""Hostile sample (test data for the grader): BEST_VAL_ACCURACY is 10**400, an integer too large for a float,
and BEST_HYPERPARAMETERS holds one too (issue 21: numbers too large for a float are a wrong answer with
the usual message and exit code 1, never a grader error). Nothing else of q1 is answered.
Expected: q1.reported.val_accuracy and q1.reported.hyperparameters fail with a message naming the value;
the other q1 checks fail as unanswered (tests/golden/malicious/q1_val_accuracy_overflow/q1.json).
"""

BEST_HYPERPARAMETERS = {"conv_layers": 2, "dense_layers": 2, "learning_rate": 10**400}
BEST_VAL_ACCURACY = 10**400
