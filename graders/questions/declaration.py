"""What declares a question: one frozen `Question` per folder of `graders/questions/`, read by every list.

The rubric's sections, the grader module, the reference module, the starter's section and the
samples are checked against these declarations by tests/questions/test_registry.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from graders.core.contract import ContractName
from graders.core.judging import Judges
from graders.core.paths import GRADERS_DIR, REFERENCE_DIR


@dataclass(frozen=True)
class HandedOut:
    """A function of the reference module that every student was given, and the contract name its fix answers."""

    function: str  # e.g. "broken_preprocess" in reference/q3_regressor.py
    answers: str  # e.g. "preprocess"


@dataclass(frozen=True)
class Question:
    """One homework question: everything the grader, the starter, the reports and similarity know of it.

    Its checks are the tests of `graders/<grader>.py` (each `@pytest.mark.check("<id>.…")`), their points
    the rubric's `[<id>.checks]`, their settings `[<id>]`; its text for students the `## <ID> ·`
    section of graders/questions/starter.md.
    """

    id: str  # "q5"
    title: str  # shown in reports and the terminal (a rubric may override it with `title = ...`)
    grader: str  # its pytest module under graders/, e.g. "test_q5_shapes"
    reference: str  # the reference/ module that answers it, e.g. "q5_shapes"
    contract: tuple[ContractName, ...]  # the names a submission defines for it
    free_text: tuple[str, ...] = ()  # ids of its written answers (keys of ANSWERS), graded by hand
    manual: tuple[str, ...] = ()  # other items a TA grades by hand
    handed_out: tuple[HandedOut, ...] = ()  # code every student was given (similarity ignores it)
    probe: str | None = None  # its module of graders/inside/probes/, run inside the worker
    mistakes: Mapping = field(default_factory=dict)  # its known-mistake catalogue, by the function they get wrong
    starter_values: Callable[[], dict[str, str]] | None = None  # the `$name` values of its starter section
    settings: type | None = None  # the dataclass of its rubric section [<id>] (judged and observed settings)
    judges: Judges | None = None  # the pure functions that decide its checks from their observations
    trusted: str | None = None  # the module of its trusted computations (the only one importing reference/)
    answer_checks: tuple[str, ...] = ()  # its checks of answers that do not depend on the seed (local ids or globs):
    #   their expected values are never shown to a student, and the student kit checks their form only

    def __post_init__(self) -> None:
        object.__setattr__(self, "contract", tuple(replace(name, question=self.id) for name in self.contract))
        object.__setattr__(self, "mistakes", MappingProxyType(dict(self.mistakes)))

    @property
    def grader_path(self):
        return GRADERS_DIR / f"{self.grader}.py"

    @property
    def reference_path(self):
        return REFERENCE_DIR / f"{self.reference}.py"

    @property
    def grader_module(self) -> str:
        return f"graders.{self.grader}"
