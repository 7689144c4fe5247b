"""The grading process's machinery: options, the pytest plugin and session, the rubric, the contract,
comparisons and errors, results, and MNIST. The sandbox is in `graders.sandbox`, the code that runs
beside the student's in `graders.inside`, question-specific helpers in `graders.questions`."""
