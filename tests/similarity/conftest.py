"""A small class for the report's tests: a copied pair, an independent answer, short and hostile code."""

from pathlib import Path

import pytest

from tests.similarity import disguise
from tests.similarity.synthetic import CORPUS, ROOT, question_source

SCRIPT = "<script>window.pwned = 1; document.title = 'pwned'</script>"
HOSTILE = f'''
import numpy as np


def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """{SCRIPT}"""
    label = "{SCRIPT}"  # </pre></details>{SCRIPT}
    axes = tuple(range(np.ndim(x) - 1))
    if training:
        mean = np.mean(x, axis=axes)
        var = np.mean(np.square(x - mean), axis=axes)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
    if label is None:
        raise ValueError(label)
    scaled = (x - mean) / np.sqrt(var + epsilon)
    return gamma * scaled + beta, moving_mean, moving_var
'''


def write_small_class(folder: Path) -> Path:
    """alice/bob: q7 copied with renaming; carol: independent q7; dave/erin: textbook q5 (too short);
    mallory/trent: q6 with markup in strings and comments, copied; zed: does not parse."""
    folder.mkdir(parents=True, exist_ok=True)
    reference_q7 = question_source(ROOT / "reference" / "q7_gradcam.py", "q7")
    (folder / "alice.py").write_text(reference_q7)
    (folder / "bob_Bob Smith_hw3.py").write_text(disguise.all_three(reference_q7, seed=1))
    (folder / "carol.py").write_text((CORPUS / "q7" / "functional_loop.py").read_text())
    (folder / "dave.py").write_text((CORPUS / "q5" / "textbook_a.py").read_text())
    (folder / "erin.py").write_text((CORPUS / "q5" / "textbook_b.py").read_text())
    (folder / "mallory.py").write_text(HOSTILE)
    (folder / "trent.py").write_text(disguise.rename(HOSTILE, seed=2))
    (folder / "zed.py").write_text("def dense_params(a, b:\n    return a\n")
    return folder


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    from graders.similarity import find_similar

    return find_similar(class_dir=write_small_class(tmp_path_factory.mktemp("class")))
