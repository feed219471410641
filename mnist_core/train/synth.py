"""Stroke-space augmentation and writing conventions synthesised from real writers' digits.

Strokes here are lists of (K, 2) float arrays (x, y), y down. Everything works on *unit* strokes (`unit`: the
ink box's top-left at 0 and its height 1, x in proportion), so a generator's lengths are fractions of the
digit's height.

- `augment`: another hand's version of the same ink: slant, rotation, aspect, a smooth elastic wobble, point
  jitter on a densified path, and the stroke-order habits of real pens (a closed loop begun elsewhere on it, a
  stroke reversed, strokes reordered, a stroke split by a pen lift, two strokes merged by a pen that did not
  lift). Time is not modelled: the features resample by arc length, so speed cannot matter.
- conventions (`CONVENTIONS`): each a function from one training digit's strokes (a 1 for the 1s, a 7 for the
  7s...) and a generator to the strokes of the same digit written in another population's convention: the
  continental 1 (an up-stroke flag into the stem, with and without a base), the 1 with a serif, the crossed 7,
  the slashed and the dotted 0, 4s open in one stroke and closed in one or two, 9s with a straight and a curled
  tail, the 0 and the 8 begun elsewhere on their loops. `share` is the part of a label's training digits drawn
  in that convention (`with_conventions`). Shapes drawn only to probe the nets (`benchmarks/ink_variants.py`),
  not taught: the crossed 7 in one stroke, the 1 with a flag and a base in one stroke, the hooked foot,
  the continental 1 with a flat flag. `flagged_one` draws any 1 with a flag of given length and angle.

No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnist_core.ink.features import arc_length, stroke_length
from mnist_core.ink.loops import ink_box, is_closed, restart

Strokes = list[np.ndarray]


def unit(strokes) -> Strokes:
    """Strokes shifted and scaled so the ink box's top-left is 0 and its height 1 (x in proportion)."""
    strokes = [np.asarray(s, np.float64)[:, :2] for s in strokes if len(s)]
    lo, h = ink_box(strokes)
    return [(s - lo) / h for s in strokes]


def _line(p0, p1, n: int = 8, bow: float = 0.0) -> np.ndarray:
    """n points from p0 to p1 (both kept), bowed sideways by `bow` (fraction of the length) at the middle."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    u = np.linspace(0, 1, n)[:, None]
    d = p1 - p0
    normal = np.array([-d[1], d[0]])
    return p0 + u * d + bow * np.sin(np.pi * u) * normal


def _longest(strokes: Strokes) -> int:
    return int(np.argmax([stroke_length(s) for s in strokes]))


# ----------------------------------------------------------------------------------------------------------
# Augmentation
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AugmentSettings:
    """How far `augment` moves a digit from its writer's hand (0 / False turns a part off)."""

    slant: float = 0.3  # shear of x by height, uniform in [-slant, slant]
    rotation: float = 10.0  # degrees, uniform in [-rotation, rotation]
    aspect: float = 0.3  # log of the width factor, uniform in [-aspect, aspect]
    wobble: float = 0.03  # amplitude of the smooth elastic displacement (fraction of the height)
    jitter: float = 0.006  # largest std of per-point noise on the densified path (fraction of the height)
    reverse: float = 0.05  # chance that one stroke is drawn backwards
    reorder: float = 0.1  # chance that a many-stroke digit's strokes come in another order
    split: float = 0.08  # chance that a stroke is cut in two by a pen lift
    merge: float = 0.08  # chance that two consecutive strokes are joined (the pen did not lift)
    # chance that a closed stroke (a 0, an 8 in one stroke) is begun elsewhere on its loop; off: the reader reads a
    # loop begun low again from its top instead (ink.loops), and 0.1 cost 0.23 points as written (INK.md)
    restart: float = 0.0


