"""The number reader: line inputs, rows, CTC decoding, combining with the segmenter, the shipped reader."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.numbers import reader as nr
from mnist_core.digits import Digit, Ink
from tests._shared import small_mnist

HAVE_READER = nr.SHIPPED.is_file()
needs_reader = pytest.mark.skipif(not HAVE_READER, reason=f"no shipped number reader at {nr.SHIPPED}")


def _frames(symbols: list[int], p: float = 0.9) -> np.ndarray:
    """(T, 11) frame probabilities whose likeliest symbol per frame is `symbols` (0 blank, d + 1 digit d)."""
    f = np.full((len(symbols), 11), (1 - p) / 10, np.float32)
    f[np.arange(len(symbols)), symbols] = p
    return f


@pytest.mark.parametrize("symbols, digits", [
    ([0, 0, 0], []),
    ([0, 3, 3, 0, 5, 0], [2, 4]),            # runs merge, blanks drop
    ([2, 2, 0, 2, 0], [1, 1]),               # a blank between repeats keeps both
    ([2, 2, 2], [1]),                        # without one they are one digit
    ([1, 10, 1], [0, 9, 0]),                 # neighbours without blanks are separate digits
])
def test_greedy_decoding(symbols, digits):
    got = nr.greedy(_frames(symbols))
    assert [d for d, *_ in got] == digits
    for d, a, e, p in got:
        assert symbols[a] == d + 1 and 0 <= a < e <= len(symbols)
        assert p.shape == (10,) and abs(float(p.sum()) - 1) < 1e-5 and int(p.argmax()) == d


@pytest.mark.parametrize("h, w", [(40, 300), (200, 90), (12, 400), (300, 3000)])
def test_line_input_scales_the_ink_to_the_reader_height(h, w):
    ink = np.zeros((h + 20, w + 30), np.uint8)
    ink[10:10 + h, 15:15 + w] = 255
    x = nr.line_input(ink)
    assert x.dtype == np.uint8 and x.shape[0] == nr.HEIGHT and x.shape[1] % 4 == 0
    rows = np.flatnonzero((x > 100).any(axis=1))
    assert abs(len(rows) - nr.INK_HEIGHT) <= 1 or x.shape[1] <= nr.MAX_WIDTH  # squeezed only when too wide
    assert x.shape[1] <= nr.MAX_WIDTH
    cols = np.flatnonzero((x > 100).any(axis=0))
    assert cols[0] >= nr.MARGIN - 1 and cols[-1] < x.shape[1] - nr.MARGIN + 1


def test_line_input_of_a_faint_photo_map_is_full_strength():
    ink = np.zeros((50, 200), np.float32)
    ink[10:40, 20:180] = 0.3  # a faint pen after background removal
    assert nr.line_input(ink).max() == 255


def test_blank_line_input_is_blank():
    x = nr.line_input(np.zeros((30, 100), np.uint8))
    assert x.shape[0] == nr.HEIGHT and not x.any()


def _digit(x0, y0, x1, y1) -> Digit:
    return Digit(np.zeros((28, 28), np.float32), (x0, y0, x1, y1))


def test_rows_top_to_bottom_left_to_right():
    a, b, c = _digit(100, 10, 140, 60), _digit(10, 15, 50, 62), _digit(30, 100, 70, 150)
    rows = nr.rows_of([c, a, b])
    assert rows == [[b, a], [c]]


class FakeReader:
    """Frames chosen by the test instead of a network: `symbols` stretched over the frames of the line's ink (the
    input less its blank margins), so that each symbol lies where that share of the ink is, as a network's would."""

    def __init__(self, symbols: list[int]):
        self.symbols = symbols

    def frames(self, x):
        total, margin = x.shape[1] // nr.STRIDE, nr.MARGIN // nr.STRIDE
        inner = total - 2 * margin
        assert inner >= len(self.symbols), "the test's picture is too narrow for its symbols"
        at = (np.arange(inner) * len(self.symbols)) // inner
        return _frames([0] * margin + [self.symbols[i] for i in at] + [0] * margin)

    def read(self, x):
        return nr.vote((self.frames(x),), (1.0,), (1.0,), x.shape[1])


