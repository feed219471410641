"""What the digit paths return: `Digit` (one digit as the model sees it) and `Ink` (the ink it was cut from),
and the two helpers callers use on a list of digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Digit:
    """One digit as the model sees it, and where it was found."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], ink bright, MNIST-normalised
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in the input image's pixels, x1/y1 exclusive


@dataclass(frozen=True)
class Ink:
    """The ink map digits were cut from, for reading whole lines (the number reader): ink bright."""

    image: np.ndarray  # (h, w) uint8 (a canvas's alpha) or float32 in [0, 1] (a photo's marks, background removed)
    sx: float  # input pixels per ink pixel across: a digit's box x / sx is its column in `image`
    sy: float  # the same down
    line: bool = False  # the whole image is one line of writing (a small crop wider than a digit)


def most_prominent(digits: list[Digit]) -> int | None:
    """Index of the digit to report when one answer is wanted: the tallest box (then the largest); None for []."""
    if not digits:
        return None
    keys = [((d.box[3] - d.box[1]), (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])) for d in digits]
    return max(range(len(digits)), key=lambda i: keys[i])


def to_model_batch(digits: list[Digit]) -> np.ndarray:
    """Digits -> the model's input, (N, 28, 28, 1) float32 in [0, 1]; (0, 28, 28, 1) for []."""
    if not digits:
        return np.zeros((0, 28, 28, 1), np.float32)
    return np.stack([d.image for d in digits]).astype(np.float32)[..., None]
