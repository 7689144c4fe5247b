"""A failure in the sandbox said to the student: a probe's error carries the same hints as a plain call's."""

from graders.core.errors import StudentException
from graders.harness.failures import student_error
from graders.sandbox.failures import Raised, Request
from graders.submission.loader import prepare_submission
from tests.submission.student_notebooks import write
from tests.submission.test_explain import SKIPPED_SHAPE, joined_line


def test_an_exception_raised_through_a_probe_names_the_skipped_statement_and_the_students_line(tmp_path):
    """q7's and q3's probes let the student's exception through: the worker reports the missing name and
    the traceback, which get the hint and the student's cell and line, as for a plain call."""
    prepared = prepare_submission(write(tmp_path / "hw3.ipynb", SKIPPED_SHAPE))
    line = joined_line(prepared, 4, 3)
    trace = (f'Traceback (most recent call last):\n  File "hw3_ipynb.py", line {line}, in build_model\n'
             "NameError: name 'INPUT_SHAPE' is not defined")
    failure = Raised(Request("probe", "train_cnn", "q7"), error_type="NameError",
                     message="NameError: name 'INPUT_SHAPE' is not defined", traceback=trace,
                     missing_name="INPUT_SHAPE", memory_cap_bytes=2**30)
    error = student_error(failure, prepared, load_problems=[], load_timeout_s=60)
    assert isinstance(error, StudentException)
    assert str(error).startswith("the grader's train_cnn check raised NameError: name 'INPUT_SHAPE' is not defined\n"
                                 "`INPUT_SHAPE` is only set by a statement the grader skips (hw3.ipynb, cell 3, line 2")
    assert 'File "hw3.ipynb", cell 4, line 3, in build_model' in str(error)
