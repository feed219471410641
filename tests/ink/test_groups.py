"""mnist_core.ink.groups: InkML collection files, each labelled trace group read as a drawing of its own."""

from __future__ import annotations

import pytest

from mnist_core.ink.format import InkError
from mnist_core.ink.groups import read_groups

NS = 'xmlns="http://www.w3.org/2003/InkML"'

# traces at the top with ids, groups naming them by traceView (as handwriting collections write them)
VIEWS = f"""<ink {NS}>
  <trace xml:id="t1">0 0, 0 10</trace>
  <trace xml:id="t2">5 0, 5 10</trace>
  <trace xml:id="t3">9 9, 9 1</trace>
  <traceGroup xml:id="all">
    <annotation type="Description">one writer's page</annotation>
    <traceGroup xml:id="g1"><annotation type="truth">4</annotation>
      <traceView traceDataRef="t1"/><traceView traceDataRef="#t2"/></traceGroup>
    <traceGroup xml:id="g2"><annotation type="truth"> 1 </annotation><traceView traceDataRef="t3"/></traceGroup>
  </traceGroup>
</ink>"""


def xy(piece) -> list[list[list[float]]]:
    return [s[:, :2].tolist() for s in piece.ink.strokes]


def test_trace_views_make_each_group_a_drawing():
    pieces = read_groups(VIEWS)
    assert [(p.name, p.label, p.error) for p in pieces] == [("g1", "4", None), ("g2", "1", None)]
    assert xy(pieces[0]) == [[[0, 0], [0, 10]], [[5, 0], [5, 10]]]
    assert xy(pieces[1]) == [[[9, 9], [9, 1]]]


def test_writers_named_by_the_group_else_by_the_document():
    named = '<annotation type="writer">w7</annotation><traceGroup xml:id="all">'
    own = '<annotation type="truth"> 1 </annotation><annotation type="writer">w8</annotation>'
    text = VIEWS.replace('<traceGroup xml:id="all">', named).replace('<annotation type="truth"> 1 </annotation>', own)
    assert [p.writer for p in read_groups(text)] == ["w7", "w8"]
    assert [p.writer for p in read_groups(VIEWS)] == [None, None]


def test_nested_traces_innermost_labels_and_the_documents_orientation():
    text = f"""<ink {NS}><traceFormat><channel name="X"/><channel name="Y" orientation="-ve"/></traceFormat>
      <traceGroup><annotation type="truth">17</annotation>
        <traceGroup><annotation type="label">1</annotation><trace>0 0, 0 -10</trace></traceGroup>
        <traceGroup><annotation type="label">7</annotation><trace>3 0, 9 0</trace><trace>9 0, 5 -10</trace>
        </traceGroup>
      </traceGroup></ink>"""
    pieces = read_groups(text)
    assert [(p.name, p.label) for p in pieces] == [("1", "1"), ("2", "7")]  # the digits, not the number
    assert xy(pieces[1]) == [[[3, 0], [9, 0]], [[9, 0], [5, 10]]]  # y turned down


def test_a_view_of_a_group_takes_its_traces_and_a_bad_group_does_not_stop_the_others():
    text = VIEWS.replace('<traceView traceDataRef="t3"/>', '<traceView traceDataRef="missing"/>').replace(
        "</traceGroup>\n</ink>", '</traceGroup><traceGroup><annotation type="truth">0</annotation>'
        '<traceView traceDataRef="g1"/></traceGroup>\n</ink>')
    pieces = read_groups(text)
    assert [p.label for p in pieces] == ["4", "1", "0"]
    assert pieces[1].ink is None and "'missing'" in pieces[1].error
    assert xy(pieces[2]) == xy(pieces[0])


@pytest.mark.parametrize("text", [
    f"<ink {NS}><trace>0 0, 1 1</trace></ink>",
    f"<ink {NS}><traceGroup><trace>0 0, 1 1</trace></traceGroup></ink>",  # a group without a label
    f'<ink {NS}><traceGroup><annotation type="writer">ab</annotation><trace>0 0, 1 1</trace></traceGroup></ink>',
])
def test_a_file_without_labelled_groups_is_not_a_collection(text):
    assert read_groups(text) is None


@pytest.mark.parametrize("text, message", [
    ("<ink><trace>0 0</trace", "not well-formed"),
    ('<!DOCTYPE ink [<!ENTITY a "b">]><ink></ink>', "DOCTYPE"),
    ("<svg></svg>", "root element"),
])
def test_bad_documents_say_what_is_wrong(text, message):
    with pytest.raises(InkError, match=message):
        read_groups(text)


def test_views_naming_each_other_in_a_loop_are_refused_for_that_group():
    text = (f'<ink {NS}><traceGroup xml:id="a"><annotation type="truth">1</annotation>'
            '<traceView traceDataRef="b"/></traceGroup>'
            '<traceGroup xml:id="b"><traceView traceDataRef="a"/></traceGroup></ink>')
    (piece,) = read_groups(text)
    assert piece.ink is None and "loop" in piece.error
