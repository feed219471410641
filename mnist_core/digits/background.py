"""Separating ink from paper in photos and scans: which side is ink (`is_dark_ink`), the background removed by
a grey opening (uneven light, shadows and their tips, the table beyond the sheet), the ink threshold, and ruled
or squared paper's lines dropped. (H, W) float32 in [0, 1] in and out."""

from __future__ import annotations

import cv2
import numpy as np

from mnist_core.digits.arrays import nearest_percentile, odd_size, stroke_px
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# Measured on the photographed sets of benchmarks/ROBUSTNESS.md and benchmarks/REALWORLD.md; see "Photo
# constants" in benchmarks/ROBUSTNESS.md for what each was chosen against.

# Polarity (`is_dark_ink`) is decided on a thumbnail at most this many pixels a side: enough for the cues below.
_THUMB_SIDE = 512
# The range's ends are these percentiles (hot pixels and specks ignored); the mass within `_END_BAND` of the range
# from each end is compared, and the end with `_END_DOMINANCE` times less mass is the ink (a few % of a picture).
_RANGE_PCT = (0.1, 99.9)
_END_BAND = 0.25
_END_DOMINANCE = 3.0
# Else the border (paper: people leave a margin) decides when it is this many times nearer one end than the other.
_RIM_DOMINANCE = 1.5
# Else local contrast: the paper's level around each pixel is a median filter of 1/`_PAPER_FILTER` of the longer
# side, and only departures beyond `_NOISE_SIGMAS` noise sigmas (median absolute deviation times `_MAD_TO_SIGMA`,
# the normal distribution's factor) plus `_NOISE_FLOOR` grey levels count as ink.
_PAPER_FILTER = 7
_NOISE_SIGMAS = 3.0
_MAD_TO_SIGMA = 1.4826
_NOISE_FLOOR = 2.0

# The background opening (`ink_map`) runs at a scale where the longer side is about `_OPEN_SIDE` pixels, and the
# kernel keeps at least `_OPEN_MIN_KERNEL` pixels there (a square kernel is cheap at that size).
_OPEN_SIDE = 400
_OPEN_MIN_KERNEL = 9
# Gaussian blur (sigma, pixels) against paper grain and sensor noise before the background is subtracted.
_GRAIN_SIGMA = 0.8
# The ink contrast is divided by the paper's brightness floored at half of white, so that a dark table's texture
# is not amplified into ink.
_PAPER_FLOOR = 0.5
# The page's ink peak is this percentile (a few bright pixels do not set it); the threshold is at most
# `_MAX_THRESHOLD` of the peak (a stroke's edge is at half its darkness).
_PEAK_PCT = 99.98
_MAX_THRESHOLD = 0.5
# Ruled lines (`remove_lines`) are found after thickening the mask across by this many pixels (a line tilted a
# little stays one run); a line is at most `_LINE_THICKNESS` px or `_LINE_STROKE_FRAC` of the pen's stroke thick.
_LINE_TILT = 5
_LINE_THICKNESS = 2.0
_LINE_STROKE_FRAC = 0.6


