"""Robustness of the preprocessing: accuracy per input condition for three pipelines side by side.

    python benchmarks/robustness.py [--n 500] [--model PATH] [--seed 0] [--examples DIR] [--failures 12] [--out FILE]
    python benchmarks/robustness.py --out benchmarks/ROBUSTNESS.md   # regenerates the table there, text kept

About 4.5 s per digit for all conditions together on one core of a 2-core EPYC, so ~35-40 min for the default
--n 500 (the photos are most of it, the 1400-2000 px ones above all; bitmaps and canvases take seconds).

Inputs are built from the MNIST *test* digits (and from digits drawn with OpenCV's Hershey fonts), made to look
like what people actually give the app:

- canvas: the sketchpad's 800x800 RGBA stroke layer (strokes on transparent) at random positions, sizes and
  stroke widths: MNIST digits upscaled as themselves (or redrawn along their skeleton with a thin brush), font
  digits drawn along their strokes;
- photo: paper colour and texture, uneven light and shadows, blur, noise, JPEG, slight rotation and perspective,
  ruled and squared paper, the sheet's edge with the table beyond it, dust, small digits in large photos, chalk
  on a board;
- bitmaps: MNIST itself, MNIST shrunk to 16x16 and as 32x32 dark-on-white, and USPS's test and training splits
  (other writers; never trained on).

Pipelines: "tutorial" (the whole image to grey, resized to 28x28, / 255, no inversion), "resize+invert" (the same,
inverted when the ink is dark), and "ours" (mnist_core.digits). For canvases the two baselines see the
composite a typical demo reads (light theme: white background). Accuracy counts the one digit reported
(`most_prominent`); "no digit found" counts as wrong. The reference is the model's accuracy on all 10,000 MNIST
test digits as they are. For each condition, three examples (the input, then the 28x28 of tutorial, resize+invert
and ours) and up to --failures of ours' mistakes (`*_fail_<i>_label<y>_ours<answer>`: the input and the 28x28 the
model saw) go to --examples. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core import digits as pp  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# Progress goes to the process's own stdout: the recognizer silences sys.stdout (redirect_stdout) while it
# builds its TensorFlow Lite copy in a background thread, which would swallow lines printed meanwhile.
log = functools.partial(print, file=sys.__stdout__, flush=True)
FONTS = [
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
]


# ------------------------------------------------------------------------------------------------------------
# Digit shapes: a skeleton (polyline segments in a unit box) drawn with any pen at any size
# ------------------------------------------------------------------------------------------------------------


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a binary (H, W) mask -> its one-pixel skeleton (uint8 0/1)."""
    img = (mask > 0).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(img, 1)
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            b = sum(x.astype(np.int32) for x in n)
            a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                c = ((p2 * p4 * p6) == 0) & ((p4 * p6 * p8) == 0)
            else:
                c = ((p2 * p4 * p8) == 0) & ((p2 * p6 * p8) == 0)
            kill = (img == 1) & (b >= 2) & (b <= 6) & (a == 1) & c
            if kill.any():
                img[kill] = 0
                changed = True
        if not changed:
            return img


