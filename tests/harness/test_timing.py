"""A check's requests are timed under it, each without the requests timed inside it."""

import time

from graders.core.trusted import TrustedSide
from graders.harness.timing import CallTimes, TimedSide


def test_requests_are_timed_under_the_running_check_without_their_inner_requests():
    times = CallTimes()
    with times.timed("before any check"):
        pass
    times.current = "q7.heatmap"
    for _ in range(2):
        with times.timed("probe q7.grad_cam"):
            with times.timed("worker start"):
                time.sleep(0.05)
            time.sleep(0.01)
    table = times.table()
    assert list(table) == ["q7.heatmap"]
    start, call = table["q7.heatmap"]["worker start"], table["q7.heatmap"]["probe q7.grad_cam"]
    assert start["calls"] == call["calls"] == 2
    assert start["s"] >= 0.1 and 0.02 <= call["s"] < 0.06  # the start is not counted twice
    assert list(table["q7.heatmap"]) == ["worker start", "probe q7.grad_cam"]  # slowest first


def test_a_timed_trusted_side_names_the_question_and_kind():
    class Side(TrustedSide):
        def value(self, question, kind, **inputs):
            return inputs["x"] * 2

    times = CallTimes()
    times.current = "q4.dense"
    assert TimedSide(Side(), times).value("q4", "dense", x=3) == 6
    assert times.table()["q4.dense"]["trusted q4.dense"]["calls"] == 1
