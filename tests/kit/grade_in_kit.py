"""Grade samples with an installed kit, one after another in one process (run by tests/kit/installed.py's env).

    python grade_in_kit.py REQUESTS.json

REQUESTS.json: a list of {"submission", "questions", "json", "report", "rubric" (optional)}; each is graded
as `hw3check` grades (the kit's recorded values, the public seed), its exit code written beside its JSON.
Proves itself the kit's: it fails when `graders` does not come from $HW3_KIT_DIR.
"""

import json
import os
import sys
from pathlib import Path

import graders
from graders.core.options import GradingOptions
from graders.harness.run import grade

assert Path(graders.__file__).is_relative_to(os.environ["HW3_KIT_DIR"]), graders.__file__

for request in json.loads(Path(sys.argv[1]).read_text()):
    options = GradingOptions(submission=request["submission"], questions=tuple(request["questions"]),
                             json_path=request["json"], report_path=request["report"], rubric=request.get("rubric"),
                             extra_args=("-q", "-p", "no:faulthandler"))
    code = grade(options).exit_code
    Path(request["json"]).with_suffix(".exit").write_text(str(code))
