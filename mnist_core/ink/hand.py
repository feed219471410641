"""A writer's hand: what one writer's other digits say about each of them (numpy only).

A continental 1 (a long flag drawn up into the stem, no base) is an American 7 without its bar, in pixels and
nearly in direction when the flag is flat; the image model is sure of a 7 and outvotes the ink. A person reading
a page tells them apart by the writer: the writers who write such 1s cross their 7s, so an uncrossed 7-shape by a
writer who crosses their 7s is a 1. This module keeps that evidence for one writer and applies it:

- `has_bar(strokes)`: whether the ink has a crossed 7's bar (it crosses itself, or a later flat dash lies, in the
  middle of its height); `bars_in_boxes` for each digit of a drawing;
- `Hand`: one writer's 7s seen so far (crossed, and plain ones the ink model is sure of: a 7-shape it doubts may be
  this writer's 1), `observe`d digit by digit; `Hand.crosses()` once enough of them are crossed;
- `Hand.apply(probs, bars)`: for a writer who crosses, each digit without a bar has its probability of 7 scaled
  by the odds that this writer leaves a 7 uncrossed (the posterior mean of their plain 7s: (plain + 0.3) /
  (crossed + plain + 1)), renormalised. A confident plain 7 stays a 7; a 7-shape the ink also reads as 1 becomes a 1.
- `by_writer(probs, ink_probs, bars, writers)`: the same for many digits at once, grouped by their writer;
- `PageHand`: one page's hand over its drawings, each re-read as it grows (the page reads after every stroke), and
  counted once finished: when a drawing comes that neither continues it nor is it undone.

Where writers come from is the caller's business (the studio: one browser session, `PageHand`; `predict`: a UNIPEN
file, a folder, a JSON ink's "writer", `by_writer`). Measured in benchmarks/INK.md ("A writer who crosses their 7s").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mnist_core.ink.fuse import inks_for_boxes
from mnist_core.ink.loops import ink_box

SEVEN = 7


@dataclass(frozen=True)
class HandSettings:
    """When a writer counts as one who crosses their 7s, and what a crossing bar is."""

    min_crossed: int = 2  # crossed 7s seen before the writer counts (one could be a flourish)
    share: float = 0.5  # and at least this share of their 7s crossed (plain ones the ink also reads as 7 count against)
    confident: float = 0.5  # a digit counts as a 7 when its (fused) probability of 7 is at least this
    # A plain 7 counts in the odds of an uncrossed 7 only when the ink model gives it a 7 at least this sure: a
    # crossing writer's flat-flagged 1s read as 7 by both models, less surely by the ink (0.48-0.81 in a held-out
    # draw), and counting them weakened the very odds that read them as 1 (benchmarks/INK.md, "Plain 7s the ink is
    # sure of"). The doubtful ones still count against the writer crossing at all.
    plain_sure: float = 0.9
    # A writer's odds of an uncrossed 7 start from this share of one 7 seen: (plain + prior) / (crossed + plain + 1).
    # The training side's crossers leave 2% of their 7s uncrossed; 0.3 stays well on the cautious side of that
    # (×0.05 after five crossed 7s) and read more continental 1s than ½ did at no cost (benchmarks/INK.md, "Plain 7s
    # the ink is sure of").
    prior_plain: float = 0.3
    band: tuple[float, float] = (0.25, 0.85)  # where a bar lies: fraction of the ink's height from its top
    min_angle: float = 30.0  # degrees between two crossing segments (a line drawn back over itself is no crossing)
    dash_flat: float = 1.5  # a separate dash is a bar when its width is at least this times its height,
    dash_min: float = 0.1  # at least this wide (fraction of the ink's height),
    dash_max: float = 0.9  # and narrower than this share of the ink's width (not a base or a 2's foot)
    max_points: int = 160  # points a digit is thinned to before the crossing test (O(points²) pairs)


SETTINGS = HandSettings()


def _unit(strokes, max_points: int) -> list[np.ndarray]:
    """(K, 2) float64 strokes with the ink box's top-left at 0 and its height 1; thinned to about `max_points`."""
    xy = [np.asarray(s, np.float64)[:, :2] for s in strokes if len(s)]
    n = sum(len(s) for s in xy)
    step = max(1, int(np.ceil(n / max_points)))
    if step > 1:  # every step-th point, each stroke's last kept
        xy = [np.concatenate([s[::step], s[-1:]]) if (len(s) - 1) % step else s[::step] for s in xy]
    lo, h = ink_box(xy)
    return [(s - lo) / h for s in xy]


