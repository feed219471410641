"""One tile per digit of a number read: what a page shows (and a correction saves) for each digit the number
reader found, so that the answer, the tiles and the samples agree. Where the reader kept the segmenter's digit
the tile is that digit; where it cut a piece of ink in two (touching digits) or joined pieces, the tile is the
reader's box cut from the ink and normalised as every digit is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_core.digits.normalise import normalize_digit
from mnist_core.digits.results import Digit, Ink
from mnist_core.numbers.reader import ReadDigit


@dataclass(frozen=True)
class Tile:
    """One digit of the number, as shown and as saved."""

    digit: Digit  # its 28x28 (float32 in [0, 1], ink bright) and box in the input's pixels
    probs: np.ndarray  # (10,) float32: the odds the number was read with
    source: int | None  # index of the segmenter's digit it is; None when the reader cut it from the ink


def _cut(ink: Ink, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The 28x28 of the ink inside ``box`` (input pixels), or None when the box holds no ink."""
    x0, y0, x1, y1 = box
    crop = ink.image[int(y0 / ink.sy): int(np.ceil(y1 / ink.sy)), int(x0 / ink.sx): int(np.ceil(x1 / ink.sx))]
    if crop.size == 0 or not np.any(crop):
        return None
    # The canvas and photo paths redraw strokes outside MNIST's width range: so does a tile cut here.
    return normalize_digit(crop, adjust_stroke=True)


def tiles_of(number: list[list[ReadDigit]], digits: list[Digit], ink: Ink | None) -> list[Tile]:
    """The rows of a number read (``numbers.reader.read_numbers``) -> one Tile per digit, rows joined in order;
    ``digits`` are the segmenter's digits it was read from and ``ink`` the map they were cut from."""
    by_box = {tuple(d.box): i for i, d in enumerate(digits)}
    out = []
    for read in (d for row in number for d in row):
        probs = np.asarray(read.probs, np.float32)
        source = by_box.get(tuple(read.box))
        if source is not None:
            out.append(Tile(digits[source], probs, source))
            continue
        image = _cut(ink, read.box) if ink is not None else None
        if image is not None:
            out.append(Tile(Digit(image, tuple(int(v) for v in read.box)), probs, None))
    return out


def segment_tiles(digits: list[Digit], probs: np.ndarray) -> list[Tile]:
    """The segmenter's digits as tiles (when there is no number reading to follow)."""
    return [Tile(d, np.asarray(p, np.float32), i) for i, (d, p) in enumerate(zip(digits, probs))]


def number_of(tiles: list[Tile]) -> str:
    """The digit string the tiles spell (their likeliest digits in order)."""
    return "".join(str(int(np.argmax(t.probs))) for t in tiles)
