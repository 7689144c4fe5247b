"""`hw3grade`: a thin command line over keyword-only functions (grade, batch, rescore, export, similarity, template,
kit, gradescope)."""

from __future__ import annotations

import argparse
import sys

from graders.commands.batch import grade_class, recheck_class
from graders.commands.export import export_grades
from graders.commands.rescore import rescore_class
from graders.core.errors import HarnessError
from graders.core.exits import EXIT_ALL_PASSED, EXIT_GRADER_ERROR, EXIT_NOT_LOADED, EXIT_SOME_FAILED, EXIT_USAGE
from graders.core.options import BATCH, EXPORT, GRADE, RESCORE, GradingOptions, add_to_argparse
from graders.harness.run import grade as run_grading
from graders.kit.build import build_kit
from graders.kit.gradescope import build_autograder
from graders.questions.starter import build_template
from graders.similarity import find_similar
from reports.similarity import write_similarity

EXIT_CODES = (f"exit codes: {EXIT_ALL_PASSED} every check passed; {EXIT_SOME_FAILED} graded, some checks failed; "
              f"{EXIT_NOT_LOADED} the submission could not be loaded; {EXIT_GRADER_ERROR} a grader error")


def grade(**values) -> int:
    """Grade one submission in this process, as `pytest graders` does; return the exit code.

    Args:
        values: `GradingOptions` fields by name (None: the default), as the grade command parses them.
    """
    return run_grading(GradingOptions.from_values(values)).exit_code


