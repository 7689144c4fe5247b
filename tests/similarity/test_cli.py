"""`hw3grade similarity CLASS_DIR --out OUT`."""

import csv

from graders.commands.cli import build_parser, main
from tests.similarity.conftest import write_small_class


def test_the_subcommand_writes_the_csv_and_the_page(tmp_path, capsys):
    assert main(["similarity", str(write_small_class(tmp_path / "class")), "--out", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "similarity.csv").open()))
    assert {(r["question"], r["student_a"], r["student_b"]) for r in rows} == {("q7", "alice", "bob"),
                                                                             ("q6", "mallory", "trent")}
    assert (tmp_path / "out" / "similarity.html").read_text().startswith("<!DOCTYPE html>")
    assert "similarity: 8 students" in capsys.readouterr().out


def test_the_parser_takes_a_rubric():
    options = vars(build_parser().parse_args(["similarity", "class", "--out", "o", "--rubric", "r.toml"]))
    assert options == {"command": "similarity", "class_dir": "class", "out": "o", "rubric": "r.toml"}