def _geometry(strokes: Strokes, rng: np.random.Generator, s: AugmentSettings) -> Strokes:
    """Slant, rotation, aspect and a smooth wobble about the ink box's centre."""
    allp = np.concatenate(strokes)
    c = (allp.min(0) + allp.max(0)) / 2
    ang = np.deg2rad(rng.uniform(-s.rotation, s.rotation))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    m = rot @ np.array([[np.exp(rng.uniform(-s.aspect, s.aspect)), rng.uniform(-s.slant, s.slant)], [0.0, 1.0]])
    f, ph, a = rng.uniform(1, 3, 4), rng.uniform(0, 2 * np.pi, 4), rng.uniform(-s.wobble, s.wobble, 4)
    out = []
    for st in strokes:
        p = (st - c) @ m.T
        dx = a[0] * np.sin(f[0] * np.pi * p[:, 1] + ph[0]) + a[1] * np.sin(f[1] * np.pi * p[:, 0] + ph[1])
        dy = a[2] * np.sin(f[2] * np.pi * p[:, 0] + ph[2]) + a[3] * np.sin(f[3] * np.pi * p[:, 1] + ph[3])
        out.append(p + np.stack([dx, dy], 1))
    return out


def densify(stroke: np.ndarray, step: float = 0.02) -> np.ndarray:
    """A stroke with extra points on its straight runs so that no gap exceeds `step` (unit strokes)."""
    if len(stroke) < 2:
        return stroke
    seg = np.sqrt((np.diff(stroke, axis=0) ** 2).sum(1))
    parts = [stroke[:1]]
    for i, L in enumerate(seg):
        k = max(1, int(np.ceil(L / step)))
        u = (np.arange(1, k + 1) / k)[:, None]
        parts.append(stroke[i] + u * (stroke[i + 1] - stroke[i]))
    return np.concatenate(parts)


def _order(strokes: Strokes, rng: np.random.Generator, s: AugmentSettings) -> Strokes:
    """The pen's habits and accidents: a loop begun elsewhere, a stroke reversed, strokes reordered, split or
    merged."""
    strokes = list(strokes)
    loops = [i for i, st in enumerate(strokes) if is_closed(st)] if s.restart > 0 else []  # off: no search
    if loops and rng.random() < s.restart:  # where the pen starts a 0 or an 8 is taught, not seen
        i = loops[int(rng.integers(len(loops)))]
        strokes[i] = restart(strokes[i], int(rng.integers(1, len(strokes[i]) - 1)))
    if rng.random() < s.reverse:
        i = int(rng.integers(len(strokes)))
        strokes[i] = strokes[i][::-1]
    if len(strokes) > 1 and rng.random() < s.reorder:
        strokes = [strokes[i] for i in rng.permutation(len(strokes))]
    if rng.random() < s.split:
        i = int(rng.integers(len(strokes)))
        if len(strokes[i]) >= 6:
            k = int(rng.integers(2, len(strokes[i]) - 2))
            strokes[i:i + 1] = [strokes[i][:k + 1], strokes[i][k + 1:]]
    if len(strokes) > 1 and rng.random() < s.merge:
        i = int(rng.integers(len(strokes) - 1))
        strokes[i:i + 2] = [np.concatenate([strokes[i], strokes[i + 1]])]
    return strokes


def augment(strokes, rng: np.random.Generator, settings: AugmentSettings = AugmentSettings()) -> Strokes:
    """Another hand's version of the same digit (see `AugmentSettings`): unit strokes in, unit strokes out."""
    u = _geometry(unit(strokes), rng, settings)
    sigma = rng.uniform(0, settings.jitter)
    if sigma > 0:
        u = [d + rng.normal(0, sigma, d.shape) for d in (densify(x) for x in u)]
    return unit(_order(u, rng, settings))


# ----------------------------------------------------------------------------------------------------------
# Conventions: each (unit strokes of a training digit, rng) -> unit strokes of the same digit
# ----------------------------------------------------------------------------------------------------------


def _stem(strokes: Strokes) -> np.ndarray:
    """A 1's stem: its longest stroke from its topmost point down (a flag it had is dropped), top to bottom."""
    s = strokes[_longest(strokes)]
    if s[0, 1] > s[-1, 1]:
        s = s[::-1]
    s = s[int(np.argmin(s[:, 1])):]
    if len(s) < 2 or s[-1, 1] - s[0, 1] < 0.5:
        x = float(np.concatenate(strokes)[:, 0].mean())
        s = _line((x, 0.0), (x, 1.0), 10)
    return s


