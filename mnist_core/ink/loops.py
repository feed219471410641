"""Closed loops in an ink, and where the pen begins them.

Writers are taught different starts for a 0 or an 8: most of the training writers begin an 8 near its top
(83% of their 8s start in the top 30% of the ink), some at the bottom-left or at the crossing. The ink net reads
direction and order, so the same 8 begun low reads as another digit (benchmarks/INK.md). The reader does
not have to learn every start: it also reads such a loop begun at its top (`begun_at_the_top`), the start the
net knows, and averages the two readings (on the calibration writers, 8s begun again at a random point of their
loop: 56.75% read right by the ink net alone, 99.25% so; the digits as written lose nothing).

- `ink_box(strokes)`: the ink box's top-left and height (what `is_closed` measures gaps against);
- `is_closed(stroke, height)`: whether a stroke is a loop (its ends meet);
- `restart(stroke, k)`: the same loop begun at its k-th point;
- `begun_at_the_top(strokes)`: the ink with each loop begun low restarted at its topmost point, or None.

No TensorFlow here; numpy in, numpy out.
"""

from __future__ import annotations

import numpy as np

from mnist_core.ink.features import stroke_length


def ink_box(strokes) -> tuple[np.ndarray, float]:
    """(K, 2+) strokes' box: its top-left (2,) and its height (at least a thousandth of its width, and above 0)."""
    allp = np.concatenate([np.asarray(s, np.float64)[:, :2] for s in strokes])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    return lo, max(float(hi[1] - lo[1]), 1e-3 * float(hi[0] - lo[0]), 1e-6)


def is_closed(stroke: np.ndarray, height: float = 1.0, gap: float = 0.25) -> bool:
    """Whether a stroke is a loop: its ends within `gap` x `height` of each other and its path over twice that
    (not a dot), with 8 points at least. `height`: the ink's height (1 for unit strokes)."""
    stroke = np.asarray(stroke, np.float64)[:, :2]
    if len(stroke) < 8:
        return False
    path = stroke_length(stroke)
    return float(np.hypot(*(stroke[-1] - stroke[0]))) < gap * height and path > 2 * gap * height


def restart(stroke: np.ndarray, k: int) -> np.ndarray:
    """The same loop begun at its k-th point (0 < k < len - 1): from there to the end, on over the gap between the
    end and the start (a straight join, as the pen would close it), and back round to the k-th point."""
    return np.concatenate([stroke[k:], stroke[:k + 1]])


def begun_at_the_top(strokes, low: float = 0.3) -> list[np.ndarray] | None:
    """(K, 2) strokes with every loop whose first point lies below the top `low` of the loop's own height begun
    again at its topmost point instead (the direction kept); None when no loop is begun low, so callers read
    the ink once. y grows downwards, as on the canvas and in every ink format the studio reads."""
    strokes = [np.asarray(s, np.float64)[:, :2] for s in strokes if len(s)]
    if not strokes:
        return None
    height, out, moved = ink_box(strokes)[1], [], False
    for s in strokes:
        if is_closed(s, height):
            top, y0, y1 = int(np.argmin(s[:, 1])), float(s[:, 1].min()), float(s[:, 1].max())
            if 0 < top < len(s) - 1 and s[0, 1] > y0 + low * (y1 - y0):
                s, moved = restart(s, top), True
        out.append(s)
    return out if moved else None
