"""hw3check: HW3's public checks, for students (the student kit that `hw3grade kit` builds).

In a terminal: `hw3check hw3.ipynb [--questions q5]`. In Jupyter or Colab:

    from hw3check import check, check_all
    check("q5")      # the kernel's current definitions of q5, graded in the sandbox; the result in the cell
    check_all()

These are the public checks: the TA's grading also runs hidden checks on a secret seed, and checks the
answers that do not depend on the seed, for which the kit holds no expected value.
"""

from hw3check.notebook import CheckOutput, check, check_all

__all__ = ["CheckOutput", "check", "check_all"]
