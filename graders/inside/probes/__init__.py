"""Grader-written code that runs inside the sandbox worker, beside the student's code."""