def _picture(n: int) -> tuple[list[Digit], Ink]:
    ink = np.zeros((60, 40 * n + 20), np.uint8)
    digits = []
    for i in range(n):
        ink[10:50, 10 + 40 * i: 40 + 40 * i] = 255
        digits.append(_digit(10 + 40 * i, 10, 40 + 40 * i, 50))
    return digits, Ink(ink, 1.0, 1.0)


def _odds(d: int, p: float = 0.8) -> np.ndarray:
    q = np.full(10, (1 - p) / 9, np.float32)
    q[d] = p
    return q


def test_no_reader_reads_digit_by_digit_as_before():
    digits, ink = _picture(3)
    probs = np.stack([_odds(4), _odds(2), _odds(7)])
    assert nr.as_json(nr.read_numbers(digits, probs, ink, None))["number"] == "427"
    assert nr.as_json(nr.read_numbers([], np.zeros((0, 10)), ink, None)) == {"number": "", "digits": []}


def test_same_count_combines_both_models_odds_and_keeps_the_segmenters_boxes():
    digits, ink = _picture(2)
    probs = np.stack([_odds(4, 0.55), _odds(2)])
    # The reader is sure the first is a 9 (the digit model leans to 4): the product decides, boxes stay exact.
    reader = FakeReader([0, 10, 10, 0, 3, 0])
    got = nr.read_numbers(digits, probs, ink, reader)[0]
    assert [d.digit for d in got] == [9, 2]
    assert [d.box for d in got] == [d.box for d in digits]
    assert all(0 < d.confidence <= 1 for d in got)


def test_one_isolated_digit_is_the_digit_models_answer():
    digits, ink = _picture(1)
    got = nr.read_numbers(digits, _odds(3)[None], ink, FakeReader([0, 9, 0]))  # the reader says 8
    assert [d.digit for d in got[0]] == [3]


def test_a_merged_pair_is_split_by_the_reader_with_boxes_from_its_alignment():
    # The segmenter saw one wide blob; the reader reads two digits in it.
    ink = np.zeros((60, 120), np.uint8)
    ink[10:50, 10:110] = 255
    blob = _digit(10, 10, 110, 50)
    T = 30
    symbols = [0] * T
    symbols[8], symbols[22] = 1 + 0, 1 + 7
    got = nr.read_numbers([blob], _odds(0)[None], Ink(ink, 1.0, 1.0), FakeReader(symbols))[0]
    assert [d.digit for d in got] == [0, 7]
    (a0, _, a1, _), (b0, _, b1, _) = got[0].box, got[1].box
    assert a0 < a1 <= b0 < b1 and a0 >= 10 and b1 <= 110


def test_the_reader_s_own_digits_are_fused_with_the_strokes_in_their_boxes():
    # A merged pair the reader splits into 0 7: with the drawing's strokes, each of its digits is read from the
    # strokes in its box too (with_ink), here an ink model sure the second is a 1 (a continental 1).
    ink = np.zeros((60, 120), np.uint8)
    ink[10:50, 10:110] = 255
    symbols = [0] * 30
    symbols[8], symbols[22] = 1 + 0, 1 + 7
    seen = []

    def with_ink(boxes, odds):
        seen.append((list(boxes), odds.copy()))
        out = odds.copy()
        out[1] = _odds(1, 0.95)
        return out

    plain = nr.read_numbers([_digit(10, 10, 110, 50)], _odds(0)[None], Ink(ink, 1.0, 1.0), FakeReader(symbols))[0]
    got = nr.read_numbers([_digit(10, 10, 110, 50)], _odds(0)[None], Ink(ink, 1.0, 1.0), FakeReader(symbols),
                          with_ink)[0]
    assert [d.digit for d in plain] == [0, 7] and [d.digit for d in got] == [0, 1]
    (boxes, odds), = seen
    assert boxes == [d.box for d in got] and odds.shape == (2, 10) and odds[1].argmax() == 7
    assert got[1].confidence == pytest.approx(0.95)


