"""Tests of reports/: the HTML report, Gradescope export and the class page."""
