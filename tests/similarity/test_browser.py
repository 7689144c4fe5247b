"""The similarity section in headless Chromium: highlighted regions present, student code shown as text.

Opens the standalone similarity.html and the class page (reports/index.py's index.html, which
includes the section), both built from a small class whose copied answer carries markup in its
strings and comments.
"""

from __future__ import annotations

import json

import pytest

from graders.similarity import find_similar
from reports.index import write_index
from reports.similarity import similarity_view, write_similarity
from tests.reports.test_browser import CHROMIUM, Browser
from tests.similarity.conftest import SCRIPT, write_small_class

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
PROBE = """(() => {
  const section = document.getElementById("similarity");
  const plain = document.querySelector(".sim-line:not(.sim-match)");
  return {
    section: section !== null,
    scripts: document.querySelectorAll("script").length,
    handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
    pwned: typeof window.pwned, title: document.title,
    pairs: [...document.querySelectorAll("details.sim-pair")].map(d => ({
      key: d.dataset.pair, open: d.open,
      sides: [...d.querySelectorAll(".sim-side")].map(s => ({
        student: s.dataset.student,
        matched: [...s.querySelectorAll(".sim-line.sim-match .sim-n")].map(n => Number(n.textContent)),
        regions: new Set([...s.querySelectorAll(".sim-match")].map(l => l.dataset.region)).size,
        text: s.querySelector("pre").textContent}))})),
    marked: getComputedStyle(document.querySelector(".sim-match")).backgroundColor,
    unmarked: plain ? getComputedStyle(plain).backgroundColor : null,
    short: [...document.querySelectorAll(".sim-short")].map(p => p.textContent),
  };
})()"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similarity")
    report = find_similar(class_dir=write_small_class(folder / "class"))
    _, standalone = write_similarity(report, folder / "out")
    class_page = folder / "out" / "index.html"
    write_index(class_page, [(student, None) for student in report.students], similarity=similarity_view(report))
    return report, {"standalone": standalone, "class page": class_page}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.mark.parametrize("page_name", ["standalone", "class page"])
def test_the_section_highlights_the_matched_lines_and_shows_code_as_text(browser, pages, page_name, tmp_path):
    report, paths = pages
    browser.open(paths[page_name])
    browser.screenshot(tmp_path / "similarity.png")
    result = browser.call("Runtime.evaluate", expression=PROBE, returnByValue=True)["result"]["value"]
    assert result["section"] and result["scripts"] == 0 and result["handlers"] == 0
    assert result["pwned"] == "undefined" and "pwned" not in result["title"]
    expected = [pair for question in report.questions for pair in question.pairs]
    assert [p["key"] for p in result["pairs"]] == [f"{p.question}:{p.a}:{p.b}" for p in expected]
    for shown, pair in zip(result["pairs"], expected):
        assert [side["student"] for side in shown["sides"]] == [pair.a, pair.b]
        assert [side["matched"] for side in shown["sides"]] == [list(pair.lines_a), list(pair.lines_b)]
        assert all(side["regions"] >= 1 for side in shown["sides"]), "highlighted regions on both sides"
    assert result["marked"] != result["unmarked"], "a matched line looks different: " + json.dumps(result["marked"])
    hostile = next(p for p in result["pairs"] if p["key"] == "q6:mallory:trent")
    assert all(SCRIPT in side["text"] for side in hostile["sides"]), "the student's markup is shown as text"
    assert any("dave" in line and "erin" in line for line in result["short"])
