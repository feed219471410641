"""Small images of one digit (<= 64 px a side: MNIST, USPS, an icon, a tight crop from a form): polarity from
the border, no background removal or splitting for a clean bitmap; a crop from paper has its paper, ruled line
and neighbours' fragments removed first."""

from __future__ import annotations

import cv2
import numpy as np

from mnist_core.digits.arrays import nearest_percentile, odd_size, to_grey, to_unit
from mnist_core.digits.background import remove_lines
from mnist_core.digits.images import check_array
from mnist_core.digits.normalise import normalize_ink
from mnist_core.digits.results import Digit
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# Measured on the bitmap and crop sets of benchmarks/REALWORLD.md (USPS, MNIST, tight crops from forms).

# A small image wider than this many times its height holds several digits (a tight crop of a 1 may be 3-6 times
# taller than wide, so there is no lower bound).
BITMAP_ASPECT = 1.5
# A small RGBA image is a transparent PNG (its alpha is the ink) when some pixel's alpha is below `_TRANSPARENT`
# and less than `_ALPHA_SHARE` of its pixels are more opaque than not.
_TRANSPARENT = 0.98
_ALPHA_SHARE = 0.5
# The paper's noise is measured on the rim's pixels within this fraction of the range above the background.
_QUIET_BAND = 0.3
# Pixels within this of the darkest level count as background when deciding whether a bitmap is clean.
_CLEAN_LEVEL = 2 / 255
# A crop's paper is an opening at least this many pixels wide (odd).
_MIN_KERNEL = 3.0
# Ruled lines in a crop (and in a line cut from one: `photo_ink`) run along this fraction of it, at least
# `CROP_LINE_MIN` pixels.
CROP_LINE_FRAC = 0.6
CROP_LINE_MIN = 8
# Of a crop's marks: specks are smaller than `_CROP_SPECK` of the digit's height both ways; a mark sharing
# `_INSIDE_SHARE` of its columns with the digit, or clear of the left and right edges and at least
# `_NEIGHBOUR_AREA` of the digit's area, is part of it (the rest are the neighbours' fragments).
_CROP_SPECK = 0.15
_INSIDE_SHARE = 0.5
_NEIGHBOUR_AREA = 0.2


def is_bitmap(shape: tuple[int, ...], s: PreprocessSettings) -> bool:
    """Whether an image of this shape is one small digit (`bitmap_to_mnist`'s input)."""
    h, w = shape[:2]
    return max(h, w) <= s.bitmap_max_side and w <= BITMAP_ASPECT * h


def bitmap_to_mnist(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """A small image of one digit (16x16, 28x28, 32x32; either polarity) -> [it, as MNIST made it]; [] if blank."""
    s = settings
    image = check_array(np.asarray(image), "the image")
    if image.ndim == 3 and image.shape[2] == 4:
        a = to_unit(image[:, :, 3])
        if float(a.min()) < _TRANSPARENT and float((a > 0.5).mean()) < _ALPHA_SHARE:  # transparent: alpha is the ink
            g = a
        else:
            g = to_grey(image)
    else:
        g = to_grey(image)
    # Polarity from the border: a digit may cover half of a 16x16 USPS bitmap, but the rim is mostly background.
    rim = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < s.min_contrast:
        return []
    if nearest_percentile(rim, 50) > (lo + hi) / 2:  # dark ink on light paper
        g, rim, lo, hi = 1.0 - g, 1.0 - rim, 1.0 - hi, 1.0 - lo
    bg = min(nearest_percentile(rim, 50), nearest_percentile(g, 25))
    # Paper noise: the spread of the rim's background pixels (zero for MNIST and USPS, whose background is 0).
    quiet = rim[rim < bg + _QUIET_BAND * (hi - bg)]
    floor = bg + (max(0.0, nearest_percentile(quiet - bg, 90)) if quiet.size else 0.0)
    if hi - floor < s.min_contrast:
        return []
    if float(np.mean(g <= lo + _CLEAN_LEVEL)) < s.bitmap_clean_share:
        # Not a clean bitmap: a crop from paper (a form box, a cheque), with its pattern, ruled line and the
        # neighbours' fragments at the edges.
        ink = _crop_ink(g, s)
        if ink is None:
            return []
        img, box = normalize_ink(ink, s, adjust_stroke=True)
    else:
        above = g[g > floor]
        peak = nearest_percentile(above, 98) if above.size > 4 else hi
        ink = np.clip((g - floor) / max(peak - floor, 1e-3), 0.0, 1.0).astype(np.float32)
        img, box = normalize_ink(ink, s, adjust_stroke=False)
    if box is None:
        return []
    return [Digit(img, box)]


def _crop_ink(g: np.ndarray, s: PreprocessSettings) -> np.ndarray | None:
    """A small crop's grey levels (ink bright, on paper with texture) -> the one digit's ink in [0, 1], or None.

    The paper (its level, a printed pattern) is a grey opening wider than the strokes; the ink is what stands
    above it, thresholded by Otsu and at least `crop_pen_frac` of the pen's level; ruled lines go; of the marks,
    the digit is the largest near the middle, and marks at the left or right edge outside its columns are the
    neighbours' fragments.
    """
    h, w = g.shape
    k = odd_size(max(_MIN_KERNEL, s.crop_kernel_frac * max(h, w)))
    ink = g - cv2.morphologyEx(g, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ink = np.clip(ink, 0.0, 1.0)
    level = nearest_percentile(ink, 99)
    if level < s.min_contrast:
        return None
    u8 = (ink * (255.0 / level)).clip(0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(otsu / 255.0 * level, s.crop_pen_frac * level)
    mask = remove_lines((ink > thr).astype(np.uint8), frac=CROP_LINE_FRAC, min_len=CROP_LINE_MIN)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    x, y, cw, ch, area = (stats[1:, i] for i in range(5))
    central = 1.0 - np.abs(cents[1:, 0] - w / 2) / w  # 1 in the middle, 0.5 at the edges
    main = int(np.argmax(area * central))
    mx0, mx1 = x[main], x[main] + cw[main]
    keep = []
    for i in range(n - 1):
        if max(cw[i], ch[i]) < _CROP_SPECK * ch[main]:
            continue  # specks
        inside = min(x[i] + cw[i], mx1) - max(x[i], mx0)  # columns shared with the digit
        at_side = x[i] == 0 or x[i] + cw[i] == w
        if i == main or inside >= _INSIDE_SHARE * cw[i] or (not at_side and area[i] >= _NEIGHBOUR_AREA * area[main]):
            keep.append(i + 1)
    sel = np.isin(labels, keep).astype(np.uint8)
    sel = cv2.dilate(sel, np.ones((3, 3), np.uint8))  # the anti-aliased fringe below the threshold
    return (np.clip(ink / level, 0.0, 1.0) * sel).astype(np.float32)
