"""Ink put on the studio's canvas: strokes in any client's units scaled into the canvas as a person would write
them there, and drawn as the page's brush draws them, so the image model reads a pen client's ink the way it
reads the page's drawings. numpy and OpenCV only."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_core.ink.format import Ink


@dataclass(frozen=True)
class Placement:
    """Where a pen client's ink goes on the canvas."""

    height: float = 0.5  # the writing's height as a share of the canvas side (people fill about half of it)
    margin: float = 0.05  # kept free on every side, as a share of the side; wide numbers are shrunk to fit
    min_extent: float = 1e-3  # a flat or thin ink (a dash, a 1) is scaled by its other side instead
    brush: float = 12.0  # the pen's diameter in pixels of a 400 px canvas (the page's medium brush)


def place(ink: Ink, side: int, placement: Placement = Placement()) -> Ink:
    """The ink scaled (aspect kept) and centred into a `side` x `side` canvas; times unchanged."""
    x0, y0, x1, y1 = ink.box()
    w, h = x1 - x0, y1 - y0
    room = side * (1 - 2 * placement.margin)
    extent = max(h, w, placement.min_extent)
    scale = min(placement.height * side / max(h, 0.25 * extent), room / max(w, placement.min_extent),
                room / max(h, placement.min_extent))
    dx, dy = side / 2 - scale * (x0 + x1) / 2, side / 2 - scale * (y0 + y1) / 2
    strokes = tuple(np.column_stack([s[:, 0] * scale + dx, s[:, 1] * scale + dy, s[:, 2]]).astype(np.float32)
                    for s in ink.strokes)
    return Ink(strokes, ink.timed)


def layer(ink: Ink, side: int, brush: float) -> np.ndarray:
    """The canvas's stroke layer for this ink: (side, side, 4) uint8 RGBA, black, the brush's alpha (round caps)."""
    alpha = np.zeros((side, side), np.uint8)
    shift = 4  # sub-pixel positions: OpenCV's fixed-point coordinates with 4 fractional bits
    thick = max(1, int(round(brush)))
    for s in ink.strokes:
        pts = np.round(s[:, :2] * (1 << shift)).astype(np.int32)
        if len(pts) == 1:
            cv2.circle(alpha, tuple(int(v) for v in pts[0]), int(round(brush / 2 * (1 << shift))), 255, -1,
                       cv2.LINE_AA, shift)
        else:
            cv2.polylines(alpha, [pts.reshape(-1, 1, 2)], False, 255, thick, cv2.LINE_AA, shift)
    out = np.zeros((side, side, 4), np.uint8)
    out[..., 3] = alpha
    return out


def on_canvas(ink: Ink, side: int = 400, placement: Placement = Placement()) -> tuple[Ink, np.ndarray]:
    """(the ink placed on the canvas, the canvas's stroke layer): what the page would have sent for it."""
    placed = place(ink, side, placement)
    return placed, layer(placed, side, placement.brush * side / 400)
