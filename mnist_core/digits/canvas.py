"""The sketchpad path: the layers' alpha (so theme and brush colour do not matter), else the composite's
distance from its background colour, is the ink; components are found on a downscaled copy and digits cut from
the full-resolution alpha."""

from __future__ import annotations

import cv2
import numpy as np

from mnist_core.config import Limits
from mnist_core.digits.arrays import to_uint8
from mnist_core.digits.images import check_array
from mnist_core.digits.results import Digit, Ink
from mnist_core.digits.segment import cut_digit, find_candidates
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# An RGBA image is strokes on transparency (its alpha is the ink) when some pixel is see-through (alpha below
# `_OPAQUE`) and less than `_STROKES_SHARE` of it is more opaque than not: strokes cover little of a picture.
_OPAQUE = 250
_STROKES_SHARE = 0.5
# The composite's background colour is the median of a grid of about this many samples a side.
_BACKGROUND_SAMPLES = 100
# Downscaled alpha below this (0-255) is never ink, however far the canvas was downscaled.
_MIN_ALPHA = 8


def _alpha_ink(layers: list[np.ndarray]) -> np.ndarray | None:
    """The union of the layers' alpha, (H, W) uint8; None when no layer has an alpha channel."""
    ink = None
    for layer in layers:
        if layer is None:
            continue
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[2] != 4:
            continue
        if layer.dtype == np.uint8:
            a = cv2.extractChannel(np.ascontiguousarray(layer), 3)
        else:
            a = to_uint8(layer[:, :, 3])
        ink = a if ink is None else (np.maximum(ink, a) if ink.shape == a.shape else ink)
    return ink


def digits_from_alpha(alpha: np.ndarray, s: PreprocessSettings) -> list[Digit]:
    """(H, W) uint8 ink (alpha) -> digits; components found on an area-downscaled copy for speed."""
    H, W = alpha.shape
    f = max(1, int(np.ceil(max(H, W) / s.canvas_find_side)))
    small = cv2.resize(alpha, (max(1, W // f), max(1, H // f)), interpolation=cv2.INTER_AREA) if f > 1 else alpha
    # A thin stroke averages down to a faint line at 1/f: scale the threshold with the downscale.
    thr = max(_MIN_ALPHA, s.alpha_threshold // f)
    mask = (small >= thr).astype(np.uint8)
    min_px = max(2, s.min_height_px // f)
    labels, cands = find_candidates(mask, s, min_px)
    digits = []
    for c in cands[: Limits().max_digits]:
        got = cut_digit(alpha, labels, c, float(f), s, adjust_stroke=True)
        if got is not None:
            digits.append(Digit(got[0], got[1]))
    return digits


def transparent_ink(image: np.ndarray) -> np.ndarray | None:
    """An (H, W, 4) image's alpha as (H, W) uint8 ink when it is strokes on transparency; else None."""
    if image.ndim == 3 and image.shape[2] == 4:
        a = to_uint8(image[:, :, 3])
        if int(a.min()) < _OPAQUE and float((a > 127).mean()) < _STROKES_SHARE:
            return np.ascontiguousarray(a)
    return None


def _composite_ink(composite: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """A flattened canvas (any theme, any brush colour) -> (H, W) uint8 ink: distance from the background colour."""
    a = to_uint8(composite)
    if a.ndim == 2:
        a = a[:, :, None]
    rgb = a[:, :, : min(3, a.shape[2])].astype(np.int16)
    step = max(1, max(rgb.shape[:2]) // _BACKGROUND_SAMPLES)
    bg = np.median(rgb[::step, ::step].reshape(-1, rgb.shape[2]), axis=0).astype(np.int16)
    dist = np.abs(rgb - bg).max(axis=2).astype(np.float32)  # any colour on any background
    peak = float(np.percentile(dist[dist > 0], 99)) if (dist > 0).any() else 0.0
    if peak < 255 * s.min_contrast:
        return np.zeros(a.shape[:2], np.uint8)
    return np.clip(dist * (255.0 / peak), 0, 255).astype(np.uint8)


def canvas_to_mnist(
    layers: list[np.ndarray] | None, composite: np.ndarray | None = None, settings: PreprocessSettings = DEFAULT
) -> list[Digit]:
    """The sketchpad's strokes (RGBA layers, else the composite) -> digits in reading order; [] when nothing drawn."""
    return canvas_ink(layers, composite, settings)[0]


def canvas_ink(
    layers: list[np.ndarray] | None, composite: np.ndarray | None = None, settings: PreprocessSettings = DEFAULT
) -> tuple[list[Digit], Ink | None]:
    """`canvas_to_mnist`'s digits and the ink (alpha) they were cut from; ([], None) when nothing was given."""
    s = settings
    alpha = _alpha_ink(list(layers)) if layers else None
    if alpha is not None:
        check_array(alpha, "the canvas")
        return digits_from_alpha(alpha, s), Ink(alpha, 1.0, 1.0)
    if composite is None:
        return [], None
    composite = check_array(np.asarray(composite), "the canvas")
    if (a := transparent_ink(composite)) is not None:
        return digits_from_alpha(a, s), Ink(a, 1.0, 1.0)
    ink = _composite_ink(composite, s)
    return digits_from_alpha(ink, s), Ink(ink, 1.0, 1.0)
