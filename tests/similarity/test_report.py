"""find_similar on a small class, similarity.csv, and the HTML (escaped, highlighted, importable as a macro)."""

import csv
import io
import re

import jinja2

from graders.similarity.report import CSV_COLUMNS, similarity_csv
from reports.render import TEMPLATES
from reports.similarity import render_similarity_page, similarity_view, write_similarity
from tests.similarity.conftest import SCRIPT


def test_the_copied_pairs_are_found_and_nothing_else(small_report):
    flagged = {(p.question, p.a, p.b) for q in small_report.questions for p in q.pairs}
    assert flagged == {("q7", "alice", "bob"), ("q6", "mallory", "trent")}
    q7 = small_report.question("q7")
    assert q7.pairs[0].score > 0.8 and q7.score("alice", "carol") < small_report.settings.threshold


def test_one_line_textbook_answers_are_too_short_to_compare_not_a_match(small_report):
    q5 = small_report.question("q5")
    assert set(q5.too_short) == {"dave", "erin"} and q5.pairs == ()
    assert "bob" in small_report.question("q7").compared and "dave" in small_report.question("q6").not_answered


def test_a_submission_that_does_not_parse_is_listed_as_not_read(small_report):
    assert "zed" in small_report.not_loaded and "line 1" in small_report.not_loaded["zed"]


def test_the_csv_has_one_row_per_pair_with_its_matched_lines(small_report):
    rows = list(csv.reader(io.StringIO(similarity_csv(small_report))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 3
    q7 = next(r for r in rows if r[0] == "q7")
    assert q7[1:3] == ["alice", "bob"] and 0.8 < float(q7[3]) <= 1.0
    assert re.fullmatch(r"\d+(-\d+)?( \d+(-\d+)?)*", q7[4]) and re.fullmatch(r"\d+(-\d+)?( \d+(-\d+)?)*", q7[5])


def test_the_page_escapes_student_code_and_marks_the_matched_lines(small_report, tmp_path):
    csv_path, html_path = write_similarity(small_report, tmp_path / "out")
    page = html_path.read_text()
    assert csv_path.exists() and "Content-Security-Policy" in page and "<script" not in page.lower()
    assert "&lt;script&gt;window.pwned" in page and "&lt;/pre&gt;&lt;/details&gt;" in page
    pair = small_report.question("q7").pairs[0]
    highlighted = re.findall(r'<span class="sim-line sim-match" data-region="\d+"><span class="sim-n">(\d+)</span>', page)
    assert set(pair.lines_a) | set(pair.lines_b) <= {int(n) for n in highlighted}
    assert 'data-pair="q7:alice:bob"' in page and "too short to compare" in page.lower()


def test_the_class_page_includes_the_section(small_report, tmp_path):
    from reports.index import write_index

    write_index(tmp_path / "index.html", [(s, None) for s in small_report.students],
                similarity=similarity_view(small_report))
    page = (tmp_path / "index.html").read_text()
    assert page.count('<section id="similarity"') == 1 and 'data-pair="q7:alice:bob"' in page
    assert "<script" not in page.lower() and "&lt;script&gt;" in page


def test_the_section_is_a_macro_another_page_can_include(small_report):
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    page = environment.from_string('{% from "similarity.html.j2" import similarity_section %}'
                                   "<h1>class</h1>{{ similarity_section(v) }}").render(v=similarity_view(small_report))
    assert page.startswith("<h1>class</h1>") and '<section id="similarity"' in page and "<!DOCTYPE" not in page
    assert SCRIPT not in page and render_similarity_page(small_report).startswith("<!DOCTYPE html>")
