"""Real pen handwriting: trajectories loaded, whole writers held out, digits drawn as people draw them.

The pen data are digits written with a pen on a tablet by writers MNIST never saw (UCI pendigits, UNIPEN): a
digit is its strokes, each a polyline. Drawing those strokes with a round brush is exactly what the studio's
sketchpad receives, so they serve three purposes:

- training data from other populations of writers (`training_digits`: each digit drawn several times with a
  random slant, aspect, elastic wobble and brush, then normalised like the canvas path);
- the real-handwriting benchmark (`draw_layer`: a 400x400 sketchpad layer, as a person draws it);
- a compact form shipped with the project (`save_compact` / `load_pen`), so that training reproduces the
  shipped recipe offline.

Arrays in, arrays out; no TensorFlow here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mnist_core.store.cache import cached
from mnist_core.config import PROJECT_ROOT
from mnist_core.digits import bitmap_to_mnist, normalize_digit

# The pen digits the shipped recipe trains on: the training writers of both sets (CC BY 4.0, credited in
# README.md), in the compact form of `save_compact`.
SHIPPED = PROJECT_ROOT / "mnist_core" / "assets" / "pen_train.npz"
# The full files on development machines (../shared/data/pen beside the project): never shipped as they are.
SHARED = PROJECT_ROOT.parent / "shared" / "data" / "pen"


@dataclass(frozen=True)
class PenDigit:
    """One handwritten digit as written: its strokes in the writer's own units, y pointing down."""

    label: int
    strokes: tuple[np.ndarray, ...]  # each (K, 2) float32 (x, y), y down like image rows
    writer: str
    source: str  # the data set ("pendigits") or UNIPEN's lab code


# ----------------------------------------------------------------------------------------------------------
# Loading and splitting
# ----------------------------------------------------------------------------------------------------------


def _from_json(path: Path) -> list[PenDigit]:
    with gzip.open(path, "rt") as f:
        rows = json.load(f)
    out = []
    for r in rows:
        strokes = []
        for s in r["strokes"]:
            a = np.asarray(s, np.float32).reshape(-1, 2)
            a[:, 1] *= -1.0  # the files' y points up; images' rows go down
            strokes.append(a)
        writer = str(r["writer"])
        out.append(PenDigit(int(r["label"]), tuple(strokes), writer, str(r.get("source", writer.split("-")[0]))))
    return out


def save_compact(digits: list[PenDigit], path: str | os.PathLike) -> None:
    """Write digits compactly: each scaled into a 0-255 box (aspect kept), simplified to 1 unit, as uint8."""
    points, lengths, counts = [], [], []
    writers = sorted({d.writer for d in digits})
    sources = sorted({d.source for d in digits})
    for d in digits:
        allp = np.concatenate(d.strokes)
        lo = allp.min(axis=0)
        k = 255.0 / max(float((allp.max(axis=0) - lo).max()), 1e-6)
        n = 0
        for s in d.strokes:
            q = np.round((s - lo) * k).astype(np.int32)
            q = cv2.approxPolyDP(q.reshape(-1, 1, 2), 1.0, False).reshape(-1, 2)
            points.append(q.astype(np.uint8))
            lengths.append(len(q))
            n += 1
        counts.append(n)
    np.savez_compressed(
        path,
        labels=np.array([d.label for d in digits], np.uint8),
        writer=np.array([writers.index(d.writer) for d in digits], np.uint16),
        source=np.array([sources.index(d.source) for d in digits], np.uint8),
        writers=np.array(writers),
        sources=np.array(sources),
        strokes_per_digit=np.array(counts, np.uint8),
        stroke_lengths=np.array(lengths, np.uint16),
        points=np.concatenate(points),
    )


def _from_compact(path: Path) -> list[PenDigit]:
    with np.load(path, allow_pickle=False) as f:
        labels, writer, source = f["labels"], f["writer"], f["source"]
        writers, sources = [str(w) for w in f["writers"]], [str(s) for s in f["sources"]]
        counts, lengths, points = f["strokes_per_digit"], f["stroke_lengths"], f["points"].astype(np.float32)
    ends = np.cumsum(lengths)
    strokes = np.split(points, ends[:-1])
    out, i = [], 0
    for j, n in enumerate(counts.tolist()):
        out.append(PenDigit(int(labels[j]), tuple(strokes[i:i + n]), writers[writer[j]], sources[source[j]]))
        i += n
    return out


