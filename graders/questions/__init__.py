"""The question registry: each question declared once, in its own folder (`graders/questions/qN/`), with
its helpers beside it. Every list of questions, contract names, handed-out code and free-text answers
in the grader is read from here; tests/questions/test_registry.py checks the rubric, the grader
modules, the references and the starter against it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from graders.core.contract import ContractName, definitions_in, signature_of
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
           "reference_path", "signature", "signature_text"]


def reference_path(question: str) -> Path:
    """The reference module that answers `question`."""
    return BY_ID[question].reference_path


def signature(name: str) -> str:
    """`conv_output_size(size, kernel, stride=1, padding='valid', dilation=1)`, as the reference defines it.

    Raises:
        KeyError: when `name` is not a contract function.
    """
    entry = BY_NAME[name]
    if not entry.function:
        raise KeyError(f"{name} is a contract constant, not a function")
    return signature_of(definitions_in(reference_path(entry.question))[name])


def signature_text(name: str) -> str:
    """How a message states the contract of `name`; "" for a name outside the contract."""
    entry = BY_NAME.get(name)
    if entry is None:
        return ""
    if entry.function:
        return f"{signature(name)} -> {entry.returns}"
    return f"{name} = {entry.returns}, written as a literal"
