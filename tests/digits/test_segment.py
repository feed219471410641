"""Tests of mnist_core.digits.segment: numbers split into digits in reading order, with their boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digit_inputs import assert_mnist_like, ink_box, layer_with, number_layer, paper_photo
from mnist_core import digits as pp


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