def load_pen(path: str | os.PathLike) -> list[PenDigit]:
    """Read pen digits: the shared layout (.json.gz, y up) or the compact shipped form (.npz)."""
    p = Path(path)
    return _from_compact(p) if p.suffix == ".npz" else _from_json(p)


def load_shipped() -> list[PenDigit]:
    """The pen digits of the training writers that ship with the project ([] if the file is missing)."""
    return load_pen(SHIPPED) if SHIPPED.is_file() else []


def pen_note() -> str:
    """One line on the shipped pen digits for people (how many, how many writers, whose), read cheaply."""
    if not SHIPPED.is_file():
        return "none (the shipped pen digits are missing: training uses MNIST alone)"
    with np.load(SHIPPED, allow_pickle=False) as f:
        n, writers = len(f["labels"]), len(f["writers"])
    return f"{n:,} pen digits by {writers} writers (UCI pendigits, UNIPEN; CC BY 4.0), shipped with the studio"


def is_held_out(writer: str, fraction: float = 1 / 3) -> bool:
    """Whether a writer belongs to the held-out third: a fixed hash of the name, the same on every machine."""
    h = int.from_bytes(hashlib.sha1(writer.encode()).digest()[:4], "big")
    return h / 2**32 < fraction


def split_writers(digits: list[PenDigit], fraction: float = 1 / 3) -> tuple[list[PenDigit], list[PenDigit]]:
    """(training writers' digits, held-out writers' digits): whole writers, never single digits."""
    train = [d for d in digits if not is_held_out(d.writer, fraction)]
    test = [d for d in digits if is_held_out(d.writer, fraction)]
    return train, test


# ----------------------------------------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------------------------------------


