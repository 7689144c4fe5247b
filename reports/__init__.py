"""Renderers of a grading result: the HTML report and Gradescope's results.json."""
