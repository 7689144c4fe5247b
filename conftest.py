"""Root conftest: `pytest graders --submission ...` from the project folder loads the grading plugin,
which registers its own options, ini keys and marker (graders/harness/plugin.py)."""

pytest_plugins = ["graders.harness.plugin"]
