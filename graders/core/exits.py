"""Exit codes of `pytest graders` and `hw3grade grade` (README, "Exit codes"), for a TA's script."""

EXIT_ALL_PASSED = 0
EXIT_SOME_FAILED = 1
EXIT_GRADER_ERROR = 3  # pytest's INTERNAL_ERROR too: a bug or misconfiguration of the grader
EXIT_USAGE = 4  # pytest's USAGE_ERROR: a bad option
EXIT_NOT_LOADED = 10  # the submission could not be loaded: every check scored 0
