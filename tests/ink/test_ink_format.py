"""Ink parsing and validation: JSON (object and compact), InkML, and every refusal with its message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_core.ink.format import Ink, InkError, InkLimits, from_strokes, parse, parse_inkml, parse_json, to_inkml

OBJ = {"strokes": [[{"x": 10, "y": 20, "t": 0, "p": 0.5}, {"x": 12, "y": 30, "t": 16}],
                   [{"x": 5, "y": 25, "t": 300}, {"x": 20, "y": 25, "t": 320}]]}
COMPACT = [[[10, 20, 0], [12, 30, 16]], [[5, 25, 300], [20, 25, 320]]]
INKML = ('<ink xmlns="http://www.w3.org/2003/InkML"><trace>10 20 0, 12 30 16</trace>'
         '<trace>5 25 300, 20 25 320</trace></ink>')
INKML_FMT = ('<ink><traceFormat><channel name="Y"/><channel name="X"/><channel name="T"/><channel name="F"/>'
             '</traceFormat><trace>20 10 0 1, 30 12 16 1</trace><trace>25 5 300 1, 25 20 320 1</trace></ink>')


POINTS = {"strokes": [{"points": stroke} for stroke in OBJ["strokes"]]}  # ML Kit's Ink.Stroke, as JSON


@pytest.mark.parametrize("source", [OBJ, json.dumps(OBJ), COMPACT, json.dumps(COMPACT), {"strokes": COMPACT},
                                    POINTS, json.dumps(POINTS), INKML, INKML_FMT, INKML.encode()])
def test_every_form_reads_the_same_ink(source):
    ink = parse(source)
    assert isinstance(ink, Ink) and ink.timed
    assert len(ink.strokes) == 2 and ink.points == 4
    np.testing.assert_allclose(ink.strokes[0], [[10, 20, 0], [12, 30, 16]])
    np.testing.assert_allclose(ink.strokes[1], [[5, 25, 300], [20, 25, 320]])
    assert all(s.dtype == np.float32 and s.shape[1] == 3 for s in ink.strokes)


@pytest.mark.parametrize("key", ["strokes", "ink"])
def test_strokes_as_columns_once_a_column_is_longer_than_a_point(key):
    xs, ys, ts = [0, 1, 2, 3, 4, 5], [9, 8, 7, 6, 5, 4], [0, 10, 20, 30, 40, 50]
    ink = parse_json({key: [[xs, ys, ts], [[7, 8], [1, 2], [90, 99]]]})  # the short second stroke: columns too
    np.testing.assert_allclose(ink.strokes[0], np.stack([xs, ys, ts], 1))
    np.testing.assert_allclose(ink.strokes[1], [[7, 1, 90], [8, 2, 99]])
    with pytest.raises(InkError, match="differ in length"):
        parse_json([[xs, ys, ts], [[7, 8], [1, 2, 3]]])
    short = parse_json([[[0, 1], [2, 3]]])  # two 2-value lists and nothing longer: two points, as before
    np.testing.assert_allclose(short.strokes[0][:, :2], [[0, 1], [2, 3]])


def test_a_clock_in_epoch_milliseconds_keeps_every_step_and_reads_again():
    t0 = 1_733_500_000_123  # what Date.now() gives: too large for float32's steps of milliseconds
    ink = parse_json({"strokes": [[{"x": i, "y": 2 * i, "t": t0 + 7 * i} for i in range(5)],
                                  [{"x": 9, "y": 9, "t": t0 + 100}, {"x": 9, "y": 12, "t": t0 + 108}]]})
    np.testing.assert_allclose(ink.strokes[0][:, 2], [0, 7, 14, 21, 28])
    np.testing.assert_allclose(ink.strokes[1][:, 2], [100, 108])
    again = parse(json.dumps(ink.to_json()))
    np.testing.assert_allclose(again.strokes[1], ink.strokes[1])


def test_points_without_time_get_an_increasing_clock():
    ink = parse_json({"strokes": [[{"x": 1, "y": 2}, {"x": 3, "y": 4}], [{"x": 0, "y": 0}]]})
    assert not ink.timed
    t = np.concatenate([s[:, 2] for s in ink.strokes])
    assert (np.diff(t) > 0).all()
    ink2 = parse_inkml("<ink><trace>1 2, 3 4</trace></ink>")
    assert not ink2.timed and ink2.points == 2


@pytest.mark.parametrize("source, words", [
    ({"strokes": []}, "empty"),
    ([], "empty"),
    ({"points": []}, "'strokes'"),
    ({"strokes": [[]]}, "non-empty"),
    ({"strokes": [[{"x": 1}]]}, "'x' and 'y'"),
    ({"strokes": [[{"x": "a", "y": 1}]]}, "not a number"),
    ({"strokes": [[{"x": True, "y": 1}]]}, "not a number"),
    ('{"strokes": [[[NaN, 1, 0]]]}', "NaN"),
    ('{"strokes": [[[Infinity, 1, 0]]]}', "NaN or infinite"),
    ([[[0, 0, 5], [1, 1, 5]]], "time does not increase"),
    ([[[0, 0, 5], [1, 1, 9], [2, 2, 3]]], "point 2"),
    ([[[0, 0, 1], [1, 1]]], "time"),
    ([[[0, 0, 1, 2, 3]]], "expected"),
    ([[[1e9, 0]]], "beyond"),
    ("{not json", "not JSON"),
    ('"a string"', "'strokes' must be a list"),
    ("<ink><trace>1 a, 2 3</trace></ink>", "not numbers"),
    ("<ink><trace>'1 2, 3 4</trace></ink>", "a difference (') with no value before it"),
    ("<ink><trace>1 2, 3 4 ?</trace></ink>", "not numbers"),
    ("<ink></ink>", "no <trace>"),
    ("<svg><trace>1 2</trace></svg>", "root element"),
    ("<ink><trace>1 2", "well-formed"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><ink><trace>1 2</trace></ink>', "DOCTYPE"),
    ("<ink><traceFormat><channel name='X'/><channel name='T'/></traceFormat><trace>1 2</trace></ink>", "X and Y"),
])
def test_bad_ink_is_refused_with_a_clear_message(source, words):
    with pytest.raises(InkError, match=None) as e:
        parse(source)
    assert words.lower() in str(e.value).lower(), str(e.value)


@pytest.mark.parametrize("strokes, points, words", [
    (65, 2, "too many strokes"),
    (1, 4001, "too many points"),
    (40, 101, "too many points"),
])
def test_limits(strokes, points, words):
    data = [[[float(i), float(j)] for i in range(points)] for j in range(strokes)]
    with pytest.raises(InkError, match=words):
        parse_json(data)
    with pytest.raises(InkError, match=words):
        from_strokes([np.array(s) for s in data])


def test_limits_are_settings():
    data = [[[0, 0], [1, 1], [2, 2]]]
    assert parse_json(data).points == 3
    with pytest.raises(InkError, match="at most 2"):
        parse_json(data, InkLimits(max_points=2))


@pytest.mark.parametrize("trace", [
    "1125 18432, 1148 18475, 1178 18510, 1211 18540, 1251 18567",  # explicit
    "1125 18432,'23'43,\"7\"-8,3-5,7 -3",  # first then second differences, in force until changed
    "1125 18432,'23 '43,'30'35,\"3\"-5,!1251 !18567",  # spaces after qualifiers, back to explicit
    "1125,18432 1148,18475 1178,18510 1211,18540 1251,18567",  # commas inside the points (not InkML)
    "#465 #4800, 1148 18475, 1178 +18510, 1211 18540, 1251 18567",  # hex, a plus sign
])
def test_inkml_difference_orders_hex_and_comma_points_read_the_same_points(trace):
    ink = parse_inkml(f'<inkml:ink xmlns:inkml="http://www.w3.org/2003/InkML"><inkml:trace>{trace}</inkml:trace>'
                      "</inkml:ink>")
    np.testing.assert_allclose(ink.strokes[0][:, :2], [[1125, 18432], [1148, 18475], [1178, 18510], [1211, 18540],
                                                        [1251, 18567]])


def test_inkml_time_channel_in_differences_and_booleans():
    ink = parse_inkml('<ink><traceFormat><channel name="X"/><channel name="Y"/><channel name="T"/>'
                      '<channel name="S" type="boolean"/></traceFormat>'
                      "<trace>0 0 100 T,'1'2'16 F,1 2 16 T</trace></ink>")
    np.testing.assert_allclose(ink.strokes[0], [[0, 0, 0], [1, 2, 16], [2, 4, 32]])  # times from the first point
    assert ink.timed


@pytest.mark.parametrize("text", [INKML, json.dumps(OBJ), json.dumps(COMPACT)])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_leading_byte_order_mark_is_dropped(text, as_bytes):
    ink = parse(("\ufeff" + text).encode("utf-8") if as_bytes else "\ufeff" + text)
    np.testing.assert_allclose(ink.strokes[1], [[5, 25, 300], [20, 25, 320]])


@pytest.mark.parametrize("orient, sign", [("", 1), (' orientation="+ve"', 1), (' orientation="-ve"', -1)])
def test_inkml_y_channel_orientation(orient, sign):
    ink = parse_inkml(f'<ink><traceFormat><channel name="X"/><channel name="Y"{orient}/></traceFormat>'
                      "<trace>0 10, 0 20</trace></ink>")
    np.testing.assert_allclose(ink.strokes[0][:, :2], [[0, 10 * sign], [0, 20 * sign]])


def test_round_trips_through_json_and_inkml():
    ink = parse(COMPACT)
    for again in (parse(json.dumps(ink.to_json())), parse(to_inkml(ink))):
        assert len(again.strokes) == len(ink.strokes)
        for a, b in zip(again.strokes, ink.strokes):
            np.testing.assert_allclose(a, b)


def test_value_is_frozen_and_knows_its_box():
    ink = parse(COMPACT)
    with pytest.raises(AttributeError):
        ink.timed = False
    assert ink.box() == (5.0, 20.0, 20.0, 30.0)
    assert [s.shape for s in ink.xy()] == [(2, 2), (2, 2)]


def test_a_single_point_stroke_is_a_dot_not_an_error():
    ink = from_strokes([np.array([3.0, 4.0])])
    assert ink.points == 1 and ink.strokes[0].shape == (1, 3)


def test_pressure_in_a_compact_fourth_value_is_dropped():
    ink = parse_json([[[0, 0, 0, 0.5], [1, 1, 10, 0.7]]])
    assert ink.strokes[0].shape == (2, 3) and ink.timed


@pytest.mark.parametrize("text, writer", [
    ('{"writer": "anna", "strokes": [[[0, 0], [1, 1]]]}', "anna"),
    ('{"writer": 27, "strokes": []}', "27"),
    ('{"writer": true, "strokes": []}', None),
    ('{"writer": "", "strokes": []}', None),
    ('{"strokes": [[[0, 0], [1, 1]]]}', None),
    ('[[[0, 0], [1, 1]]]', None),
    ('<ink><trace>0 0, 1 1</trace></ink>', None),
    ('<ink xmlns="http://www.w3.org/2003/InkML"><annotation type="writer"> w123 </annotation>'
     '<trace>0 0, 1 1</trace></ink>', "w123"),  # as CROHME's files name their writer
    (b'\xef\xbb\xbf<ink><annotation type="Writer">b</annotation><trace>0 0</trace></ink>', "b"),
    ('<ink><annotation type="writer"></annotation><trace>0 0</trace></ink>', None),
    ('<ink><traceGroup><annotation type="writer">g</annotation></traceGroup></ink>', None),  # a group's, not the ink's
    ('<ink><annotation type="writer">x</annotation>', None),  # not well-formed
    (b'\xff\xfe not json', None),
])
def test_declared_writer(text, writer):
    from mnist_core.ink.format import declared_writer

    assert declared_writer(text) == writer
