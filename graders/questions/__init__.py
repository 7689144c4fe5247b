"""The question registry: each question declared once, in its own folder (`graders/questions/qN/`), with
its helpers beside it. Every list of questions, contract names, handed-out code and free-text answers
in the grader is read from here; tests/questions/test_registry.py checks the rubric, the grader
modules, the references and the starter against it.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import re
from pathlib import Path

from graders.core.contract import ContractName, definitions_in, signature_of
from graders.core.errors import HarnessError
from graders.core.paths import KIT_SIGNATURES, in_kit
from graders.questions.declaration import HandedOut, Question


def _declared() -> tuple[Question, ...]:
    """The `QUESTION` of every qN folder here, in question order: a new folder is a new question."""
    folders = sorted((info.name for info in pkgutil.iter_modules(__path__) if re.fullmatch(r"q\d+", info.name)),
                     key=lambda name: int(name[1:]))
    return tuple(importlib.import_module(f"{__name__}.{name}").QUESTION for name in folders)


QUESTIONS: tuple[Question, ...] = _declared()
BY_ID: dict[str, Question] = {question.id: question for question in QUESTIONS}
CONTRACT: dict[str, tuple[ContractName, ...]] = {question.id: question.contract for question in QUESTIONS}
BY_NAME: dict[str, ContractName] = {entry.name: entry for question in QUESTIONS for entry in question.contract}
FREE_TEXT_ANSWERS: tuple[str, ...] = tuple(answer for question in QUESTIONS for answer in question.free_text)

__all__ = ["BY_ID", "BY_NAME", "CONTRACT", "FREE_TEXT_ANSWERS", "QUESTIONS", "HandedOut", "Question",
           "reference_path", "signature", "signature_text", "signatures"]


def reference_path(question: str) -> Path:
    """The reference module that answers `question`."""
    return BY_ID[question].reference_path


def signature(name: str) -> str:
    """`conv_output_size(size, kernel, stride=1, padding='valid', dilation=1)`, as the reference defines it
    (in the student kit, as `hw3grade kit` recorded it from the reference).

    Raises:
        KeyError: when `name` is not a contract function.
    """
    entry = BY_NAME[name]
    if not entry.function:
        raise KeyError(f"{name} is a contract constant, not a function")
    if in_kit():
        return _recorded_signatures()[name]
    return signature_of(definitions_in(reference_path(entry.question))[name])


def signatures(questions=None) -> dict[str, str]:
    """{name: signature} of every contract function of `questions` (all when None): what a kit records."""
    return {entry.name: signature(entry.name) for question in QUESTIONS
            if questions is None or question.id in questions for entry in question.contract if entry.function}


@functools.lru_cache(maxsize=1)
def _recorded_signatures() -> dict[str, str]:
    try:
        return json.loads(KIT_SIGNATURES.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"the kit's recorded signatures {KIT_SIGNATURES} cannot be read: {exc}") from None


def signature_text(name: str) -> str:
    """How a message states the contract of `name`; "" for a name outside the contract."""
    entry = BY_NAME.get(name)
    if entry is None:
        return ""
    if entry.function:
        return f"{signature(name)} -> {entry.returns}"
    return f"{name} = {entry.returns}, written as a literal"