def crossings(strokes, settings: HandSettings = SETTINGS) -> np.ndarray:
    """(M, 2) points where the ink crosses itself, in units of its height from the ink box's top-left (y down):
    segments of different strokes, or of one stroke more than two segments apart, meeting at `min_angle` or more."""
    return _crossings(_unit(strokes, settings.max_points), settings)


def _crossings(u: list[np.ndarray], settings: HandSettings) -> np.ndarray:
    """`crossings` of strokes already made unit (`_unit`)."""
    a = np.concatenate([s[:-1] for s in u if len(s) > 1] or [np.zeros((0, 2))])
    d = np.concatenate([np.diff(s, axis=0) for s in u if len(s) > 1] or [np.zeros((0, 2))])
    if len(a) < 2:
        return np.zeros((0, 2))
    stroke = np.concatenate([np.full(len(s) - 1, k) for k, s in enumerate(u) if len(s) > 1])
    index = np.arange(len(a))
    den = d[:, None, 0] * d[None, :, 1] - d[:, None, 1] * d[None, :, 0]  # (n, n) cross products
    w = a[None, :, :] - a[:, None, :]  # from segment i's start to segment j's
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[..., 0] * d[None, :, 1] - w[..., 1] * d[None, :, 0]) / den  # along i
        s = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / den  # along j
    norms = np.linalg.norm(d, axis=1)
    sin = np.abs(den) / np.maximum(norms[:, None] * norms[None, :], 1e-12)
    near = (stroke[:, None] == stroke[None, :]) & (np.abs(index[:, None] - index[None, :]) <= 2)
    hit = ((t > 0) & (t < 1) & (s > 0) & (s < 1) & (sin >= np.sin(np.radians(settings.min_angle)))
           & ~near & (index[:, None] < index[None, :]))
    i, j = np.nonzero(hit)
    return a[i] + t[i, j][:, None] * d[i]


def has_bar(strokes, settings: HandSettings = SETTINGS) -> bool:
    """Whether an ink (strokes of (K, 2+) points, y down) has a crossed 7's bar: it crosses itself in the middle
    `band` of its height, or a stroke after the first is a short flat dash whose middle lies there."""
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return False
    lo, hi = settings.band
    u = _unit(strokes, settings.max_points)
    if any(lo <= y <= hi for y in _crossings(u, settings)[:, 1]):
        return True
    width = float(np.concatenate(u)[:, 0].max())
    for s in u[1:]:
        w, h = float(np.ptp(s[:, 0])), float(np.ptp(s[:, 1]))
        if (w >= settings.dash_flat * h and w >= settings.dash_min and w < settings.dash_max * max(width, 1e-6)
                and lo <= float(s[:, 1].mean()) <= hi):
            return True
    return False


def bars_in_boxes(ink, boxes, settings: HandSettings = SETTINGS) -> list[bool]:
    """For each box of a drawing (`ink`, an ink.format.Ink in the boxes' pixels), whether the strokes that go with it
    (ink.fuse.inks_for_boxes: every box at once) have a crossed 7's bar; False for a box no stroke went with."""
    return [k is not None and has_bar(k.strokes, settings) for k in inks_for_boxes(ink, boxes)]


