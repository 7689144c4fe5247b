"""Publishing the grader: the student kit (`hw3grade kit`) and Gradescope's autograder (`hw3grade gradescope`).

TA-side only: these modules read reference/ to record what a kit ships and to prove it holds no answer;
none of them is shipped in the kit.
"""
