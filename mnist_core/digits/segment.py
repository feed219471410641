"""Finding digits in an ink mask: connected components grouped into candidates (pieces of one digit merged,
touching digits cut where one stroke joins them, specks and texture dropped) in reading order (rows top to
bottom, left to right in a row), then each cut out and normalised (`split_digits`)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_core.config import Limits
from mnist_core.digits.arrays import bounding_box, odd_size, stroke_px, to_unit
from mnist_core.digits.images import ImageError
from mnist_core.digits.normalise import normalize_ink
from mnist_core.digits.results import Digit
from mnist_core.digits.settings import DEFAULT, PreprocessSettings

# The grouping rules below are fractions of a piece's or a digit's height unless said otherwise. They were tuned
# on the canvas, photo and crop sets of the accuracy benchmarks (benchmarks/ROBUSTNESS.md, benchmarks/REALWORLD.md,
# "Segmentation constants"); the numbers' segmenter column of benchmarks/NUMBERS.md measures them on whole numbers.

# Pieces of one digit (`_same_digit`). A minor piece is at most this fraction of its neighbour's height (a 5's
# flag, a 7's bar, a 4's first stroke) ...
_MINOR_HEIGHT = 0.7
# ... and overlaps the neighbour vertically by at least this fraction of its own height when it belongs to it.
_MINOR_OVERLAP = 0.6
# A minor piece reaching into the other's box from the side joins it while the union is at most this wide for its
# height: a 2's long tail, a 4 drawn in two strokes.
_REACH_ASPECT = 1.6
# Otherwise a union wider than this for its height is more than one digit.
_UNION_ASPECT = 1.1
# Stacked pieces (a 5's flag above its body) overlap across by this fraction of the narrower one's width, with a
# vertical gap of at most `_STACK_GAP` of the taller one's height.
_STACK_OVERLAP = 0.5
_STACK_GAP = 0.25
# A minor piece beside a major one is at most this fraction of the taller height away.
_SIDE_GAP = 0.08

# A photo's digit broken into pieces by a light pen (`_broken_apart`), in fractions of the picture's tallest mark
# or the pair's union if taller. The pieces' ink comes within `_BREAK_STROKES` stroke widths of each other (and
# `_BREAK_MAX` of the height), and their union is at most `_REACH_ASPECT` as wide as tall (as tall as
# `_BREAK_SHORT`, at least). One above the other or diagonally (overlapping vertically by less than `_BREAK_SIDE`
# of the lower one's height: a 9's tail, a 2's base) they are one digit; side by side, when both are shorter than
# `_BREAK_SHORT` (a 5's flag or a 7's bar in pieces), or when bridging the gap closes a loop that neither had, of
# at least `_BREAK_LOOP` of the union's height squared (the halves of a 0 or an 8, where "11" or "10" close none)
# and bridged between two strokes' ends in two places (`_ends_meet`: a ring `_END_RING` stroke widths round each).
_BREAK_STROKES = 3.0
_BREAK_MAX = 0.12
_BREAK_SHORT = 0.4
_BREAK_SIDE = 0.5
_BREAK_LOOP = 0.02
_END_RING = 2.0

# A 4 drawn in two strokes (`_open_four`), as fractions of the stem's height: the stem is at most `_FOUR_STEM_WIDTH`
# as wide as tall; the bar ends at most `_FOUR_BAR_GAP` short of it; the stem goes on at least `_FOUR_BELOW` below
# the bar; the bar is at least `_FOUR_BAR_LOW` below the stem's top; the L starts within `_FOUR_TOP` of that top and
# is at least `_FOUR_L_HEIGHT` tall; the pair is at most `_FOUR_ASPECT` as wide as tall (`_FOUR_CUT_ASPECT` for the
# halves of a cut, which keep the end of a bar crossing the stem).
_FOUR_STEM_WIDTH = 0.6
_FOUR_BAR_GAP = 0.12
_FOUR_BELOW = 0.12
_FOUR_BAR_LOW = 0.15
_FOUR_TOP = 0.35
_FOUR_L_HEIGHT = 0.3
_FOUR_ASPECT = 1.2
_FOUR_CUT_ASPECT = 1.7

# Cutting touching digits (`_split_wide`): cuts are tried across the middle of the width (these fractions of it);
# a cut's cost is the strokes it crosses plus `_CUT_INK_WEIGHT` times the ink it cuts (per height) plus its distance
# from the middle (per width). A joint is one stroke at most `_JOINT_LENGTH` of the height long, and each half must
# be at least `_HALF_HEIGHT` of the height tall (a shorter one is a 2's or a 7's tail).
_CUT_ZONE = (0.25, 0.75)
_CUT_INK_WEIGHT = 0.5
_JOINT_LENGTH = 0.35
_HALF_HEIGHT = 0.6
# A loop crossed by the cut (`_loop_across`): gaps up to this fraction of the height are closed first (a 0 whose
# ends do not meet), and the loop reaches at least `_LOOP_REACH` of the width to each side of the cut.
_LOOP_GAP = 0.2
_LOOP_REACH = 0.25

# Reading order: a digit joins a row it overlaps by this fraction of the lower of the two heights.
_ROW_OVERLAP = 0.5

# Marks touching a photo's frame (`find_candidates`). A strip at most `_STRIP_HEIGHT` px tall and at least as wide
# is a tight crop of a line of digits; in it only a mark across more than `_RULE_WIDTH` of the width and less than
# `_RULE_HEIGHT` of the height tall (a ruled line) goes.
_STRIP_HEIGHT = 160
_RULE_WIDTH = 0.85
_RULE_HEIGHT = 0.3
# In a photo, a mark touching the frame stays when it is in the row of a digit-sized mark clear of the frame
# (overlapping `_EDGE_ROW_OVERLAP` of the lower height, `_EDGE_HEIGHT_RATIO` of its height) and no larger than
# `_EDGE_MAX` of the frame (width, height): a digit, not a line across the picture or a sheet's edge down it.
_EDGE_ROW_OVERLAP = 0.6
_EDGE_HEIGHT_RATIO = (0.5, 1.4)
_EDGE_MAX = (0.85, 0.6)
# With no digit-sized mark clear of the frame, only marks spanning more than this fraction of it go.
_FRAME_SPAN = 0.6
# A page of noise: only the largest this many marks are looked at.
_MAX_MARKS = 400
# Marks at least this fraction of the tallest's height are digit-sized (the reference for the pen's contrast).
_DIGIT_SIZED = 0.25
# Specks: marks smaller than this fraction of the tallest mark in both directions (dropped before merging).
_SPECK = 0.15


@dataclass
class Candidate:
    """A group of components taken for one digit: its box in the labels' pixels (x1/y1 exclusive)."""

    x0: int
    y0: int
    x1: int
    y1: int
    ids: tuple[int, ...]  # component labels belonging to this digit

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    def union(self, o: Candidate) -> Candidate:
        return Candidate(min(self.x0, o.x0), min(self.y0, o.y0), max(self.x1, o.x1), max(self.y1, o.y1),
                         self.ids + o.ids)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Length of the overlap of [a0, a1) and [b0, b1); negative: the gap between them."""
    return min(a1, b1) - max(a0, b0)


def _same_digit(a: Candidate, b: Candidate) -> bool:
    """Whether two pieces of ink are parts of one digit (a broken 4, 5 or 7; a stroke drawn apart)."""
    h = max(a.h, b.h)
    ox = _overlap(a.x0, a.x1, b.x0, b.x1)
    oy = _overlap(a.y0, a.y1, b.y0, b.y1)
    u = a.union(b)
    minor, major = (a, b) if a.h < b.h else (b, a)
    # A minor piece reaching into a major one's box from the side: a 2's long tail, a 4 drawn in two strokes.
    if minor.h <= _MINOR_HEIGHT * major.h and oy >= _MINOR_OVERLAP * minor.h and ox > 0 and u.w <= _REACH_ASPECT * u.h:
        return True
    if _open_four(a, b) or _open_four(b, a):
        return True
    if u.w > _UNION_ASPECT * u.h:  # otherwise the union would be wider than one digit
        return False
    # Stacked: one above the other, mostly overlapping in x, a small vertical gap (5's flag, 7's bar).
    if ox >= _STACK_OVERLAP * min(a.w, b.w) and oy >= -_STACK_GAP * h:
        return True
    # Side by side: a minor piece beside a major one, touching or nearly.
    return minor.h <= _MINOR_HEIGHT * major.h and oy >= _MINOR_OVERLAP * minor.h and ox >= -_SIDE_GAP * h


def _open_four(left: Candidate, stem: Candidate, thin: bool = True) -> bool:
    """A 4 drawn in two strokes: an L (or a U, a V) whose bar ends at or just short of an upright stem to its right,
    the stem reaching on below the bar. Two digits of a number stand on one baseline, so a piece that ends well
    above its right neighbour's foot while starting near its top is not a digit of its own. `thin`: the stem is a
    piece of its own (not the right half of a cut, which keeps the end of a bar that crosses it)."""
    u = left.union(stem)
    return ((stem.w <= _FOUR_STEM_WIDTH * stem.h or not thin) and left.x0 < stem.x0
            and _overlap(left.x0, left.x1, stem.x0, stem.x1) >= -_FOUR_BAR_GAP * stem.h  # the bar reaches the stem
            and left.y1 <= stem.y1 - _FOUR_BELOW * stem.h                      # the stem goes on below the bar
            and left.y1 >= stem.y0 + _FOUR_BAR_LOW * stem.h                    # the bar is at the stem
            and left.y0 <= stem.y0 + _FOUR_TOP * stem.h                        # the L starts near the top
            and left.h >= _FOUR_L_HEIGHT * stem.h and u.w <= (_FOUR_ASPECT if thin else _FOUR_CUT_ASPECT) * u.h)


def _holes(mask: np.ndarray, close: int) -> np.ndarray:
    """(H, W) bool: background that the ink encloses once gaps up to `close` px are closed (a loop's inside)."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
    m = np.pad(m, 1)  # a fresh array: filled in place
    outside = np.zeros((m.shape[0] + 2, m.shape[1] + 2), np.uint8)
    cv2.floodFill(m, outside, (0, 0), 1)  # the background reachable from the border
    return (m == 0)[1:-1, 1:-1]


def _broken_apart(a: Candidate, b: Candidate, labels: np.ndarray, tallest: int) -> bool:
    """Whether two pieces of a photo's ink are one digit that a light pen broke: their ink nearly meets, and they
    continue one another downwards, make one short bar, or close a loop together (see `_BREAK_*`)."""
    ox, oy = _overlap(a.x0, a.x1, b.x0, b.x1), _overlap(a.y0, a.y1, b.y0, b.y1)
    u = a.union(b)
    reach = _BREAK_MAX * max(u.h, tallest)
    if max(-ox, 0) ** 2 + max(-oy, 0) ** 2 > reach**2 or u.w > _REACH_ASPECT * max(u.h, _BREAK_SHORT * tallest):
        return False  # boxes too far apart for any gap allowed, or wider than one digit
    m = int(reach) + 2  # room round the union for the closing below
    y0, x0 = max(u.y0 - m, 0), max(u.x0 - m, 0)
    lab = labels[y0 : u.y1 + m, x0 : u.x1 + m]
    ma, mb = np.isin(lab, a.ids), np.isin(lab, b.ids)
    stroke = stroke_px(ma | mb)
    gap = min(_BREAK_STROKES * stroke, reach)
    near = cv2.distanceTransform((~ma).astype(np.uint8), cv2.DIST_L2, 3)
    if float(near[mb].min()) > gap + 1:  # distances from pixel centres: +1 for the ink's edge
        return False
    if oy < _BREAK_SIDE * min(a.h, b.h) or max(a.h, b.h) <= _BREAK_SHORT * tallest:
        return True  # one continues the other below it, or both are pieces of one bar
    k = odd_size(gap + 1)  # a closing this wide bridges gaps up to `gap`
    new = _holes(ma | mb, k) & ~_holes(ma, k) & ~_holes(mb, k)
    if np.count_nonzero(new) < _BREAK_LOOP * u.h * u.h:
        return False
    return _ends_meet(ma, mb, k, stroke)


def _ends_meet(ma: np.ndarray, mb: np.ndarray, k: int, stroke: float) -> bool:
    """Whether a closing `k` px wide lays at least two bridges between two pieces (bool masks) that each join the
    ends of two strokes: the loop they close is one the pen left too light in two places, not the open side of a
    digit closed by its neighbour (a 1's flag and a 7's bar, a 6 and a 9 nearly touching), where a bridge meets a
    stroke's side. A stroke's end leaves a ring round the contact once, a side or a corner twice."""
    both = (ma | mb).astype(np.uint8)
    added = cv2.morphologyEx(both, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8)) & (1 - both)
    n, lab = cv2.connectedComponents(added, connectivity=8)
    yy, xx = np.indices(both.shape)
    r0 = _END_RING * max(stroke, 1.5)
    r1 = r0 + max(2.0, stroke / 2)

    def is_end(contact: np.ndarray, m: np.ndarray) -> bool:
        ys, xs = np.nonzero(contact)
        d = np.hypot(yy - ys.mean(), xx - xs.mean())
        return cv2.connectedComponents((m & (d >= r0) & (d < r1)).astype(np.uint8), connectivity=8)[0] - 1 <= 1

    ends = 0
    for i in range(1, n):
        bridge = cv2.dilate((lab == i).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        ta, tb = bridge & ma, bridge & mb
        if ta.any() and tb.any() and is_end(ta, ma) and is_end(tb, mb):  # not a piece's own corner filled
            ends += 1
    return ends >= 2


def _merge(cands: list[Candidate], labels: np.ndarray | None = None) -> list[Candidate]:
    """Pieces of one digit merged (`_same_digit`; given the labels of a photo's marks, `_broken_apart` too)."""
    tallest = max((c.h for c in cands), default=0)
    merged = True
    while merged and len(cands) > 1:
        merged = False
        cands.sort(key=lambda c: c.x0)
        for i in range(len(cands)):
            for j in range(i + 1, len(cands)):
                if cands[j].x0 > cands[i].x1 + max(cands[i].h, cands[j].h):
                    break  # sorted by x0: the rest are further right
                if _same_digit(cands[i], cands[j]) or (
                        labels is not None and _broken_apart(cands[i], cands[j], labels, tallest)):
                    cands[i] = cands[i].union(cands[j])
                    del cands[j]
                    merged = True
                    break
            if merged:
                break
    return cands


def _split_wide(c: Candidate, mask: np.ndarray, s: PreprocessSettings) -> list[Candidate]:
    """Cut a candidate much wider than tall (touching digits) where one stroke joins them, recursively.

    The cost of a cut is the number of strokes it crosses (the joint of two touching digits is one stroke, while a
    cut through a digit crosses two or three), then the ink it cuts, then its distance from the middle. Below
    `sure_split_aspect` a cut crossing more than one stroke is not made: that is one wide digit.
    """
    if c.w <= s.split_aspect * c.h:
        return [c]
    sub = mask[c.y0 : c.y1, c.x0 : c.x1] > 0
    runs = sub[0].astype(np.int32) + np.count_nonzero(sub[1:] & ~sub[:-1], axis=0)  # strokes crossing each column
    lo, hi = int(_CUT_ZONE[0] * c.w), int(_CUT_ZONE[1] * c.w) + 1
    xs = np.arange(lo, hi)
    cost = runs[lo:hi] + _CUT_INK_WEIGHT * sub[:, lo:hi].sum(axis=0) / c.h + np.abs(xs - c.w / 2) / c.w
    cut = lo + int(np.argmin(cost))
    # A joint is one short stroke across the cut; the side of a bold 0 is one long one.
    joint = runs[cut] <= 1 and sub[:, cut].sum() <= _JOINT_LENGTH * c.h
    if not joint and c.w <= s.sure_split_aspect * c.h:
        return [c]
    halves = []
    for a, b in ((0, cut), (cut, c.w)):
        bb = bounding_box(sub[:, a:b])
        if bb is not None:
            halves.append(Candidate(c.x0 + a + bb[0], c.y0 + bb[1], c.x0 + a + bb[2], c.y0 + bb[3], c.ids))
    # Digits of one number are about as tall as each other; a short piece is a tail (a 2's, a 7's), not a digit.
    if len(halves) < 2 or min(p.h for p in halves) < _HALF_HEIGHT * c.h:
        return [c]
    if _loop_across(sub, cut):
        return [c]  # a flat 0, or one not closed where the cut would go: the cut would cross its one loop
    if _open_four(halves[0], halves[1], thin=False):
        return [c]  # a 4 whose bar crosses its stem: the L stands above the stem's foot
    return [q for p in halves for q in _split_wide(p, mask, s)]


def _loop_across(sub: np.ndarray, cut: int) -> bool:
    """Whether column `cut` of a candidate's ink crosses one enclosed loop that reaches a quarter of the width to
    each side (a wide, flat 0; a 0 whose ends do not meet, closed here across a gap of a fifth of its height),
    rather than running between two digits' loops (00 touching)."""
    h, w = sub.shape
    holes = _holes(sub, max(3, int(_LOOP_GAP * h)) | 1)
    if not holes[:, cut].any():
        return False
    n, lab = cv2.connectedComponents(holes.astype(np.uint8), connectivity=4)
    for i in np.unique(lab[:, cut][holes[:, cut]]):
        xs = np.flatnonzero((lab == i).any(axis=0))
        if xs.min() <= cut - _LOOP_REACH * w and xs.max() >= cut + _LOOP_REACH * w:
            return True
    return False


def _reading_order(cands: list[Candidate]) -> list[Candidate]:
    """Rows top to bottom (a digit joins a row it overlaps by half its height), left to right within a row."""
    rows: list[tuple[list[Candidate], int, int]] = []
    for c in sorted(cands, key=lambda c: (c.y0 + c.y1) / 2):
        for i, (members, r0, r1) in enumerate(rows):
            if _overlap(c.y0, c.y1, r0, r1) >= _ROW_OVERLAP * min(c.h, r1 - r0):
                members.append(c)
                rows[i] = (members, min(r0, c.y0), max(r1, c.y1))
                break
        else:
            rows.append(([c], c.y0, c.y1))
    rows.sort(key=lambda r: (r[1] + r[2]) / 2)
    return [c for members, _, _ in rows for c in sorted(members, key=lambda c: c.x0)]


def _porous(c: Candidate, area: np.ndarray, s: PreprocessSettings) -> bool:
    """Whether a candidate is many marks of which none holds a large share of the ink: texture, not writing."""
    a = area[np.asarray(c.ids) - 1]
    return len(c.ids) >= s.texture_pieces and int(a.max()) < s.texture_share * int(a.sum())


def find_candidates(
    mask: np.ndarray, s: PreprocessSettings, min_px: int, ink: np.ndarray | None = None
) -> tuple[np.ndarray, list[Candidate]]:
    """Label a binary mask (H, W) uint8 and group its components into digits in reading order.

    Given the photo's `ink` map, components touching the border (the sheet's edge, the table, a shadow's rim)
    are dropped first, unless nothing else is left, and so are marks much fainter than the darkest one of
    digit size (table texture, shadows' tips, faint lines): one pen wrote the digits. Groups of many small marks
    with no main one are texture and go too, unless nothing else is left.
    """
    drop_edges = ink is not None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return labels, []
    H, W = mask.shape
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    keep = np.flatnonzero((w >= 2) | (h >= 2))
    if drop_edges and keep.size:
        # People frame what they photograph: marks touching the frame are the sheet's edge, the table, a
        # shadow's rim or the next line of writing. They go while a digit-sized mark stays clear of the frame;
        # otherwise only those spanning most of the frame go.
        touches = (x[keep] == 0) | (y[keep] == 0) | (x[keep] + w[keep] == W) | (y[keep] + h[keep] == H)
        inner = keep[~touches]
        # A small strip is a tight crop of a line of digits (a cheque's amount, a form's box), not a photo with
        # a frame: its digits touch its edges and span its height; only a ruled line across it is not writing.
        if H <= _STRIP_HEIGHT and W >= H:
            edge = touches & (w[keep] > _RULE_WIDTH * W) & (h[keep] < _RULE_HEIGHT * H)
            if not edge.all():
                keep = keep[~edge]
        elif inner.size and int(h[inner].max()) >= min_px:
            # Except a mark in the row of a digit clear of the frame and of that digit's height (a digit, or
            # several touching; not a line across the picture nor a sheet's edge down it).
            big = inner[h[inner] >= min_px]
            edge = keep[touches]
            ov = np.minimum((y[edge] + h[edge])[:, None], (y[big] + h[big])[None]) - np.maximum(y[edge][:, None], y[big][None])
            ratio = h[edge][:, None] / h[big][None]
            lo, hi = _EDGE_HEIGHT_RATIO
            in_row = ((ov >= _EDGE_ROW_OVERLAP * np.minimum(h[edge][:, None], h[big][None])) & (ratio >= lo)
                      & (ratio <= hi)).any(axis=1)
            shaped = (w[edge] <= _EDGE_MAX[0] * W) & (h[edge] <= _EDGE_MAX[1] * H)
            keep = np.sort(np.concatenate([inner, edge[in_row & shaped]]))
        else:
            edge = touches & ((w[keep] > _FRAME_SPAN * W) | (h[keep] > _FRAME_SPAN * H))
            if not edge.all():
                keep = keep[~edge]
    if keep.size > _MAX_MARKS:
        keep = keep[np.argsort(area[keep])[-_MAX_MARKS:]]
    if keep.size == 0:
        return labels, []
    if ink is not None:
        mean = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=n)[1:] / np.maximum(area, 1)
        big = keep[h[keep] >= max(min_px, _DIGIT_SIZED * int(h[keep].max()))]
        ref = float(mean[big].max()) if big.size else float(mean[keep].max())
        keep = keep[mean[keep] >= s.relative_contrast * ref]
        if keep.size == 0:
            return labels, []
    # Dust and specks: much smaller than the tallest mark in both directions (before they can merge with a digit).
    tallest = int(h[keep].max())
    keep = keep[np.maximum(w[keep], h[keep]) >= max(2, _SPECK * tallest)]
    cands = [Candidate(int(x[i]), int(y[i]), int(x[i] + w[i]), int(y[i] + h[i]), (int(i) + 1,)) for i in keep]
    cands = _merge(cands, labels if ink is not None else None)  # a photo's light pen breaks strokes
    if ink is not None:  # a photo: grain and pattern (a wooden table, a cloth) are marks in clusters
        solid = [c for c in cands if not _porous(c, area, s)]
        if solid:
            cands = solid
    cands = [p for c in cands for p in _split_wide(c, mask, s)]
    if not cands:
        return labels, []
    tallest = max(c.h for c in cands)
    cands = [c for c in cands if c.h >= max(min_px, s.min_height_frac * tallest)]
    return labels, _reading_order(cands)


