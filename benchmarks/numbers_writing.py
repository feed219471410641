"""Numbers as a held-out writer would write them, for benchmarks/bench_numbers.py: on the canvas, on paper, on cheques.

A number is drawn with one writer's own digits as written (unit height, no distortion), at the writer's own small size
and baseline wobble, with separators drawn as strokes; `paper_photo` and `cheque_crop` photograph such a line;
`number_text` and `amount_text` draw what is written.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core.train import pen  # noqa: E402
from realworld import form_paper, lay_ink  # noqa: E402
from robustness import blend, smooth_noise  # noqa: E402

def sep_strokes(ch: str) -> tuple[list[np.ndarray], float]:
    """A separator's strokes in a unit-height digit frame (y down, baseline at 1) and its width."""
    a = lambda *p: np.array(p, np.float32)  # noqa: E731
    return {".": ([a([0.0, 0.93], [0.03, 0.96])], 0.05), ",": ([a([0.05, 0.9], [0.0, 1.1])], 0.06),
            "-": ([a([0.0, 0.55], [0.35, 0.53])], 0.35), "=": ([a([0.0, 0.45], [0.4, 0.45]), a([0.0, 0.65], [0.4, 0.65])], 0.4),
            "/": ([a([0.35, 0.0], [0.0, 1.0])], 0.35), " ": ([], 0.45)}[ch]


def write(text: str, digits_by_label: dict[int, list[pen.PenDigit]], rng: np.random.Generator, gap: tuple[float, float],
          height: float, pen_px: float, shape: tuple[int, int] | None = None
          ) -> tuple[np.ndarray, float, list[np.ndarray]]:
    """`text` written by one writer with a `pen_px` round pen, `height` px tall (less when it would not fit across
    `shape`): uint8 ink (`shape`, or a tight sheet), the height used, and the strokes as written there (each (K, 2)
    float32 in the ink's pixels, in writing order, separators' too: what the page's canvas records)."""
    parts, widths = [], []
    for ch in text:
        if ch.isdigit():
            d = digits_by_label[int(ch)][int(rng.integers(len(digits_by_label[int(ch)])))]
            s = pen.distort(d.strokes, rng, 0.0)  # as written: unit height, no change
            widths.append(float(np.concatenate(s)[:, 0].max()))
            parts.append((s, 1 + rng.uniform(-0.05, 0.05), rng.uniform(-0.04, 0.04), rng.uniform(*gap)))
        else:
            parts.append((ch, 1.0, 0.0, 0.0))
    mean_w = float(np.mean(widths)) if widths else 0.6

    def layout(h: float) -> tuple[list, float]:
        # Positions in digit heights. A gap is between the ink's edges: the pen's width is added between centres.
        x, placed, end = 0.0, [], 0.0
        for what, k, dy, g in parts:
            if isinstance(what, str):
                strokes, w = sep_strokes(what)
                placed.append((strokes, x + 0.12, 0.0, 1.0))
                end = x + 0.12 + w
                x = end + 0.12
            else:
                placed.append((what, x, dy + (1 - k), k))
                end = x + float(np.concatenate(what)[:, 0].max()) * k
                x = end + g * mean_w + pen_px / h
        return placed, end

    placed, total = layout(height)
    if shape is not None:
        for _ in range(3):  # shrink until the number fits across the canvas
            room = shape[1] - pen_px - 12
            if total * height <= room:
                break
            height = room / total
            placed, total = layout(height)
    if shape is None:
        H, W = int(height * 1.6 + pen_px + 8), int(total * height + pen_px + 16)
        ox, oy = pen_px / 2 + 8, height * 0.3
    else:
        H, W = shape
        ox = rng.uniform(pen_px / 2 + 4, max(pen_px / 2 + 5, W - total * height - pen_px / 2 - 4))
        oy = rng.uniform(pen_px / 2 + 4 + 0.1 * height, max(pen_px / 2 + 5 + 0.1 * height, H - 1.2 * height - pen_px))
    ink = np.zeros((H, W), np.uint8)
    written = []
    for strokes, x0, y0, k in placed:
        if strokes:
            unit, at = [s * np.float32(k) for s in strokes], (ox + x0 * height, oy + y0 * height)
            pen._polylines(ink, unit, height, *at, pen_px)
            written += [(u * height + np.array(at, np.float32)).astype(np.float32) for u in unit]
    return ink, height, written


def writers_with_all_digits(held: list[pen.PenDigit]) -> list[dict[int, list[pen.PenDigit]]]:
    """Held-out writers who wrote every digit, each as {label: their digits}."""
    by = collections.defaultdict(lambda: collections.defaultdict(list))
    for d in held:
        by[d.writer][d.label].append(d)
    return [dict(v) for _, v in sorted(by.items()) if len(v) == 10]


def writer_of(hand: dict[int, list[pen.PenDigit]]) -> str:
    """The name of the writer whose digits `hand` holds."""
    return next(iter(hand.values()))[0].writer


