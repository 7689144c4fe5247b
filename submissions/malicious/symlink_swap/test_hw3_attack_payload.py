"""The payload of submissions/malicious/symlink_swap: if it ever lands in graders/, it is collected
as a grader test and runs in the grading process. It marks the host to prove it."""
import os


def test_hw3_attack_payload():
    for path in ("/tmp/hw3-pwned", "/work/hw3-pwned"):
        try:
            with open(path, "w") as handle:
                handle.write("hw3-attack-payload ran outside the sandbox")
        except OSError:
            pass
    os.environ["HW3_PWNED"] = "1"