def test_same_count_in_other_places_is_read_as_the_reader_counts():
    # The segmenter cut two digits as one blob and took a separator after them for a digit: two pieces, as the
    # reader's two digits, but both of those lie in the blob. The pieces' odds must not go with the reader's digits.
    ink = np.zeros((60, 170), np.uint8)
    ink[10:50, 10:110] = 255  # two digits touching
    ink[40:50, 150:160] = 255  # a dot
    blob, dot = _digit(10, 10, 110, 50), _digit(150, 40, 160, 50)
    symbols = [0] * 40
    symbols[5:9], symbols[17:21] = [1 + 4] * 4, [1 + 7] * 4  # 4 and 7 in the blob, nothing on the dot
    asked = []
    got = nr.read_numbers([blob, dot], np.stack([_odds(0, 0.99), _odds(1, 0.99)]), Ink(ink, 1.0, 1.0),
                          FakeReader(symbols), lambda b, o: asked.append(b) or o)[0]
    assert [d.digit for d in got] == [4, 7]
    # Boxes from the reader's alignment (the last runs on to the dot), and its digits read from their strokes.
    assert got[0].box[2] <= 112 and got[1].box[0] < 110 and len(asked) == 1


def test_counted_alike_in_other_places_a_piece_holding_one_digit_is_still_combined():
    # Two digits cut as one blob, a dot taken for a digit, then a digit of its own: three pieces, three digits read.
    # The last digit lies alone in its piece: both models' odds combine there (the piece's sure 5 over the reader's
    # 3), with the piece's box; the blob's two digits are the reader's, read from their strokes.
    ink = np.zeros((60, 250), np.uint8)
    ink[10:50, 10:110] = 255
    ink[40:50, 150:160] = 255
    ink[10:50, 190:230] = 255
    pieces = [_digit(10, 10, 110, 50), _digit(150, 40, 160, 50), _digit(190, 10, 230, 50)]
    symbols = [0] * 40
    symbols[5:9], symbols[14:18], symbols[35:39] = [1 + 4] * 4, [1 + 7] * 4, [1 + 3] * 4
    asked = []
    odds = np.stack([_odds(0, 0.99), _odds(1, 0.99), _odds(5, 0.99)])
    got = nr.read_numbers(pieces, odds, Ink(ink, 1.0, 1.0), FakeReader(symbols),
                          lambda b, o: asked.append(b) or o)[0]
    assert [d.digit for d in got] == [4, 7, 5]
    assert got[2].box == pieces[2].box and got[0].box[2] <= 112 and len(asked) == 1 and len(asked[0]) == 3


def test_with_ink_is_not_asked_where_the_segmenter_s_digits_stand():
    digits, ink = _picture(2)
    asked = []
    got = nr.read_numbers(digits, np.stack([_odds(4), _odds(2)]), ink, FakeReader([0, 5, 0, 3, 0]),
                          lambda b, o: asked.append(b) or o)[0]
    assert [d.digit for d in got] == [4, 2] and asked == []  # same count: the fused digits already carry the ink


def test_scale_maps_boxes_back_to_the_input():
    digits, ink = _picture(2)
    half = Ink(ink.image[::2, ::2].copy(), 2.0, 2.0)  # ink at half the input's resolution
    symbols = [0, 5, 0, 0, 6, 0, 0, 7, 0, 0]
    got = nr.read_numbers(digits, np.stack([_odds(4), _odds(5)]), half, FakeReader(symbols))[0]
    assert [d.digit for d in got] == [4, 5, 6]
    assert max(d.box[2] for d in got) <= ink.image.shape[1] + 2


# ----------------------------------------------------------------------------------------------------------
# The shipped reader on lines it never saw
# ----------------------------------------------------------------------------------------------------------


def _mnist_test_lines(n: int, seed: int, longest: int) -> list[tuple[str, np.ndarray, list]]:
    """n lines of 2 to `longest` MNIST test digits with natural spacing: (text, ink, each digit's columns)."""
    from mnist_core.numbers import lines

    data = small_mnist()
    hand = lines.Hand(None, (data.x_test, data.y_test))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        text = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(2, longest + 1))))
        ink, cols = lines.write_line(text, hand, rng, lines.LineStyle(gap_mix=(1.0, 0.0, 0.0)), height=60, pen=4)
        out.append((text, ink, cols))
    return out


@needs_reader
def test_the_shipped_reader_reads_lines_of_mnist_test_digits():
    reader = nr.NumberReader.load()
    texts, read = [], []
    for text, ink, cols in _mnist_test_lines(60, seed=7, longest=7):
        assert len(cols) == len(text)
        texts.append(text)
        read.append(reader.read_line(ink))
    exact = np.mean([a == b for a, b in zip(read, texts)])
    assert exact >= 0.85, list(zip(texts, read))[:10]


