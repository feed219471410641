"""UNIPEN files: the pen format of the UNIPEN collections and of UCI pendigits' original files, read into labelled inks.

A UNIPEN file is lines of keywords (a line beginning with ``.``), each followed by its arguments:

    .COORD X Y [T ...]          the columns of a point line (default X Y)
    .PEN_DOWN                   a stroke: the point lines that follow, until the next keyword
    .PEN_UP                     the stroke ends (points after it are the pen moving in the air: skipped)
    .SEGMENT DIGIT 4-5 ? "7"    a labelled piece of the writing: components (strokes) 4 to 5
    .INCLUDE val/data/a.dat     the strokes (and keywords) of another file, read in place (one not found, such as
                                a lab's documentation file, is skipped)
    .WRITER_ID 27               who wrote the segments that follow (kept in each piece: `predict` reads a writer's
                                digits together, mnist_core.ink.hand)

Strokes are the file's components, numbered from 0 in the order their ``.PEN_DOWN`` appear, the included files' too
(a ``.PEN_DOWN`` of a single 0 0 point, which some labs write for an empty box, counts like any other). A segment
names components as ``a``, ``a-b`` or ``a:p-b:q`` (point p of component a to point q of component b), several
joined by commas, before or after the strokes themselves (pendigits writes each segment before its strokes, UNIPEN's
labs in a separate file that includes the strokes). UNIPEN's y grows upwards; an ink's grows down, so y is negated.

What is read: the segments at the level ``DIGIT`` or ``CHARACTER`` when the file has any, else every segment, else
the whole file as one ink (less its empty-box marks). Each is a `format.Piece` (named by its delineation, "all"
for a whole file) holding its ink or, where that segment cannot be read (a component the
file does not have, an empty ink), the reason: one bad segment never stops the others. Keywords not listed above
(``.COMMENT``, ``.DT``, ``.X_POINTS_PER_INCH`` ...) are skipped.

No TensorFlow here: numpy and the standard library only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np

from mnist_core.ink.format import LIMITS, InkError, InkLimits, Piece, from_strokes

SUFFIXES = {".unp", ".tra", ".tes"}  # read as UNIPEN by their suffix; a .dat file when its text is UNIPEN
MAX_INCLUDE_DEPTH = 4  # .INCLUDE within .INCLUDE: deeper is a loop, refused
# level, delineation, quality, label (quoted as UNIPEN writes it, or a bare word)
_SEGMENT = re.compile(r'^\s*(\S+)\s+([0-9:,\-\s]+?)(?:\s+(\S+))?(?:\s+(?:"(.*)"|([^"\s]+)))?\s*$')


def looks_like_unipen(head: str) -> bool:
    """Whether text (the first kilobytes of a file) is UNIPEN: a keyword line among its first lines."""
    lines = [ln.strip() for ln in head.lstrip("\ufeff").splitlines() if ln.strip()][:40]
    return any(re.match(r"^\.(PEN_DOWN|SEGMENT|COORD|VERSION|INCLUDE|HIERARCHY|DATA_SOURCE|COMMENT)\b", ln)
               for ln in lines)


class _Reader:
    """The state of one reading: the components so far, the segments, the point columns."""

    def __init__(self, include: Callable[[str], str | None] | None):
        self.include = include
        self.missing: list[str] = []  # .INCLUDEs not found (skipped)
        self.components: list[list[list[float]]] = []
        self.segments: list[tuple[str, str, str | None, str | None]] = []  # (level, delineation, label, writer)
        self.writer: str | None = None  # the last .WRITER_ID
        self.columns = (0, 1)  # the X and Y columns of a point line
        self.pen_down = False

    def read(self, text: str, depth: int = 0) -> None:
        """Every keyword of `text` in order (an .INCLUDE read in place)."""
        for number, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s:
                continue
            if s.startswith("."):
                self._keyword(s, number, depth)
            elif self.pen_down:
                self.components[-1].append(self._point(s, number))

    def _keyword(self, s: str, number: int, depth: int) -> None:
        word, _, rest = s.partition(" ")
        word, rest = word.upper(), rest.strip()
        self.pen_down = word == ".PEN_DOWN"
        if self.pen_down:
            self.components.append([])
        elif word == ".COORD":
            names = [n.upper() for n in rest.split()]
            if "X" not in names or "Y" not in names:
                raise InkError(f"line {number}: .COORD names no X and Y channels ({rest!r})")
            self.columns = (names.index("X"), names.index("Y"))
        elif word == ".SEGMENT":
            m = _SEGMENT.match(rest)
            if not m:
                raise InkError(f"line {number}: a .SEGMENT needs a level and components ({rest!r})")
            label = m.group(4) if m.group(4) is not None else m.group(5)
            self.segments.append((m.group(1).upper(), re.sub(r"\s+", "", m.group(2)), label, self.writer))
        elif word == ".WRITER_ID":
            self.writer = rest.strip('"') or None
        elif word == ".INCLUDE":
            if depth >= MAX_INCLUDE_DEPTH:
                raise InkError(f"line {number}: .INCLUDE nested deeper than {MAX_INCLUDE_DEPTH}")
            text = self.include(rest) if self.include else None
            if text is None:
                self.missing.append(rest)
            else:
                self.read(text, depth + 1)

    def _point(self, s: str, number: int) -> list[float]:
        values = s.split()
        try:
            return [float(values[self.columns[0]]), -float(values[self.columns[1]])]  # y up -> y down
        except (IndexError, ValueError):
            raise InkError(f"line {number}: a point must be numbers in the .COORD columns ({s!r})") from None

    def strokes_of(self, delineation: str) -> list[list[list[float]]]:
        """The strokes a delineation names ("4-5", "3", "2:10-4:7", "1,3-4")."""
        out = []
        for item in filter(None, delineation.split(",")):
            lo, _, hi = item.partition("-")
            (a, p), (b, q) = self._at(lo, start=True), self._at(hi or lo, start=False)
            if b < a:
                raise InkError(f"components {item} run backwards")
            for c in range(a, b + 1):
                pts = self.components[c]
                out.append(pts[(p if c == a else 0):(q if c == b else len(pts))])
        return [s for s in out if s]

    def _at(self, ref: str, start: bool) -> tuple[int, int | None]:
        """(component, point slice bound) of "c" or "c:p"; the bound is None for a whole component."""
        c, _, p = ref.partition(":")
        try:
            k = int(c)
            point = (int(p) if start else int(p) + 1) if p else None
        except ValueError:
            raise InkError(f"components must be numbers, not {ref!r}") from None
        if not 0 <= k < len(self.components):
            raise InkError(f"component {k} is not in the file (it has {len(self.components)})")
        return k, point


def parse_unipen(text: str, include: Callable[[str], str | None] | None = None,
                 limits: InkLimits = LIMITS) -> list[Piece]:
    """The labelled pieces of a UNIPEN text (see the module doc); `include(name)` returns an included file's text, or
    None when there is none (skipped; without `include` every .INCLUDE is). Raises InkError when the text itself
    cannot be read (a malformed point or keyword, with its line) or holds no strokes (naming the includes missed)."""
    r = _Reader(include)
    r.read(text.lstrip("\ufeff"))
    if not r.components:
        missed = f" (.INCLUDE not found: {', '.join(r.missing)})" if r.missing else ""
        raise InkError(f"no .PEN_DOWN strokes in the file{missed}")
    if not r.segments:  # one drawing, less the single 0 0 points some labs write for an empty box
        return [_piece("all", None, lambda: [s for s in r.components if s and s != [[0.0, -0.0]]], limits)]
    wanted = [s for s in r.segments if s[0] in ("DIGIT", "CHARACTER")] or r.segments
    return [_piece(d, label, lambda d=d: r.strokes_of(d), limits, writer) for _, d, label, writer in wanted]


def _piece(name: str, label: str | None, strokes: Callable[[], list], limits: InkLimits,
           writer: str | None = None) -> Piece:
    try:
        s = strokes()
        if not s:
            raise InkError("the segment has no points")
        ink = from_strokes([np.asarray(x, np.float64) for x in s], timed=False, limits=limits)
        return Piece(name, label, ink, writer=writer)
    except InkError as e:
        return Piece(name, label, None, str(e), writer)


def read_file(path: str | Path, limits: InkLimits = LIMITS) -> list[Piece]:
    """The pieces of a UNIPEN file on disk; an .INCLUDE is looked for beside the file, in its folders above, and in
    an ``include/`` folder of any of them (UNIPEN's own layout: ``data/1a/lab/x.dat`` includes ``lab/data/x.dat``
    from ``include/``), and skipped where it is in none."""
    path = Path(path)

    def include(name: str) -> str | None:
        name = name.strip().strip('"')
        for folder in [path.parent, *path.parent.parents]:
            for candidate in (folder / name, folder / "include" / name):
                if candidate.is_file():
                    return candidate.read_text(encoding="latin-1")
        return None

    return parse_unipen(path.read_text(encoding="latin-1"), include, limits)
