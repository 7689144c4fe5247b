"""The trusted side of a check: what the reference computes on the grader's own inputs.

Graders never import `reference/`. They ask the session's trusted side, e.g.
``trusted.value("q5", "conv_output_size", size=28, kernel=5)``, for an expected value, the known
mistakes' results on a case, or q7's reference heatmaps:

- in the TA's grader (`ComputedSide`) each question's trusted module computes it: those modules
  (``graders/questions/qN/trusted.py``) are the only ones that import `reference/`;
- `hw3grade kit` grades the reference at the public seed through a `RecordingSide` and ships what
  it recorded; in the student kit (`RecordedSide`) the same requests are answered from that file.
  A value that is an answer whatever the seed (q5's table, q6's parameter counts, the multiple
  choice) is never recorded, hashed or not: a request for it raises `CheckedByTA`, and the check
  says that its correctness is checked in the TA's grading.

A trusted module declares ``COMPUTE = {kind: function(**inputs)}`` and ``ANSWERS = {kind, ...}``,
the kinds that are seed-independent answers.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError

RECORDING_FORMAT = 1
COMPUTED, RECORDED = "computed", "recorded:"  # the sources a grading's trusted side can have (--trusted)


class CheckedByTA(Exception):
    """The kit holds no expected value for this check: it is an answer that does not depend on the seed."""


CHECKED_BY_TA = CheckedByTA.__name__  # the `cause` of such a check's (skipped) result


class TrustedSide:
    """Where checks get the reference's values."""

    def value(self, question: str, kind: str, **inputs):
        """The trusted value `kind` of `question` on `inputs` (keyword arguments of plain data and arrays).

        Raises:
            CheckedByTA: in the kit, for a seed-independent answer.
            HarnessError: an unknown kind, or (kit) a request the recording does not cover.
        """
        raise NotImplementedError


class ComputedSide(TrustedSide):
    """The TA's grader: computed by each question's trusted module (which imports reference/).

    Args:
        modules: {question id: the module name of its trusted computations}.
    """

    def __init__(self, modules: Mapping[str, str]) -> None:
        self.modules = dict(modules)

    def value(self, question: str, kind: str, **inputs):
        return _compute(self._module(question), question, kind)(**inputs)

    def answers(self, question: str) -> frozenset[str]:
        """The kinds of `question` that are seed-independent answers (never recorded)."""
        return frozenset(getattr(self._module(question), "ANSWERS", ()))

    def _module(self, question: str):
        if question not in self.modules:
            raise HarnessError(f"no trusted computations are declared for {question}")
        return importlib.import_module(self.modules[question])


class RecordingSide(TrustedSide):
    """Computes through `inner` and records every value but the seed-independent answers (`hw3grade kit`)."""

    def __init__(self, inner: ComputedSide) -> None:
        self.inner = inner
        self.records: dict[str, object] = {}
        self.kinds: dict[str, list[str]] = {}  # request key -> [question, kind]: what each value answers
        self.withheld: set[tuple[str, str]] = set()

    def value(self, question: str, kind: str, **inputs):
        result = self.inner.value(question, kind, **inputs)
        if kind in self.inner.answers(question):
            self.withheld.add((question, kind))
        else:
            key = request_key(question, kind, inputs)
            self.records[key] = encode(result)
            self.kinds[key] = [question, kind]
        return result

    def write(self, path: Path | str, *, seed: int, dataset: dict) -> None:
        """Write the recording (JSON) for a kit: the seed and dataset it is valid for, its values."""
        data = {"format": RECORDING_FORMAT, "seed": seed, "dataset": dataset,
                "withheld": sorted([list(item) for item in self.withheld]), "kinds": self.kinds,
                "values": self.records}
        Path(path).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")


class RecordedSide(TrustedSide):
    """The student kit: every value read from the recording made when the kit was built."""

    def __init__(self, path: Path | str) -> None:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HarnessError(f"cannot read the kit's recorded values {path}: {exc}") from None
        if data.get("format") != RECORDING_FORMAT:
            raise HarnessError(f"{path}: recorded values of format {data.get('format')}, expected {RECORDING_FORMAT}")
        self.seed = int(data["seed"])
        self.dataset = data.get("dataset", {})
        self.withheld = {tuple(item) for item in data.get("withheld", [])}
        self._values = data["values"]

    def value(self, question: str, kind: str, **inputs):
        if (question, kind) in self.withheld:
            raise CheckedByTA(f"{question} {kind}")
        key = request_key(question, kind, inputs)
        if key not in self._values:
            raise HarnessError(f"the kit holds no recorded {question} {kind!r} for these inputs: it covers the public "
                               f"seed's cases only (seed {self.seed}, MNIST {self.dataset.get('source', '?')}), with "
                               "the package versions it was built with")
        return decode(self._values[key])


def side_from(source: str, modules: Mapping[str, str]) -> TrustedSide:
    """The trusted side that `source` names: "computed", or "recorded:PATH" (a kit's recording).

    Raises:
        HarnessError: any other source, or a recording that cannot be read.
    """
    if source == COMPUTED:
        return ComputedSide(modules)
    if source.startswith(RECORDED) and source != RECORDED:
        return RecordedSide(source.removeprefix(RECORDED))
    raise HarnessError(f"unknown trusted side {source!r}: expected {COMPUTED!r} or '{RECORDED}PATH'")


def _compute(module, question: str, kind: str):
    try:
        return module.COMPUTE[kind]
    except (AttributeError, KeyError):
        raise HarnessError(f"{question} has no trusted computation {kind!r}") from None


def request_key(question: str, kind: str, inputs: Mapping) -> str:
    """A digest of a request: the same inputs (values, types, array bytes) give the same key."""
    text = json.dumps([question, kind, encode(dict(inputs))], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- values, exactly: tuples stay tuples, arrays keep dtype and shape ------------------------

def encode(value):
    """`value` as JSON data that `decode` turns back into an equal value of the same types.

    Raises:
        HarnessError: for a value that is not plain data.
    """
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise HarnessError("a trusted value holds a dict with non-string keys")
        return {"d": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, tuple):
        return {"t": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in "biuf":
            raise HarnessError(f"a trusted value holds an array of dtype {array.dtype}")
        return {"a": base64.b64encode(array.tobytes()).decode("ascii"), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return {"n": encode(value.item()), "dtype": value.dtype.str}
    if isinstance(value, float) and not math.isfinite(value):
        return {"f": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise HarnessError(f"a trusted value holds a {type(value).__name__}, not plain data")


def decode(value):
    """The inverse of `encode`."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "d" in value:
        return {key: decode(item) for key, item in value["d"].items()}
    if "t" in value:
        return tuple(decode(item) for item in value["t"])
    if "a" in value:
        return np.frombuffer(base64.b64decode(value["a"]), dtype=np.dtype(value["dtype"])).reshape(
            value["shape"]).copy()
    if "n" in value:
        return np.dtype(value["dtype"]).type(decode(value["n"]))
    if "f" in value:
        return float(value["f"])
    raise HarnessError(f"an unknown recorded value: {sorted(value)}")
