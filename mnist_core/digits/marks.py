"""Marks that are not digits: a dot (one tap or click), a speck, a blob. The canvas path cuts whatever ink it finds
into digits and the model answers every one of them, so a single dot came back as a "0" at 83%; these marks must be
answered "not a digit" instead. A mark is judged from the ink it was cut from (the canvas's alpha, (H, W) uint8)
inside its digit's box, by two numbers (`mark_stats`):

- its extent: the longer side of its ink's bounding box, as a fraction of the canvas's longer side (a dot is one
  brush wide: 6-20 px of the page's 400);
- its elongation: that extent over its stroke width (2 * area / perimeter of its ink). A dot or a blob is about 2
  (a disc's 2A/P is half its diameter); a digit is a stroke drawn over several of its own widths.

Thresholds were set on real handwriting so that no real digit is refused (`MarkSettings`, with the measurement).
Arrays in, arrays out; OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_core.digits.results import Digit


@dataclass(frozen=True)
class MarkSettings:
    """When a mark on a canvas is too small or too simple to be a digit."""

    # Alpha (0-255) from which a pixel is the mark's ink: the canvas path's own threshold (PreprocessSettings.
    # alpha_threshold); the brush's fainter anti-aliased fringe is left out.
    ink_level: int = 64
    # Smallest extent of a digit, a fraction of the canvas's longer side: 0.06 is 24 px of the page's 400. The
    # thickest brush's dot spans 20-28 px (moved up to 6 px while down) and is refused by its elongation; this
    # catches the thin brush's short slips that are a little longer than wide. Digits drawn only 40 px tall span
    # 46 px or more; MNIST's test digits scaled to 40 px tall keep every digit (measured below).
    min_extent: float = 0.06
    # Smallest elongation (extent / stroke width) of a digit: a dot or a filled blob measures 1.8-2.4 whatever the
    # brush (1,200 dots of the three brushes, 26 blobs of 10-60 px radius: all refused), while 2.8 refused stubby
    # real digits (18 of 5,963 held-out pen digits drawn 60 px tall with the 20-px brush); at 2.6 none.
    min_elongation: float = 2.6


# Measured (issue 23, item 9) with these values: 0 refused of 5,963 held-out pen writers' digits drawn as the page
# draws them (90-340 px tall, brush 6/12/20; twice, two draws), nor of the same 5,963 drawn 90 px tall with the
# 20-px brush, 60 px with 12 and 20, 40 px with 6 and 12; 0 of MNIST's 10,000 test digits laid on the canvas at
# 90-286, 60 and 40 px tall (2-3 of these drawings lose a speck cut off a broken digit, the digit itself kept).
DEFAULT_MARKS = MarkSettings()


def mark_stats(alpha: np.ndarray, box: tuple[int, int, int, int], level: int = DEFAULT_MARKS.ink_level
               ) -> tuple[float, float]:
    """(extent as a fraction of the canvas's longer side, elongation) of the ink of (H, W) uint8 ``alpha`` inside
    ``box`` (x0, y0, x1, y1; x1/y1 exclusive); (0.0, 0.0) when the box holds no ink at ``level``."""
    x0, y0, x1, y1 = (int(v) for v in box)
    mask = np.ascontiguousarray(alpha[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] >= level).astype(np.uint8)
    area = int(mask.sum())
    if area == 0:
        return 0.0, 0.0
    ys, xs = np.nonzero(mask)
    extent = float(max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
    # The perimeter of every outline, holes included (a "0"'s inside edge is a stroke edge too).
    contours, _ = cv2.findContours(np.pad(mask, 1), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    width = 2.0 * area / perimeter if perimeter > 0 else extent
    return extent / max(alpha.shape[:2]), extent / max(width, 1.0)


def is_digit_mark(alpha: np.ndarray, box: tuple[int, int, int, int], settings: MarkSettings = DEFAULT_MARKS) -> bool:
    """Whether the ink in ``box`` is large and long enough to be a digit (not a dot, a speck or a blob)."""
    extent, elongation = mark_stats(alpha, box, settings.ink_level)
    return extent >= settings.min_extent and elongation >= settings.min_elongation


def digit_marks(digits: list[Digit], alpha: np.ndarray | None, settings: MarkSettings = DEFAULT_MARKS) -> list[Digit]:
    """``digits`` (cut from the canvas ink ``alpha``, boxes in its pixels) without the marks that are not digits, in
    their order; all of them when there is no alpha to judge by (None: a photo's ink is another matter)."""
    if alpha is None:
        return list(digits)
    alpha = np.asarray(alpha)
    if alpha.dtype != np.uint8:  # a float map in [0, 1]
        alpha = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return [d for d in digits if is_digit_mark(alpha, d.box, settings)]
