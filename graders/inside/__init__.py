"""Code that runs inside the sandbox worker, beside the student's code: the worker, the wire
format and the probes. Copied into every sandbox; stdlib, numpy and keras only (it cannot
import the rest of `graders`, which the sandbox hides)."""
