"""Lines of handwritten numbers made for the number reader: what is drawn is what the label says."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.numbers import lines
from mnist_core.train import pen
from mnist_core.numbers import reader as nr
from tests._shared import small_mnist


@pytest.fixture(scope="module")
def hand() -> lines.Hand:
    data = small_mnist()
    return lines.Hand(pen.load_shipped()[:3000], (data.x_train, data.y_train))


@pytest.mark.parametrize("text, digits", [("2026", 4), ("1,250.-", 4), ("3/4", 2), ("12 345=", 5), ("7", 1)])
def test_a_line_has_one_column_span_per_digit_left_to_right(hand, text, digits):
    rng = np.random.default_rng(1)
    for _ in range(5):
        ink, cols = lines.write_line(text, hand, rng, height=60)
        assert ink.dtype == np.uint8 and ink.max() > 200
        assert len(cols) == digits
        assert all(a < b for a, b in cols) and [a for a, _ in cols] == sorted(a for a, _ in cols)
        assert cols[-1][1] <= ink.shape[1]


def test_separators_add_ink_but_not_digits(hand):
    style = lines.LineStyle(gap_mix=(0.0, 0.0, 1.0))  # wide gaps: the separators stand apart
    plain, _ = lines.write_line("1234", hand, np.random.default_rng(3), style, height=60, pen=4)
    marked, cols = lines.write_line("12-34=", hand, np.random.default_rng(3), style, height=60, pen=4)
    assert len(cols) == 4 and marked.shape[1] > plain.shape[1]


def test_made_lines_are_reader_inputs_labelled_with_digits_only(hand):
    xs, ys = lines.make_lines(40, hand, seed=4, style=lines.LineStyle(grouped=1.0, trailing=1.0, paper=0.5))
    assert len(xs) == len(ys) == 40
    for x, y in zip(xs, ys):
        assert x.dtype == np.uint8 and x.shape[0] == nr.HEIGHT and x.shape[1] % 4 == 0 and x.max() > 0
        assert y.isdigit() and 1 <= len(y) <= 12


def test_made_lines_are_kept_in_the_cache(hand, tmp_path):
    a = lines.training_lines(30, hand, seed=5, cache=tmp_path, key="t")
    assert len(list(tmp_path.glob("lines-*.npz"))) == 1
    b = lines.training_lines(30, hand, seed=5, cache=tmp_path, key="t")
    assert a[1] == b[1] and all(np.array_equal(x, y) for x, y in zip(a[0], b[0]))


@pytest.mark.parametrize("share, lo, hi", [(0.0, 0, 0), (0.5, 0.4, 0.6), (0.8, 0.7, 0.9), (1.0, 1, 1)])
def test_pen_share_is_the_share_of_lines_by_a_pen_writer(share, lo, hi):
    data = small_mnist()
    hand = lines.Hand(pen.load_shipped()[:500], (data.x_train, data.y_train), pen_share=share)
    rng = np.random.default_rng(1)
    picked = [hand.pick(rng)[0] for _ in range(400)]
    assert set(picked) <= {"pen", "mnist"} and lo <= picked.count("pen") / 400 <= hi


def test_mnist_alone_writes_lines_too():
    data = small_mnist()
    xs, ys = lines.make_lines(10, lines.Hand(None, (data.x_test, data.y_test)), seed=6)
    assert len(xs) == 10 and all(y.isdigit() for y in ys)
    with pytest.raises(ValueError):
        lines.Hand(None, None).pick(np.random.default_rng(0))
