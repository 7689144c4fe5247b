"""Reports opened in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

No browser-automation package: a few lines of RFC 6455 websocket below are enough to send
DevTools commands and read the console. The tests skip where Chromium is not installed, except
under CI (where .ci/run installs it), where a missing browser is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from graders.core.results import CheckResult, GradingResult, QuestionResult
from reports.index import write_index
from reports.render import write_report
from tests.grading import run_grader, sample_path
from tests.reports.test_report import IMG, INJECTIONS, SCRIPT, rich_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium", pytrace=False)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium; .ci/run installs it)")]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Runs in the page after it loaded: what the assertions look at.
DOM_PROBE = """(() => ({
  title: document.title,
  pwned: typeof window.pwned,
  scripts: document.querySelectorAll("script").length,
  handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
  total: document.getElementById("total")?.textContent.trim() ?? null,
  checks: [...document.querySelectorAll("details[data-check]")].map(e =>
    ({id: e.dataset.check, status: e.dataset.status, open: e.open, question: e.closest("section")?.id})),
  text: document.body.textContent,
  images: [...document.images].map(i => i.naturalWidth),
  charts: document.querySelectorAll("svg.chart polyline").length,
  warning: document.getElementById("isolation-warning") !== null,
}))()"""


class WebSocket:
    """The client side of RFC 6455, just enough for DevTools: masked text frames out, frames in."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self._socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self._buffer = bytearray()
        key = base64.b64encode(os.urandom(16)).decode()
        self._socket.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                              f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0] + b" ":
            raise ConnectionError(f"websocket upgrade refused: {head[:200]!r}")
        self._buffer = bytearray(rest)

    def send(self, text: str, opcode: int = 0x1) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        length = (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack(">H", size)
                  if size < 2**16 else bytes([0x80 | 127]) + struct.pack(">Q", size))
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket.sendall(bytes([0x80 | opcode]) + length + mask + masked)

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size >= 126:
                size = struct.unpack(">H" if size == 126 else ">Q", self._take(2 if size == 126 else 8))[0]
            mask = self._take(4) if second & 0x80 else None
            payload = self._take(size)
            if mask:
                payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            if opcode == 0x9:
                self.send(payload.decode(errors="replace"), opcode=0xA)
            elif opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self) -> None:
        self._socket.close()

    def _fill(self) -> None:
        chunk = self._socket.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the DevTools connection ended")
        self._buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class Browser:
    """Headless Chromium with one page; `open` loads a file and reports its DOM and console."""

    def __init__(self, profile: Path) -> None:
        self._process = subprocess.Popen([CHROMIUM, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                          "--window-size=1200,2000", "about:blank"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port = self._port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self._socket = WebSocket(page["webSocketDebuggerUrl"])
        self._next_id, self.events = 0, []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=2000, deviceScaleFactor=1, mobile=False)

    def _port(self, active_port: Path, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if active_port.exists() and active_port.read_text().strip():
                return int(active_port.read_text().split()[0])
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self._process.returncode}")
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port")

    def call(self, method: str, **params) -> dict:
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.receive())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def open(self, path: Path) -> dict:
        """Load `path`; return the DOM probe's values plus the console errors seen while loading."""
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(json.loads(self._socket.receive()))
        self.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 100))", awaitPromise=True)
        probe = self.call("Runtime.evaluate", expression=DOM_PROBE, returnByValue=True)
        if "exceptionDetails" in probe:
            raise RuntimeError(f"the DOM probe failed: {probe['exceptionDetails']}")
        return {**probe["result"]["value"], "console_errors": console_errors(self.events)}

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a DevTools evaluation, not a page script)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def screenshot(self, path: Path) -> Path:
        height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
        clip = {"x": 0, "y": 0, "width": 1200, "height": min(height, 12000), "scale": 1}
        shot = self.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def print_pdf(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("Page.printToPDF", printBackground=True)["data"]))
        return path

    def close(self) -> None:
        self._socket.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        try:  # helpers (renderer, GPU process) are in the session chromium leads, which this test started
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def console_errors(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and error log entries (e.g. a blocked inline script)."""
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(params["entry"]["text"])
    return errors


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The reference and a failing sample, graded on the fast questions (rich_result covers the rest)."""
    runs = {}
    for sample in ("reference", "typical_mistakes"):
        out = tmp_path_factory.mktemp(sample)
        data, process = run_grader(sample_path(sample), out, questions=["q4", "q5"])
        assert data is not None, process.output[-6000:]
        runs[sample] = (data, out / "report.html")
    return runs


def assert_inert(page: dict) -> None:
    assert page["pwned"] == "undefined" and page["title"].startswith("HW3 report:"), "an injected script ran"
    assert page["scripts"] == 0 and page["handlers"] == 0, "markup from a student reached the DOM"
    assert page["console_errors"] == []


def test_console_errors_are_seen(browser, tmp_path):
    logged = tmp_path / "logged.html"
    logged.write_text("<!DOCTYPE html><title>t</title><script>console.error('boom')</script>")
    blocked = tmp_path / "blocked.html"
    blocked.write_text("<!DOCTYPE html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
                       "<title>t</title><script>window.pwned = 1</script>")
    assert "boom" in browser.open(logged)["console_errors"][0]
    page = browser.open(blocked)
    assert page["pwned"] == "undefined" and "Content Security Policy" in " ".join(page["console_errors"])


@pytest.mark.parametrize("sample", ["reference", "typical_mistakes"])
def test_sample_report_in_chromium(browser, graded, sample, tmp_path):
    data, report = graded[sample]
    page = browser.open(report)
    browser.screenshot(tmp_path / f"{sample}.png")
    assert_inert(page)
    assert page["total"].startswith(f"Total: {data['score']:g} / {data['max_score']:g}")
    expected = [(q["id"], c["id"], c["status"]) for q in data["questions"] for c in q["checks"]]
    assert sorted((c["question"], c["id"], c["status"]) for c in page["checks"]) == sorted(expected)
    for question in data["questions"]:
        shown = [c for c in page["checks"] if c["question"] == question["id"]]
        opened = [c["open"] for c in shown]
        assert opened == sorted(opened, reverse=True), "failed checks first"
        assert all(c["open"] == (c["status"] in ("failed", "error")) for c in shown)
    failed = sum(1 for _, _, status in expected if status == "failed")
    assert (failed == 0) == (sample == "reference")


def test_hostile_submission_stays_inert(browser, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def conv2d_params(kernel_size, in_channels, filters, use_bias=True):\n"
                                  f"    raise ValueError({SCRIPT!r})"),
        nbformat.v4.new_code_cell(f"print({SCRIPT!r})"),
        nbformat.v4.new_code_cell(f"ANSWERS = {{'q4a': {SCRIPT!r}, {IMG!r}: {IMG!r}}}"),
    ])
    submission = tmp_path / "hostile.ipynb"
    nbformat.write(notebook, submission)
    data, process = run_grader(submission, tmp_path / "out", questions=["q4"])
    assert data is not None, process.output[-3000:]
    page = browser.open(tmp_path / "out" / "report.html")
    browser.screenshot(tmp_path / "hostile.png")
    assert_inert(page)
    message = next(c["message"] for q in data["questions"] for c in q["checks"] if c["id"] == "q4.conv2d")
    assert SCRIPT in message and data["load"]["skipped"] and SCRIPT in data["answers"]["q4a"]
    assert page["text"].count(SCRIPT) >= 3 and IMG in page["text"], "shown as text: message, statement, answer"


