"""Lines of handwritten numbers made for the number reader: real digits written side by side as people do.

A line is a number of 1-12 digits by one hand: pen digits of one writer (UCI pendigits, UNIPEN; the shipped
training writers, or any list given) or MNIST digits, written left to right with the spacing people use (from
overlapping to wide gaps), each digit a little taller or lower than its neighbours, one slant for the line,
separators between groups and after the number (`.` `,` `-` `=` `/` and spaces), and a pen from hairline to
marker. It is drawn two ways, as the reader then gets it:

- `canvas`: the ink itself, as the sketchpad's layer gives it (alpha);
- `paper`: ink on plain, ruled, patterned or shaded paper under uneven light, blurred and noisy, then put
  through the photo path (`digits.photo_ink`), whose background removal the reader must live with.

Either way the result is the line's input to the reader (`numbers.line_input`): (32, W) uint8, ink bright,
and its digits as a string. Arrays in, arrays out; no TensorFlow here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mnist_core.digits import ImageError, photo_ink
from mnist_core.numbers import reader as nr
from mnist_core.store.cache import cached
from mnist_core.train.pen import PenDigit, _polylines, distort

SEPARATORS = ".,-=/ "

# How lines are drawn, beyond `LineStyle` (whose repr keys the line cache, so these stay out of it). Fractions of
# a digit's height unless said; they shape the training lines, and the reader trained on them is measured in
# benchmarks/NUMBERS.md.

# A hand is not a ruler: every separator point moves by this (std).
_HAND_JITTER = 0.015
# A separator's strokes in a unit-height digit frame (y down, 0 top, 1 baseline), and its (width, x margin).
_DOT = ([[0.0, 0.95], [0.02, 0.96]], 0.05, 0.05)
_COMMA = ([[0.04, 0.9], [0.03, 1.0], [0.0, 1.12]], 0.06, 0.05)
# Dash, equals sign and slash: width, height (dash, equals) and the equals sign's bar gap drawn from these ranges;
# the x margin is fixed.
_DASH_WIDTH, _DASH_Y, _DASH_TILT, _DASH_MARGIN = (0.25, 0.5), (0.45, 0.65), 0.04, 0.08
_EQUALS_WIDTH, _EQUALS_Y, _EQUALS_GAP, _EQUALS_MARGIN = (0.3, 0.5), (0.4, 0.55), (0.15, 0.25), 0.1
_SLASH_WIDTH, _SLASH_MARGIN = (0.25, 0.45), 0.08
# A space: nothing drawn, a gap this wide.
_SPACE_WIDTH = (0.4, 0.8)
# Grouped numbers: groups of three from the right (1,234,567) this share of the time, else one separator.
_THOUSANDS_SHARE = 0.5

# The line's slant (columns per row, drawn uniformly within +-this) about the row at `_SLANT_PIVOT` of its height.
_SLANT = 0.25
_SLANT_PIVOT = 0.6
# Digits stand `_TOP` of their height below the line's top; the line is `_LINE_HEIGHT` digit heights tall (room for
# a comma's tail and the baseline's jitter). A separator's margins are scaled by a factor within `_MARGIN_SPREAD`.
_TOP = 0.3
_LINE_HEIGHT = 1.75
_MARGIN_SPREAD = (0.5, 1.5)

# Paper (`_paper`): a ruled line at this share of the height (under the digits' baseline); a cheque's guilloche
# waves of this frequency (radians per px) bent by `_WAVE_BEND`; a shade reaching across this share of the width;
# light falling off across the sheet by up to `_LIGHT_FALLOFF`; JPEG this share of the time.
_RULE_AT = (0.72, 0.9)
_WAVE_FREQ = (0.15, 0.5)
_WAVE_BEND = 0.05
_SHADE_REACH = (0.5, 1.5)
_LIGHT_FALLOFF = 0.3
_JPEG_SHARE = 0.5


@dataclass(frozen=True)
class LineStyle:
    """The spread of the made lines (fractions of a digit's height unless said)."""

    # Digits per line, drawn uniformly.
    min_digits: int = 1
    max_digits: int = 12
    # Gap between neighbours' ink: natural writing (slight overlap to a quarter digit apart) most of the time,
    # touching and overlapping often, wide gaps sometimes.
    natural_gap: tuple[float, float] = (-0.12, 0.2)
    tight_gap: tuple[float, float] = (-0.3, 0.0)
    wide_gap: tuple[float, float] = (0.2, 0.9)
    gap_mix: tuple[float, float, float] = (0.55, 0.3, 0.15)  # natural, tight, wide
    # Each digit's height and baseline against the line's (relative jitter).
    size_jitter: float = 0.12
    baseline_jitter: float = 0.08
    # The pen's width: log-uniform from a hairline to a marker (a 20-px brush on a 60-px digit is 0.33).
    pen: tuple[float, float] = (0.02, 0.3)
    # How often a line has separators between groups, and a mark after the number (".-", "=", "-").
    grouped: float = 0.3
    trailing: float = 0.15
    # How much each digit is distorted away from how it was written (see pen.distort).
    strength: float = 0.8
    # Share of the lines drawn on paper (the rest as canvas ink).
    paper: float = 0.35


def _sep_strokes(ch: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float, float]:
    """A separator's strokes in a unit-height digit frame (y down, 0 top, 1 baseline): strokes, width, x margin."""
    j = lambda a: a + rng.normal(0, _HAND_JITTER, a.shape).astype(np.float32)  # noqa: E731
    if ch in ".,":
        points, w, margin = _DOT if ch == "." else _COMMA
        return [j(np.array(points, np.float32))], w, margin
    if ch == "-":
        w = rng.uniform(*_DASH_WIDTH)
        y = rng.uniform(*_DASH_Y)
        return [j(np.array([[0.0, y], [w, y + rng.uniform(-_DASH_TILT, _DASH_TILT)]], np.float32))], w, _DASH_MARGIN
    if ch == "=":
        w = rng.uniform(*_EQUALS_WIDTH)
        y = rng.uniform(*_EQUALS_Y)
        d = rng.uniform(*_EQUALS_GAP)
        bars = [j(np.array([[0.0, y], [w, y]], np.float32)), j(np.array([[0.0, y + d], [w, y + d]], np.float32))]
        return bars, w, _EQUALS_MARGIN
    if ch == "/":
        w = rng.uniform(*_SLASH_WIDTH)
        return [j(np.array([[w, 0.0], [0.0, 1.0]], np.float32))], w, _SLASH_MARGIN
    return [], rng.uniform(*_SPACE_WIDTH), 0.0


def _number_text(rng: np.random.Generator, style: LineStyle) -> str:
    """A digit string with separators where people put them (thousands, dates, decimals, a trailing mark)."""
    n = int(rng.integers(style.min_digits, style.max_digits + 1))
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, n))
    text = digits
    if n >= 3 and rng.random() < style.grouped:
        sep = str(rng.choice(list(SEPARATORS)))
        if rng.random() < _THOUSANDS_SHARE:  # groups of three from the right (1,234,567)
            parts = [digits[max(0, i - 3):i] for i in range(n, 0, -3)][::-1]
        else:  # one separator somewhere (a decimal point, a date's slash)
            k = int(rng.integers(1, n))
            parts = [digits[:k], digits[k:]]
        text = sep.join(parts)
    if rng.random() < style.trailing:
        text += str(rng.choice([".-", "=", "-", ".", ",-"]))
    return text


