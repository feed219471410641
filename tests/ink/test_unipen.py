"""mnist_core.ink.unipen: UNIPEN text (pendigits' original files, UNIPEN's labs) read into labelled inks."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.ink.format import InkError
from mnist_core.ink.unipen import looks_like_unipen, parse_unipen, read_file
from mnist_core.train import pen

# pendigits' own layout: each segment before its strokes, .DT between strokes
PENDIGITS = """.COMMENT  a training file
.SEGMENT DIGIT 0-1 ? "4"
.COMMENT 4 12 224
.PEN_DOWN
 10 90
 10 50
 40 50
.PEN_UP
.DT 100
.PEN_DOWN
 30 80
 30 10
.PEN_UP
.DT 100
.SEGMENT DIGIT 2 ? "1"
.PEN_DOWN
 5 90
 5 10
.PEN_UP
"""


def strokes(piece) -> list[list[list[float]]]:
    return [s[:, :2].tolist() for s in piece.ink.strokes]


def test_pendigits_layout_gives_each_segment_its_strokes_with_y_turned_down():
    pieces = parse_unipen(PENDIGITS)
    assert [(p.name, p.label, p.error) for p in pieces] == [("0-1", "4", None), ("2", "1", None)]
    assert strokes(pieces[0]) == [[[10, -90], [10, -50], [40, -50]], [[30, -80], [30, -10]]]
    assert strokes(pieces[1]) == [[[5, -90], [5, -10]]]
    assert not pieces[0].ink.timed


@pytest.mark.parametrize("delineation, expected", [
    ("0", [[[0, 0], [1, 0], [2, 0]]]),
    ("0-1", [[[0, 0], [1, 0], [2, 0]], [[5, 0], [6, 0]]]),
    ("0,2", [[[0, 0], [1, 0], [2, 0]], [[9, 0]]]),
    ("0:1-1:0", [[[1, 0], [2, 0]], [[5, 0]]]),  # point 1 of component 0 to point 0 of component 1
    ("1 - 2", [[[5, 0], [6, 0]], [[9, 0]]]),  # spaces inside the delineation
])
def test_delineations(delineation, expected):
    text = (".PEN_DOWN\n0 0\n1 0\n2 0\n.PEN_UP\n.PEN_DOWN\n5 0\n6 0\n.PEN_UP\n.PEN_DOWN\n9 0\n.PEN_UP\n"
            f'.SEGMENT DIGIT {delineation} ? "3"\n')
    (piece,) = parse_unipen(text)
    assert piece.label == "3" and strokes(piece) == [[[x, -y] for x, y in s] for s in expected]


@pytest.mark.parametrize("line, label", [
    ('.SEGMENT DIGIT 0 ? "7"', "7"),
    ('.SEGMENT DIGIT 0 OK "7"', "7"),
    (".SEGMENT DIGIT 0 ? 7", "7"),  # unquoted
    (".SEGMENT DIGIT 0", None),  # no quality, no label
    ('.SEGMENT CHARACTER 0 ? "a b"', "a b"),
])
def test_segment_labels(line, label):
    (piece,) = parse_unipen(f".PEN_DOWN\n0 0\n5 9\n.PEN_UP\n{line}\n")
    assert piece.label == label and piece.ink is not None


def test_coord_columns_and_segments_of_several_levels():
    text = (".COORD T X Y\n.HIERARCHY TEXT DIGIT\n.SEGMENT TEXT 0-1 ? \"17\"\n.SEGMENT DIGIT 0 OK \"1\"\n"
            ".SEGMENT DIGIT 1 BAD \"7\"\n.PEN_DOWN\n0 3 4\n10 3 9\n.PEN_UP\n.PEN_DOWN\n20 1 1\n30 8 1\n.PEN_UP\n")
    pieces = parse_unipen(text)
    assert [p.label for p in pieces] == ["1", "7"]  # the DIGIT level, not the TEXT one
    assert strokes(pieces[0]) == [[[3, -4], [3, -9]]]


def test_a_file_without_segments_is_one_drawing_less_its_empty_box_marks():
    (piece,) = parse_unipen(".PEN_DOWN\n0 0\n.PEN_UP\n.PEN_DOWN\n1 2\n3 4\n.PEN_UP\n")
    assert piece.label is None and piece.name == "all" and strokes(piece) == [[[1, -2], [3, -4]]]


def test_a_bad_segment_is_reported_and_the_others_still_read():
    text = PENDIGITS + '.SEGMENT DIGIT 7 ? "2"\n.SEGMENT DIGIT 2-1 ? "2"\n'
    pieces = parse_unipen(text)
    assert [p.ink is not None for p in pieces] == [True, True, False, False]
    assert "component 7 is not in the file (it has 3)" in pieces[2].error
    assert "backwards" in pieces[3].error


@pytest.mark.parametrize("text, message", [
    (".COMMENT nothing\n", "no .PEN_DOWN"),
    (".PEN_DOWN\n1 x\n.PEN_UP\n", "line 2: a point must be numbers"),
    (".COORD X\n.PEN_DOWN\n1\n", "names no X and Y"),
    (".SEGMENT\n.PEN_DOWN\n1 1\n", "needs a level"),
    (".INCLUDE other.dat\n", r"no .PEN_DOWN strokes in the file \(.INCLUDE not found: other.dat\)"),
])
def test_bad_files_say_what_is_wrong(text, message):
    with pytest.raises(InkError, match=message):
        parse_unipen(text)


def test_includes_are_found_in_unipens_own_layout(tmp_path):
    """data/1a/lab/w.dat holds the segments and includes lab/data/w.dat from the collection's include/ folder."""
    data = tmp_path / "data" / "1a" / "lab" / "w.dat"
    inc = tmp_path / "include" / "lab" / "data" / "w.dat"
    data.parent.mkdir(parents=True)
    inc.parent.mkdir(parents=True)
    inc.write_text(".PEN_DOWN\n0 0\n.PEN_UP\n.PEN_DOWN\n5 5\n5 1\n.PEN_UP\n")
    data.write_text('.VERSION 1.0\n.INCLUDE lab/data/w.dat\n.SEGMENT CHARACTER 1-1 ? "1"\n')
    (piece,) = read_file(data)
    assert piece.label == "1" and strokes(piece) == [[[5, -5], [5, -1]]]
    data.write_text('.INCLUDE lab/data/missing.dat\n.SEGMENT DIGIT 0 ? "1"\n')
    with pytest.raises(InkError, match="not found: lab/data/missing.dat"):
        read_file(data)
    # an include that is not there (a lab's documentation file, say): skipped
    data.write_text(".INCLUDE lab.doc\n" + PENDIGITS)
    assert [p.label for p in read_file(data)] == ["4", "1"]


