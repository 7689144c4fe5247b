"""The base of the grader, imported by every other package: errors, the contract's types, results, the rubric,
options, comparisons, seeds, paths and MNIST. It imports nothing else of the grader."""
