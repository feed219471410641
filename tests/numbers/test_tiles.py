"""numbers.tiles: one tile per digit of a number read, the segmenter's digit where the reader kept it, else cut."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.digits.results import Digit, Ink
from mnist_core.numbers.reader import ReadDigit
from mnist_core.numbers.tiles import number_of, segment_tiles, tiles_of


def _odds(d: int, p: float = 0.9) -> np.ndarray:
    out = np.full(10, (1 - p) / 9, np.float32)
    out[d] = p
    return out


def _ink() -> Ink:
    """Two bars of ink, x 20-60 and 80-120 (input pixels twice the ink map's), rows 20-100."""
    image = np.zeros((60, 70), np.uint8)
    image[10:50, 10:30] = 255
    image[10:50, 40:60] = 255
    return Ink(image, sx=2.0, sy=2.0)


SEG = [Digit(np.full((28, 28), 0.75, np.float32), (20, 20, 120, 100))]  # the segmenter saw one piece


@pytest.mark.parametrize("boxes, sources, cut", [
    ([(20, 20, 120, 100)], [0], [False]),  # the reader kept the segmenter's digit: that very tile
    ([(20, 20, 70, 100), (70, 20, 120, 100)], [None, None], [True, True]),  # touching digits cut in two
    ([(20, 20, 70, 100), (130, 20, 138, 30)], [None], [True]),  # a box with no ink under it shows no tile
])
def test_tiles_follow_the_number_read(boxes, sources, cut):
    number = [[ReadDigit(3 + i, 0.9, box, _odds(3 + i)) for i, box in enumerate(boxes)]]
    tiles = tiles_of(number, SEG, _ink())
    assert [t.source for t in tiles] == sources
    for tile, was_cut in zip(tiles, cut):
        assert (tile.digit is SEG[0]) != was_cut
        assert tile.digit.image.shape == (28, 28) and tile.digit.image.max() > 0.5
    assert number_of(tiles) == "".join(str(3 + i) for i in range(len(tiles)))


def test_rows_are_joined_in_order_and_segments_become_tiles():
    digits = [Digit(np.zeros((28, 28), np.float32), (0, 0, 10, 10)), Digit(np.zeros((28, 28), np.float32), (0, 20, 10, 30))]
    rows = [[ReadDigit(1, 0.9, digits[0].box, _odds(1))], [ReadDigit(2, 0.8, digits[1].box, _odds(2, 0.8))]]
    assert [t.source for t in tiles_of(rows, digits, None)] == [0, 1]
    tiles = segment_tiles(digits, np.stack([_odds(5), _odds(6)]))
    assert number_of(tiles) == "56" and [t.source for t in tiles] == [0, 1]