class Hand:
    """Where a line's digits come from: one pen writer's digits of each class, or MNIST digits."""

    def __init__(self, pen: list[PenDigit] | None = None, mnist: tuple[np.ndarray, np.ndarray] | None = None,
                 pen_share: float = 0.5):
        self.pen_share = pen_share  # share of the lines by a pen writer when there are MNIST digits too
        self.by_writer: dict[str, dict[int, list[PenDigit]]] = {}
        for d in pen or []:
            self.by_writer.setdefault(d.writer, {}).setdefault(d.label, []).append(d)
        self.writers = sorted(self.by_writer)
        self.mnist = None
        if mnist is not None and len(mnist[0]):
            x, y = mnist
            self.mnist = (x, [np.flatnonzero(y == k) for k in range(10)])

    def pick(self, rng: np.random.Generator) -> tuple[str, object]:
        """A hand for one line: ("pen", {label: digits}) or ("mnist", None); pen `pen_share` of the time when both
        are there."""
        if self.writers and (self.mnist is None or rng.random() < self.pen_share):
            return "pen", self.by_writer[self.writers[int(rng.integers(len(self.writers)))]]
        if self.mnist is None:
            raise ValueError("no digits to write lines with")
        return "mnist", None


def _mnist_patch(img: np.ndarray, height: float) -> np.ndarray:
    """An MNIST digit's ink box scaled to `height` px tall (uint8, ink bright)."""
    ys, xs = np.nonzero(img > 20)
    if ys.size == 0:
        return np.zeros((max(1, int(height)), 1), np.uint8)
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    f = height / crop.shape[0]
    return cv2.resize(crop, (max(1, int(round(crop.shape[1] * f))), max(1, int(round(height)))),
                      interpolation=cv2.INTER_LINEAR)


