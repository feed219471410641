"""Tests of mnist_core.digits.segment: numbers split into digits in reading order, with their boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digit_inputs import assert_mnist_like, ink_box, layer_with, number_layer, paper_photo
from mnist_core import digits as pp
from mnist_core.digits.segment import find_candidates
from mnist_core.digits.settings import DEFAULT


# ------------------------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [["2026"], ["12", "34"], ["7", "1"], ["90210"]],
    ids=["2026", "grid-2x2", "column", "90210"],
)
def test_numbers_split_into_digits_in_reading_order_with_their_boxes(rows):
    layer, truth = number_layer(rows)
    got = pp.canvas_to_mnist([layer])
    assert len(got) == len(truth)
    for d, (_, box) in zip(got, truth):
        assert all(abs(a - b) <= 2 for a, b in zip(d.box, box)), (d.box, box)
        assert_mnist_like(d.image)


def test_2026_on_a_photo_splits_into_four_digits_in_order():
    photo = paper_photo("2026", size=(500, 1300), org=(60, 360))
    got = pp.photo_to_mnist(photo)
    assert len(got) == 4
    x = 60
    for d, char in zip(got, "2026"):  # each box is where that character was drawn (+-5 px: the light gradient moves the threshold)
        one = np.zeros((500, 1300), np.uint8)
        cv2.putText(one, char, (x, 360), cv2.FONT_HERSHEY_SIMPLEX, 7.0, 255, 22, cv2.LINE_AA)
        x += cv2.getTextSize(char, cv2.FONT_HERSHEY_SIMPLEX, 7.0, 22)[0][0]
        assert np.abs(np.array(d.box) - ink_box(one)).max() <= 5, (char, d.box, ink_box(one))


@pytest.mark.parametrize("text, n", [("00", 2), ("000", 3), ("4711", 4)])
def test_touching_digits_are_split(text, n):
    alpha = np.zeros((500, 1400), np.uint8)
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 8.0, 28)
    cv2.putText(alpha, text, (40, 400), cv2.FONT_HERSHEY_SIMPLEX, 8.0, 255, 28, cv2.LINE_AA)
    cv2.line(alpha, (40, 395), (40 + w, 395), 255, 20)  # a baseline stroke joining them all
    got = pp.split_digits(alpha.astype(np.float32) / 255)
    assert len(got) == n
    widths = [d.box[2] - d.box[0] for d in got]
    assert max(widths) < 1.5 * min(widths)  # even pieces, not one digit and a sliver
    assert [d.box[0] for d in got] == sorted(d.box[0] for d in got)


def test_one_wide_digit_is_not_split():
    alpha = np.zeros((400, 800), np.uint8)
    cv2.line(alpha, (100, 100), (480, 100), 255, 24, cv2.LINE_AA)  # a wide 7 (1.6:1): bar and a long diagonal
    cv2.line(alpha, (480, 100), (250, 330), 255, 24, cv2.LINE_AA)
    assert len(pp.split_digits(alpha.astype(np.float32) / 255)) == 1


def test_digit_with_a_long_tail_is_one_digit():
    alpha = np.zeros((600, 900), np.uint8)
    cv2.putText(alpha, "2", (450, 450), cv2.FONT_HERSHEY_SIMPLEX, 9.0, 255, 24, cv2.LINE_AA)
    cv2.line(alpha, (460, 440), (120, 470), 255, 24, cv2.LINE_AA)  # a tail reaching far left: wider than tall
    got = pp.split_digits(alpha.astype(np.float32) / 255)
    assert len(got) == 1 and got[0].box[0] < 130


def test_specks_are_not_digits():
    layer = layer_with("8", (300, 550), 10.0, 20)
    alpha = layer[..., 3].copy()
    for x, y in [(50, 50), (700, 80), (120, 700), (760, 760), (250, 300)]:
        cv2.circle(alpha, (x, y), 5, 255, -1)
    layer[..., 3] = alpha
    got = pp.canvas_to_mnist([layer])
    assert len(got) == 1


def test_split_digits_takes_float_ink():
    layer, truth = number_layer(["42"])
    got = pp.split_digits(layer[..., 3].astype(np.float32) / 255)
    assert [d.box for d in got] == [b for _, b in truth] or all(
        abs(a - b) <= 2 for d, (_, box) in zip(got, truth) for a, b in zip(d.box, box)
    )
    assert len(got) == 2


# ------------------------------------------------------------------------------------------------------------
# A photo's pieces of one digit (a light pen's gaps) and digits apart
# ------------------------------------------------------------------------------------------------------------


def _arc(mask, centre, axes, start, end, thickness=12):
    cv2.ellipse(mask, centre, axes, 0, start, end, 255, thickness, cv2.LINE_AA)


def _zero_in_halves(m):  # the two halves of a 0, gaps of 10 px at its top and bottom
    _arc(m, (300, 300), (90, 150), 95, 265)
    _arc(m, (300, 300), (90, 150), -85, 85)


def _nine_tail_apart(m):  # a 9 whose tail starts a little below its loop and slants far off to the left
    _arc(m, (330, 220), (60, 75), 0, 360)
    cv2.line(m, (300, 310), (130, 480), 255, 12, cv2.LINE_AA)


def _eleven(m):  # "11" a sixth of their height apart
    cv2.line(m, (260, 150), (250, 450), 255, 12, cv2.LINE_AA)
    cv2.line(m, (310, 150), (300, 450), 255, 12, cv2.LINE_AA)


def _one_zero(m):  # "10", the 1 close beside the 0's side
    cv2.line(m, (190, 150), (190, 450), 255, 12, cv2.LINE_AA)
    _arc(m, (320, 300), (90, 150), 0, 360)


def _three_beside_eight(m):  # "83": the 3's open side closed by the 8 (bridges end to side)
    _arc(m, (230, 220), (65, 70), 0, 360)
    _arc(m, (230, 375), (75, 80), 0, 360)
    _arc(m, (390, 225), (70, 75), -160, 90)
    _arc(m, (390, 375), (75, 75), -90, 160)


@pytest.mark.parametrize(
    "draw, n",
    [(_zero_in_halves, 1), (_nine_tail_apart, 1), (_eleven, 2), (_one_zero, 2), (_three_beside_eight, 2)],
    ids=["0-in-halves", "9-tail-apart", "11", "10", "83"],
)
def test_a_photos_pieces_of_one_digit_are_joined_and_digits_apart_are_not(draw, n):
    mask = np.zeros((600, 700), np.uint8)
    draw(mask)
    ink = mask.astype(np.float32) / 255
    _, cands = find_candidates((mask > 127).astype(np.uint8), DEFAULT, 8, ink)
    assert len(cands) == n, [(c.x0, c.y0, c.x1, c.y1) for c in cands]
    # The canvas path (no ink map) leaves pieces as they were: a person drawing sees and fixes them.
    assert len(find_candidates((mask > 127).astype(np.uint8), DEFAULT, 8)[1]) >= n
