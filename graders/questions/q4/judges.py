"""q4's rubric settings and the judge of its checks (every one is a set of integer cases)."""

from dataclasses import dataclass

from graders.core.expect import int_cases_judge
from graders.core.judging import Judges
from graders.core.rubric import observed
from graders.questions.q4.mistakes import MISTAKES


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q4]."""

    cases: int = observed()  # random configurations per check, after the fixed ones


JUDGES = Judges("q4")
JUDGES("int_cases")(int_cases_judge(MISTAKES))