def cut_digit(
    src: np.ndarray,
    labels: np.ndarray,
    c: Candidate,
    f: float,
    s: PreprocessSettings,
    adjust_stroke: bool,
    gain: float = 1.0,
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """One candidate's ink from `src` (f times the labels' resolution): its 28x28 and box in `src` pixels."""
    H, W = src.shape
    m = int(np.ceil(f)) + 1  # margin: the anti-aliased fringe below the threshold used for labelling
    X0, Y0 = max(int(c.x0 * f) - m, 0), max(int(c.y0 * f) - m, 0)
    X1, Y1 = min(int(np.ceil(c.x1 * f)) + m, W), min(int(np.ceil(c.y1 * f)) + m, H)
    crop = src[Y0:Y1, X0:X1]
    lab = labels[c.y0 : c.y1, c.x0 : c.x1]
    mine = np.isin(lab, c.ids)
    if (lab[~mine] > 0).any():  # another digit's ink reaches into this box: keep only this digit's pixels
        full = np.zeros(labels.shape, np.uint8)
        full[c.y0 : c.y1, c.x0 : c.x1] = mine
        ly0, lx0 = int(Y0 / f), int(X0 / f)
        ly1, lx1 = int(np.ceil(Y1 / f)), int(np.ceil(X1 / f))
        sub = full[ly0:ly1, lx0:lx1]
        sub = cv2.dilate(sub, np.ones((3, 3), np.uint8))
        size = (int(round((lx1 - lx0) * f)), int(round((ly1 - ly0) * f)))
        sub = cv2.resize(sub, size, interpolation=cv2.INTER_NEAREST)
        oy, ox = Y0 - int(round(ly0 * f)), X0 - int(round(lx0 * f))
        sub = sub[oy : oy + crop.shape[0], ox : ox + crop.shape[1]]
        if sub.shape != crop.shape:
            sub = cv2.resize(sub, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_NEAREST)
        crop = crop * sub.astype(crop.dtype)
    if crop.dtype not in (np.uint8, np.float32):
        crop = to_unit(crop)
    if gain != 1.0:
        crop = np.clip(to_unit(crop) * np.float32(gain), 0.0, 1.0)
    img, bb = normalize_ink(crop, s, adjust_stroke)
    if bb is None:
        return None
    return img, (X0 + bb[0], Y0 + bb[1], X0 + bb[2], Y0 + bb[3])


def split_digits(ink: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """(H, W) ink in [0, 1], ink bright -> its digits in reading order (boxes in `ink`'s pixels); [] when none."""
    s = settings
    ink = to_unit(np.asarray(ink))
    if ink.ndim != 2:
        raise ImageError(f"ink must be (H, W), not shape {ink.shape}")
    mask = (ink >= s.ink_threshold).astype(np.uint8)
    labels, cands = find_candidates(mask, s, s.min_height_px)
    digits = []
    for c in cands[: Limits().max_digits]:
        got = cut_digit(ink, labels, c, 1.0, s, adjust_stroke=True)
        if got is not None:
            digits.append(Digit(got[0], got[1]))
    return digits
