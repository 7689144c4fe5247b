"""Call a student function and the reference on the same inputs; fail with a message naming the call."""

from __future__ import annotations

from graders.harness.compare import as_int, require_close
from graders.harness.errors import WrongType, require


def describe_call(name: str, params: dict) -> str:
    """`conv_output_size(size=28, kernel=5, ...)`: how a case is named in a student message."""
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in params.items())})"


def expect_same_ints(student, name: str, reference, params: dict, *, positional: int | None = None) -> None:
    """Check that the student's `name(**params)` returns the same integer(s) as `reference`.

    The arguments are passed positionally (students name parameters in many ways); only the
    first `positional` of them when given, so a default value is exercised.

    Raises:
        SubmissionError (CheckFailed for a wrong value): with the call and the expected and actual values.
    """
    values = list(params.values())[:positional]
    expected = reference(*values)
    shown = dict(list(params.items())[: len(values)])
    what = describe_call(name, shown)
    actual = student.call(name, *values)
    if not isinstance(expected, tuple):
        require_close(as_int(actual, what=what), expected, what=what)
        return
    if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
        raise WrongType(f"{what}: expected a pair like {expected}, got {actual!r:.80}")
    require(tuple(as_int(item, what=what) for item in actual) == expected,
            lambda: f"{what}: expected {expected}, got {tuple(actual)}")
