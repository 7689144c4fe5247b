"""What a class's grade is made of during the term, besides the autograded checks.

The rubric's `[manual]` items and `[late]` rule (`rules.py`), the marks a TA gives by hand in
OUT/marks.toml (`marks.py`), each student's grade made of them (`grades.py`), what changed from one
run to the next and why (`changes.py`), the OUT/history/ folder (`history.py`), and the LMS roster
the grades are exported against (`roster.py`). Pure data and files: nothing here grades or renders.
"""
