"""One digit's ink -> MNIST's 28x28: strokes redrawn into MNIST's width range, the longer side scaled to the
20-px box (anti-aliased), the centre of mass placed at the image's centre, ink bright on black.

MNIST digits were size-normalised into a 20x20 box keeping their aspect ratio and placed in a 28x28 image with
their centre of mass at the centre; every digit path ends here (`normalize_ink`)."""

from __future__ import annotations

import cv2
import numpy as np

from mnist_core.digits.arrays import bounding_box, perimeter, stroke_px, to_unit
from mnist_core.digits.images import ImageError
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# Stroke measuring and redrawing (`_restroke`), at `stroke_side` resolution. Coverage from `_CONNECT_LEVEL` up is
# ink when measuring (a low level keeps sub-pixel strokes in one piece); from `_SOLID_LEVEL` up when thinning a
# bold digit (its strokes' cores). The crop is padded by 1/`_PAD_PARTS` of `stroke_side` so thickening never
# touches the border; a redrawn middle line is at least `_MIN_PEN` px wide.
_CONNECT_LEVEL = 0.2
_SOLID_LEVEL = 0.5
_PAD_PARTS = 4
_MIN_PEN = 3


def _shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-downscale (H, W) to size=(w, h): by a whole factor first (OpenCV's fast path; a fractional area
    resize costs ~0.5 ms whatever the size), then linearly by less than 2x to the exact size."""
    h, w = img.shape
    k = min(h // size[1], w // size[0])
    if k >= 2:
        ph, pw = -h % k, -w % k  # pad to a multiple of k with paper
        if ph or pw:
            img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        img = cv2.resize(img, (img.shape[1] // k, img.shape[0] // k), interpolation=cv2.INTER_AREA)
    if img.shape[::-1] == tuple(size):
        return img
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if k < 2 else cv2.INTER_LINEAR)


def _fit_box(ink: np.ndarray, box: int) -> np.ndarray:
    """Resize a tight crop so its longer side is `box`, keeping the aspect ratio (anti-aliased)."""
    h, w = ink.shape
    s = max(h, w)
    if s == box:
        return ink
    nh, nw = max(1, int(round(h * box / s))), max(1, int(round(w * box / s)))
    interp = cv2.INTER_AREA if s > box else cv2.INTER_LINEAR
    return cv2.resize(ink, (nw, nh), interpolation=interp)


def _place(img: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """Paste a size-normalised digit into size x size with its centre of mass at `s.centre` (whole pixels)."""
    out = np.zeros((s.size, s.size), np.float32)
    h, w = img.shape
    total = float(img.sum())
    if total <= 0:
        return out
    cy = float(img.sum(axis=1) @ np.arange(h, dtype=np.float32)) / total
    cx = float(img.sum(axis=0) @ np.arange(w, dtype=np.float32)) / total
    top, left = int(round(s.centre - cy)), int(round(s.centre - cx))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, s.size), min(left + w, s.size)
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = img[y0 - top : y1 - top, x0 - left : x1 - left]
    return out


def _restroke(ink: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """A tight crop of one digit's ink (float in [0, 1] or uint8 alpha) -> float32 at `stroke_side`, its strokes
    within MNIST's range."""
    h, w = ink.shape
    k = s.stroke_side / max(h, w)
    nh, nw = max(1, int(round(h * k))), max(1, int(round(w * k)))
    # ink coverage per mid-res pixel
    cov = _shrink(ink, (nw, nh)) if k < 1 else cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_LINEAR)
    # uint8 (canvas alpha) is resized first and converted after: 4x less memory to read than float32.
    cov = cov.astype(np.float32) * np.float32(1 / 255) if cov.dtype == np.uint8 else np.clip(cov, 0.0, 1.0)
    pad = s.stroke_side // _PAD_PARTS
    cov = cv2.copyMakeBorder(cov, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    area = float(cov.sum())
    connected = cov >= _CONNECT_LEVEL
    perim = perimeter(connected)
    if area <= 0 or perim <= 0:
        return cov
    px28 = s.box / s.stroke_side  # one mid-res pixel at the 28x28 scale
    width = 2.0 * area / perim * px28  # stroke width at the 28x28 scale; exact for long strokes, any thinness
    lo, hi = s.stroke_range
    if lo <= width <= hi:
        return cov
    target = s.stroke_target / px28  # in mid-res pixels
    if width < lo:
        base = connected.astype(np.uint8)
        cur = stroke_px(base)
        d = int(round(target - cur)) + 1
        if d <= 1:
            return cov
        out = cv2.dilate(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
    else:
        # Thick: thinned by an erosion, plus the strokes' middle line (the ridge of the distance to the paper)
        # redrawn with the target pen, which keeps the thinner parts of a bold digit (a 3's upper arc).
        # An erosion keeps a filled loop as a smaller blob, which the model reads better than its centre line.
        base = (cov >= _SOLID_LEVEL).astype(np.uint8)
        cur = stroke_px(base)
        d = int(round(cur - target)) + 1
        if d <= 1:
            return cov
        out = cv2.erode(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
        dist = cv2.distanceTransform(base, cv2.DIST_L2, 3)
        ridge = ((dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)).astype(np.uint8)
        pen = max(_MIN_PEN, int(round(target)))
        out |= cv2.dilate(ridge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    return out.astype(np.float32)


def normalize_ink(
    ink: np.ndarray, s: PreprocessSettings, adjust_stroke: bool
) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """(28, 28) float32 digit and the ink's box within `ink` (None and zeros when there is no ink)."""
    box = bounding_box(ink > 0)
    if box is None:
        return np.zeros((s.size, s.size), np.float32), None
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(ink[y0:y1, x0:x1])  # float32 in [0, 1], or uint8 canvas alpha
    if adjust_stroke:
        crop = _restroke(crop, s)
        inner = bounding_box(crop > 0)
        if inner is None:
            return np.zeros((s.size, s.size), np.float32), None
        crop = np.ascontiguousarray(crop[inner[1] : inner[3], inner[0] : inner[2]])
    elif crop.dtype != np.float32:
        crop = to_unit(crop)
    img = np.clip(_fit_box(crop, s.box), 0.0, 1.0)
    return _place(img, s), box


def normalize_digit(
    ink: np.ndarray, adjust_stroke: bool = False, settings: PreprocessSettings = DEFAULT
) -> np.ndarray:
    """One digit's ink (any size, ink bright, zero background) -> (28, 28) float32, MNIST's box and centre of mass.

    `adjust_stroke` redraws strokes outside MNIST's width range (what the canvas and photo paths do).
    """
    ink = to_unit(np.asarray(ink))
    if ink.ndim != 2:
        raise ImageError(f"a digit's ink must be (H, W), not shape {ink.shape}")
    return normalize_ink(ink, settings, adjust_stroke)[0]