@needs_reader
def test_the_shipped_reader_has_a_card_and_serves_any_width():
    card = nr.card()
    assert card["kind"].startswith("number reader") and card["tflite"] is True and 0.85 <= card["val_exact"] <= 1
    reader = nr.NumberReader.load()
    for w in (16, 64, 400, 1600):
        f = reader.frames(np.zeros((nr.HEIGHT, w), np.uint8))
        assert f.shape == (w // nr.STRIDE, 11) and np.allclose(f.sum(axis=1), 1, atol=1e-4)
        assert nr.greedy(f) == []  # nothing written, nothing read


@pytest.mark.parametrize("shear, top, bottom", [(0.0, 20, 20), (0.2, 22, 18), (-0.2, 18, 22), (0.1, 21, 19)])
def test_slanted_moves_the_top_and_bottom_rows_opposite_ways(shear, top, bottom):
    x = np.zeros((nr.HEIGHT, 40), np.uint8)
    x[4:28, 20] = 255  # an upright stroke in column 20, rows 4-27
    y = nr.slanted(x, shear)
    assert y.shape == x.shape and y.dtype == np.uint8
    assert int(y[4].argmax()) == top and int(y[27].argmax()) == bottom and int(y[16].argmax()) == 20


@needs_reader
def test_the_slanted_readings_are_combined_into_one_distribution_that_reads_like_the_upright_one():
    content = nr.SHIPPED.read_bytes()
    upright, combined = nr.NumberReader(content, shears=(0.0,)), nr.NumberReader(content)
    assert combined.shears == nr.SHEARS and len(nr.SHEARS) > 1
    agree = moved = 0
    for _, ink, _ in _mnist_test_lines(20, seed=11, longest=5):
        x = nr.line_input(ink)
        f1, f5 = upright.frames(x), combined.frames(x)
        assert f1.shape == f5.shape == (x.shape[1] // nr.STRIDE, 11) and np.allclose(f5.sum(axis=1), 1, atol=1e-4)
        moved += float(np.abs(f1 - f5).max()) > 0.05
        agree += nr.greedy(f1) and [d for d, *_ in nr.greedy(f5)] == [d for d, *_ in nr.greedy(f1)]
    assert moved >= 5  # the slanted readings did count
    assert agree >= 17  # clean upright lines: the combined reading rarely differs from the upright one


def test_ctc_logprob_sums_every_alignment():
    # Two frames, each p(blank)=0.5, p(digit 3)=0.5: "3" is aligned by "3_", "_3" and "33".
    f = np.zeros((2, 11), np.float32)
    f[:, 0] = f[:, 4] = 0.5
    assert np.isclose(nr.ctc_logprob(f, [3]), np.log(0.75))
    assert np.isclose(nr.ctc_logprob(f, []), np.log(0.25))
    assert nr.ctc_logprob(f, [3, 3]) == float("-inf")  # a repeat needs a blank between: three frames
    g = _frames([0, 4, 0, 4, 0])
    assert nr.ctc_logprob(g, [3, 3]) > nr.ctc_logprob(g, [3]) > nr.ctc_logprob(g, [5])


@pytest.mark.parametrize("factor", [1.0, 0.85, 0.7, 0.5])
def test_squeezed_narrows_the_ink_between_unchanged_margins(factor):
    x = np.zeros((nr.HEIGHT, 2 * nr.MARGIN + 100), np.uint8)
    x[4:28, nr.MARGIN:nr.MARGIN + 100:10] = 255  # ten upright strokes across the whole inner width
    y = nr.squeezed(x, factor)
    assert y.dtype == np.uint8 and y.shape[0] == nr.HEIGHT and y.shape[1] % 4 == 0
    cols = np.flatnonzero(y.max(axis=0) > 0)
    assert cols[0] >= nr.MARGIN and cols[-1] < nr.MARGIN + round(100 * factor)  # margins still blank on the left
    assert abs(int(cols[-1]) - (nr.MARGIN + 90 * factor)) <= 2  # the last stroke moved in proportion
    assert abs(y.sum() / x.sum() - factor) < 0.1  # the ink narrowed, not cut
    if factor == 1.0:
        assert y is x


def test_the_vote_takes_a_narrower_reading_that_all_widths_find_likelier():
    # At its own width the reader merges two 1s into one ("1": no blank between), barely: the middle frame is
    # nearly a blank. Narrowed, it is sure of a blank between them ("11").
    own = _frames([0, 2, 2, 2, 0, 0, 0, 0])
    own[2] = 0.0
    own[2, 0], own[2, 2] = 0.45, 0.55
    narrow = _frames([0, 2, 0, 2, 0, 0], p=0.98)
    got = nr.vote((own, narrow), (1.0, 0.7), (2.0, 1.0), width=16)
    assert [d for d, *_ in got.found] == [1, 1]
    assert np.isclose(sum(got.weights), 1.0) and got.logprob([1, 1]) > got.logprob([1])
    assert all(0 <= a < e <= len(own) for _, a, e, _ in got.found)  # frames counted at the own width
    # When the narrow reading is no surer than the own width's, the own reading stands.
    sure_own = _frames([0, 2, 2, 2, 0, 0, 0, 0], p=0.98)
    unsure = _frames([0, 2, 0, 2, 0, 0], p=0.4)
    assert [d for d, *_ in nr.vote((sure_own, unsure), (1.0, 0.7), (2.0, 1.0), width=16).found] == [1]
    # One width: the greedy reading as it is.
    assert [d for d, *_ in nr.vote((own,), (1.0,), (1.0,), width=16).found] == [1]


@pytest.mark.parametrize("factor, width", [(0.7, 212), (0.85, 100), (0.5, 40)])
def test_digits_read_narrowed_land_on_the_same_ink_at_the_own_width(factor, width):
    frames = width // nr.STRIDE
    inner = width - 2 * nr.MARGIN
    narrow_inner = round(inner * factor)
    # A digit at the middle of the narrowed ink, and one at its right end.
    mid = (nr.MARGIN + narrow_inner // 2) // nr.STRIDE
    end = (nr.MARGIN + narrow_inner - 2) // nr.STRIDE
    p = np.full(10, 0.1, np.float32)
    moved = nr._at_own_width([(3, mid, mid + 1, p), (4, end, end + 1, p)], factor, width, frames)
    assert [d for d, *_ in moved] == [3, 4] and moved[0][3] is p
    assert abs(moved[0][1] - (nr.MARGIN + inner / 2) / nr.STRIDE) <= 2
    assert abs(moved[1][1] - (nr.MARGIN + inner) / nr.STRIDE) <= 3 and moved[1][2] <= frames
    assert all(a < e for _, a, e, _ in moved)


def test_sure_separate_digits_keep_the_segmenters_count_when_the_reader_barely_prefers_its_own():
    digits, ink = _picture(2)
    probs = np.stack([_odds(1, 0.95), _odds(7, 0.95)])
    # The reader hesitates over a third digit between (0.55 against a blank's 0.45): its "157" is barely likelier.
    f = _frames([0, 2, 0, 6, 0, 8, 0], p=0.9)
    f[3] = 0.0
    f[3, 6], f[3, 0] = 0.55, 0.45
    class Hesitant(FakeReader):
        def frames(self, x):
            return f
    assert nr.as_json(nr.read_numbers(digits, probs, ink, Hesitant([])))["number"] == "17"
    # A reader sure of the third digit wins.
    assert nr.as_json(nr.read_numbers(digits, probs, ink, FakeReader([0, 2, 0, 6, 0, 8, 0])))["number"] == "157"


def test_a_small_crop_wider_than_a_digit_is_read_whole_as_one_line():
    from mnist_core import digits as pp

    crop = np.full((40, 60), 210, np.uint8)  # a 40x60 grey crop: the bitmap path finds one digit at most
    crop[8:32, 6:10] = 30
    crop[8:32, 30:50] = 30
    crop[14:26, 36:44] = 210  # a 1 and a 0, drawn square
    digits, ink = pp.photo_ink(crop)
    assert ink is not None and ink.line and ink.image.shape == crop.shape
    # The reader is given the whole crop (its frames span it); it reads two digits where the segmenter saw one.
    got = nr.read_numbers(digits, np.tile(_odds(0), (len(digits), 1)), ink, FakeReader([0, 2, 0, 0, 1, 0]))
    assert [d.digit for d in got[0]] == [1, 0]
    tall = np.full((60, 40), 210, np.uint8)
    tall[10:50, 15:25] = 30
    assert pp.photo_ink(tall)[1] is None  # no wider than a digit: one digit, the digit path alone