@dataclass
class Hand:
    """One writer's 7s seen so far: `crossed` ones, `plain` ones (no bar) that the ink model is sure are 7s, and
    `doubtful` plain ones it is less sure of (perhaps this writer's flat-flagged 1s): these count against the writer
    crossing their 7s, but not in the odds of an uncrossed 7."""

    crossed: int = 0
    plain: int = 0
    doubtful: int = 0

    def observe(self, probs: np.ndarray, ink_probs: np.ndarray | None, bar: bool,
                settings: HandSettings = SETTINGS) -> None:
        """Count one digit: its (10,) answer, the ink model's own (10,) (None: no ink, not counted), its bar."""
        if ink_probs is None or int(np.argmax(probs)) != SEVEN or probs[SEVEN] < settings.confident:
            return
        if bar:
            self.crossed += 1
        elif int(np.argmax(ink_probs)) == SEVEN:
            if ink_probs[SEVEN] >= settings.plain_sure:
                self.plain += 1
            else:
                self.doubtful += 1

    def crosses(self, settings: HandSettings = SETTINGS) -> bool:
        """Whether this writer crosses their 7s (enough crossed ones, and enough of their 7s)."""
        seen = self.crossed + self.plain + self.doubtful
        return self.crossed >= settings.min_crossed and self.crossed >= settings.share * seen

    def plain_odds(self, settings: HandSettings = SETTINGS) -> float:
        """How likely this writer leaves a 7 uncrossed: (plain + prior) / (crossed + plain + 1), the doubtful left out
        (the posterior mean under a Beta(prior, 1 - prior))."""
        a = settings.prior_plain
        return (self.plain + a) / (self.crossed + self.plain + 1.0)

    def apply(self, probs: np.ndarray, bars, settings: HandSettings = SETTINGS) -> np.ndarray:
        """(N, 10) answers with each bar-less digit's 7 scaled by `plain_odds` and renormalised, when this writer
        crosses their 7s; otherwise the same answers."""
        probs = np.asarray(probs, np.float64)
        if not self.crosses(settings) or not len(probs):
            return probs
        out = probs.copy()
        out[~np.asarray(bars, bool), SEVEN] *= self.plain_odds(settings)
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)

    def describe(self) -> str:
        """One line for people: what has been seen, and what it does."""
        if not self.crosses():
            return f"7s seen: {self.crossed} crossed, {self.plain + self.doubtful} plain"
        return (f"crosses their 7s ({self.crossed} crossed, {self.plain + self.doubtful} plain): an uncrossed "
                f"7-shape's odds of a 7 ×{self.plain_odds():.2f}")


def by_writer(probs: np.ndarray, ink_probs: np.ndarray, bars, writers,
              settings: HandSettings = SETTINGS) -> tuple[np.ndarray, dict]:
    """((N, 10) answers after each writer's hand, {writer: Hand}). A writer of None is no one's: left as it is."""
    probs = np.asarray(probs, np.float64)
    bars = np.asarray(bars, bool)
    groups: dict = {}
    for i, w in enumerate(writers):
        if w is not None:
            groups.setdefault(w, []).append(i)
    out, hands = probs.copy(), {}
    for w, idx in groups.items():
        hand = hands[w] = Hand()
        for i in idx:
            hand.observe(probs[i], None if ink_probs is None else ink_probs[i], bool(bars[i]), settings)
        out[idx] = hand.apply(probs[idx], bars[idx], settings)
    return out, hands


def _signature(strokes) -> tuple:
    """A drawing's strokes, each as (points, first and last point rounded to a pixel): enough to tell whether one
    drawing continues another."""
    out = []
    for s in strokes:
        a = np.asarray(s, np.float64)[:, :2]
        out.append((len(a), *np.round(a[0]).tolist(), *np.round(a[-1]).tolist()) if len(a) else (0,))
    return tuple(out)


@dataclass
class PageHand:
    """One page's hand: the 7s of its finished drawings (`hand`), and the drawing being drawn, read again after
    each stroke and counted once a drawing comes that is neither it grown nor it undone (a new one)."""

    hand: Hand = field(default_factory=Hand)
    drawing: tuple = ()  # the current drawing's `_signature`
    rows: list = field(default_factory=list)  # its digits as last read: (answer (10,), ink (10,) or None, bar)

    def read(self, strokes, probs: np.ndarray, ink_probs: np.ndarray | None, bars,
             settings: HandSettings = SETTINGS) -> tuple[np.ndarray, Hand]:
        """(the drawing's (N, 10) answers read with this page's hand, the hand they were read with): the finished
        drawings' 7s and those of this drawing's other digits (a number's crossed 7 speaks for its 1s)."""
        sig = _signature(strokes)
        n = min(len(sig), len(self.drawing))
        if sig[:n] != self.drawing[:n]:  # neither grown nor undone: the last drawing was finished
            for row in self.rows:
                self.hand.observe(*row, settings=settings)
        self.drawing = sig
        probs = np.asarray(probs, np.float64)
        inks = [None if ink_probs is None or np.isnan(ink_probs[i]).any() else ink_probs[i] for i in range(len(probs))]
        now = replace(self.hand)
        for i in range(len(probs)):
            now.observe(probs[i], inks[i], bool(bars[i]), settings)
        out = now.apply(probs, bars, settings)
        self.rows = [(out[i], inks[i], bool(bars[i])) for i in range(len(probs))]  # counted as the page showed it
        return out, now