def canvas_number(text: str, hand: dict, rng: np.random.Generator, gap: tuple[float, float]
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The 400x400 sketchpad layer (RGBA) with `text` written across it as one writer writes, and its strokes in
    the canvas's pixels."""
    brush = float(rng.choice([6, 12, 20]))
    digits = sum(c.isdigit() for c in text)
    others = len(text) - digits
    est = digits * 0.75 + others * 0.45  # width in digit heights, roughly
    height = min(rng.uniform(70, 150), 350 / max(est, 1e-3))
    ink, _, strokes = write(text, hand, rng, gap, height, brush, (400, 400))
    layer = np.zeros((400, 400, 4), np.uint8)
    layer[..., 3] = ink
    return layer, strokes


def paper_photo(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink (tight sheet) written on paper and photographed: colour, grain, ruled lines, light, blur, noise, JPEG."""
    ih, iw = ink.shape
    W = int(iw * rng.uniform(1.3, 1.8))
    H = int(max(ih * rng.uniform(2.0, 3.5), W * rng.uniform(0.35, 0.7)))
    full = np.zeros((H, W), np.uint8)
    y0, x0 = int(rng.uniform(0.15, 0.6) * (H - ih)), int(rng.uniform(0.1, 0.9) * (W - iw))
    full[y0:y0 + ih, x0:x0 + iw] = ink
    base = rng.uniform(200, 250)
    img = np.empty((H, W, 3), np.float32)
    img[:] = np.array([base, base - rng.uniform(0, 10), base - rng.uniform(0, 25)], np.float32)
    img += (rng.uniform(1, 6) * smooth_noise(rng, H, W, rng.uniform(4, 25)))[..., None]
    if rng.random() < 0.4:  # ruled paper
        spacing = ih * rng.uniform(0.5, 0.9)
        layer = np.zeros((H, W), np.uint8)
        for yy in np.arange(rng.uniform(0, spacing), H, spacing):
            cv2.line(layer, (0, int(yy)), (W - 1, int(yy)), 255, int(rng.integers(1, 3)), cv2.LINE_AA)
        blend(img, layer.astype(np.float32) / 255, np.array([rng.uniform(140, 200), rng.uniform(160, 210), 230], np.float32))
    blend(img, full.astype(np.float32) / 255,
          np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(20, 110)], np.float32))
    ang = rng.uniform(0, 2 * np.pi)
    ramp = np.add.outer(np.sin(ang) * (np.arange(H, dtype=np.float32) / H - 0.5),
                        np.cos(ang) * (np.arange(W, dtype=np.float32) / W - 0.5)) + 0.5
    img *= (1 - np.float32(rng.uniform(0.0, 0.4)) * np.clip(ramp, 0, 1))[..., None]
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.5) * max(1.0, W / 1000))
    img += (rng.uniform(1, 6) * rng.standard_normal((H, W), dtype=np.float32))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def cheque_crop(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An amount cut tightly from a scanned cheque: grey paper with a printed pattern (waves or a dot screen),
    often a ruled line, ink a little blurred and noisy; the crop 24-64 px tall, JPEG half the time (grey uint8)."""
    H, W = ink.shape
    img, paper = form_paper(H, W, rng, wave=(0.1, 0.4))
    rows = np.flatnonzero(ink.max(axis=1) > 100)
    if rng.random() < 0.6 and rows.size:
        ly = int(min(H - 2, rows[-1] + rng.uniform(-0.05, 0.1) * (rows[-1] - rows[0])))
        cv2.line(img, (0, ly), (W - 1, ly), float(paper - rng.uniform(40, 110)), int(rng.integers(1, 3)))
    img = lay_ink(img, ink, rng)
    ys, xs = np.nonzero(ink > 100)
    m = lambda: int(rng.uniform(0.02, 0.12) * (ys.max() - ys.min()))  # noqa: E731 (tight, a little paper round)
    crop = img[max(0, ys.min() - m()):ys.max() + 1 + m(), max(0, xs.min() - m()):xs.max() + 1 + m()]
    f = rng.uniform(24, 64) / crop.shape[0]
    crop = cv2.resize(np.clip(crop, 0, 255).astype(np.uint8), (max(8, int(crop.shape[1] * f)), max(8, int(crop.shape[0] * f))),
                      interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = cv2.imdecode(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 95))])[1],
                            cv2.IMREAD_GRAYSCALE)
    return crop


def amount_text(rng: np.random.Generator) -> str:
    """A cheque amount: 2-7 digits, zeros common, a dot or a dash between groups, a `.-` or `=` after it often."""
    n = int(rng.integers(2, 8))
    digits = "".join(str(int(d)) if rng.random() < 0.7 else "0" for d in rng.integers(0, 10, n))
    if n >= 4 and rng.random() < 0.6:
        k = n - 3 if rng.random() < 0.5 else n - 2
        digits = digits[:k] + str(rng.choice([".", "-", ","])) + digits[k:]
    return digits + str(rng.choice(["", ".-", "=", "-", ".-"]))


def number_text(rng: np.random.Generator, n: int, separators: bool) -> str:
    """`n` random digits; with separators, as an amount, a date or a fraction."""
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, n))
    if not separators:
        return digits
    k = int(rng.integers(0, 5))
    if k == 0 and n >= 4:
        t = ",".join([digits[:n % 3 or 3]] + [digits[i:i + 3] for i in range(n % 3 or 3, n, 3)])
    elif k == 1 and n >= 3:
        t = digits[:-2] + "." + digits[-2:]
    elif k == 2 and n >= 2:
        t = digits[: n // 2] + "/" + digits[n // 2:]
    elif k == 3 and n >= 3:
        t = digits[: n // 2] + "-" + digits[n // 2:]
    else:
        t = digits[: n // 2] + " " + digits[n // 2:]
    return t + str(rng.choice(["", "", ".-", "=", "-"]))