def batch(**options) -> int:
    """Grade a class folder (see graders.commands.batch.grade_class), or with `recheck` run checks again
    (recheck_class: the positional argument may then be OUT itself); 0 unless the batch itself failed."""
    if not options.get("out") and not options.get("recheck"):
        print("hw3grade batch: --out is required (the output folder)", file=sys.stderr)
        return EXIT_USAGE
    try:
        if options.get("recheck") and not options.get("out"):
            out = options.pop("class_dir")
            summary = recheck_class(**{**options, "out": out})
        else:
            summary = grade_class(**options)
    except (HarnessError, FileNotFoundError, ValueError) as refused:  # e.g. root without bubblewrap, bad marks
        print(f"hw3grade batch: {refused}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.describe(options.get("out") or out))
    return 0


def rescore(*, out: str, rubric: str | None = None, marks: str | None = None) -> int:
    """Judge a class again from its stored observations (graders.commands.rescore); 4 when refused."""
    try:
        summary = rescore_class(out=out, rubric=rubric, marks=marks)
    except (HarnessError, FileNotFoundError, ValueError) as refused:  # RescoreRefused, MarksError among them
        print(f"hw3grade rescore: {refused}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.describe(out))
    return 0


def export(**options) -> int:
    """Write an LMS's grade import file (graders.commands.export.export_grades)."""
    try:
        exported = export_grades(**options)
    except (HarnessError, FileNotFoundError, ValueError) as refused:  # RosterError, MarksError among them
        print(f"hw3grade export: {refused}", file=sys.stderr)
        return EXIT_USAGE
    print(exported.describe())
    return 0


def similarity(*, class_dir: str, out: str, rubric: str | None = None) -> int:
    """Compare a class folder's submissions question by question; write similarity.csv and similarity.html."""
    report = find_similar(class_dir=class_dir, rubric=rubric)
    csv_path, html_path = write_similarity(report, out)
    print(f"{report.describe()}\nwrote {csv_path} and {html_path}")
    return 0


def template(*, out: str) -> int:
    """Write the starter notebook."""
    print(f"wrote {build_template(path=out)}")
    return 0


def kit(*, out: str, questions: list[str] | None = None) -> int:
    """Build the student kit (a wheel) into the folder `out`; refuse while a shipped module imports reference/."""
    try:
        built = build_kit(out=out, questions=questions)
    except HarnessError as refused:
        print(f"hw3grade kit: {refused}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    print(built.describe())
    return 0


def gradescope(*, out: str, seed_policy: str = "fresh") -> int:
    """Build Gradescope's autograder zip into the folder `out`."""
    print(build_autograder(out=out, seed_policy=seed_policy).describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hw3grade", description="Grade HW3 submissions.")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("grade", help="grade one submission", epilog=EXIT_CODES,
                              description="Grade one submission with the pytest graders (the same as "
                                          "`pytest graders --submission SUBMISSION`).")
    add_to_argparse(one, GRADE)
    starter = commands.add_parser("template", help="write the starter notebook students fill in")
    starter.add_argument("out", metavar="OUT.ipynb", help="where to write the notebook")
    many = commands.add_parser("batch", help="grade a whole class folder",
                               description="Grade every submission of a class folder into OUT (a report per "
                                           "student, gradebook.csv, index.html). A rerun grades only what changed; "
                                           "`hw3grade batch OUT --recheck CHECK...` runs those checks again.")
    many.add_argument("class_dir", metavar="CLASS_DIR", help="one submission per entry (folder, .py, .ipynb, .zip); "
                                                              "with --recheck and no --out: OUT")
    many.add_argument("--out", help="output folder (reports, gradebook.csv, index.html); required without --recheck")
    many.add_argument("--workers", type=int, default=2, help="parallel gradings on this machine (default 2)")
    many.add_argument("--scheduler", help="a Dask scheduler address, e.g. tcp://host:8786")
    many.add_argument("--timeout", dest="timeout_s", type=float, default=600.0,
                      help="seconds for one submission's whole grading (default 600)")
    add_to_argparse(many, BATCH)  # the grading options a class shares
    many.add_argument("--no-similarity", dest="similarity", action="store_false",
                      help="skip the code-similarity comparison (similarity.csv and the class page's section)")
    again = commands.add_parser("rescore", help="judge a graded class again after a rubric or marks change",
                                description="Recompute every student's points, statuses, messages, reports, "
                                            "gradebook, Gradescope files and class page from the observations "
                                            "stored in OUT, with the marks given by hand; no student code runs. "
                                            "A rubric that changes what checks observe is refused with the checks "
                                            "to run again (hw3grade batch OUT --recheck CHECK...).")
    add_to_argparse(again, RESCORE)
    out_to_lms = commands.add_parser("export", help="write the grades as an LMS imports them",
                                     description="Write OUT's grades as Canvas, Moodle, Blackboard or Brightspace "
                                                 "imports them, joined with the roster on the student id.")
    add_to_argparse(out_to_lms, EXPORT)
    alike = commands.add_parser("similarity", help="find similar code across a class, question by question",
                                description="Compare every pair of submissions of a class folder on each "
                                            "question's code (names, comments, layout and the starter code "
                                            "ignored); write similarity.csv and similarity.html into OUT. "
                                            "A pointer for a human, never a verdict.")
    alike.add_argument("class_dir", metavar="CLASS_DIR", help="one submission per entry (folder, .py, .ipynb, .zip)")
    alike.add_argument("--out", required=True, help="output folder (similarity.csv, similarity.html)")
    alike.add_argument("--rubric", metavar="PATH", help="the rubric TOML whose [similarity] section sets the "
                                                        "thresholds (default graders/rubric.toml)")
    publish = commands.add_parser("kit", help="build the student kit (a wheel: pip install FILE) without the solutions",
                                  description="Build the student kit into OUT: the public checks (the graders, "
                                              "the sandbox, the reference's values recorded at the public seed), no "
                                              "solution. Rebuild it after any change of the graders or the rubric.")
    publish.add_argument("out", metavar="OUT", help="folder to write the wheel into")
    publish.add_argument("--questions", nargs="+", metavar="QN", help="only these questions (default: all)")
    autograder = commands.add_parser("gradescope", help="build Gradescope's autograder zip (setup.sh, run_autograder)",
                                     description="Build the zip a TA uploads to Gradescope into OUT: it installs "
                                                 "this grader and grades each submission with --hidden.")
    autograder.add_argument("out", metavar="OUT", help="folder to write autograder.zip into")
    autograder.add_argument("--seed-policy", choices=("fresh", "class"), default="fresh",
                            help="fresh: a new secret seed per submission (default); class: one secret seed, drawn "
                                 "now and kept in the zip, for every submission and regrade")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hw3grade` console script; returns the exit code."""
    options = vars(build_parser().parse_args(argv))
    command = options.pop("command")
    if command == "template":
        return template(**options)
    if command == "batch":
        return batch(**{key: value for key, value in options.items() if value is not None})
    if command == "similarity":
        return similarity(**options)
    if command == "kit":
        return kit(**options)
    if command == "gradescope":
        return gradescope(**options)
    if command == "rescore":
        return rescore(**options)
    if command == "export":
        return export(**{key: value for key, value in options.items() if value is not None})
    return grade(**options)


if __name__ == "__main__":
    sys.exit(main())
