"""The photo path: a photo or scan (any polarity, uneven light, shadows, ruled paper) -> its digits in reading
order and the ink they were cut from. Two passes: a wide kernel finds the digits and their stroke width, a kernel
fitted to the strokes removes the background for good. Small bitmaps go to `bitmap_to_mnist`."""

from __future__ import annotations

import cv2
import numpy as np

from mnist_core.config import Limits
from mnist_core.digits.arrays import nearest_percentile, odd_size, stroke_px, to_grey
from mnist_core.digits.background import ink_level_threshold, ink_map, is_dark_ink, remove_lines
from mnist_core.digits.bitmap import CROP_LINE_FRAC, CROP_LINE_MIN, bitmap_to_mnist, is_bitmap
from mnist_core.digits.canvas import digits_from_alpha, transparent_ink
from mnist_core.digits.images import check_array
from mnist_core.digits.results import Digit, Ink
from mnist_core.digits.segment import cut_digit, find_candidates
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# Measured on the photographed sets of benchmarks/ROBUSTNESS.md and benchmarks/REALWORLD.md.

# A small bitmap at least this many times wider than tall may hold two digits ("06" cut from a cheque): its ink is
# given to the number reader as a line. Its paper and ink levels are these percentiles of its grey levels.
_LINE_ASPECT = 1.2
_LINE_LEVELS = (5, 99.5)
# Pass 1's background kernel is this fraction of the picture's longer side: no stroke is wider.
_FIRST_KERNEL = 7
# Pass 2's kernel: `_KERNEL_STROKES` strokes wide and at least `_KERNEL_HEIGHT` of the tallest digit's height (and
# `_KERNEL_MIN` px), so that shadows and the table fit in it; not run when under `_KERNEL_CHANGE` of pass 1's.
_KERNEL_STROKES = 3.0
_KERNEL_HEIGHT = 0.3
_KERNEL_MIN = 9
_KERNEL_CHANGE = 0.7
# The pen's level is this percentile of what passed the threshold (its darkest 2%); a digit's full ink is this
# percentile of its own marks (`_DIGIT_LEVEL_PCT`), by which its ink is scaled to 1.
_PEN_PCT = 98
_DIGIT_LEVEL_PCT = 90


def photo_to_mnist(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """A photo, scan or bitmap (grey/RGB/RGBA; uint8, uint16 or float) -> digits in reading order; [] when no ink."""
    return photo_ink(image, settings)[0]


def _bitmap_line_ink(image: np.ndarray) -> np.ndarray:
    """A small crop wider than a digit -> (H, W) float32 ink in [0, 1], paper and ruled lines out, for the reader."""
    g = to_grey(image)
    g = 1.0 - g if is_dark_ink(g) else g
    lo, hi = nearest_percentile(g, _LINE_LEVELS[0]), nearest_percentile(g, _LINE_LEVELS[1])
    ink = np.clip((g - lo) / max(hi - lo, 1e-3), 0, 1).astype(np.float32)
    _, mask = cv2.threshold((ink * 255).astype(np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink *= remove_lines(mask, frac=CROP_LINE_FRAC, min_len=CROP_LINE_MIN)  # as for one digit (`bitmap_to_mnist`)
    return ink


def photo_ink(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> tuple[list[Digit], Ink | None]:
    """`photo_to_mnist`'s digits and the ink they were cut from (None for a small bitmap no wider than a digit)."""
    s = settings
    image = check_array(np.asarray(image), "the image")
    if is_bitmap(image.shape, s):
        digits = bitmap_to_mnist(image, s)
        h, w = image.shape[:2]
        if digits and w >= _LINE_ASPECT * h:
            return digits, Ink(_bitmap_line_ink(image), 1.0, 1.0, line=True)
        return digits, None
    if (a := transparent_ink(image)) is not None:
        return digits_from_alpha(a, s), Ink(a, 1.0, 1.0)
    H, W = image.shape[:2]
    grey = to_grey(image)
    sc = min(1.0, s.photo_work_side / max(H, W))
    if sc < 1.0:
        grey = cv2.resize(grey, (max(1, int(W * sc)), max(1, int(H * sc))), interpolation=cv2.INTER_AREA)
    g = 1.0 - grey if is_dark_ink(grey) else grey  # ink bright from here on
    h, w = g.shape
    # Pass 1: a wide kernel finds the digits and their stroke width; pass 2: a kernel fitted to the strokes, so
    # that shadows and the table fit in it and stay background. In both, shadows' tips wider than `flat` are
    # background too.
    k = odd_size(max(h, w) / _FIRST_KERNEL)
    flat = s.shadow_flat_frac * k
    for final in (False, True):
        ink = ink_map(g, k, flat, s)
        thr = ink_level_threshold(ink, s)
        if thr is None:
            return [], None
        # The pen's own level (the darkest 2% of what passed) raises the threshold over shadows' tips and faint
        # lines touching the digit, which a global threshold keeps when they are a large part of the picture.
        level = float(np.percentile(ink[ink > thr], _PEN_PCT))
        thr = max(thr, s.pen_level_frac * level)
        mask = remove_lines((ink > thr).astype(np.uint8))
        labels, cands = find_candidates(mask, s, s.min_height_px, ink)
        if not cands:
            return [], None
        if final:
            break
        tallest = max(cands, key=lambda c: c.h)  # the digit whose strokes set the second kernel
        strokes = np.isin(labels[tallest.y0 : tallest.y1, tallest.x0 : tallest.x1], tallest.ids)
        stroke = stroke_px(strokes.astype(np.uint8))
        k2 = odd_size(max(_KERNEL_STROKES * stroke, _KERNEL_HEIGHT * tallest.h, _KERNEL_MIN))
        if k2 >= _KERNEL_CHANGE * k:
            break
        k, flat = k2, s.shadow_flat_strokes * stroke
    hy, wx = H / h, W / w
    kept = np.where(np.isin(labels, [i for c in cands for i in c.ids]), ink, 0.0).astype(np.float32)
    digits = []
    for c in cands[: Limits().max_digits]:
        sel = np.isin(labels[c.y0 : c.y1, c.x0 : c.x1], c.ids)
        vals = ink[c.y0 : c.y1, c.x0 : c.x1][sel]
        level = float(np.percentile(vals, _DIGIT_LEVEL_PCT)) if vals.size else 1.0
        got = cut_digit(kept, labels, c, 1.0, s, adjust_stroke=True, gain=1.0 / max(level, 1e-3))
        if got is None:
            continue
        x0, y0, x1, y1 = got[1]
        box = (int(x0 * wx), int(y0 * hy), min(W, int(np.ceil(x1 * wx))), min(H, int(np.ceil(y1 * hy))))
        digits.append(Digit(got[0], box))
    return digits, Ink(kept, wx, hy)
