"""The grading harness: loader, sandbox, wire format, rubric, comparison, results and data."""

DEFAULT_SEED = 1234  # the seed of a student's self-check; a TA's hidden run passes its own
