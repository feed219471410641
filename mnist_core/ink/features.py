"""An ink's trajectory as fixed-size per-point features: what the ink net reads.

The strokes are normalised (centred on their ink box, scaled by its longer side so the aspect is kept: x and y
in [-0.5, 0.5]) and resampled by arc length to `points` points over all strokes together: every stroke keeps
at least two points (a dot two equal ones), the rest are shared in proportion to the strokes' lengths, so the
spacing is nearly uniform along the pen-down path whatever the device's sampling rate or speed. Time is not
used: the order and direction of the strokes carry what it tells (pendigits has no time at all).

Per point, `CHANNELS` (float32):

    x, y            position, [-0.5, 0.5], y down
    dx, dy          unit direction of the pen from this point to the next (the last point of a stroke keeps
                    the direction it arrived with)
    cos_turn,       the turning angle at the point (0 on a straight run, ±pi on a reversal; 0 at stroke ends),
    sin_turn        as cos and sin: the curvature's sign says clockwise or anticlockwise
    pen_down        1 when the pen stays down to the next point, 0 at a stroke's last point (a pen-up)
    start           1 at a stroke's first point
    jump_x, jump_y  at a stroke's first point, the move from the previous stroke's end (pen up), else 0

No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("x", "y", "dx", "dy", "cos_turn", "sin_turn", "pen_down", "start", "jump_x", "jump_y")


@dataclass(frozen=True)
class FeatureSettings:
    """How an ink becomes the net's input."""

    points: int = 96  # resampled points over all strokes (96 chosen over 64 on the calibration writers: INK.md)
    max_strokes: int = 16  # strokes kept (the longest, in drawing order); a digit has 1-4

    def __post_init__(self):
        if self.points < 2 * self.max_strokes:
            raise ValueError("points must be at least twice max_strokes (every stroke keeps two points)")


def strokes_of(ink) -> list[np.ndarray]:
    """(K, 2) float arrays from an `Ink`, a list of (K, 2|3) arrays or a `PenDigit`."""
    if hasattr(ink, "xy"):
        return [np.asarray(s, np.float64) for s in ink.xy()]
    if hasattr(ink, "strokes"):
        ink = ink.strokes
    return [np.asarray(s, np.float64)[:, :2] for s in ink]


def normalise(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Strokes centred on their joint ink box and scaled by its longer side: coordinates in [-0.5, 0.5]."""
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    side = max(float((hi - lo).max()), 1e-6)
    c = (lo + hi) / 2
    return [(s - c) / side for s in strokes]


def _dedup(s: np.ndarray) -> np.ndarray:
    """A stroke without consecutive repeated points (at least one point kept)."""
    if len(s) < 2:
        return s
    keep = np.ones(len(s), bool)
    keep[1:] = np.abs(np.diff(s, axis=0)).sum(axis=1) > 1e-9
    return s[keep]


def _allocate(lengths: np.ndarray, n: int) -> np.ndarray:
    """Points per stroke: 2 each, the rest in proportion to length (largest remainder); sums to n."""
    k = np.full(len(lengths), 2, np.int64)
    rest = n - k.sum()
    total = float(lengths.sum())
    share = lengths / total * rest if total > 0 else np.full(len(lengths), rest / len(lengths))
    k += np.floor(share).astype(np.int64)
    left = n - k.sum()
    if left > 0:
        k[np.argsort(-(share - np.floor(share)), kind="stable")[:left]] += 1
    return k


def arc_length(s: np.ndarray) -> np.ndarray:
    """The arc length from a stroke's first point to each of its points: (K,), starting at 0."""
    return np.concatenate([[0.0], np.cumsum(np.sqrt((np.diff(s, axis=0) ** 2).sum(axis=1)))])


def stroke_length(s: np.ndarray) -> float:
    """The length of a stroke's path (0 for one point): the sum of its segments' lengths."""
    return float(np.sqrt((np.diff(np.asarray(s, np.float64)[:, :2], axis=0) ** 2).sum(axis=1)).sum())


def _along(s: np.ndarray, k: int) -> np.ndarray:
    """k points spaced evenly along a stroke's arc length (both ends kept): (k, 2)."""
    if len(s) == 1:
        return np.repeat(s, k, axis=0)
    cum = arc_length(s)
    u = np.linspace(0.0, cum[-1], k)
    return np.stack([np.interp(u, cum, s[:, 0]), np.interp(u, cum, s[:, 1])], axis=1)


def resample(strokes: list[np.ndarray], settings: FeatureSettings = FeatureSettings()) -> tuple[np.ndarray, np.ndarray]:
    """Normalised strokes resampled by arc length: points (N, 2) float64 and each point's stroke index (N,)."""
    strokes = [_dedup(np.asarray(s, np.float64)) for s in strokes if len(s)]
    if not strokes:
        raise ValueError("no points to resample")
    if len(strokes) > settings.max_strokes:  # keep the longest, in drawing order
        lens = [stroke_length(s) for s in strokes]
        keep = sorted(np.argsort(lens)[::-1][: settings.max_strokes])
        strokes = [strokes[i] for i in keep]
    strokes = normalise(strokes)
    lengths = np.array([stroke_length(s) for s in strokes])
    ks = _allocate(lengths, settings.points)
    pts = np.concatenate([_along(s, int(k)) for s, k in zip(strokes, ks)])
    ids = np.repeat(np.arange(len(strokes)), ks)
    return pts, ids


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.sqrt((v ** 2).sum(axis=1, keepdims=True))
    return np.where(n > 1e-9, v / np.maximum(n, 1e-9), 0.0)


def point_features(pts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Resampled points (N, 2) and stroke ids (N,) -> (N, len(CHANNELS)) float32 features (see module doc)."""
    n = len(pts)
    same_next = np.zeros(n, bool)
    same_next[:-1] = ids[1:] == ids[:-1]  # the pen stays down to the next point
    start = np.ones(n, bool)
    start[1:] = ids[1:] != ids[:-1]
    step = np.zeros_like(pts)
    step[:-1] = pts[1:] - pts[:-1]
    out_dir = _unit(np.where(same_next[:, None], step, 0.0))  # direction leaving each point (0 at stroke ends)
    in_dir = np.zeros_like(pts)
    in_dir[1:] = np.where(same_next[:-1, None], out_dir[:-1], 0.0)  # direction arriving at each point
    # a stroke's last point keeps its arrival direction; a stroke's zero-length run (a dot) stays 0
    direction = np.where(same_next[:, None], out_dir, in_dir)
    has_both = (np.abs(in_dir).sum(1) > 0) & (np.abs(out_dir).sum(1) > 0)
    cos_t = np.where(has_both, (in_dir * out_dir).sum(1), 1.0)
    sin_t = np.where(has_both, in_dir[:, 0] * out_dir[:, 1] - in_dir[:, 1] * out_dir[:, 0], 0.0)
    jump = np.zeros_like(pts)
    jump[1:] = np.where(start[1:, None], pts[1:] - pts[:-1], 0.0)
    f = np.column_stack([pts, direction, cos_t, sin_t, same_next, start, jump])
    return f.astype(np.float32)


def ink_features(ink, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """One ink (an `Ink`, (K, 2|3) strokes or a `PenDigit`) -> (points, len(CHANNELS)) float32."""
    pts, ids = resample(strokes_of(ink), settings)
    return point_features(pts, ids)


def batch_features(inks, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """Many inks -> (B, points, len(CHANNELS)) float32, the ink net's input batch."""
    out = np.zeros((len(inks), settings.points, len(CHANNELS)), np.float32)
    for i, ink in enumerate(inks):
        out[i] = ink_features(ink, settings)
    return out
