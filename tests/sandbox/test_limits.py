"""Bounded everything: each function's total time, a CPU limit per worker, the student's texts cut, and
the worker's threads and CPU share from the number of parallel gradings."""

import time

import pytest

from graders.core.errors import CallTimeout
from graders.core.rubric import Rubric
from graders.harness.student import SandboxSettings, machine_cores, sandbox_config
from graders.sandbox.budgets import FunctionBudgets
from graders.sandbox.cgroup import WorkerCgroup
from graders.sandbox.failures import MESSAGE_CHARS, cut
from graders.sandbox.isolation import Limits
from tests.sandbox.workers import make_sandbox

pytestmark = pytest.mark.filterwarnings("ignore::graders.sandbox.sandbox.UnconfinedRootWarning")


def settings() -> SandboxSettings:
    return Rubric.load().section("sandbox", SandboxSettings)


def test_a_long_text_keeps_its_start_and_end_and_says_how_much_was_cut():
    text = "start " + "x" * 10**7 + " end"
    short = cut(text)
    assert len(short) < MESSAGE_CHARS + 100 and short.startswith("start ") and short.endswith(" end")
    assert "characters cut" in short and cut("short") == "short"


def test_a_function_gets_what_is_left_of_its_total_and_nothing_once_it_is_spent():
    budgets = FunctionBudgets(total_s=1.0)
    assert budgets.call_budget("f", 20) == (1.0, True)
    with budgets.timing("f"):
        time.sleep(0.3)
    budget, cut_short = budgets.call_budget("f", 0.5)
    assert 0.6 < budget <= 0.7 and cut_short is False or budget == 0.5
    budgets.spent["f"] = 1.5
    assert budgets.call_budget("f", 20)[0] == 0 and budgets.call_budget("g", 20) == (1.0, True)
    assert FunctionBudgets(total_s=None).call_budget("f", 20) == (20, False)


def test_threads_and_cpu_share_split_the_machine_between_parallel_gradings():
    cores = machine_cores()
    alone, two = (sandbox_config(settings(), isolation="auto", threads=None, parallel=n).limits for n in (1, 2))
    assert alone.threads == min(settings().threads, cores) and two.threads == max(1, min(settings().threads,
                                                                                           cores // 2))
    share = settings().cpu_share
    assert alone.cpus == pytest.approx(min(cores, cores * share))
    assert two.cpus == pytest.approx(min(cores, cores * share / 2))
    assert sandbox_config(settings(), isolation="auto", threads=None, parallel=8 * cores).limits.cpus < cores
    assert sandbox_config(settings(), isolation="auto", threads=3, parallel=2).limits.threads == 3


SPIN = """
import os, threading, time

def spin(seconds, threads):
    def burn():
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
    workers = [threading.Thread(target=burn) for _ in range(threads)]
    started, cpu = time.monotonic(), os.times()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    used = os.times()
    return (used.user + used.system - cpu.user - cpu.system) / (time.monotonic() - started)
"""


@pytest.mark.slow
def test_a_worker_uses_no_more_cpu_than_its_cgroup_limit(tmp_path):
    probe = WorkerCgroup.create(max_processes=8, memory_bytes=2**30, cpus=0.5)
    if probe is None or probe.cpu_limit() is None:
        pytest.skip("no CPU controller this grader may use")
    assert probe.cpu_limit() == pytest.approx(0.5)
    probe.remove()
    with make_sandbox(tmp_path, SPIN, limits=Limits(cpus=0.5), call_timeout_s=30) as box:
        assert box.call("spin", 3, 2) < 0.65  # two busy threads, half a CPU


@pytest.mark.slow
def test_once_a_function_has_spent_its_total_its_other_calls_fail_at_once(tmp_path):
    source = "import time\n\ndef slow():\n    time.sleep(0.6)\n    return 1\n\ndef quick():\n    return 2\n"
    with make_sandbox(tmp_path, source, function_budget_s=1.5) as box:
        assert box.call("slow") == 1 and box.call("slow") == 1
        with pytest.raises(CallTimeout, match="whole time budget of 1.5 s in all"):
            box.call("slow")  # cut short at the end of the total
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(CallTimeout, match=r"was not run: .* 1.5 s in all \(3 calls\)"):
                box.call("slow")
        assert time.monotonic() - started < 0.5 and box.starts == 1  # not called: no new worker for it
        assert box.call("quick") == 2  # the other functions have their own totals
