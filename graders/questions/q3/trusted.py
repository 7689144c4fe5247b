"""q3's trusted computations (graders/core/trusted.py): none.

q3's checks compare the student's outputs with themselves and with the rubric, never with the
reference's: any scaler fitted on X_train only is right (StandardScaler, MinMaxScaler, ...), and any
model that learns the grader's data within its budget is right. The reference (reference/q3_regressor.py)
and its handed-out broken version are exercised by the tests (tests/reference/test_reference_q3.py:
the broken regressor scores R² < 0 on the grader's data, the fix passes), not by a grading, so the
student kit has nothing of q3 to record.
"""

COMPUTE: dict = {}
ANSWERS = frozenset()