def flagged_one(strokes, rng: np.random.Generator, length: tuple[float, float], angle: tuple[float, float],
                base: float, joined: bool = False) -> Strokes:
    """A 1 whose stem starts with an up-stroke flag and has a base with probability `base`: a second stroke, or
    with `joined` drawn on from the foot without a lift (back left, then right along the base); the flag's length
    (fraction of the height) and angle below the horizontal (degrees) drawn from the ranges."""
    stem = _stem(unit(strokes))
    top = stem[0]
    a, th = rng.uniform(*length), np.deg2rad(rng.uniform(*angle))
    start = top + a * np.array([-np.cos(th), np.sin(th)])
    flag = _line(start, top, 6, bow=rng.uniform(-0.08, 0.08))
    out = [np.concatenate([flag, stem[1:]])]
    if rng.random() < base:
        b = stem[-1]
        w = rng.uniform(0.3, 0.8)
        left = b + np.array([-w * rng.uniform(0.35, 0.65), rng.uniform(-0.02, 0.02)])
        right = left + np.array([w, rng.uniform(-0.04, 0.04)])
        if joined:  # back left along the foot first, then right along the whole base
            out[0] = np.concatenate([out[0], _line(b, left, 5)[1:], _line(left, right, 8)[1:]])
        else:
            out.append(_line(left, right, 8))
    return unit(out)


def continental_one(strokes, rng: np.random.Generator) -> Strokes:
    """The continental 1 without a base: a long flag (20-55% of the height, 20-60 degrees below the horizontal:
    a flatter, longer one is a 7's bar) drawn up into the stem."""
    return flagged_one(strokes, rng, (0.2, 0.55), (20, 60), base=0.0)


def continental_one_base(strokes, rng: np.random.Generator) -> Strokes:
    """The continental 1 with a base stroke under the stem."""
    return flagged_one(strokes, rng, (0.2, 0.55), (20, 60), base=1.0)


def flat_flagged_one(strokes, rng: np.random.Generator) -> Strokes:
    """The continental 1 with a flat flag (a probe, not taught): 20-55% of the height at 10-20 degrees, the angle of
    a short 7's bar (taught as a 1, it cost plain 7s: benchmarks/INK.md)."""
    return flagged_one(strokes, rng, (0.2, 0.55), (10, 20), base=0.0)


def serif_one(strokes, rng: np.random.Generator) -> Strokes:
    """The 1 with a serif: a short flag (8-22% of the height), a base half the time."""
    return flagged_one(strokes, rng, (0.08, 0.22), (10, 50), base=0.5)


def one_stroke_base_one(strokes, rng: np.random.Generator) -> Strokes:
    """The 1 with a flag and a base written without a lift (a probe, not taught): the flag (8-45% of the height,
    20-60 degrees) up into the stem, down, and on along the base (many of UCI pendigits' writers; few of the
    training writers)."""
    return flagged_one(strokes, rng, (0.08, 0.45), (20, 60), base=1.0, joined=True)


