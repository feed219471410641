"""Inputs for the mnist_core.digits tests: drawn layers, synthetic photos, MNIST reference digits."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from _shared import ROOT


DATA = ROOT.parent / "shared" / "data"
MNIST = DATA / "mnist.npz"
USPS = DATA / "usps.npz"
needs_mnist = pytest.mark.skipif(not MNIST.exists(), reason=f"MNIST reference digits not found at {MNIST}")
needs_usps = pytest.mark.skipif(not USPS.exists(), reason=f"USPS digits not found at {USPS}")


# ------------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The first 1,000 MNIST test digits (1000, 28, 28) uint8 and labels."""
    d = np.load(MNIST)
    return d["x_test"][:1000], d["y_test"][:1000]


def png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, "PNG")
    return buf.getvalue()


def layer_with(text: str, org=(100, 500), scale=10.0, thickness=20, size=(800, 800), colour=(0, 0, 0)) -> np.ndarray:
    """An RGBA sketchpad layer (H, W, 4) uint8 with `text` drawn as strokes on transparent."""
    h, w = size
    alpha = np.zeros((h, w), np.uint8)
    cv2.putText(alpha, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., :3] = colour
    layer[..., 3] = alpha
    return layer


def flatten(layer: np.ndarray, background=(255, 255, 255)) -> np.ndarray:
    """The composite Gradio shows: the layer over the theme's background, (H, W, 3) uint8."""
    a = layer[..., 3:].astype(np.float32) / 255
    return (np.float32(background) * (1 - a) + layer[..., :3] * a).astype(np.uint8)


def ink_box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def assert_mnist_like(img: np.ndarray) -> None:
    """MNIST's normalisation: (28, 28) float32 in [0, 1], longest side 20 (+-1), centre of mass at (14, 14) +-0.5."""
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert img.min() >= 0.0 and img.max() <= 1.0 and img.max() > 0.5
    ys, xs = np.nonzero(img > 0)
    side = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    assert 19 <= side <= 21, side
    m = img.sum()
    cy = (img.sum(1) * np.arange(28)).sum() / m
    cx = (img.sum(0) * np.arange(28)).sum() / m
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5, (cy, cx)


def paper_photo(text: str = "3", dark_ink: bool = True, size=(600, 800), org=(300, 420), seed: int = 0) -> np.ndarray:
    """A synthetic photo (H, W, 3) uint8: the text on paper with a light gradient, grain and noise."""
    rng = np.random.default_rng(seed)
    h, w = size
    ramp = np.linspace(0.75, 1.0, w, dtype=np.float32)[None, :] * np.linspace(0.9, 1.0, h, dtype=np.float32)[:, None]
    mask = np.zeros((h, w), np.uint8)
    cv2.putText(mask, text, org, cv2.FONT_HERSHEY_SIMPLEX, 7.0, 255, 22, cv2.LINE_AA)
    m = mask.astype(np.float32) / 255
    paper, ink = (235.0, 30.0) if dark_ink else (40.0, 220.0)
    grey = (paper * (1 - m) + ink * m) * (ramp if dark_ink else 1.0)
    grey += rng.normal(0, 4, (h, w)).astype(np.float32)
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


# ------------------------------------------------------------------------------------------------------------

DIGIT = np.zeros((40, 40), np.uint8)
cv2.putText(DIGIT, "7", (8, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)


def number_layer(rows: list[str], size=(700, 1200), scale=6.0, thickness=16, gap=60):
    """Digits drawn one by one (so each one's true box is known) -> (RGBA layer, [(char, box)] in reading order)."""
    h, w = size
    alpha = np.zeros((h, w), np.uint8)
    truth = []
    y = 40
    for row in rows:
        (cw, ch), _ = cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x = 40
        for char in row:
            one = np.zeros((h, w), np.uint8)
            cv2.putText(one, char, (x, y + ch), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
            truth.append((char, ink_box(one)))
            alpha = np.maximum(alpha, one)
            x += cw + gap
        y += ch + 3 * gap
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., 3] = alpha
    return layer, truth