def test_every_kind_of_details_in_chromium(browser, tmp_path):
    report = tmp_path / "rich.html"
    write_report(rich_result(), report)
    page = browser.open(report)
    browser.screenshot(tmp_path / "rich.png")
    assert_inert(page)
    assert page["images"] == [28, 420], "the real PNGs are embedded and decode; the others are left out"
    assert page["charts"] == 4 and page["warning"]
    assert all(injection in page["text"] for injection in INJECTIONS)
    assert browser.print_pdf(tmp_path / "rich.pdf").read_bytes().startswith(b"%PDF")


# What the class page test reads: the headings in order, the visible students table, the mistakes.
CLASS_PROBE = """(() => {
  const visible = [...document.querySelectorAll("table.students")].filter(t => t.offsetParent !== null);
  return {
    headings: [...document.querySelectorAll("h2")].map(h => h.textContent.trim()),
    visible: visible.length,
    sorted_by: visible.length ? visible[0].dataset.sortedBy : null,
    order: visible.length ? [...visible[0].querySelectorAll("tr[data-student]")].map(r => r.dataset.student) : [],
    mistakes: [...document.querySelectorAll("#mistakes tr[data-mistake]")].map(r =>
      ({mistake: r.dataset.mistake, count: Number(r.cells[2].textContent), who: r.cells[3].textContent.trim()})),
  };
})()"""


def class_result(score: float, diagnosis: str | None, note: str = "") -> GradingResult:
    checks = [CheckResult("q6.train.output", "failed" if diagnosis else "passed", 0.0 if diagnosis else 2.0, 2.0,
                          "y differs", details={"diagnosis": diagnosis} if diagnosis else {}, cause="CheckFailed"),
              CheckResult("q6.inference", "passed", score, score)]
    result = GradingResult(submission=note or "s", seed=1, hidden=False, isolation="bubblewrap", dataset={},
                           duration_s=1.0, questions=[QuestionResult("q6", "BatchNorm", checks)])
    return result


def test_class_page_opens_with_students_sorts_without_script_and_lists_common_mistakes(browser, tmp_path):
    students = [("ann", class_result(3.0, "unbiased variance")), ("bob", class_result(9.0, None)),
                ("cy", class_result(1.0, "unbiased variance")), ("dee", class_result(5.0, SCRIPT))]
    write_index(tmp_path / "index.html", students)
    page = browser.open(tmp_path / "index.html")
    assert page["scripts"] == 0 and page["handlers"] == 0 and page["console_errors"] == []
    state = browser.evaluate(CLASS_PROBE)
    assert state["headings"][0] == "Students", "the students table comes first"
    assert (state["visible"], state["sorted_by"], state["order"]) == (1, "id", ["ann", "bob", "cy", "dee"])
    assert state["mistakes"][0] == {"mistake": "unbiased variance", "count": 2, "who": "ann, cy"}
    assert SCRIPT in [m["mistake"] for m in state["mistakes"]], "a hostile diagnosis is shown as text"
    browser.call("Runtime.evaluate", expression="document.querySelector('a[href=\\'#by-total\\']').click()")
    state = browser.evaluate(CLASS_PROBE)
    assert (state["visible"], state["sorted_by"], state["order"]) == (1, "total", ["bob", "dee", "ann", "cy"])
    browser.screenshot(tmp_path / "class.png")