def _cross(main: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crossed 7's bar through the middle of `main`'s stem: its (8, 2) points, left to right."""
    top = main[:, 1] < 0.4
    corner = int(np.argmax(np.where(top, main[:, 0] - 0.3 * main[:, 1], -np.inf)))
    stem = main[corner:] if len(main) - corner >= 2 else main
    yb = rng.uniform(0.42, 0.65)
    order = np.argsort(stem[:, 1])
    xb = float(np.interp(yb, stem[order, 1], stem[order, 0]))
    w = rng.uniform(0.12, 0.28)
    left = np.array([xb - w * rng.uniform(0.4, 0.6), yb])
    return _line(left, left + np.array([w * 2, rng.uniform(-0.06, 0.06)]), 8, bow=rng.uniform(-0.05, 0.05))


def hooked_foot(strokes, rng: np.random.Generator) -> Strokes:
    """A 1 or a 7 whose stem ends in a hook (a probe of benchmarks/ink_variants.py, not taught): the pen, still
    down at the foot, turns right until it heads up and right (15-75 degrees above the horizontal), for 5-16% of
    the height, before it lifts. Where no stem (a stroke over half the height: not a base or a bar) ends in the
    lowest quarter, as written."""
    u = unit(strokes)
    stems = [j for j in range(len(u)) if np.ptp(u[j][:, 1]) > 0.5]  # not a base or a bar
    if not stems:
        return u
    k = max(stems, key=lambda j: u[j][-1, 1])
    s = u[k]
    if s[-1, 1] < 0.75:
        return u
    back = s[::-1]
    run = arc_length(back)
    ref = back[min(int(np.searchsorted(run, 0.06)), len(back) - 1)]
    d = s[-1] - ref
    if np.hypot(*d) < 1e-6:
        return u
    heading = np.arctan2(d[1], d[0])  # y down: a stem going down has a heading near +90 degrees
    last = np.deg2rad(rng.uniform(-75, -15))  # the hook's last direction: right and up
    turn = (heading - last) % (2 * np.pi)  # from down through right to up: anticlockwise as seen on the page
    n = 8
    step = rng.uniform(0.05, 0.16) / n
    angles = heading - turn * (np.arange(1, n + 1) / n) ** rng.uniform(0.7, 1.5)
    hook = s[-1] + np.cumsum(step * np.stack([np.cos(angles), np.sin(angles)], 1), axis=0)
    u[k] = np.concatenate([s, hook])
    return unit(u)


def crossed_seven(strokes, rng: np.random.Generator) -> Strokes:
    """The crossed 7: the writer's 7 and a short bar through the middle of its stem, a separate last stroke."""
    u = unit(strokes)
    bar = _cross(u[_longest(u)], rng)
    return unit(u + [bar if rng.random() < 0.9 else bar[::-1]])


def crossed_seven_looped(strokes, rng: np.random.Generator) -> Strokes:
    """The crossed 7 in one stroke: from the stem's foot the pen comes back up, curving left (a loop where it
    crosses the stem), and draws the bar left to right without a lift."""
    u = unit(strokes)
    k = _longest(u)
    main = u[k]
    bar = _cross(main, rng)
    foot, left = main[-1], bar[0]
    d = left - foot
    side = 1.0 if -d[1] > 0 else -1.0  # bow towards -x: the normal of d is (-dy, dx)
    back = _line(foot, left, 10, bow=side * rng.uniform(0.1, 0.45))
    return unit(u[:k] + [np.concatenate([main, back[1:], bar[1:]])] + u[k + 1:])


def slashed_zero(strokes, rng: np.random.Generator) -> Strokes:
    """The slashed 0 (Ø): a diagonal stroke through, past the ring by up to 15% of the height."""
    u = unit(strokes)
    allp = np.concatenate(u)
    (x0, y0), (x1, y1) = allp.min(0), allp.max(0)
    e = rng.uniform(-0.04, 0.15, 2)
    a, b = np.array([x1 + e[0] * 0.6, y0 - e[0]]), np.array([x0 - e[1] * 0.6, y1 + e[1]])
    slash = _line(a, b, 10, bow=rng.uniform(-0.04, 0.04))
    return unit(u + [slash if rng.random() < 0.7 else slash[::-1]])


def dotted_zero(strokes, rng: np.random.Generator) -> Strokes:
    """The dotted 0: a dot (a tiny stroke) near the ring's centre."""
    u = unit(strokes)
    allp = np.concatenate(u)
    c = (allp.min(0) + allp.max(0)) / 2 + rng.normal(0, 0.04, 2)
    d = rng.uniform(0.0, 0.04) * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)])
    return unit(u + [np.stack([c, c + d])])