def is_dark_ink(grey: np.ndarray) -> bool:
    """Whether the ink is darker than the paper.

    Three cues, the first clear one decides. (1) Mass at the two ends of the range: the ink is the small end (a
    few % of the picture), the paper the large one, whatever the shadows in between. (2) The frame: people leave
    a margin around what they photograph, so the border is paper (or board), nearer the paper's end. (3) Local
    contrast: a large median filter gives the paper's level around each pixel (under shadows too), and the ink
    is the side where pixels stand out from it most, beyond the noise.
    """
    H, W = grey.shape
    t = max(1, int(max(H, W) / _THUMB_SIDE))
    thumb = cv2.resize(grey, (max(1, W // t), max(1, H // t)), interpolation=cv2.INTER_AREA) if t > 1 else grey
    lo, hi = nearest_percentile(thumb, _RANGE_PCT[0]), nearest_percentile(thumb, _RANGE_PCT[1])
    band = _END_BAND * (hi - lo)
    dark_end, light_end = float((thumb <= lo + band).mean()), float((thumb >= hi - band).mean())
    if max(dark_end, light_end) > _END_DOMINANCE * min(dark_end, light_end):
        return dark_end < light_end
    rim = nearest_percentile(np.concatenate([thumb[0], thumb[-1], thumb[:, 0], thumb[:, -1]]), 50)
    to_light, to_dark = hi - rim, rim - lo
    if max(to_light, to_dark) > _RIM_DOMINANCE * min(to_light, to_dark):
        return to_light < to_dark
    u8 = np.clip(thumb * 255 + 0.5, 0, 255).astype(np.uint8)
    paper = cv2.medianBlur(u8, min(255, odd_size(max(u8.shape) / _PAPER_FILTER)))
    r = u8.astype(np.int16) - paper.astype(np.int16)
    noise = _NOISE_SIGMAS * _MAD_TO_SIGMA * float(np.median(np.abs(r))) + _NOISE_FLOOR
    dark = float(np.clip(-r - noise, 0, None).sum())
    bright = float(np.clip(r - noise, 0, None).sum())
    return dark >= bright


def _reconstruct(marker: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Grey-level reconstruction by dilation of `marker` under `mask` (both (H, W) float32, marker <= mask).

    Every plateau of `mask` joined to where `marker` is high is raised to the lower of the two along the way.
    A 3x3 dilation per step; the steps are bounded by the longest path, at most the picture's perimeter.
    """
    kernel = np.ones((3, 3), np.uint8)
    cur = np.minimum(marker, mask)
    for step in range(2 * sum(mask.shape)):
        nxt = np.minimum(cv2.dilate(cur, kernel), mask)
        if step % 8 == 7 and np.array_equal(nxt, cur):
            break
        cur = nxt
    return cur


def ink_map(g: np.ndarray, k: int, flat: float = 0.0, s: PreprocessSettings = DEFAULT) -> np.ndarray:
    """(H, W) ink-bright grey in [0, 1] -> (H, W) float32 ink contrast in [0, 1] with the background removed.

    The background is a grey-level opening with a k x k square: it removes every bright structure narrower than
    k (strokes) and keeps the light field, shadows and the table beyond the sheet's edge (an opening keeps step
    edges). Computed at a reduced scale, where a square kernel stays cheap. A hard-edged shadow's tip is
    narrower than k and would pass as a stroke; with `flat` (pixels, wider than the pen), every part of the
    picture wider than `flat` that joins the background is background too, up to `shadow_depth` and never
    through what is deeper than `ink_depth` (reconstruction of the opening under an opening by `flat`): the
    tip goes, strokes stay.
    """
    H, W = g.shape
    d = max(1, min(int(max(H, W) / _OPEN_SIDE), k // _OPEN_MIN_KERNEL))
    small = cv2.resize(g, (max(1, W // d), max(1, H // d)), interpolation=cv2.INTER_AREA) if d > 1 else g
    ks = odd_size(k / d)
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (ks, ks)))
    # At most `shadow_side` pixels a side: a shadow's edge a few pixels off costs nothing here.
    r = max(d, int(np.ceil(max(H, W) / s.shadow_side)))
    fs = odd_size(flat / r) if flat else 0
    if 3 <= fs < ks * d / r:
        rs = (max(1, W // r), max(1, H // r))
        coarse = cv2.resize(g, rs, interpolation=cv2.INTER_AREA) if r > d else small  # r == d: the same image
        wide = cv2.morphologyEx(coarse, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (fs, fs)))
        paper = 1.0 - nearest_percentile(coarse, 10)  # the paper's brightness (ink is bright here, paper dark)
        under = np.minimum(wide, np.float32(1.0 - (1.0 - s.shadow_depth) * paper))
        under[wide > 1.0 - (1.0 - s.ink_depth) * paper] = 0.0  # bold ink and a dark table: never crossed
        seed = cv2.resize(bg, rs, interpolation=cv2.INTER_AREA) if r > d else bg
        raised = _reconstruct(seed, under)
        if r > d:
            raised = cv2.resize(raised, (bg.shape[1], bg.shape[0]), interpolation=cv2.INTER_LINEAR)
        bg = np.maximum(bg, raised)
    if d > 1:
        bg = cv2.resize(bg, (W, H), interpolation=cv2.INTER_LINEAR)
    gs = cv2.GaussianBlur(g, (0, 0), _GRAIN_SIGMA)
    return np.clip((gs - bg) / np.maximum(1.0 - bg, _PAPER_FLOOR), 0.0, 1.0).astype(np.float32)


def ink_level_threshold(ink: np.ndarray, s: PreprocessSettings) -> float | None:
    """The ink level separating strokes from paper (Otsu, kept above `min_contrast`); None for a blank page."""
    peak = float(np.percentile(ink, _PEAK_PCT))
    if peak < 2 * s.min_contrast:
        return None
    u8 = np.clip(ink * 255, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(np.clip(otsu / 255.0, s.min_contrast, _MAX_THRESHOLD * peak))


def remove_lines(mask: np.ndarray, frac: float = 1 / 3, min_len: int = 20) -> np.ndarray:
    """Drop ruled and squared paper's lines from a binary mask (H, W) uint8.

    A line is a run along `frac` of the picture or more, at least `min_len` pixels (tilted a little: it is
    thickened across first), thinner than the pen's strokes; where a stroke crosses it, the stroke's pixels stay.
    """
    H, W = mask.shape
    found = []
    for horizontal in (True, False):
        length = int((W if horizontal else H) * frac)
        if length < min_len:
            continue
        across = np.ones((_LINE_TILT, 1) if horizontal else (1, _LINE_TILT), np.uint8)  # (rows, cols)
        along = np.ones((1, length) if horizontal else (length, 1), np.uint8)
        lines = cv2.morphologyEx(cv2.dilate(mask, across), cv2.MORPH_OPEN, along)
        lines = cv2.bitwise_and(lines, mask)
        if lines.any():
            found.append((horizontal, lines))
    if not found:
        return mask
    any_line = np.zeros_like(mask)
    for _, lines in found:
        any_line |= lines
    rest = cv2.bitwise_and(mask, 1 - any_line)
    stroke = stroke_px(rest) if rest.any() else 0.0
    out = mask.copy()
    for horizontal, lines in found:
        n, lab, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        extent = stats[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT].astype(np.float32)
        thickness = stats[1:, cv2.CC_STAT_AREA] / np.maximum(extent, 1.0)
        # Thinner than the pen: paper, not ink.
        thin = np.flatnonzero(thickness <= max(_LINE_THICKNESS, _LINE_STROKE_FRAC * stroke)) + 1
        if thin.size == 0:
            continue
        cross = int(np.ceil(2 * float(thickness[thin - 1].max()))) + 2
        crossing = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((cross, 1) if horizontal else (1, cross), np.uint8))
        out[np.isin(lab, thin) & (crossing == 0)] = 0
    return out
