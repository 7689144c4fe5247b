"""The pytest layer of a grading: the plugin, the run's session and outputs, the checks, the student's sandbox
as graders use it (and the words for what happened in it), the one way to run a grading, the terminal summary.
The base modules are in `graders.core`, the questions in `graders.questions`."""