def _four_frame(strokes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Key points of a 4 in the writer's width: arm top A, arm foot B, bar end C, stem top S, bottom E, and D
    where the bar meets the stem."""
    u = unit(strokes)
    w = float(np.clip(np.concatenate(u)[:, 0].max(), 0.45, 0.95))
    bar = rng.uniform(0.5, 0.7)
    sx = w * rng.uniform(0.58, 0.75)
    lean = rng.uniform(-0.08, 0.12)  # the stem's top leans right of its foot
    S = np.array([sx + lean * 0.5, rng.uniform(0.0, 0.1)])
    E = np.array([sx - lean * 0.5, 1.0])
    A = np.array([w * rng.uniform(0.05, 0.25), rng.uniform(0.0, 0.15)])
    B = np.array([A[0] - w * rng.uniform(-0.05, 0.12), bar])
    C = np.array([w * rng.uniform(0.88, 1.02), bar + rng.uniform(-0.05, 0.03)])
    t = (bar - S[1]) / (E[1] - S[1])
    D = S + t * (E - S)
    return dict(A=A, B=B, C=C, S=S, E=E, D=D)


def four_open_one(strokes, rng: np.random.Generator) -> Strokes:
    """An open 4 in one stroke: down the arm, along the bar to the stem, up to its top and down the stem."""
    k = _four_frame(strokes, rng)
    path = [_line(k["A"], k["B"], 6), _line(k["B"], k["D"], 6)[1:], _line(k["D"], k["S"], 5)[1:],
            _line(k["S"], k["E"], 10)[1:]]
    return unit([np.concatenate(path)])


def four_closed_one(strokes, rng: np.random.Generator) -> Strokes:
    """A closed 4 in one stroke: up the stem from its foot, down the diagonal to the bar, along the bar."""
    k = _four_frame(strokes, rng)
    path = [_line(k["E"], k["S"], 10), _line(k["S"], k["B"], 8)[1:], _line(k["B"], k["C"], 7)[1:]]
    return unit([np.concatenate(path)])


def four_closed_two(strokes, rng: np.random.Generator) -> Strokes:
    """A closed 4 in two strokes: the diagonal from the stem's top to the bar and along it; then the stem."""
    k = _four_frame(strokes, rng)
    first = np.concatenate([_line(k["S"], k["B"], 8), _line(k["B"], k["C"], 7)[1:]])
    return unit([first, _line(k["S"] + rng.normal(0, 0.02, 2), k["E"], 10)])


def _nine_loop(strokes) -> np.ndarray | None:
    """The loop of a 9: the longest run of its main stroke in the top 58% of the height (None if too short)."""
    u = unit(strokes)
    main = u[_longest(u)]
    top = main[:, 1] <= 0.58
    best, run = (0, 0), None
    for i, t in enumerate(np.append(top, False)):
        if t and run is None:
            run = i
        elif not t and run is not None:
            best = max(best, (i - run, run))
            run = None
    n, i = best
    return main[i:i + n] if n >= 4 else None


def has_loop(strokes, above: float = 0.75, px: int = 40, thick: int = 4) -> bool:
    """Whether the digit encloses a hole whose top is in the upper `above` of its height, drawn `px` tall with a
    pen `thick` px wide (10% of the height: a gap narrower than the pen is closed, as it is on paper)."""
    import cv2  # the one OpenCV use here; cv2 is a dependency of the core anyway

    u = unit(strokes)
    w = int(np.ceil(max(float(np.concatenate(u)[:, 0].max()), 0.05) * px)) + 2 * thick + 2
    img = np.zeros((px + 2 * thick + 2, w), np.uint8)
    for s in u:
        p = np.round((s * px + thick + 1) * 16).astype(np.int32)
        cv2.polylines(img, [p.reshape(-1, 1, 2)], False, 255, thickness=thick, shift=4)
    cv2.floodFill(img, np.zeros((img.shape[0] + 2, img.shape[1] + 2), np.uint8), (0, 0), 128)
    ys = np.nonzero(img == 0)[0]  # background the outside cannot reach: holes
    return bool(((ys - thick - 1) / px < above).sum() >= 2)


def _drawn_loop(strokes, rng: np.random.Generator) -> np.ndarray:
    """A closed loop for a 9 in the box of the writer's upper part, drawn as most 9s are: from the right side,
    over the top to the left, round the bottom and back up the right (a little past the start)."""
    allp = np.concatenate(unit(strokes))
    upper = allp[allp[:, 1] <= 0.55]
    x0, x1 = (float(upper[:, 0].min()), float(upper[:, 0].max())) if len(upper) else (0.0, 0.5)
    rx, ry = max((x1 - x0) / 2, 0.15), rng.uniform(0.2, 0.27)
    c = np.array([x0 + rx, ry])
    a = np.deg2rad(rng.uniform(-40, 10)) - np.linspace(0, np.deg2rad(360 + rng.uniform(0, 25)), 18)
    return c + np.stack([rx * np.cos(a), ry * np.sin(a)], 1)


def _nine(strokes, rng: np.random.Generator, curl: bool) -> Strokes:
    """The writer's loop with a new tail; where that leaves no closed loop (the writer's loop ran below the top
    58%, or the longest stroke was the stem), a loop drawn in the box of the writer's upper part."""
    loop = _nine_loop(strokes)
    if loop is not None:
        out = _nine_tail(loop, rng, curl)
        if has_loop(out):
            return out
    return _nine_tail(_drawn_loop(strokes, rng), rng, curl)


def _nine_tail(loop: np.ndarray, rng: np.random.Generator, curl: bool) -> Strokes:
    """The loop and a tail from its right side to the foot, straight or curled left."""
    x_right = float(loop[:, 0].max())
    end = loop[-1]
    start = np.array([max(end[0], x_right - 0.05), end[1]])
    if not curl:
        foot = np.array([start[0] - rng.uniform(-0.05, 0.18), 1.0])
        tail = _line(start, foot, 10, bow=rng.uniform(-0.05, 0.05))
    else:
        r = rng.uniform(0.12, 0.25)
        down = _line(start, (start[0] - rng.uniform(0, 0.08), 1.0 - r), 7)
        c = down[-1] - np.array([r, 0.0])
        a = np.linspace(0, np.deg2rad(rng.uniform(110, 170)), 8)[1:]
        tail = np.concatenate([down, c + r * np.stack([np.cos(a), np.sin(a)], 1)])
    return unit([np.concatenate([loop, tail[1:]])])


def nine_straight(strokes, rng: np.random.Generator) -> Strokes:
    """A 9 whose tail is a straight line down from the loop (the writer's loop kept)."""
    return _nine(strokes, rng, curl=False)


def nine_curled(strokes, rng: np.random.Generator) -> Strokes:
    """A 9 whose tail curls left at the foot (the writer's loop kept)."""
    return _nine(strokes, rng, curl=True)


@dataclass(frozen=True)
class Convention:
    """One writing convention: the digit it writes, how, and its part of that digit's training examples."""

    name: str
    label: int
    make: Callable[[Strokes, np.random.Generator], Strokes]
    share: float  # fraction of the label's training digits redrawn in this convention


def loop_begun_elsewhere(strokes, rng: np.random.Generator) -> Strokes:
    """A 0 or an 8 begun elsewhere on its loop (at the bottom, at the crossing, on the left: schools teach several
    starts): the writer's closed stroke with the most points begun 20-80% of the way along it, its ends joined; a digit
    without a closed stroke (an 8 in two strokes) as written."""
    u = unit(strokes)
    closed = [i for i, s in enumerate(u) if is_closed(s)]
    if closed:
        i = max(closed, key=lambda j: len(u[j]))
        u[i] = restart(u[i], int(np.clip(round(rng.uniform(0.2, 0.8) * len(u[i])), 1, len(u[i]) - 2)))
    return unit(u)


CONVENTIONS: tuple[Convention, ...] = (
    Convention("continental 1 (flag, no base)", 1, continental_one, 0.22),
    Convention("continental 1 with a base", 1, continental_one_base, 0.12),
    Convention("1 with a serif", 1, serif_one, 0.10),
    Convention("crossed 7", 7, crossed_seven, 0.25),
    Convention("slashed 0", 0, slashed_zero, 0.08),
    Convention("dotted 0", 0, dotted_zero, 0.04),
    Convention("4 open, one stroke", 4, four_open_one, 0.10),
    Convention("4 closed, one stroke", 4, four_closed_one, 0.06),
    Convention("4 closed, two strokes", 4, four_closed_two, 0.10),
    Convention("9 straight tail", 9, nine_straight, 0.12),
    Convention("9 curled tail", 9, nine_curled, 0.08),
    # read, not taught (share 0): the reader reads a loop begun low again begun at its top (ink.loops); taught
    # at 0.12 with restart 0.1, the net lost 0.23 points on the calibration writers as written (INK.md)
    Convention("0 begun elsewhere on its loop", 0, loop_begun_elsewhere, 0.0),
    Convention("8 begun elsewhere on its loops", 8, loop_begun_elsewhere, 0.0),
)


def with_conventions(strokes, label: int, rng: np.random.Generator, scale: float = 1.0) -> Strokes:
    """A training digit redrawn in one of its label's conventions with probability `share * scale` each,
    else as it was (unit strokes either way)."""
    r = rng.random()
    for c in CONVENTIONS:
        if c.label != label:
            continue
        if r < c.share * scale:
            return c.make(strokes, rng)
        r -= c.share * scale
    return unit(strokes)


def by_name(name: str) -> Convention:
    """The convention called `name` (KeyError if none)."""
    for c in CONVENTIONS:
        if c.name == name:
            return c
    raise KeyError(name)