def _unit(strokes: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Strokes shifted and scaled so the digit's ink box is 1 tall (x keeps its proportion), top-left at 0."""
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    h = max(float(hi[1] - lo[1]), 1e-3 * max(float(hi[0] - lo[0]), 1e-6), 1e-6)
    return [(s - lo) / h for s in strokes]


def distort(strokes: tuple[np.ndarray, ...] | list[np.ndarray], rng: np.random.Generator,
            strength: float = 1.0) -> list[np.ndarray]:
    """Another hand's version of the same digit: slant, rotation, aspect squeeze or stretch and a smooth
    elastic wobble of the trajectory; `strength` 0 leaves it as written. Returns unit-height strokes."""
    u = _unit(tuple(strokes))
    if strength <= 0:
        return u
    allp = np.concatenate(u)
    c = (allp.min(axis=0) + allp.max(axis=0)) / 2
    ang = np.deg2rad(rng.uniform(-10, 10) * strength)
    shear = rng.uniform(-0.3, 0.3) * strength  # slant: x moves with height
    sx = np.exp(rng.uniform(-0.35, 0.3) * strength)  # narrow (a 1 that fills its frame) to wide
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    m = rot @ np.array([[sx, shear], [0.0, 1.0]], np.float32)
    # Elastic wobble: a smooth displacement field (two low sinusoids per axis), up to ~4% of the height.
    amp = 0.04 * strength
    fx, fy = rng.uniform(1.0, 3.0, 2), rng.uniform(1.0, 3.0, 2)
    ph = rng.uniform(0, 2 * np.pi, 4)
    a = rng.uniform(-amp, amp, 4)
    out = []
    for s in u:
        p = (s - c) @ m.T
        dx = a[0] * np.sin(fx[0] * np.pi * p[:, 1] + ph[0]) + a[1] * np.sin(fx[1] * np.pi * p[:, 0] + ph[1])
        dy = a[2] * np.sin(fy[0] * np.pi * p[:, 0] + ph[2]) + a[3] * np.sin(fy[1] * np.pi * p[:, 1] + ph[3])
        out.append(p + np.stack([dx, dy], axis=1).astype(np.float32))
    return _unit(tuple(out))


def _polylines(mask: np.ndarray, strokes: list[np.ndarray], scale: float, x: float, y: float, pen: float) -> None:
    """Draw unit-height strokes into a uint8 mask with a round anti-aliased pen `pen` px wide."""
    t = max(1, int(round(pen)))
    pts = [np.round((s * scale + np.array([x, y], np.float32)) * 16).astype(np.int32) for s in strokes]
    cv2.polylines(mask, pts, False, 255, thickness=t, lineType=cv2.LINE_AA, shift=4)
    for p in pts:
        if len(p) == 1 or (np.abs(p - p[0]).max() < 16):  # a dot (the stroke of a tap): a round blob
            cv2.circle(mask, tuple(int(v) for v in p[0]), 8 * t, 255, -1, cv2.LINE_AA, shift=4)


def draw_ink(strokes: list[np.ndarray], height: float, pen: float) -> np.ndarray:
    """Unit-height strokes drawn `height` px tall with a round pen: a tight uint8 patch, a pen's margin round."""
    w = max(float(np.concatenate(strokes)[:, 0].max()), 0.0)
    m = pen / 2 + 2
    patch = np.zeros((int(height + 2 * m) + 1, int(w * height + 2 * m) + 1), np.uint8)
    _polylines(patch, strokes, height, m, m, pen)
    return patch


def draw_layer(strokes: tuple[np.ndarray, ...] | list[np.ndarray], rng: np.random.Generator, side: int = 400,
               height: float | None = None, brush: float | None = None, colour=(0, 0, 0)) -> np.ndarray:
    """The sketchpad's stroke layer (side, side, 4) uint8 RGBA, the digit drawn anywhere on it as written.

    `height` (px, default 90-340 at side 400) is the digit's height, shrunk if its width would leave the canvas;
    `brush` (px, default one of the sketchpad's common 6 / 12 / 20 at side 400) the pen's diameter.
    """
    k = side / 400
    u = _unit(tuple(strokes))
    width = float(np.concatenate(u)[:, 0].max())
    brush = float(brush if brush is not None else rng.choice([6, 12, 20]) * k)
    height = float(height if height is not None else rng.uniform(90, 340) * k)
    room = side - brush - 4
    height = min(height, room, room / max(width, 1e-6))
    x = rng.uniform(brush / 2 + 2, max(brush / 2 + 3, side - brush / 2 - 2 - width * height))
    y = rng.uniform(brush / 2 + 2, max(brush / 2 + 3, side - brush / 2 - 2 - height))
    alpha = np.zeros((side, side), np.uint8)
    _polylines(alpha, u, height, x, y, brush)
    layer = np.zeros((side, side, 4), np.uint8)
    layer[..., :3] = np.asarray(colour, np.uint8)
    layer[..., 3] = alpha
    return layer


def written(d: PenDigit, rng: np.random.Generator, conventions: float = 0.0):
    """The digit's strokes as written or, with chance `conventions` times each convention's share, redrawn in one
    of its label's other-population conventions (`synth.with_conventions`: a continental 1, a crossed 7, ...);
    0 leaves the generator untouched, so the drawings are those of a run without conventions."""
    if conventions <= 0:
        return d.strokes
    from mnist_core.train.synth import with_conventions  # noqa: PLC0415 (numpy only, but not needed without)

    return with_conventions(d.strokes, d.label, rng, conventions)


def canvas_sample(d: PenDigit, rng: np.random.Generator, strength: float = 1.0,
                  conventions: float = 0.0) -> np.ndarray:
    """One random drawing of a pen digit, normalised as the canvas path does: (28, 28) uint8, ink 255.

    The pen spans hairline to marker (1.5-25% of the height, what 6-20 px brushes give on 90-340 px digits,
    and beyond); a tight canvas at 48-160 px tall is what the canvas path sees after its own downscale.
    `conventions`: see `written`.
    """
    strokes = distort(written(d, rng, conventions), rng, strength)
    height = rng.uniform(48, 160)
    pen = max(1.0, height * float(np.exp(rng.uniform(np.log(0.015), np.log(0.25)))))
    img = normalize_digit(draw_ink(strokes, height, pen), adjust_stroke=True)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def crop_sample(d: PenDigit, left: PenDigit, right: PenDigit, rng: np.random.Generator,
                strength: float = 1.0, conventions: float = 0.0) -> np.ndarray:
    """The digit cut tightly from a line between two others (touching, overlapping or apart) on grey, noisy
    paper, 16-64 px tall, read by the small-image path: (28, 28) uint8 with the neighbours' fragments it keeps.
    """
    h = 48.0
    pen = h * rng.uniform(0.04, 0.14)
    shapes = [distort(written(e, rng, conventions), rng, strength) for e in (left, d, right)]
    widths = [float(np.concatenate(s)[:, 0].max()) * h for s in shapes]
    gaps = rng.uniform(-0.15, 0.15, 2) * h
    xs = [pen + 4.0]
    xs += [xs[0] + widths[0] + gaps[0], xs[0] + widths[0] + gaps[0] + widths[1] + gaps[1]]
    W, H = int(xs[2] + widths[2] + pen + 8), int(h * 1.6)
    ink = np.zeros((H, W), np.uint8)
    ys = 0.3 * h + rng.uniform(-0.08, 0.08, 3) * h
    for s, x0, y0 in zip(shapes, xs, ys):
        _polylines(ink, s, h, x0, y0, pen)
    paper = rng.uniform(140, 240)
    img = paper - (paper - rng.uniform(0, 90)) * (ink.astype(np.float32) / 255)
    img += rng.normal(0, rng.uniform(1, 8), img.shape)
    m = rng.uniform(-0.03, 0.15, 4) * h
    x0, x1 = int(max(0, xs[1] - pen / 2 - m[0])), int(min(W, xs[1] + widths[1] + pen / 2 + m[1]))
    y0, y1 = int(max(0, ys[1] - pen / 2 - m[2])), int(min(H, ys[1] + h + pen / 2 + m[3]))
    crop = np.clip(img[y0:y1, x0:x1], 0, 255).astype(np.uint8)
    f = rng.uniform(16, 64) / crop.shape[0]
    crop = cv2.resize(crop, (max(3, int(round(crop.shape[1] * f))), max(8, int(round(crop.shape[0] * f)))),
                      interpolation=cv2.INTER_AREA)
    got = bitmap_to_mnist(crop) if crop.shape[1] <= 1.5 * crop.shape[0] else []
    if not got:  # too faint or too wide to be read as one digit: the plain drawing instead
        return canvas_sample(d, rng, strength, conventions)
    return (np.clip(got[0].image, 0, 1) * 255 + 0.5).astype(np.uint8)


def training_digits(digits: list[PenDigit], renders: int = 2, seed: int = 0, strength: float = 1.0,
                    crops: int = 0, conventions: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Each digit drawn `renders` times at random (see `canvas_sample`) and cut `crops` times from a line
    between two random others (see `crop_sample`), each time in a convention by `conventions` (see `written`):
    x (N, 28, 28) uint8, y (N,) uint8."""
    rng = np.random.default_rng(seed)
    n = len(digits) * (renders + crops)
    x = np.zeros((n, 28, 28), np.uint8)
    y = np.zeros(n, np.uint8)
    i = 0
    for r in range(renders + crops):
        for d in digits:
            if r < renders:
                x[i] = canvas_sample(d, rng, strength, conventions)
            else:
                left, right = (digits[int(k)] for k in rng.integers(0, len(digits), 2))
                x[i] = crop_sample(d, left, right, rng, strength, conventions)
            y[i] = d.label
            i += 1
    return x, y


def training_set(renders: int = 2, seed: int = 0, limit: int | None = None, cache: Path | None = None,
                 crops: int = 0, conventions: float = 0.0) -> tuple[np.ndarray, np.ndarray, str]:
    """The shipped pen digits drawn for training: x (N, 28, 28) uint8, y (N,) uint8, and a description.

    `limit` keeps that many digits spread evenly over the shipped set (a short run); `cache` is a folder where
    the drawn set is kept, keyed by the shipped file's hash and the arguments (drawing 26,000 digits takes ~9 s).
    """
    if not SHIPPED.is_file():
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), "no pen digits (file missing)"
    key = hashlib.sha256(SHIPPED.read_bytes() + f"{renders}/{crops}/{seed}/{limit}/{conventions:g}/v2".encode()).hexdigest()[:16]
    digits = load_shipped()
    if limit is not None:  # spread over all writers, not the first few
        digits = digits[:: max(1, len(digits) // limit)][:limit]
    writers = len({d.writer for d in digits})
    desc = f"{len(digits):,} pen digits by {writers} writers (UCI pendigits, UNIPEN) drawn {renders}x" + (
        f", cut from lines {crops}x" if crops else "") + (
        f", other populations' conventions at {conventions:g}x their shares" if conventions else "")
    f = cached(cache, f"pen-{key}.npz",
               lambda: dict(zip("xy", training_digits(digits, renders, seed, crops=crops, conventions=conventions))))
    return f["x"], f["y"], desc