def segments_of(sk: np.ndarray) -> np.ndarray:
    """A one-pixel skeleton (H, W) -> (S, 2, 2) float32 segments ((x, y), (x, y)) joining 8-neighbours,
    scaled so the skeleton is one unit tall, its top-left at (0, 0)."""
    h, w = sk.shape
    ys, xs = np.nonzero(sk)
    if ys.size == 0:
        return np.zeros((0, 2, 2), np.float32)
    segs = [np.stack([np.stack([xs, ys], 1)] * 2, 1)]  # isolated dots too
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ok = (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
        yy, xx = ys[ok], xs[ok]
        hit = sk[yy + dy, xx + dx] > 0
        yy, xx = yy[hit], xx[hit]
        segs.append(np.stack([np.stack([xx, yy], 1), np.stack([xx + dx, yy + dy], 1)], 1))
    s = np.concatenate(segs).astype(np.float32)
    s[..., 0] -= xs.min()
    s[..., 1] -= ys.min()
    return s / max(float(ys.max() - ys.min()), 1.0)


def skeleton_segments(digit: np.ndarray) -> np.ndarray:
    """A 28x28 MNIST digit -> its skeleton as segments in a unit-height box (thinned at 4x)."""
    big = cv2.resize(digit.astype(np.float32) / 255.0, (112, 112), interpolation=cv2.INTER_CUBIC) > 0.5
    return segments_of(thin(big))


def draw_segments(mask: np.ndarray, segs: np.ndarray, x: float, y: float, height: float, pen: int) -> None:
    """Draw skeleton segments into a uint8 mask, the skeleton's top-left at (x, y), `height` px tall, anti-aliased."""
    pts = np.round((segs * height + np.array([x, y], np.float32)) * 16).astype(np.int32)  # 4 fractional bits
    cv2.polylines(mask, list(pts), False, 255, thickness=max(1, int(pen)), lineType=cv2.LINE_AA, shift=4)


def skeleton_patch(segs: np.ndarray, height: float, pen: float) -> np.ndarray:
    """The skeleton drawn with a round pen `pen` px wide, the whole digit `height` px tall: a tight uint8 patch."""
    inner = max(1.0, height - pen)
    patch = np.zeros((int(height + pen) + 2, int(seg_width(segs) * inner + 2 * pen) + 2), np.uint8)
    draw_segments(patch, segs, pen, pen / 2 + 1, inner, int(round(pen)))
    return patch


def shape_patch(raw: np.ndarray, height: float, grow: float = 0.0) -> np.ndarray:
    """The MNIST digit itself upscaled to `height` px (cubic, cut at half ink, anti-aliased), its strokes grown
    by `grow` px on each side (negative: thinned): a tight uint8 patch."""
    ys, xs = np.nonzero(raw > 127)
    crop = np.pad(raw[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255, 2)
    f = 2 * height / (ys.max() - ys.min() + 1)  # drawn at twice the size, then area-downscaled (anti-aliasing)
    big = (cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC) > 0.5).astype(np.uint8)
    r = int(round(2 * abs(grow)))
    if r:
        big = np.pad(big, r + 1)
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        big = cv2.dilate(big, disk) if grow > 0 else cv2.erode(big, disk)
    small = cv2.resize(big.astype(np.float32), (max(1, big.shape[1] // 2), max(1, big.shape[0] // 2)),
                       interpolation=cv2.INTER_AREA)
    patch = (small * 255 + 0.5).astype(np.uint8)
    ys, xs = np.nonzero(patch)
    return patch[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if ys.size else patch


def paste(mask: np.ndarray, patch: np.ndarray, x: float, y: float) -> None:
    """mask <- max(mask, patch) with the patch's top-left at (x, y), clipped to the mask."""
    H, W = mask.shape
    x, y = int(x), int(y)
    ph, pw = patch.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, W), min(y + ph, H)
    if x1 > x0 and y1 > y0:
        np.maximum(mask[y0:y1, x0:x1], patch[y0 - y : y1 - y, x0 - x : x1 - x], out=mask[y0:y1, x0:x1])


def seg_width(segs: np.ndarray) -> float:
    return float(segs[..., 0].max()) if segs.size else 0.5


def font_segments(label: int, font: int, italic: bool) -> np.ndarray:
    """A Hershey-font digit as skeleton segments in a unit-height box (drawn at a large size, thinned)."""
    canvas = np.zeros((200, 200), np.uint8)
    cv2.putText(canvas, str(label), (40, 160), font | (cv2.FONT_ITALIC if italic else 0), 4.0, 255, 3, cv2.LINE_8)
    return segments_of(thin(canvas))


@dataclass
class Item:
    """One test digit: its label and skeleton."""

    label: int
    segs: np.ndarray  # (S, 2, 2) float32 in a unit-height box
    raw: np.ndarray | None = None  # the 28x28 MNIST original, when it is one


# ------------------------------------------------------------------------------------------------------------
# Canvas inputs: RGBA layer (ours) + the composite a typical demo reads (baselines)
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    label: int
    ours: Callable[[], list]  # -> list[Digit]
    composite: np.ndarray  # what the baselines see: RGB/grey uint8 image


def make_canvas(item: Item, rng: np.random.Generator, kind: str, side: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """(RGBA layer (side, side, 4) uint8, light-theme composite (side, side, 3) uint8); sizes scale with `side`.

    MNIST digits are drawn as themselves, upscaled (their own stroke proportions, grown or thinned a little),
    except "thin" (redrawn along their skeleton with a 2-5 px brush); font digits always along their strokes.
    """
    k = side / 800  # sizes below are for the 800x800 default; a smaller canvas gets proportionally smaller digits
    if kind == "small":
        height = rng.uniform(50, 140) * k
    elif kind == "thick":
        height = rng.uniform(200, 500) * k
    else:
        height = rng.uniform(250, 650) * k
    if kind == "thin" or item.raw is None:
        pen = max(1.0, rng.uniform(2, 5) * k) if kind == "thin" else rng.uniform(0.04, 0.1) * height
        patch = skeleton_patch(item.segs, height, pen)
    elif kind == "thick":
        # a marker 16-24% of the height; MNIST's own strokes are about 11% of it
        patch = shape_patch(item.raw, height, grow=height * (rng.uniform(0.16, 0.24) - 0.11) / 2)
    else:
        patch = shape_patch(item.raw, height, grow=height * rng.uniform(-0.015, 0.025))
    ph, pw = patch.shape
    alpha = np.zeros((side, side), np.uint8)
    paste(alpha, patch, rng.uniform(0, max(1, side - pw)), rng.uniform(0, max(1, side - ph)))
    colour = np.array([0, 0, 0])
    while kind == "colour" and np.abs(colour - np.array([39, 39, 42])).max() < 80:  # visible on the dark theme
        colour = rng.integers(0, 256, 3)
    layer = np.zeros((side, side, 4), np.uint8)
    layer[..., :3] = colour.astype(np.uint8)
    layer[..., 3] = alpha
    a = alpha[..., None].astype(np.float32) / 255
    composite = (255 * (1 - a) + colour * a).astype(np.uint8)  # light theme: white background
    return layer, composite


def dark_composite(layer: np.ndarray) -> np.ndarray:
    """The dark theme's composite: strokes over dark grey (Gradio's dark canvas background)."""
    a = layer[..., 3:].astype(np.float32) / 255
    bg = np.array([39, 39, 42], np.float32)
    return (bg * (1 - a) + layer[..., :3].astype(np.float32) * a).astype(np.uint8)


# ------------------------------------------------------------------------------------------------------------
# Photos
# ------------------------------------------------------------------------------------------------------------


def smooth_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Low-frequency noise (H, W) float32, zero mean, unit std, features about `scale` pixels wide."""
    sh, sw = max(2, int(h / scale)), max(2, int(w / scale))
    n = cv2.resize(rng.standard_normal((sh, sw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (n - n.mean()) / (n.std() + 1e-6)


def blend(img: np.ndarray, cover: np.ndarray, colour: np.ndarray) -> None:
    """img (H, W, 3) float32 <- img * (1 - cover) + colour * cover, in place; cover (H, W) in [0, 1]."""
    ys, xs = np.nonzero(cover.any(axis=1))[0], np.nonzero(cover.any(axis=0))[0]
    if ys.size == 0:
        return
    region = (slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1))  # only where there is something to blend
    c = cover[region][..., None]
    sub = img[region]
    sub *= 1 - c
    sub += c * colour.astype(np.float32)


def make_photo(item: Item, rng: np.random.Generator, kind: str) -> np.ndarray:
    """A photo (H, W, 3) uint8 of the digit written on paper under condition `kind`."""
    big = kind in ("small", "all")
    w = int(rng.uniform(1400, 2000)) if big else int(rng.uniform(700, 1100))
    h = int(w * rng.uniform(0.7, 1.1))
    rel = rng.uniform(0.04, 0.09) if kind == "small" else rng.uniform(0.25, 0.6)
    if kind == "all":
        rel = rng.uniform(0.08, 0.4)
    height = rel * h
    if item.raw is None:  # a font digit: along its strokes, a pen 6-13% of the height
        patch = skeleton_patch(item.segs, height, max(1.5, height * rng.uniform(0.06, 0.13)))
    else:  # the MNIST digit itself, its strokes a little thinner or bolder
        patch = shape_patch(item.raw, height, grow=height * rng.uniform(-0.015, 0.025))
    ph, pw = patch.shape
    ink = np.zeros((h, w), np.uint8)
    paste(ink, patch, rng.uniform(0.1 * w, max(0.1 * w + 1, 0.9 * w - pw)),
          rng.uniform(0.1 * h, max(0.1 * h + 1, 0.9 * h - ph)))
    m = ink.astype(np.float32) * np.float32(1 / 255)  # (H, W) ink coverage in [0, 1]

    chalk = kind == "chalk"
    if chalk:
        paper = np.array([rng.uniform(30, 70), rng.uniform(50, 80), rng.uniform(40, 70)], np.float32)
        ink_col = np.array([rng.uniform(190, 240)] * 3, np.float32)
        m *= np.clip(0.75 + 0.25 * rng.standard_normal((h, w), dtype=np.float32), 0, 1)  # grainy chalk
    else:
        base = rng.uniform(205, 250)
        paper = np.array([base, base - rng.uniform(0, 10), base - rng.uniform(0, 25)], np.float32)
        ink_col = np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(20, 110)], np.float32)
    # paper texture: fibres and grain (grey levels)
    tex = rng.uniform(1, 4) * smooth_noise(rng, h, w, rng.uniform(8, 30))
    if kind in ("texture", "noise", "all"):
        tex += rng.uniform(4, 10) * smooth_noise(rng, h, w, rng.uniform(3, 12))
    img = np.empty((h, w, 3), np.float32)
    img[:] = paper
    img += tex[..., None]
    if kind in ("ruled", "squared", "all"):
        spacing = height * rng.uniform(0.6, 1.2)
        line_col = np.array([rng.uniform(140, 200), rng.uniform(160, 210), rng.uniform(200, 240)], np.float32)
        thickness = int(rng.integers(1, 4))
        layer = np.zeros((h, w), np.uint8)
        for yy in np.arange(rng.uniform(0, spacing), h, spacing):
            cv2.line(layer, (0, int(yy)), (w - 1, int(yy)), 255, thickness, cv2.LINE_AA)
        if kind == "squared":
            for xx in np.arange(rng.uniform(0, spacing), w, spacing):
                cv2.line(layer, (int(xx), 0), (int(xx), h - 1), 255, thickness, cv2.LINE_AA)
        blend(img, layer.astype(np.float32) * np.float32(1 / 255), line_col)
    blend(img, m, ink_col)  # the digit
    if kind in ("dust", "small", "all"):
        for _ in range(int(rng.integers(20, 120))):
            shade = rng.uniform(40, 160)
            cv2.circle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 4)),
                       (shade, shade, shade), -1, cv2.LINE_AA)
    if kind in ("edge", "ruled", "all"):
        # the sheet's edge: a (textured) table beyond one side, 5-20% of the picture, the edge slightly tilted
        table = np.array([rng.uniform(40, 120), rng.uniform(30, 90), rng.uniform(20, 70)], np.float32)
        side, frac, tilt = int(rng.integers(0, 4)), rng.uniform(0.05, 0.2), rng.uniform(-0.08, 0.08)
        if side < 2:
            e0, e1 = frac * w - tilt * h / 2, frac * w + tilt * h / 2
            e0, e1 = (e0, e1) if side == 0 else (w - e0, w - e1)
            far = 0 if side == 0 else w
            poly = [(far, 0), (e0, 0), (e1, h), (far, h)]
        else:
            e0, e1 = frac * h - tilt * w / 2, frac * h + tilt * w / 2
            e0, e1 = (e0, e1) if side == 2 else (h - e0, h - e1)
            far = 0 if side == 2 else h
            poly = [(0, far), (0, e0), (w, e1), (w, far)]
        cover = np.zeros((h, w), np.float32)
        cv2.fillPoly(cover, [np.round(np.array(poly) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        cover = cv2.GaussianBlur(cover, (0, 0), 1.5)
        wood = 15 * smooth_noise(rng, h, w, 20)
        blend(img, cover, table)
        img += (cover * wood)[..., None]
    # light: a gradient across the sheet and a soft shadow
    if kind in ("light", "all"):
        ang = rng.uniform(0, 2 * np.pi)
        ramp = np.add.outer(np.sin(ang) * (np.arange(h, dtype=np.float32) / h - 0.5),
                            np.cos(ang) * (np.arange(w, dtype=np.float32) / w - 0.5)) + 0.5
        light = 1 - np.float32(rng.uniform(0.2, 0.45)) * np.clip(ramp, 0, 1)
        q = 4  # the shadow is drawn and blurred at 1/4 scale
        sh = np.zeros((h // q, w // q), np.float32)
        pts = np.array([[rng.uniform(-0.2, 1.2) * w / q, rng.uniform(-0.2, 1.2) * h / q] for _ in range(4)], np.int32)
        cv2.fillPoly(sh, [pts], 1.0)
        sh = cv2.GaussianBlur(sh, (0, 0), rng.uniform(3, 40) / q + 0.5)
        light *= 1 - np.float32(rng.uniform(0.25, 0.5)) * cv2.resize(sh, (w, h), interpolation=cv2.INTER_LINEAR)
        img *= light[..., None]
    elif not chalk:
        img *= (1 - np.float32(rng.uniform(0.0, 0.1)) * smooth_noise(rng, h, w, w / 2).clip(-1, 1) ** 2)[..., None]
    # geometry: a slight rotation and perspective (the scene continues, mirrored, beyond the frame)
    if kind in ("geometry", "all"):
        d = rng.uniform(0.0, 0.06, (4, 2)) * np.array([w, h])
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32(src + d * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]))
        M = cv2.getPerspectiveTransform(src, dst)
        R = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), 1.0), [0, 0, 1]])
        img = cv2.warpPerspective(img, (R @ M).astype(np.float64), (w, h), borderMode=cv2.BORDER_REFLECT_101)
    # optics and sensor
    strong = kind in ("noise", "all")
    blur = rng.uniform(0.8, 2.5) if strong else rng.uniform(0.3, 1.2)
    img = cv2.GaussianBlur(img, (0, 0), blur * max(1.0, w / 1000))
    sigma = rng.uniform(5, 14) if strong else rng.uniform(1, 4)
    img += (sigma * rng.standard_normal((h, w), dtype=np.float32))[..., None]
    img += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(sigma / 3)  # chroma noise
    img = np.clip(img, 0, 255).astype(np.uint8)
    q = int(rng.integers(25, 60)) if strong else int(rng.integers(80, 96))
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


# ------------------------------------------------------------------------------------------------------------
# Pipelines
# ------------------------------------------------------------------------------------------------------------


def to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def tutorial(image: np.ndarray) -> np.ndarray:
    """The tutorial's step: the whole image to grey, resized to 28x28, / 255, no inversion -> (28, 28) float32."""
    return cv2.resize(to_grey(image), (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def resize_inverted(image: np.ndarray) -> np.ndarray:
    """The usual fix: as the tutorial, inverted when most of the picture is light (dark ink on paper)."""
    x = tutorial(image)
    return 1.0 - x if float(np.median(x)) > 0.5 else x


def ours_digit(digits: list) -> np.ndarray | None:
    i = pp.most_prominent(digits)
    return None if i is None else digits[i].image


# ------------------------------------------------------------------------------------------------------------
# Model
# ------------------------------------------------------------------------------------------------------------


def load_predict(model_path: str | None) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """A function (N, 28, 28, 1) float32 -> (N, 10) probabilities, and the model's description."""
    try:
        from mnist_core.digits.recognize import load_recognizer

        rec = load_recognizer(model_path)
        return rec.predict, str(model_path or "models/default.keras (load_recognizer)")
    except ImportError:
        import keras

        path = model_path or str(ROOT / "models" / "default.keras")
        model = keras.models.load_model(path, compile=False)
        return (lambda x: np.asarray(model.predict(x, batch_size=512, verbose=0))), path


# ------------------------------------------------------------------------------------------------------------
# Run
# ------------------------------------------------------------------------------------------------------------

CANVAS = {
    "canvas: typical (250-650 px digit anywhere, strokes 8-16% of its height)": "typical",
    "canvas: small digit (50-140 px) off-centre": "small",
    "canvas: thin brush (2-5 px), redrawn along the skeleton": "thin",
    "canvas: thick marker (16-24% of the height)": "thick",
    "canvas: any brush colour, dark-theme composite only": "colour",
}
PHOTO = {
    "photo: clean (paper, mild blur, noise, JPEG 80-95)": "clean",
    "photo: gradient light and a soft shadow": "light",
    "photo: paper texture, strong noise and blur, JPEG 25-60": "noise",
    "photo: rotation +-10 deg and perspective": "geometry",
    "photo: ruled paper and the sheet's edge": "ruled",
    "photo: squared paper": "squared",
    "photo: the sheet's edge and table in view": "edge",
    "photo: dust and specks": "dust",
    "photo: small digit (4-9% of the height) in a 1400-2000 px photo": "small",
    "photo: chalk on a board (light ink on dark)": "chalk",
    "photo: all of the above at once": "all",
}


def evaluate(predict, rows, name: str, inputs: list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]) -> np.ndarray:
    """inputs: (label, tutorial 28x28, resize+invert 28x28, ours 28x28 or None) -> a row of accuracies; returns
    what "ours" answered for each input (-1: no digit found)."""
    labels = np.array([t[0] for t in inputs])
    res = []
    for k in (1, 2):
        x = np.stack([t[k] for t in inputs])[..., None].astype(np.float32)
        res.append(float((predict(x).argmax(1) == labels).mean()))
    found = np.array([t[3] is not None for t in inputs])
    answer = np.full(len(inputs), -1)
    if found.any():
        x = np.stack([t[3] for t in inputs if t[3] is not None])[..., None].astype(np.float32)
        answer[found] = predict(x).argmax(1)
    res.append(float((answer == labels).mean()))
    rows.append((name, len(inputs), *res, float(1 - found.mean())))
    log(f"{name:70s} n={len(inputs):5d}  tutorial {res[0]:.2%}  resize+inv {res[1]:.2%}  ours {res[2]:.2%}  "
        f"none {1 - found.mean():.1%}")
    return answer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=500, help="digits per condition (default 500)")
    ap.add_argument("--model", default=None, help="a .keras model (default: models/default.keras)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", default=str(ROOT / "benchmarks" / "out" / "robustness"),
                    help="folder for a few example inputs and what each pipeline made of them")
    ap.add_argument("--only", default="", help="run only conditions whose name contains this")
    ap.add_argument("--no-model", action="store_true", help="only build inputs and save examples")
    ap.add_argument("--out", default=None,
                    help="write the results table (markdown) here; a file holding the markers "
                         f"{TABLE_BEGIN} and {TABLE_END} keeps everything outside them")
    ap.add_argument("--failures", type=int, default=12,
                    help="save up to this many of ours' mistakes per condition beside the examples (default 12)")
    ap.add_argument("--speed-only", action="store_true", help="only time the canvas preprocessing")
    args = ap.parse_args(argv)

    mnist_path = DATA / "mnist.npz"
    if not mnist_path.exists():
        print(f"MNIST not found at {mnist_path}; nothing to measure", file=sys.stderr)
        return 2
    d = np.load(mnist_path)
    started, load_start = time.perf_counter(), os.getloadavg()
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(d["x_test"]), size=min(args.n, len(d["x_test"])), replace=False)
    xs, ys = d["x_test"][idx], d["y_test"][idx].astype(int)
    t0 = time.perf_counter()
    items = [Item(int(y), skeleton_segments(x), x) for x, y in zip(xs, ys)]
    font_items = []
    for i in range(args.n):
        lab = int(rng.integers(0, 10))
        font_items.append(Item(lab, font_segments(lab, FONTS[i % len(FONTS)], bool(rng.integers(0, 2)))))
    log(f"skeletons: {time.perf_counter() - t0:.1f} s")

    predict = None
    desc = "(none)"
    if not (args.no_model or args.speed_only):
        predict, desc = load_predict(args.model)
    ex_dir = Path(args.examples)
    ex_dir.mkdir(parents=True, exist_ok=True)
    for old in ex_dir.glob("*_fail_*"):  # mistakes of an earlier run
        old.unlink()
    rows: list[tuple] = []
    reference = None
    if predict is not None:
        # The model's own accuracy on all 10,000 MNIST test digits, fed as they are (/ 255): the aim is "ours"
        # within one point of this on every condition.
        ref = predict((d["x_test"].astype(np.float32) / 255)[..., None])
        reference = float((ref.argmax(1) == d["y_test"]).mean())
        log(f"model on the 10,000 MNIST test digits as they are: {reference:.2%}")

    def save_example(tag: str, shown: np.ndarray, outs: list[np.ndarray | None]) -> None:
        small = shown if max(shown.shape[:2]) <= 800 else cv2.resize(shown, None, fx=800 / max(shown.shape[:2]), fy=800 / max(shown.shape[:2]), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(ex_dir / f"{tag}.jpg"), small[..., ::-1] if small.ndim == 3 else small)
        tiles = [np.zeros((28, 28), np.float32) if o is None else o for o in outs]
        strip = cv2.resize(np.hstack(tiles), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(ex_dir / f"{tag}_28.png"), (strip * 255).astype(np.uint8))

    def thumbnail(shown: np.ndarray) -> bytes:
        """The input as a JPEG at most 600 px a side, kept in memory in case ours gets it wrong."""
        f = min(1.0, 600 / max(shown.shape[:2]))
        small = cv2.resize(shown, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else shown
        return cv2.imencode(".jpg", small[..., ::-1] if small.ndim == 3 else small, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]

    def run(name: str, build: Callable[[Item, int], tuple[np.ndarray, Callable[[], list]]], src: list[Item]) -> None:
        if args.speed_only or (args.only and args.only not in name):
            return
        inputs, thumbs = [], []
        t = time.perf_counter()
        tag = "".join(ch if ch.isalnum() else "_" for ch in name)[:40]
        for i, it in enumerate(src):
            shown, ours = build(it, i)
            o = ours_digit(ours())
            inputs.append((it.label, tutorial(shown), resize_inverted(shown), o))
            thumbs.append(thumbnail(shown) if args.failures else None)
            if i < 3:
                save_example(f"{tag}_{i}", shown, [inputs[-1][1], inputs[-1][2], o])
        log(f"  built and preprocessed in {time.perf_counter() - t:.1f} s")
        if predict is not None:
            answer = evaluate(predict, rows, name, inputs)
            # ours' mistakes: the input (as a JPEG thumbnail) and the 28x28 it became, named label and answer
            for i in np.flatnonzero(answer != np.array([t[0] for t in inputs]))[: args.failures]:
                stem = f"{tag}_fail_{i}_label{inputs[i][0]}_ours{'none' if answer[i] < 0 else answer[i]}"
                (ex_dir / f"{stem}.jpg").write_bytes(thumbs[i].tobytes())
                o = inputs[i][3]
                big = cv2.resize(np.zeros((28, 28), np.float32) if o is None else o, None, fx=4, fy=4,
                                 interpolation=cv2.INTER_NEAREST)
                cv2.imwrite(str(ex_dir / f"{stem}_28.png"), (big * 255).astype(np.uint8))

    # plain MNIST (the reference) and small bitmaps
    run("MNIST test digits as they are (28x28)", lambda it, i: (it.raw, lambda: pp.photo_to_mnist(it.raw)), items)
    run("MNIST digits shrunk to 16x16 bitmaps",
        lambda it, i: (b := cv2.resize(it.raw, (16, 16), interpolation=cv2.INTER_AREA),
                       lambda: pp.photo_to_mnist(b)), items)
    run("MNIST digits as 32x32 dark-on-white bitmaps",
        lambda it, i: (b := (255 - np.pad(it.raw, 2)).astype(np.uint8), lambda: pp.photo_to_mnist(b)), items)

    # The ceiling of the redrawn inputs below: each digit redrawn from its skeleton straight at MNIST's scale
    # (pen 2.2 px of 28). What thinning loses (a blob of a 3, a closed loop) no preprocessing can bring back.
    def redrawn(it, i):
        big = np.zeros((112, 112), np.uint8)  # 4x the 28x28, area-downscaled below like MNIST's anti-aliasing
        draw_segments(big, it.segs, 8, 8 + 4.4, 80 - 8.8, 9)
        small = cv2.resize(big, (28, 28), interpolation=cv2.INTER_AREA)
        return small, (lambda: pp.photo_to_mnist(small))
    run("MNIST digits redrawn from their skeleton at 28x28 (the ceiling of redrawn inputs)", redrawn, items)

    # canvases
    for name, kind in CANVAS.items():
        def build(it, i, kind=kind):
            layer, comp = make_canvas(it, rng, kind)
            if kind == "colour":
                dark = dark_composite(layer)
                return comp, (lambda: pp.canvas_to_mnist(None, dark))
            return comp, (lambda: pp.canvas_to_mnist([layer]))
        run(name, build, items)
    run("canvas: Hershey-font digits, typical", lambda it, i: (lambda lc: (lc[1], lambda: pp.canvas_to_mnist([lc[0]])))(make_canvas(it, rng, "typical")), font_items)

    # photos
    for name, kind in PHOTO.items():
        def build(it, i, kind=kind):
            ph = make_photo(it, rng, kind)
            return ph, (lambda: pp.photo_to_mnist(ph))
        run(name, build, items)
    run("photo: Hershey-font digits, clean", lambda it, i: (ph := make_photo(it, rng, "clean"), lambda: pp.photo_to_mnist(ph)), font_items)

    # USPS
    usps_path = DATA / "usps.npz"
    if usps_path.exists() and not args.speed_only and (not args.only or args.only in "USPS"):
        u = np.load(usps_path)
        test = u["split"] == "test"
        ux, uy = u["images"][test], u["labels"][test].astype(int)
        uitems = [Item(int(y), np.zeros((0, 2, 2), np.float32), x) for x, y in zip(ux, uy)]
        run(f"USPS test split (16x16, ink bright, all {len(uitems)})", lambda it, i: (it.raw, lambda: pp.photo_to_mnist(it.raw)), uitems)
        # The training split is no more ours than the test split (nothing here was trained on either); it is
        # easier (USPS's test writers are known to be harder to read, by people too).
        tr = u["split"] == "train"
        titems = [Item(int(y), np.zeros((0, 2, 2), np.float32), x) for x, y in zip(u["images"][tr], u["labels"][tr])]
        run(f"USPS training split (never trained on; all {len(titems)})", lambda it, i: (it.raw, lambda: pp.photo_to_mnist(it.raw)), titems)

    # canvas preprocessing time (p50 over 200 runs, 800x800 RGBA layer)
    # (wall time, and CPU time of this process, which a busy shared machine inflates less)
    layer, _ = make_canvas(items[0], np.random.default_rng(1), "typical")
    ts, cpu = [], []
    for _ in range(220):
        t, c = time.perf_counter(), time.process_time()
        pp.canvas_to_mnist([layer])
        ts.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    ts, cpu = np.array(ts[20:]) * 1e3, np.array(cpu[20:]) * 1e3
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    timing = (f"canvas_to_mnist on an 800x800 RGBA layer: p50 {np.median(ts):.2f} ms, p90 {np.percentile(ts, 90):.2f} ms "
              f"wall, p50 {np.median(cpu):.2f} ms CPU (200 runs after 20 warm-up; load averages {load})")
    log(timing)

    log(f"total {time.perf_counter() - started:.0f} s")
    if args.out and rows:
        write_table(Path(args.out), rows, args, desc, timing, reference, load_start, time.perf_counter() - started)
    return 0


TABLE_BEGIN, TABLE_END = "<!-- robustness table: begin -->", "<!-- robustness table: end -->"


def write_table(path: Path, rows: list[tuple], args, desc: str, timing: str, reference: float | None,
                load_start: tuple[float, float, float], seconds: float) -> None:
    """The results as Markdown: into `path` between TABLE_BEGIN and TABLE_END when it holds them (the text
    around is kept), else the whole file."""
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout.strip()
    cpu = cpu.split(":", 1)[-1].strip() or platform.processor()
    loads = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
    try:
        out = os.path.relpath(path, ROOT)
    except ValueError:
        out = str(path)
    ref = f"{reference:.2%}" if reference is not None else "?"
    lines = [
        f"Command: `python benchmarks/robustness.py --n {args.n} --seed {args.seed}"
        + (f" --model {args.model}" if args.model else "") + (f" --only '{args.only}'" if args.only else "")
        + f" --out {out}` ({seconds / 60:.0f} min)  ",
        f"Model: {desc}; on the 10,000 MNIST test digits as they are: **{ref}**  ",
        f"Machine: {cpu}, {os.cpu_count()} logical CPUs (shared), Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}; load averages {loads(load_start)} at the start, {loads(os.getloadavg())} at the end",
        "",
        "Accuracy of the model on what each pipeline made of the inputs (\"no digit\" counts as wrong). "
        "\"ours - ref\": ours minus the model's plain-MNIST accuracy; ✓ within one point of it.",
        "",
        "| condition | n | tutorial | resize+invert | ours | ours - ref | ours: no digit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, a, b, c, none in rows:
        gap = "" if reference is None else f"{100 * (c - reference):+.1f} {'✓' if c >= reference - 0.01 else '✗'}"
        lines.append(f"| {name} | {n} | {a:.1%} | {b:.1%} | **{c:.1%}** | {gap} | {none:.1%} |")
    lines += ["", f"Speed (reported, not a target here): {timing}."]
    write_between(path, TABLE_BEGIN, TABLE_END, "\n".join(lines))


def write_between(path: Path, begin: str, end: str, table: str) -> None:
    """Put `table` into `path` between the markers `begin` and `end`, keeping the text around them; a file
    without them becomes the table between new markers."""
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]
    else:
        text = begin + "\n" + table + "\n" + end + "\n"
    path.write_text(text)
    log(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