def test_an_include_loop_is_refused(tmp_path):
    (tmp_path / "a.dat").write_text(".INCLUDE a.dat\n")
    with pytest.raises(InkError, match="nested deeper"):
        read_file(tmp_path / "a.dat")


def test_a_real_writers_digits_survive_the_round_trip():
    """A training writer's digits written as pendigits writes them (y up) come back as their strokes."""
    digits = [d for d in pen.load_shipped()][:40]
    lines, k = [], 0
    for d in digits:
        lines.append(f'.SEGMENT DIGIT {k}-{k + len(d.strokes) - 1} ? "{d.label}"')
        for s in d.strokes:
            lines += [".PEN_DOWN", *(f" {x:g} {-y:g}" for x, y in np.asarray(s)[:, :2]), ".PEN_UP", ".DT 100"]
        k += len(d.strokes)
    pieces = parse_unipen("\n".join(lines))
    assert [p.label for p in pieces] == [str(d.label) for d in digits]
    for p, d in zip(pieces, digits):
        assert len(p.ink.strokes) == len(d.strokes)
        for a, b in zip(p.ink.strokes, d.strokes):
            np.testing.assert_allclose(a[:, :2], np.asarray(b, np.float64)[:, :2], atol=1e-3)


@pytest.mark.parametrize("head, expected", [
    (PENDIGITS, True),
    ('\ufeff.VERSION 1.0\n.INCLUDE x\n', True),
    ('{"strokes": []}', False),
    ("<ink></ink>", False),
    ("\x89PNG\r\n", False),
])
def test_looks_like_unipen(head, expected):
    assert looks_like_unipen(head) is expected


def test_each_segment_keeps_the_writer_named_before_it():
    text = PENDIGITS.replace('.SEGMENT DIGIT 0-1', '.WRITER_ID 12\n.SEGMENT DIGIT 0-1').replace(
        '.SEGMENT DIGIT 2 ', '.WRITER_ID "anna"\n.SEGMENT DIGIT 2 ')
    assert [p.writer for p in parse_unipen(text)] == ["12", "anna"]
    assert {p.writer for p in parse_unipen(PENDIGITS)} == {None}  # none named: the caller decides
