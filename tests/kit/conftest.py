"""One student kit per test session, built from this checkout for the questions converted to the trusted side
(today q4 and q5; each question joins when its grader stops importing reference/), and installed alone."""

import pytest

from graders.kit.build import build_kit
from graders.kit.contents import converted_questions
from tests.kit.installed import install


@pytest.fixture(scope="session")
def kit_questions() -> tuple[str, ...]:
    questions = converted_questions()
    assert {"q4", "q5"} <= set(questions), questions
    return questions


@pytest.fixture(scope="session")
def built_kit(tmp_path_factory, kit_questions):
    """The kit's build (a wheel, scanned for leaks as every build is)."""
    return build_kit(out=tmp_path_factory.mktemp("kit"), questions=kit_questions)


@pytest.fixture(scope="session")
def kit(built_kit, tmp_path_factory):
    """The kit unpacked as pip installs it, runnable with nothing of this repository importable."""
    return install(built_kit.wheel, tmp_path_factory.mktemp("installed"))
