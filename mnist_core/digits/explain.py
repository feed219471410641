"""Why the model read a digit as it did: occlusion sensitivity over the 28x28 input it saw.

Each copy of the digit has one small square erased (set to the background, 0.0); the drop in the answer's
evidence when a square is gone says how much the ink there pushed the model to its answer. Only squares that
hold ink change the input, so only those are run: one batch of at most 169 copies a digit (4x4 squares, stride
2), through any ``predict`` function: the TF Lite copy through LiteRT serves it without TensorFlow.

Arrays in, arrays out; no Gradio, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["occlusion_maps", "occlusion_map", "log_odds", "heat_image"]

SIDE = 28
# Below this (in log-odds), no square changed the answer at all: the map is all zeros rather than float noise
# enlarged to full scale.
_FLAT = 1e-4


def _starts(patch: int, stride: int) -> list[int]:
    # Top-left corners along one side; the last square always touches the far edge, so every pixel is covered.
    starts = list(range(0, SIDE - patch + 1, stride))
    if starts[-1] != SIDE - patch:
        starts.append(SIDE - patch)
    return starts


def _squares(patch: int, stride: int) -> np.ndarray:
    """(P, 28, 28) bool: one mask per square position."""
    starts = _starts(patch, stride)
    masks = np.zeros((len(starts) ** 2, SIDE, SIDE), bool)
    for k, (r, c) in enumerate((r, c) for r in starts for c in starts):
        masks[k, r:r + patch, c:c + patch] = True
    return masks


def log_odds(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) log-odds of each row's target class in (N, 10) probabilities: log p - log(1 - p)."""
    p = np.asarray(probs, np.float64)
    rows = np.arange(len(p))
    mine = p[rows, targets]
    # 1 - p from the other classes' probabilities, not by subtraction: a confident float32 answer is 1.0 to
    # the last bit, while its rivals' small probabilities keep their precision.
    others = p.sum(axis=1) - mine
    return np.log(np.maximum(mine, 1e-30)) - np.log(np.maximum(others, 1e-30))


def occlusion_maps(images: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], targets=None,
                   patch: int = 4, stride: int = 2, fill: float = 0.0) -> np.ndarray:
    """(N, 28, 28) digits in [0, 1] -> (N, 28, 28) float32 maps in [-1, 1] of what pushed ``targets``."""
    # images: (N, 28, 28) or (N, 28, 28, 1), ink 1.0 on 0.0, as the model sees them.
    # predict: (M, 28, 28, 1) float32 in [0, 1] -> (M, 10) probabilities (Recognizer.predict).
    # targets: (N,) class per digit to explain; default: the model's answer for each.
    # Map value > 0: erasing that ink lowers the target's evidence (it argues for the answer); < 0: erasing it
    # raises the evidence (it argues against); 0: no effect, which is exactly what blank background gets.
    # Each digit's map is scaled by its largest absolute value (the map shows where, not how much).
    x = np.asarray(images, np.float32).reshape(-1, SIDE, SIDE)
    if len(x) == 0:
        return np.zeros((0, SIDE, SIDE), np.float32)
    masks = _squares(patch, stride)                                     # (P, 28, 28) bool
    covered = masks.sum(axis=0).astype(np.float64)                      # (28, 28) squares over each pixel, >= 1
    # A square over nothing but background leaves the input as it was: its drop is 0, so it is not run.
    changes = np.array([[np.any(d[m] != fill) for m in masks] for d in x])   # (N, P) bool
    copies = [np.where(masks[changes[n]], np.float32(fill), x[n]) for n in range(len(x))]   # each (P_n, 28, 28)
    owner = np.repeat(np.arange(len(x)), changes.sum(axis=1))           # (sum P_n,) digit of each copy
    batch = np.concatenate([x, *copies])[..., None]                     # (N + sum P_n, 28, 28, 1)
    probs = np.asarray(predict(batch), np.float64)                      # (N + sum P_n, 10)
    base, occluded = probs[:len(x)], probs[len(x):]
    targets = np.argmax(base, axis=1) if targets is None else np.asarray(targets, int).reshape(len(x))
    drops = log_odds(base, targets)[owner] - log_odds(occluded, targets[owner])   # (sum P_n,)
    maps = np.zeros((len(x), SIDE, SIDE), np.float64)
    all_masks = np.concatenate([masks[changes[n]] for n in range(len(x))])       # (sum P_n, 28, 28)
    np.add.at(maps, owner, drops[:, None, None] * all_masks)
    maps /= covered                                                     # mean drop of the squares over a pixel
    peak = np.abs(maps).reshape(len(x), -1).max(axis=1)                 # (N,)
    scale = np.where(peak > _FLAT, peak, np.inf)                        # a flat map stays 0, not noise
    return (maps / scale[:, None, None]).astype(np.float32)


def occlusion_map(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], target: int | None = None,
                  **options) -> np.ndarray:
    """One (28, 28) digit in [0, 1] -> its (28, 28) map in [-1, 1] (see occlusion_maps)."""
    targets = None if target is None else [target]
    return occlusion_maps(np.asarray(image)[None], predict, targets, **options)[0]


# Colours of the overlay: what argues for the answer in warm red, against it in blue.
_FOR = np.array([255, 64, 32], np.float32)
_AGAINST = np.array([48, 128, 255], np.float32)


def heat_image(image: np.ndarray, heat: np.ndarray, scale: int = 4) -> np.ndarray:
    """(28, 28) digit and its map -> (28*scale, 28*scale, 3) uint8 RGB: the map over the dimmed digit."""
    # image: (28, 28) in [0, 1], ink bright; heat: (28, 28) in [-1, 1] from occlusion_maps.
    grey = 40.0 + 110.0 * np.clip(np.asarray(image, np.float32).reshape(SIDE, SIDE), 0, 1)   # dimmed, ink visible
    h = np.clip(np.asarray(heat, np.float32).reshape(SIDE, SIDE), -1, 1)
    alpha = (np.abs(h) ** 0.7 * 0.9)[..., None]                         # weak evidence still shows a tint
    colour = np.where(h[..., None] >= 0, _FOR, _AGAINST)
    rgb = grey[..., None] * (1 - alpha) + colour * alpha
    rgb = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)      # nearest neighbour: crisp pixels
