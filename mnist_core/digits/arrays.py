"""Array helpers shared by the digit paths: dtype conversion to uint8 or [0, 1] float, grey levels, a fast
percentile, odd kernel sizes, a mask's box and perimeter. Numpy in, numpy out."""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Any numeric image array -> uint8, 16-bit scaled by 1/257 and floats in [0, 1] by 255."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        a = np.nan_to_num(arr.astype(np.float32))
        peak = float(a.max()) if a.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0 if peak <= 255.0 else 255.0 / peak  # [0, 1], [0, 255] or beyond
        return np.clip(a * scale + 0.5, 0, 255).astype(np.uint8)
    a = arr.astype(np.int64)
    peak = int(a.max()) if a.size else 0
    if arr.dtype == np.uint16 or peak > 255:  # 16-bit samples (PIL gives "I;16" or "I" for 16-bit PNGs)
        return np.clip((a + 128) // 257, 0, 255).astype(np.uint8)
    return np.clip(a, 0, 255).astype(np.uint8)


def to_unit(arr: np.ndarray) -> np.ndarray:
    """Any numeric array -> float32 in [0, 1] (uint8 / 255, uint16 / 65535, floats in [0, 1] or [0, 255])."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1 / 255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) * np.float32(1 / 65535)
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    a = np.nan_to_num(arr.astype(np.float32))
    peak = float(a.max()) if a.size else 0.0
    if peak <= 1.0:
        return np.clip(a, 0.0, 1.0)
    return np.clip(a / (255.0 if peak <= 255.0 else 65535.0 if peak <= 65535.0 else peak), 0.0, 1.0)


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W[, 3|4]) any dtype -> (H, W) float32 in [0, 1]; alpha composited over white (paper)."""
    a = to_unit(image)
    if a.ndim == 2:
        return a
    rgb = a[:, :, :3]
    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if a.shape[2] == 4:
        alpha = a[:, :, 3]
        g = g * alpha + (1.0 - alpha)
    return g


def nearest_percentile(a: np.ndarray, q: float) -> float:
    """The q-th percentile (nearest rank) of a 1-D or any array; np.percentile's overhead dominates on bitmaps."""
    a = a.ravel()
    k = min(a.size - 1, max(0, int(round(q / 100.0 * (a.size - 1)))))
    return float(np.partition(a, k)[k])


def odd_size(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the True/non-zero pixels of a 2-D array, x1/y1 exclusive; None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def perimeter(mask: np.ndarray) -> float:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return float(sum(cv2.arcLength(c, True) for c in contours))


def stroke_px(mask: np.ndarray) -> float:
    """Mean stroke width (pixels) of a binary mask: 2 * area / perimeter."""
    return 2.0 * float(np.count_nonzero(mask)) / max(perimeter(mask), 1.0)
