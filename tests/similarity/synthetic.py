"""A synthetic class for the similarity report's evaluation: independent solutions and disguised copies.

Each student answers one question (so no two students share code by accident through another
question). Independent solutions: the reference, a sample of submissions/ per question, and the
solutions in corpus/<question>/, written in different styles. Copies: the notebook sample (a
verbatim copy of the reference's q4 and q5), automatic disguises of every independent solution
(disguise.py), and the hand-written structural ones in corpus/<question>/disguised/.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from graders.similarity.extract import question_code, read_submission
from tests.similarity import disguise

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
SAMPLES = ROOT / "submissions"
# One sample per family of submissions/ (the members of a family are one author's one-line variants).
SAMPLE_OF = {"q3": "scaler_fit_on_test", "q4": "typical_mistakes", "q5": "typical_mistakes",
             "q6": "bn_eps_outside_sqrt", "q7": "gradcam_softmax_gradient"}
# The q1 samples are the reference rewritten (its layers, its tuner settings, its recorded best point):
# a copy, not an independent solution.
REWRITTEN = {"q1": "q1_objective_accuracy"}
REFERENCE_OF = {"q1": "q1_tuner", "q3": "q3_regressor", "q4": "q4_params", "q5": "q5_shapes",
                "q6": "q6_batchnorm", "q7": "q7_gradcam"}
AUTOMATIC = {"renaming": disguise.rename, "reordering": disguise.reorder, "re-commenting": disguise.recomment,
             "all three": disguise.all_three}
HAND = {"split": "splitting a function", "inline": "inlining a helper", "loop": "loop style"}
TEXTBOOK = "textbook"  # one-line formulas in the stubs: must be too short, never a match
INDEPENDENT = "independent"


@dataclass(frozen=True)
class Student:
    """One synthetic student: the question answered, the original author, and how the code was made."""

    student_id: str
    questions: tuple[str, ...]
    origin: str   # the independent solution this code comes from
    kind: str     # INDEPENDENT, TEXTBOOK, or the disguise


def question_source(path: Path, question: str) -> str:
    """The imports of a .py submission and its code for `question` (no other question's code)."""
    code = question_code(read_submission(path), question)
    text = path.read_text(encoding="utf-8")
    imports = [ast.get_source_segment(text, node) for node in ast.parse(text).body
               if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", "") != "__future__"]
    return "\n".join(imports) + "\n\n\n" + code.text + "\n"


def originals(question: str) -> dict[str, str]:
    """{name: source} of the independent solutions of `question`."""
    sources = {"reference": question_source(ROOT / "reference" / f"{REFERENCE_OF[question]}.py", question)}
    if question in SAMPLE_OF:
        sample = SAMPLE_OF[question]
        sources[sample.replace("_", "-")] = question_source(SAMPLES / sample / "hw3.py", question)
    for path in sorted((CORPUS / question).glob("*.py")):
        if not path.stem.startswith(TEXTBOOK):
            sources[path.stem.replace("_", "-")] = path.read_text(encoding="utf-8")
    return sources


def build_class(out: Path, *, seed: int = 0, automatic: bool = True) -> list[Student]:
    """Write the class's submissions (one file per student) into `out`; return who is who.

    `automatic=False` leaves out the automatic disguises (renaming, reordering, re-commenting).
    """
    out.mkdir(parents=True, exist_ok=True)
    students: list[Student] = []
    transforms = AUTOMATIC if automatic else {}

    def add(question: str, origin: str, kind: str, source: str) -> None:
        label = re.sub(r"[^a-z0-9]+", "-", kind).strip("-")
        student_id = f"{question}-{origin}-{label}" if kind != INDEPENDENT else f"{question}-{origin}"
        (out / f"{student_id}.py").write_text(source, encoding="utf-8")
        students.append(Student(student_id, (question,), origin, kind))

    for question in REFERENCE_OF:
        for origin, source in originals(question).items():
            add(question, origin, INDEPENDENT, source)
            for offset, (kind, transform) in enumerate(transforms.items()):
                add(question, origin, kind, transform(source, seed=seed + offset) if kind != "reordering"
                    else transform(source))
        for path in sorted((CORPUS / question / "disguised").glob("*.py")):
            origin, _, kind = path.stem.partition(".")
            add(question, origin.replace("_", "-"), HAND[kind], path.read_text(encoding="utf-8"))
        for path in sorted((CORPUS / question).glob(f"{TEXTBOOK}*.py")):
            add(question, path.stem.replace("_", "-"), TEXTBOOK, path.read_text(encoding="utf-8"))
    for question, sample in REWRITTEN.items():
        add(question, "reference", "rewritten (sample)", question_source(SAMPLES / sample / "hw3.py", question))
    # The notebook sample holds the reference's q4 and q5 with other docstrings, and an experiment cell.
    (out / "q4q5-notebook.ipynb").write_bytes((SAMPLES / "notebook" / "hw3.ipynb").read_bytes())
    students.append(Student("q4q5-notebook", ("q4", "q5"), "reference", "verbatim (notebook)"))
    return students