def write_line(text: str, hand: Hand, rng: np.random.Generator, style: LineStyle = LineStyle(),
               height: float | None = None, pen: float | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """`text` (digits and separators) written by one hand: (H, W) uint8 ink and each digit's (x0, x1) columns.

    `height` is a digit's height in px (default 40-90), `pen` the pen's width in px (default from the style).
    """
    kind, pool = hand.pick(rng)
    h = float(height if height is not None else rng.uniform(40, 90))
    p = float(pen if pen is not None else max(1.0, h * np.exp(rng.uniform(*np.log(style.pen)))))
    slant = rng.uniform(-_SLANT, _SLANT)
    gap_kind = int(rng.choice(3, p=list(style.gap_mix)))
    gaps = (style.natural_gap, style.tight_gap, style.wide_gap)[gap_kind]
    pieces = []  # (strokes or patch, x, y, height, is_digit)
    x = p / 2 + 4 + h * abs(slant)
    for ch in text:
        hi = h * (1 + rng.uniform(-style.size_jitter, style.size_jitter))
        y = h * _TOP + h * rng.uniform(-style.baseline_jitter, style.baseline_jitter) + (h - hi)
        if ch.isdigit():
            label = int(ch)
            if kind == "pen" and pool.get(label):
                d = pool[label][int(rng.integers(len(pool[label])))]
                strokes = distort(d.strokes, rng, style.strength)
                w = float(np.concatenate(strokes)[:, 0].max()) * hi
                pieces.append((strokes, x, y, hi, True))
            else:
                xs, idx = hand.mnist if hand.mnist is not None else (None, None)
                if xs is None:  # a pen writer without this digit and no MNIST: another writer's
                    others = [w_ for w_ in hand.writers if hand.by_writer[w_].get(label)]
                    d = hand.by_writer[others[int(rng.integers(len(others)))]][label]
                    d = d[int(rng.integers(len(d)))]
                    strokes = distort(d.strokes, rng, style.strength)
                    w = float(np.concatenate(strokes)[:, 0].max()) * hi
                    pieces.append((strokes, x, y, hi, True))
                else:
                    patch = _mnist_patch(xs[idx[label][int(rng.integers(len(idx[label])))]], hi)
                    w = float(patch.shape[1])
                    pieces.append((patch, x, y, hi, True))
            x += w + rng.uniform(*gaps) * h + p  # the gap is between the ink's edges: the pen's width added
        else:
            strokes, w, margin = _sep_strokes(ch, rng)
            x += margin * h * rng.uniform(*_MARGIN_SPREAD)
            if strokes:
                pieces.append((strokes, x, h * _TOP, h, False))
            x += (w + margin * rng.uniform(*_MARGIN_SPREAD)) * h
    W = int(x + p + 8 + h * abs(slant))
    H = int(h * _LINE_HEIGHT + p + 8)
    ink = np.zeros((H, W), np.uint8)
    cols = []
    for what, x0, y0, hh, is_digit in pieces:
        if isinstance(what, np.ndarray):  # an MNIST patch: pasted (its own stroke width)
            ph, pw = what.shape
            y0i, x0i = int(y0), int(x0)
            region = ink[y0i:y0i + ph, x0i:x0i + pw]
            np.maximum(region, what[:region.shape[0], :region.shape[1]], out=region)
            x1 = x0 + pw
        else:
            _polylines(ink, what, hh, x0, y0, p)
            x1 = x0 + float(np.concatenate(what)[:, 0].max()) * hh
        if is_digit:
            cols.append((int(x0), int(np.ceil(x1))))
    if slant:  # one slant for the whole line: x moves with the height above the baseline
        m = np.float32([[1, -slant, slant * H * _SLANT_PIVOT], [0, 1, 0]])
        ink = cv2.warpAffine(ink, m, (W, H), flags=cv2.INTER_LINEAR)
    return ink, cols


def _paper(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink laid on paper (plain, ruled, patterned or shaded) under uneven light, blurred, noisy: uint8 grey."""
    H, W = ink.shape
    paper = rng.uniform(150, 245)
    img = np.full((H, W), paper, np.float32)
    kind = rng.choice(["plain", "ruled", "pattern", "shaded"])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == "ruled":
        y = int(H * rng.uniform(*_RULE_AT))
        t = int(rng.integers(1, 3))
        img[y:y + t] -= rng.uniform(25, 80)
    elif kind == "pattern":  # a cheque's printed guilloche: fine waves
        f = rng.uniform(*_WAVE_FREQ)
        img -= rng.uniform(8, 30) * (0.5 + 0.5 * np.sin(f * xx + rng.uniform(0, 6) * np.sin(_WAVE_BEND * yy)))
    elif kind == "shaded":
        img -= rng.uniform(20, 70) * np.clip(xx / W * rng.uniform(*_SHADE_REACH), 0, 1)
    # Light falling off across the sheet.
    img *= 1 - rng.uniform(0, _LIGHT_FALLOFF) * (xx / max(W, 1))
    ink_level = rng.uniform(0, 90)
    a = ink.astype(np.float32) / 255
    img = img * (1 - a) + ink_level * a
    k = rng.choice([0, 3, 5])
    if k:
        img = cv2.GaussianBlur(img, (int(k), int(k)), 0)
    img += rng.normal(0, rng.uniform(1, 7), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < _JPEG_SHARE:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


def _margin(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The line with blank paper round it, as a photo of it is framed."""
    H, W = ink.shape
    t, b = (int(v) for v in rng.integers(6, max(8, H // 2), 2))
    l, r = (int(v) for v in rng.integers(6, max(8, H // 2), 2))
    return cv2.copyMakeBorder(ink, t, b, l, r, cv2.BORDER_CONSTANT, value=0)


def render(text: str, hand: Hand, rng: np.random.Generator, paper: bool,
           style: LineStyle = LineStyle()) -> np.ndarray | None:
    """One line drawn as the reader gets it: (32, W) uint8 (None when the photo path found no ink)."""
    ink, _ = write_line(text, hand, rng, style)
    if not paper:
        return nr.line_input(ink)
    img = _paper(_margin(ink, rng), rng)
    try:
        digits, found = photo_ink(img)
    except ImageError:
        return None
    if found is None or not digits:
        return None
    rows = nr.rows_of(digits)
    band = nr.band(found, max(rows, key=len))
    return nr.line_input(band)


def make_lines(n: int, hand: Hand, seed: int = 0, style: LineStyle = LineStyle(),
               texts: list[str] | None = None) -> tuple[list[np.ndarray], list[str]]:
    """`n` lines: their reader inputs ((32, W) uint8) and digit strings (separators left out)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    while len(xs) < n:
        text = texts[len(xs)] if texts else _number_text(rng, style)
        x = render(text, hand, rng, rng.random() < style.paper, style)
        if x is None:
            continue
        xs.append(x)
        ys.append("".join(c for c in text if c.isdigit()))
    return xs, ys


def training_lines(n: int, hand: Hand, seed: int = 0, cache: Path | None = None, key: str = "",
                   style: LineStyle = LineStyle()) -> tuple[list[np.ndarray], list[str]]:
    """`make_lines`, kept in `cache` (a folder) under a key of the arguments and the digits' origin `key`."""
    tag = hashlib.sha256(f"{n}/{seed}/{style}/{key}/v2".encode()).hexdigest()[:16]  # v2: gaps between ink edges

    def make() -> dict[str, np.ndarray]:
        xs, ys = make_lines(n, hand, seed, style)
        return {"widths": np.array([x.shape[1] for x in xs]), "pixels": np.concatenate([x.ravel() for x in xs]),
                "labels": np.array(ys)}

    f = cached(cache, f"lines-{tag}.npz", make)
    ends = np.cumsum(f["widths"] * nr.HEIGHT)
    xs = [a.reshape(nr.HEIGHT, -1) for a in np.split(f["pixels"], ends[:-1])]
    ys = [str(t) for t in f["labels"]]
    return xs, ys

