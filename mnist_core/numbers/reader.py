"""Reading whole numbers: a line of handwriting in, its digit string out, without cutting it into digits first.

The number reader is a small convolutional network over the line image whose feature columns a 1-D
convolutional head reads into, per column pair, the odds of each digit and of "nothing here" (CTC's blank); it
was trained with CTC loss on lines made by `lines.py`. Reading a line is greedy CTC decoding: the likeliest
symbol per frame, repeats merged, blanks dropped, at the line's own width and narrowed (`NumberReader.read`:
each width's greedy reading is a candidate, the one the readings together find likeliest wins). Separators
(`.` `,` `-` `=` `/`, spaces) were in its training lines and never in their labels, so it reads past them.

How a picture becomes numbers (`read_numbers`):
1. the digit path (`digits.canvas_ink` / `photo_ink`) finds the digits and the ink they came from; its
   digits are grouped into rows (top to bottom, as the segmenter orders them);
2. each row's band of ink is scaled to the reader's input (`line_input`: 32 px tall) and read;
3. where the reader and the segmenter count the same digits in a row, in the same places (each digit the
   reader reads lies in the segmenter's piece of its rank), each digit's odds are the product of both models'
   (the segmenter's digit model reads isolated digits very well; the reader, where digits touch), and the
   segmenter's boxes are used; a row both see as one digit is the digit model's answer alone; where they
   disagree, the reader's count and odds stand, with boxes from its alignment, unless the digit model is
   sure of every piece and the reader finds the segmenter's reading nearly as likely (`ctc_logprob`); where they
   count alike in other places, the odds are still combined for each digit that a piece holds alone.
When no reader is there (the file is missing), the segmenter's digits are the number, as before.

Served from a TF Lite copy through LiteRT, like the digit model: no TensorFlow import. Arrays in, arrays out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mnist_core.config import PROJECT_ROOT
from mnist_core.digits import Digit, Ink

HEIGHT = 32  # the reader's input height (px)
INK_HEIGHT = 26  # a line's ink is scaled to this height, 3 px free above and below
STRIDE = 2  # input columns per output frame (the network halves the width once)
MARGIN = 6  # blank columns left and right of the ink (px at the input scale)
MAX_WIDTH = 1600  # wider lines (a 60-digit line) are squeezed to this
BLANK = 0  # CTC's "nothing here" symbol; digit d is symbol d + 1
# Where the reader and the segmenter count a row's digits differently, the segmenter's reading stands when the
# digit model gives each of its pieces at least SEG_SURE and the reader finds it at most SEG_MARGIN (natural log)
# less likely than its own: the digit model reads isolated digits very well, but a wide margin lets the
# segmenter's separators read as digits. Chosen on a grid of both (benchmarks/NUMBERS.md, "Third stage").
SEG_SURE = 0.9
SEG_MARGIN = 1.0

# Each line is read upright and slanted by these shears (columns moved per row, about the middle row) and the
# readings' frame odds are multiplied: three slightly different views of one line, whose mistakes differ, vote
# like an ensemble would, for one network (the training lines were slanted up to +-0.25 already). Measured
# against other shears in benchmarks/NUMBERS.md, "Slanted readings". The network runs three times a line.
SHEARS = (0.0, 0.12, -0.12)

# Each line is also read narrowed to these fractions of its width, each at every shear (`squeezed`). Every width's
# greedy reading is a candidate; the one with the highest weighted mean of CTC log-likelihoods (`ctc_logprob`)
# over the widths wins, the line's own width weighing 3. Narrower copies split a 1 from its neighbour and a
# touching pair apart where the own width merges them; a lower own weight let them change digits, wider copies
# turn separators into digits (benchmarks/NUMBERS.md, "Narrowed readings"). The network runs
# len(SHEARS) * len(WIDTHS) times a line.
WIDTHS = (1.0, 0.85, 0.7)
WIDTH_WEIGHTS = (3.0, 1.0, 1.0)

# Ink levels: a float ink map (a photo's marks) is scaled so that the `_STRONG_PCT` percentile of its pixels above
# `_FAINT` becomes full ink; in uint8, ink is `INK_LEVEL` (0-255) or more (fainter is an anti-aliased fringe).
_FAINT = 0.05
_STRONG_PCT = 90
INK_LEVEL = 40
# A row's band reaches `_ROW_PAD` of the row's height above, below and beyond its digits, and takes in ink further
# along the row within `_ROW_REACH` of its height (a digit the segmenter dropped, a thin 1 at the end, a separator).
_ROW_PAD = 0.08
_ROW_REACH = 0.5
# A digit joins a row it overlaps by this fraction of the lower of the two heights (as `digits.segment` orders them).
_ROW_OVERLAP = 0.5

SHIPPED = PROJECT_ROOT / "models" / "number.tflite"  # the shipped reader; its card is number.json beside it


@dataclass(frozen=True)
class ReadDigit:
    """One digit of a number read."""

    digit: int
    confidence: float  # probability of this digit, 0-1
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in the input's pixels, x1/y1 exclusive
    probs: np.ndarray  # (10,) float32, this digit's odds


# ----------------------------------------------------------------------------------------------------------
# Lines: rows of digits, their band of ink, the reader's input
# ----------------------------------------------------------------------------------------------------------


def _to_u8(ink: np.ndarray) -> np.ndarray:
    """Ink as uint8; a float map (a photo's marks, faint or strong) is scaled so its strong ink is 255."""
    if ink.dtype == np.uint8:
        return ink
    a = np.asarray(ink, np.float32)
    on = a[a > _FAINT]
    level = float(np.percentile(on, _STRONG_PCT)) if on.size else 1.0
    return (np.clip(a / max(level, 1e-3), 0, 1) * 255 + 0.5).astype(np.uint8)


def _prepare(ink: np.ndarray) -> tuple[np.ndarray, float, int]:
    """(h, w) ink -> ((32, W) uint8 reader input, scale, ink column of the input's column 0 (at scale 1))."""
    a = _to_u8(ink)
    mask = a >= INK_LEVEL
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return np.zeros((HEIGHT, 4 * 4), np.uint8), 1.0, 0
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = a[y0:y1, x0:x1]
    f = INK_HEIGHT / crop.shape[0]
    f = min(f, (MAX_WIDTH - 2 * MARGIN) / crop.shape[1])
    w, h = max(1, int(round(crop.shape[1] * f))), max(1, int(round(crop.shape[0] * f)))
    small = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    W = -(-(w + 2 * MARGIN) // 4) * 4  # a multiple of 4: the network's pooling
    out = np.zeros((HEIGHT, W), np.uint8)
    top = (HEIGHT - h) // 2
    out[top:top + h, MARGIN:MARGIN + w] = small
    return out, f, x0 - int(round(MARGIN / f))


def slanted(x: np.ndarray, shear: float) -> np.ndarray:
    """A (32, W) reader input slanted: row y moved ``-shear * (y - 16)`` columns (the top to the right for a shear
    above 0), the same shape, bilinear, blank where nothing moves in; `x` itself for shear 0."""
    if not shear:
        return x
    h, w = x.shape
    m = np.array([[1.0, -shear, shear * h / 2], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(x, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _squeezed_width(inner: int, factor: float) -> int:
    """Columns a line's ``inner`` ink columns take narrowed by ``factor`` (`squeezed`; `_at_own_width` undoes it)."""
    return max(4, int(round(inner * factor)))


def squeezed(x: np.ndarray, factor: float) -> np.ndarray:
    """A (32, W) reader input with its ink (between the margins) narrowed to ``factor`` of its width, the margins
    kept and the width again a multiple of 4; `x` itself for factor 1."""
    if factor == 1.0:
        return x
    inner = x[:, MARGIN:x.shape[1] - MARGIN]
    w = _squeezed_width(inner.shape[1], factor)
    out = np.zeros((HEIGHT, -(-(w + 2 * MARGIN) // 4) * 4), np.uint8)
    out[:, MARGIN:MARGIN + w] = cv2.resize(inner, (w, HEIGHT), interpolation=cv2.INTER_AREA)
    return out


def line_input(ink: np.ndarray) -> np.ndarray:
    """A line's (h, w) ink (uint8, or float in [0, 1]; ink bright) -> the reader's (32, W) uint8 input."""
    return _prepare(ink)[0]


def rows_of(digits: list[Digit]) -> list[list[Digit]]:
    """Digits (in the segmenter's reading order) grouped into rows: a digit joins a row it overlaps by half."""
    rows: list[tuple[list[Digit], int, int]] = []
    for d in sorted(digits, key=lambda d: (d.box[1] + d.box[3]) / 2):
        y0, y1 = d.box[1], d.box[3]
        for i, (members, r0, r1) in enumerate(rows):
            if min(y1, r1) - max(y0, r0) >= _ROW_OVERLAP * min(y1 - y0, r1 - r0):
                members.append(d)
                rows[i] = (members, min(r0, y0), max(r1, y1))
                break
        else:
            rows.append(([d], y0, y1))
    rows.sort(key=lambda r: (r[1] + r[2]) / 2)
    return [sorted(members, key=lambda d: d.box[0]) for members, _, _ in rows]


def _row_box(ink: Ink, row: list[Digit]) -> tuple[int, int, int, int]:
    """The row's band in ink pixels: its digits' boxes joined, a little room above, below and at the ends (the
    whole image when it is one line)."""
    if ink.line:
        return 0, 0, ink.image.shape[1], ink.image.shape[0]
    x0 = min(d.box[0] for d in row) / ink.sx
    x1 = max(d.box[2] for d in row) / ink.sx
    y0 = min(d.box[1] for d in row) / ink.sy
    y1 = max(d.box[3] for d in row) / ink.sy
    pad = _ROW_PAD * (y1 - y0)
    H, W = ink.image.shape[:2]
    bx0, by0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    bx1, by1 = min(W, int(np.ceil(x1 + pad))), min(H, int(np.ceil(y1 + pad)))
    # Ink further along the row belongs to the line too.
    cols = (_to_u8(ink.image[by0:by1]) >= INK_LEVEL).any(axis=0)
    reach = max(2, int(_ROW_REACH * (by1 - by0)))
    while True:
        left = np.flatnonzero(cols[max(0, bx0 - reach):bx0])
        if not left.size:
            break
        bx0 = max(0, bx0 - reach) + int(left[0])
    while True:
        right = np.flatnonzero(cols[bx1:bx1 + reach])
        if not right.size:
            break
        bx1 = bx1 + int(right[-1]) + 1
    return bx0, by0, bx1, by1


def band(ink: Ink, row: list[Digit]) -> np.ndarray:
    """The row's band of ink, (h, w) as in `ink.image`."""
    x0, y0, x1, y1 = _row_box(ink, row)
    return ink.image[y0:y1, x0:x1]


# ----------------------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------------------


def greedy(frames: np.ndarray) -> list[tuple[int, int, int, np.ndarray]]:
    """(T, 11) frame probabilities -> [(digit, first frame, last frame + 1, the digit's (10,) odds)] in order.

    Greedy CTC decoding: the likeliest symbol per frame, runs merged, blanks dropped. A digit's odds are its
    frames' at the frame where it is likeliest, renormalised over the ten digits.
    """
    best = frames.argmax(axis=1)
    out = []
    t, T = 0, len(best)
    while t < T:
        s = int(best[t])
        e = t
        while e < T and best[e] == s:
            e += 1
        if s != BLANK:
            k = t + int(frames[t:e, s].argmax())
            p = frames[k, 1:].astype(np.float32)
            out.append((s - 1, t, e, p / max(float(p.sum()), 1e-9)))
        t = e
    return out


def ctc_logprob(frames: np.ndarray, digits: list[int]) -> float:
    """log P(digits | frames) under CTC: the sum over every alignment of the digit string to the (T, 11) frames
    (the forward algorithm in log space); -inf when the string cannot be aligned (too long for the frames)."""
    T = len(frames)
    lab = [BLANK]
    for d in digits:
        lab += [d + 1, BLANK]
    S = len(lab)
    if S > 2 * T + 1:
        return float("-inf")
    logp = np.log(np.maximum(frames.astype(np.float64), 1e-30))
    lab_a = np.array(lab)
    # A digit may be reached from two back (skipping the blank between) unless it repeats the digit there.
    skip = np.zeros(S, bool)
    skip[2:] = (lab_a[2:] != BLANK) & (lab_a[2:] != lab_a[:-2])
    alpha = np.full(S, -np.inf)
    alpha[0] = logp[0, lab[0]]
    if S > 1:
        alpha[1] = logp[0, lab[1]]
    for t in range(1, T):
        prev = alpha
        a1 = np.concatenate([[-np.inf], prev[:-1]])
        a2 = np.where(skip, np.concatenate([[-np.inf, -np.inf], prev[:-2]]), -np.inf)
        alpha = np.logaddexp(np.logaddexp(prev, a1), a2) + logp[t, lab_a]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if S > 1 else alpha[-1])


def _combined(p: np.ndarray, piece: ReadDigit) -> ReadDigit:
    """A digit the reader read with odds `p`, combined with the segmenter's `piece` that holds it: the product of
    both models' odds, in the piece's box."""
    q = p * piece.probs
    q = q / max(float(q.sum()), 1e-12)
    return ReadDigit(int(q.argmax()), float(q.max()), piece.box, q.astype(np.float32))


def _peak_columns(found, f: float, x_origin: int) -> list[float]:
    """Each read digit's alignment peak (the middle of its frames) as a column of the row's band (ink pixels)."""
    return [((a + e) / 2 * STRIDE) / f + x_origin for _, a, e, _ in found]


def _boxes(found, f: float, x_origin: int, band_box: tuple[int, int, int, int], ink: Ink) -> list[tuple]:
    """Each read digit's box in input pixels, from the alignment: cut midway between neighbours' peaks,
    tightened to the ink in those columns."""
    bx0, by0, bx1, by1 = band_box
    img = _to_u8(ink.image[by0:by1, bx0:bx1])
    mask = img >= INK_LEVEL
    centres = _peak_columns(found, f, x_origin)
    cuts = [0.0] + [(centres[i] + centres[i + 1]) / 2 for i in range(len(centres) - 1)] + [float(mask.shape[1])]
    boxes = []
    for i in range(len(found)):
        c0, c1 = int(round(max(0.0, cuts[i]))), int(round(min(float(mask.shape[1]), cuts[i + 1])))
        part = mask[:, c0:c1]
        rs, cs = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if rs.size:
            x0, x1, y0, y1 = c0 + cs[0], c0 + cs[-1] + 1, rs[0], rs[-1] + 1
        else:
            x0, x1, y0, y1 = c0, max(c1, c0 + 1), 0, mask.shape[0]
        boxes.append((int((bx0 + x0) * ink.sx), int((by0 + y0) * ink.sy),
                      int(np.ceil((bx0 + x1) * ink.sx)), int(np.ceil((by0 + y1) * ink.sy))))
    return boxes


def _aligned(xs: list[float], row: list[Digit]) -> bool:
    """Whether each digit the reader read lies in the segmenter's piece of the same rank: its peak's column (`xs`, in
    the digits' pixel units) within that piece's columns. Counting alike is not enough: a separator read as a digit
    where two digits were cut as one also counts alike, and the pieces' odds then go with the wrong digits."""
    return all(d.box[0] <= x <= d.box[2] for x, d in zip(xs, row))


def _pieces_of(xs: list[float], row: list[Digit]) -> list[int | None]:
    """For each digit the reader read (its peak's column `xs`, in the digits' pixel units), the segmenter's piece
    that holds it and no other digit's peak (its index in `row`), else None."""
    holds = [[i for i, x in enumerate(xs) if d.box[0] <= x <= d.box[2]] for d in row]
    out: list[int | None] = [None] * len(xs)
    for k, h in enumerate(holds):
        if len(h) == 1 and out[h[0]] is None:
            out[h[0]] = k
    return out


# ----------------------------------------------------------------------------------------------------------
# The reader
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineReading:
    """A line read at several widths: each width's frames, their weights, and the digits the readings chose."""

    frames: tuple[np.ndarray, ...]  # (T_i, 11) per width; [0] at the line's own width (T = W / 2)
    weights: tuple[float, ...]  # summing to 1
    found: list[tuple[int, int, int, np.ndarray]]  # as `greedy`'s, frames counted at the line's own width

    def logprob(self, digits: list[int]) -> float:
        """The weighted mean over the widths of log P(digits | frames) (natural log, comparable to one reading's)."""
        return float(sum(w * ctc_logprob(f, digits) for w, f in zip(self.weights, self.frames)))


class NumberReader:
    """The number reader's TF Lite copy: (32, W) line inputs -> per-frame symbol probabilities, and lines read."""

    def __init__(self, content: bytes, threads: int = 2, pool: int = 2, shears: tuple[float, ...] = SHEARS,
                 widths: tuple[float, ...] = WIDTHS, weights: tuple[float, ...] = WIDTH_WEIGHTS):
        from mnist_core.digits.recognize import LiteFunction  # noqa: PLC0415 (LiteRT, else TensorFlow's interpreter)

        self.shears = tuple(float(s) for s in shears) or (0.0,)
        if len(widths) != len(weights) or not widths or widths[0] != 1.0 or min(weights) <= 0:
            raise ValueError("widths start with 1.0 and each has a positive weight")
        self.widths = tuple(float(w) for w in widths)
        self.weights = tuple(float(w) for w in weights)  # `vote` scales them to sum to 1
        # All of a line's slanted readings in one call (they share its width).
        self._fn = LiteFunction(content=content, pool=pool, chunk=len(self.shears), threads=threads)

    @classmethod
    def load(cls, path: str | Path = SHIPPED, shears: tuple[float, ...] = SHEARS, widths: tuple[float, ...] = WIDTHS,
             weights: tuple[float, ...] = WIDTH_WEIGHTS) -> "NumberReader | None":
        """The reader stored at `path` (default: the shipped one), reading at `shears` and `widths`; None when
        there is none."""
        p = Path(path)
        return cls(p.read_bytes(), shears=shears, widths=widths, weights=weights) if p.is_file() else None

    def frames(self, x: np.ndarray) -> np.ndarray:
        """(32, W) uint8 line input -> (W / 2, 11) float32 frame probabilities (blank first): the geometric mean,
        renormalised, of the reader's frames for the line slanted by each of `shears`."""
        batch = np.stack([slanted(x, s) for s in self.shears]).astype(np.float32) / 255.0  # (K, 32, W)
        f = self._fn(batch[..., None])  # (K, W / 2, 11)
        if len(f) == 1:
            return f[0]
        g = np.exp(np.log(np.maximum(f, 1e-9)).mean(axis=0))
        return (g / g.sum(axis=1, keepdims=True)).astype(np.float32)

    def read(self, x: np.ndarray) -> LineReading:
        """(32, W) uint8 line input -> its reading at each of `widths`, and the digits they choose (`vote`)."""
        return vote(tuple(self.frames(squeezed(x, w)) for w in self.widths), self.widths, self.weights, x.shape[1])

    def read_line(self, ink: np.ndarray) -> str:
        """A line's (h, w) ink -> the digits read, as a string."""
        return "".join(str(d) for d, *_ in self.read(line_input(ink)).found)


def vote(frames: tuple[np.ndarray, ...], widths: tuple[float, ...], weights: tuple[float, ...],
         width: int) -> LineReading:
    """A line read at several widths (``frames[i]`` at ``widths[i]``, the first its own width of ``width`` input
    columns) -> the readings and the digits chosen: each width's greedy reading is a candidate, and the one with the
    highest weighted mean log-likelihood under all of them wins (the own width's on a tie)."""
    weights = tuple(float(w) / sum(weights) for w in weights)
    own = greedy(frames[0])
    reading = LineReading(frames, weights, own)
    best, best_lp, seen = own, None, {tuple(d for d, *_ in own)}
    for w, f in zip(widths[1:], frames[1:]):
        found = greedy(f)
        key = tuple(d for d, *_ in found)
        if key in seen:
            continue
        seen.add(key)
        if best_lp is None:  # only scored when some width reads it differently (most lines: all widths agree)
            best_lp = reading.logprob([d for d, *_ in own])
        lp = reading.logprob(list(key))
        if lp > best_lp:
            best, best_lp = _at_own_width(found, w, width, len(frames[0])), lp
    return LineReading(frames, weights, best)


def _at_own_width(found: list, factor: float, width: int, frames: int) -> list:
    """`greedy`'s digits read on a copy narrowed by `factor` (see `squeezed`), their frames moved to the line's own
    width (``width`` input columns, ``frames`` frames)."""
    inner = width - 2 * MARGIN
    scale = inner / _squeezed_width(inner, factor)

    def back(t: int) -> int:
        return int(min(frames, max(0, round((MARGIN + (t * STRIDE - MARGIN) * scale) / STRIDE))))

    return [(d, back(a), max(back(e), back(a) + 1), p) for d, a, e, p in found]


def served_path(home: str | Path) -> Path:
    """The reader the studio serves: one trained here (`<home>/number.tflite`), else the shipped one."""
    own = Path(home) / "number.tflite"
    return own if own.is_file() else SHIPPED


def card(path: str | Path = SHIPPED) -> dict:
    """The reader's card (what it was trained on, its accuracy); {} when there is none."""
    p = Path(path).with_suffix(".json")
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def read_numbers(digits: list[Digit], probs: np.ndarray, ink: Ink | None,
                 reader: NumberReader | None, with_ink=None) -> list[list[ReadDigit]]:
    """The numbers in a picture, one per row, top to bottom: the reader's where there is one, combined with
    the segmenter's `digits` and their digit-model odds `probs` ((N, 10), in `digits`' order; for a drawing with
    its strokes, already fused with the ink model's). ``with_ink(boxes, odds) -> odds``, for a drawing with strokes:
    where the reader's count stands, its (n, 10) odds for the digits in those boxes fused with the strokes there
    (`ink.fuse.ink_for_reader`), so that the reader's digits are read from the ink too."""
    index = {id(d): i for i, d in enumerate(digits)}
    rows = [sorted(digits, key=lambda d: d.box[0])] if ink is not None and ink.line and digits else rows_of(digits)
    out = []
    for row in rows:
        seg = [ReadDigit(int(probs[index[id(d)]].argmax()), float(probs[index[id(d)]].max()), d.box,
                         probs[index[id(d)]]) for d in row]
        if reader is None or ink is None:
            out.append(seg)
            continue
        bx = _row_box(ink, row)
        x, f, origin = _prepare(ink.image[bx[1]:bx[3], bx[0]:bx[2]])
        reading = reader.read(x)
        found = reading.found
        xs = [(bx[0] + c) * ink.sx for c in _peak_columns(found, f, origin)]  # each peak in the digits' pixels
        if len(found) == len(row) and (len(row) == 1 or _aligned(xs, row)):
            if len(row) == 1:  # one isolated digit: the digit model's answer, as before
                out.append(seg)
                continue
            out.append([_combined(p, s) for s, (_, _, _, p) in zip(seg, found)])
        elif not found:
            out.append(seg if len(row) == 1 else [])  # marks the reader sees no digit in (separators, scribbles)
        elif (min(s.confidence for s in seg) >= SEG_SURE
              and reading.logprob([s.digit for s in seg]) >= reading.logprob([d for d, *_ in found]) - SEG_MARGIN):
            # The counts differ, but the segmenter's reading is nearly as likely under the reader and the digit
            # model is sure of every piece: well-separated digits, where the reader added or lost a stroke.
            out.append(seg)
        else:
            boxes = _boxes(found, f, origin, bx, ink)
            odds = np.stack([p for *_, p in found])  # (n, 10) the reader's own odds
            if with_ink is not None:  # every box at once: each stroke goes with the box holding most of it
                odds = with_ink(boxes, odds)
            got = [ReadDigit(int(p.argmax()), float(p.max()), b, p) for p, b in zip(odds, boxes)]
            if len(found) == len(row):  # counted alike in other places: a piece's lone digit is combined with it
                for i, k in enumerate(_pieces_of(xs, row)):
                    if k is not None:
                        got[i] = _combined(found[i][3], seg[k])
            out.append(got)
    return [r for r in out if r]


def as_json(number: list[list[ReadDigit]]) -> dict:
    """The CLI's and API's contract: {"number": "...", "digits": [{digit, confidence, box}]} (rows joined)."""
    flat = [d for row in number for d in row]
    return {"number": "".join(str(d.digit) for d in flat),
            "digits": [{"digit": d.digit, "confidence": round(d.confidence, 4), "box": [int(v) for v in d.box]}
                       for d in flat]}
