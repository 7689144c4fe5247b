"""q1's trusted computation (graders/core/trusted.py): the reference model's accuracy at a reported point.

The hidden retrain compares the student's model at BEST_HYPERPARAMETERS with the reference's at the
same point, from the same initial weights. The reference trains epoch by epoch, `epochs` at least,
until it reaches `target` or `max_epochs` (a point that learns slowly gets the epochs it needs for the
comparison to say anything; the student's model then gets as many). Its accuracy depends only on the
point and the grader version (the digits and the seed come from the rubric, not from the grading's
seed), so it is cached by a SHA-256 of the reference code, the point, the digits, the budget and the
Keras version in the grader's cache: a class reporting the same point, a regrade or a hidden run with
a fresh seed trains it once.

A point is validated here again (inside the search space, of the right types, nothing else) before
anything is trained, and the reference trains in a child process with its own time and memory budget
(`timeout_s`, `memory_gib`): no value a student reports can keep the grading process busy or grow it.
With the other questions' trusted modules, the only code of the grader that imports reference/.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from graders.core.errors import HarnessError
from graders.core.paths import PROJECT_ROOT, cache_dir
from graders.questions.q1 import points, space

REFERENCE_FILES = tuple(PROJECT_ROOT / path for path in (
    "reference/q1_tuner.py", "graders/inside/probes/q1.py", "graders/inside/probes/keras_facts.py",
    "graders/questions/q1/trusted.py"))
_CACHE_FORMAT = 2  # 2: the digits and the seed are the rubric's, not the grading's
_ARRAYS = ("x_train", "y_train", "x_val", "y_val")
_CHILD_THREADS = 2  # as a worker's TensorFlow pools ([sandbox] threads)


def reference_point(values: dict) -> dict:
    """The point as the reference reads it: spec names counted from 0, each value of its family's type, and
    nothing else (a student's own hyperparameters, or layers the point does not have, change no model).

    Raises:
        HarnessError: a point outside the search space (the grader checks it before asking).
    """
    problems = space.reported_differences(values)
    if problems:
        raise HarnessError(f"q1: the reference is never trained outside the search space ({'; '.join(problems)})")
    named = points.zero_based({name: value for name, value in values.items() if space.family_of(name) is not None})
    point = {}
    for name, value in named.items():
        family = space.family_of(name)
        if family.per and int(name.rpartition("_")[2]) >= int(named[family.per]):
            continue
        point[name] = int(value) if family.kind == "Int" or family.name == "kernel" else float(value)
    return point


def retrain_reference(*, values: dict, x_train, y_train, x_val, y_val, epochs: int, max_epochs: int, target: float,
                      batch_size: int, seed: int, timeout_s: float, memory_gib: float,
                      directory: Path | None = None) -> dict:
    """The reference model's validation accuracy at `values` after the epochs the point needs, from the
    cache or trained in a child process on a miss (`timeout_s` seconds per epoch, `memory_gib` of address
    space).

    Returns:
        {"epochs": the epochs trained, "val_accuracy": after the last of them, "by_epoch": after each}.

    Raises:
        HarnessError: a point outside the space, or a reference that could not train within its budget.
    """
    point = reference_point(values)
    data = {name: np.ascontiguousarray(array) for name, array in zip(_ARRAYS, (x_train, y_train, x_val, y_val))}
    budget = {"epochs": int(epochs), "max_epochs": max(int(epochs), int(max_epochs)), "target": float(target),
              "batch_size": int(batch_size), "seed": int(seed)}
    path = (directory or cache_dir()) / f"q1-reference-accuracy-{_cache_key(point, data, budget)}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))["reference"]
        return {"epochs": int(cached["epochs"]), "val_accuracy": float(cached["val_accuracy"]),
                "by_epoch": [float(a) for a in cached["by_epoch"]]}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or damaged: a miss
    result = _train_in_child(point, data, budget, timeout_s=timeout_s * budget["max_epochs"], memory_gib=memory_gib)
    _write_atomically(path, json.dumps({"reference": result, "values": point, "budget": budget}, sort_keys=True))
    return result


def _cache_key(point: dict, data: dict, budget: dict) -> str:
    digest = hashlib.sha256(f"format={_CACHE_FORMAT};keras={importlib.metadata.version('keras')};".encode())
    digest.update(json.dumps([point, budget], sort_keys=True).encode())
    for source in REFERENCE_FILES:
        digest.update(source.read_bytes())
    for name in _ARRAYS:
        digest.update(f";{name}{data[name].dtype}{data[name].shape}".encode() + data[name].tobytes())
    return digest.hexdigest()[:24]


# -- the child process --------------------------------------------------------------------------

def _train_in_child(point: dict, data: dict, budget: dict, *, timeout_s: float, memory_gib: float) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="hw3-q1-reference-"))
    try:
        np.savez(folder / "inputs.npz", **data)
        (folder / "inputs.json").write_text(json.dumps({"values": point, **budget}), encoding="utf-8")
        limit = int(memory_gib * 2**30)
        command = [sys.executable, "-m", "graders.questions.q1.trusted", str(folder)]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
               "OMP_NUM_THREADS": str(_CHILD_THREADS)}
        process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=lambda: _limit(limit, timeout_s))
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise HarnessError(f"q1: the reference's retrain at {points.point_text(point)} ran past its budget of "
                               f"{timeout_s:g} s ([q1] retrain_reference_timeout_s)") from None
        _kill(process)  # anything it left behind
        result = folder / "result.json"
        if process.returncode != 0 or not result.exists():
            tail = output.decode("utf-8", "replace")[-1500:]
            raise HarnessError(f"q1: the reference's retrain at {points.point_text(point)} failed (exit "
                               f"{process.returncode}; memory budget {memory_gib:g} GiB):\n{tail}")
        by_epoch = [float(a) for a in json.loads(result.read_text(encoding="utf-8"))["by_epoch"]]
        if not by_epoch or not all(math.isfinite(a) for a in by_epoch):
            raise HarnessError(f"q1: the reference's retrain gave the accuracies {by_epoch}")
        return {"epochs": len(by_epoch), "val_accuracy": by_epoch[-1], "by_epoch": by_epoch}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _limit(address_space: int, timeout_s: float) -> None:
    """The child's own budget: address space, CPU time (its threads' together), no core files."""
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    cpu = int(timeout_s * _CHILD_THREADS) + 60
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _child_main(folder: Path) -> None:
    """Train the reference at the point in `folder/inputs.*`, epoch by epoch until its accuracy reaches the
    target (after `epochs` at least) or `max_epochs`; write the accuracy after each to `folder/result.json`."""
    import keras
    import tensorflow as tf

    from graders.inside.probes import q1 as procedure  # the training the worker runs for the student
    from graders.questions.q1.training import accuracies
    from reference import q1_tuner

    tf.config.threading.set_intra_op_parallelism_threads(_CHILD_THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(_CHILD_THREADS)
    keras.config.disable_interactive_logging()
    inputs = json.loads((folder / "inputs.json").read_text(encoding="utf-8"))
    with np.load(folder / "inputs.npz", allow_pickle=False) as arrays:
        data = {name: arrays[name] for name in _ARRAYS}
    by_epoch = []

    def reached(outputs) -> bool:
        by_epoch.append(accuracies(outputs[np.newaxis], data["y_val"], epochs=1)[0])
        return len(by_epoch) >= inputs["epochs"] and by_epoch[-1] >= inputs["target"]

    result = procedure.budgeted_training(
        build_model=q1_tuner.build_model, values=inputs["values"], x_train=data["x_train"], y_train=data["y_train"],
        x_val=data["x_val"], epochs=inputs["max_epochs"], batch_size=inputs["batch_size"], seed=inputs["seed"],
        stop=reached)
    if result.get("error"):
        raise SystemExit(f"the reference failed at {inputs['values']}: {result['error']}")
    (folder / "result.json").write_text(json.dumps({"by_epoch": by_epoch}), encoding="utf-8")


def _write_atomically(path: Path, text: str) -> None:
    """Parallel graders read a whole file or none; a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


COMPUTE = {"retrain_reference": retrain_reference}
# No q1 value is an answer whatever the seed; the retrain is hidden, so a kit never records its reference.
ANSWERS = frozenset()

if __name__ == "__main__":
    _child_main(Path(sys.argv[1]))
