"""Digital ink in and out: JSON (ML Kit-like points or compact triples) and InkML, validated into an `Ink`.

An `Ink` is what a pen client sends for one drawing: its strokes in drawing order, each a (K, 3) float32 array of
(x, y, t) with y pointing down like image rows and t in milliseconds. Formats read:

- JSON objects: ``{"strokes": [[{"x": 10, "y": 20, "t": 0, "p": 0.5}, ...], ...]}`` (``t`` and ``p`` optional;
  ``p``, pressure, is accepted and dropped; an optional ``"writer"`` names who wrote it: `declared_writer`);
- compact JSON: ``[[[x, y, t], ...], ...]`` or ``[[[x, y], ...], ...]`` (also under ``{"strokes": ...}``);
- the same with each stroke an object ``{"points": [...]}`` (as ML Kit's ``Ink.Stroke``), or each stroke as
  columns ``[[x0, x1, ...], [y0, y1, ...], [t0, t1, ...]]`` (Quick, Draw! and Google's handwriting input, whose
  ``{"ink": ...}`` key is accepted beside ``"strokes"``), told from points once a column has more than 4 values;
- InkML: ``<ink><trace>x y t, x y t, ...</trace>...</ink>`` (an ``<annotation type="writer">`` in the <ink> names who
  wrote it), with an optional ``<traceFormat>`` naming the channels (X, Y, T, F, ...); without one the channels are
  X Y [T]. Values may be differences as InkML writes them (``'`` first, ``"`` second, ``!`` explicit again; an
  order stays in force for its channel until another is given), hex (``#1F``) or T/F; a trace written
  ``x,y x,y ...`` (commas inside the points, as some exporters write) is read too; a channel with
  ``orientation="-ve"`` (a tablet's Y growing upwards) is turned to y down.

Anything else is refused with an `InkError` that says what is wrong (empty, NaN/inf, too many points or strokes,
time going backwards within a stroke, a wrong shape), never a traceback. Without times, points get a uniform
synthetic clock (10 ms a point) and `Ink.timed` is False: nothing downstream needs real time.

No TensorFlow here: numpy and the standard library only.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np


class InkError(ValueError):
    """Ink that cannot be read: the message says why, in words a client can act on."""


@dataclass(frozen=True)
class InkLimits:
    """What one drawing may hold."""

    max_points: int = 4000  # points in all strokes together (a dense 400x400 scribble is ~1,500)
    max_strokes: int = 64  # strokes in one drawing (a long number is ~20)
    max_coord: float = 1e6  # |x|, |y| in the client's units
    clock_ms: float = 10.0  # synthetic time step (ms) given to points that come without time


LIMITS = InkLimits()


@dataclass(frozen=True)
class Ink:
    """One drawing's strokes in drawing order: each (K, 3) float32 (x, y, t), y down, t in ms from the first point
    (increasing within a stroke)."""

    strokes: tuple[np.ndarray, ...]
    timed: bool = True  # False when the client sent no times (t is a synthetic clock)

    @property
    def points(self) -> int:
        return int(sum(len(s) for s in self.strokes))

    def xy(self) -> list[np.ndarray]:
        """The strokes' positions alone: each (K, 2) float32."""
        return [s[:, :2] for s in self.strokes]

    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of all points."""
        p = np.concatenate(self.xy())
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())

    def to_json(self) -> dict:
        """The object JSON form (`{"strokes": [[{"x", "y", "t"}, ...], ...]}`), readable by `parse_json`."""
        return {"strokes": [[{"x": float(x), "y": float(y), "t": float(t)} for x, y, t in s] for s in self.strokes]}


@dataclass(frozen=True)
class Piece:
    """One labelled ink of a file that holds many (a UNIPEN segment, an InkML trace group): its label (None when the
    file gives none) and its ink, or why it has none."""

    name: str  # where it is in its file (a UNIPEN delineation "4-5", an InkML group's id or number)
    label: str | None
    ink: Ink | None
    error: str | None = None
    writer: str | None = None  # who wrote it, where the file says (UNIPEN's .WRITER_ID)


def from_strokes(strokes, timed: bool | None = None, limits: InkLimits = LIMITS) -> Ink:
    """Validate strokes given as arrays: each (K, 2) (x, y) or (K, 3) (x, y, t). Raises InkError."""
    arrays = []
    for i, s in enumerate(strokes):
        try:
            a = np.asarray(s, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InkError(f"stroke {i}: points must be numbers ({e})") from None
        if a.ndim == 1 and a.size in (2, 3):  # a single point written flat
            a = a[None]
        if a.ndim != 2 or a.shape[1] not in (2, 3) or len(a) == 0:
            raise InkError(f"stroke {i}: expected a list of [x, y] or [x, y, t] points, got shape {a.shape}")
        arrays.append(a)
    if not arrays:
        raise InkError("the ink is empty: no strokes")
    has_t = {a.shape[1] == 3 for a in arrays}
    if len(has_t) > 1:
        raise InkError("either every point has a time or none does")
    timed = has_t.pop() if timed is None else timed
    return _checked(arrays, timed, limits)


def _checked(arrays: list[np.ndarray], timed: bool, limits: InkLimits) -> Ink:
    """The limits and per-stroke checks, then the frozen value (synthetic clock when not timed)."""
    if len(arrays) > limits.max_strokes:
        raise InkError(f"too many strokes: {len(arrays)} (at most {limits.max_strokes})")
    total = sum(len(a) for a in arrays)
    if total > limits.max_points:
        raise InkError(f"too many points: {total:,} (at most {limits.max_points:,})")
    out, clock = [], 0.0
    # times from the ink's first point: a client's clock (epoch milliseconds, ~1.7e12) would lose every step in
    # float32 (spacing ~1e5 ms there) and come back "not increasing" when the ink is read again
    timed = timed and all(a.shape[1] == 3 for a in arrays)  # asked for times, but none came: a synthetic clock
    t0 = float(arrays[0][0, 2]) if timed and np.isfinite(arrays[0][0, 2]) else 0.0
    for i, a in enumerate(arrays):
        if not np.isfinite(a).all():
            raise InkError(f"stroke {i}: a coordinate or time is NaN or infinite")
        if np.abs(a[:, :2]).max() > limits.max_coord:
            raise InkError(f"stroke {i}: a coordinate is beyond ±{limits.max_coord:g}")
        if timed:
            d = np.diff(a[:, 2])
            if (d <= 0).any():
                j = int(np.argmax(d <= 0)) + 1
                raise InkError(f"stroke {i}: time does not increase at point {j} "
                               f"({a[j - 1, 2]:g} ms then {a[j, 2]:g} ms)")
            s = np.column_stack([a[:, :2], a[:, 2] - t0])
        else:
            t = clock + limits.clock_ms * np.arange(len(a))
            clock = float(t[-1]) + 10 * limits.clock_ms  # a pause between strokes
            s = np.column_stack([a[:, :2], t])
        out.append(np.ascontiguousarray(s, dtype=np.float32))
    return Ink(tuple(out), timed)


# ----------------------------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------------------------


def _point(p: Any, i: int, j: int) -> list:
    """One JSON point (an object with x, y[, t][, p] or a list [x, y[, t]]) -> [x, y] or [x, y, t]."""
    if isinstance(p, dict):
        if "x" not in p or "y" not in p:
            raise InkError(f"stroke {i}, point {j}: an object point needs 'x' and 'y'")
        v = [p["x"], p["y"]] + ([p["t"]] if p.get("t") is not None else [])
    elif isinstance(p, (list, tuple)) and len(p) in (2, 3, 4):
        v = list(p[:3])  # a 4th value (pressure) is dropped
    else:
        raise InkError(f"stroke {i}, point {j}: expected {{'x', 'y', 't'}} or [x, y, t], got {str(p)[:40]!r}")
    for k in v:
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise InkError(f"stroke {i}, point {j}: {k!r} is not a number")
    return [float(k) for k in v]


def _is_columns(s: Any) -> bool:
    """Whether a JSON stroke is written as columns, [[x0, x1, ...], [y0, y1, ...](, [t0, t1, ...])], as Quick,
    Draw! and Google's handwriting input write it: unmistakable only once a column is longer than a point can be
    (more than 4 values)."""
    return (isinstance(s, list) and len(s) in (2, 3) and all(isinstance(c, list) for c in s)
            and len({len(c) for c in s}) == 1 and len(s[0]) > 4)


def _strokes_of(data: Any) -> list:
    """The list of strokes of a parsed JSON ink: bare, under "strokes" (or "ink"), each stroke a list of points,
    an object with "points" (as ML Kit's Ink.Stroke), or columns (`_is_columns`: then every stroke is)."""
    strokes = data
    if isinstance(data, dict):
        key = next((k for k in ("strokes", "ink") if k in data), None)
        if key is None:
            raise InkError("a JSON ink object needs a 'strokes' list")
        strokes = data[key]
    if not isinstance(strokes, list):
        raise InkError("'strokes' must be a list of strokes, each a list of points")
    strokes = [s.get("points") if isinstance(s, dict) and "points" in s else s for s in strokes]
    if any(_is_columns(s) for s in strokes):
        for i, s in enumerate(strokes):
            if isinstance(s, list) and s and all(isinstance(c, list) for c in s):
                if len({len(c) for c in s}) != 1:
                    raise InkError(f"stroke {i}: its columns (x, y, t) differ in length")
                strokes[i] = [list(p) for p in zip(*s)]
    return strokes


def declared_writer(data: str | bytes) -> str | None:
    """Who wrote an ink, where the file says: the ``"writer"`` of a JSON ink object (a string or a number, as
    text), or the ``<annotation type="writer">`` of an InkML document's <ink> (as handwriting collections such as
    CROHME write it); else None (also for text that is neither)."""
    data = _without_bom(data)
    if _is_inkml(data):
        try:
            return annotated_writer(inkml_root(data, _inkml_bytes(LIMITS)))
        except InkError:
            return None
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
        return None
    writer = value.get("writer") if isinstance(value, dict) else None
    return str(writer) if isinstance(writer, (str, int)) and not isinstance(writer, bool) and str(writer) else None


def parse_json(data: str | bytes | dict | list, limits: InkLimits = LIMITS) -> Ink:
    """Ink from JSON text or an already-parsed value (either form; see the module's docstring)."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InkError(f"not JSON: {e}") from None
    strokes = _strokes_of(data)
    if not strokes:
        raise InkError("the ink is empty: no strokes")
    if len(strokes) > limits.max_strokes:
        raise InkError(f"too many strokes: {len(strokes)} (at most {limits.max_strokes})")
    rows, seen = [], 0
    for i, s in enumerate(strokes):
        if not isinstance(s, list) or not s:
            raise InkError(f"stroke {i}: expected a non-empty list of points")
        seen += len(s)
        if seen > limits.max_points:
            raise InkError(f"too many points: more than {limits.max_points:,} (at most {limits.max_points:,})")
        rows.append([_point(p, i, j) for j, p in enumerate(s)])
    widths = {len(p) for r in rows for p in r}
    if len(widths) > 1:
        raise InkError("either every point has a time 't' or none does")
    return from_strokes(rows, limits=limits)


# ----------------------------------------------------------------------------------------------------------
# InkML
# ----------------------------------------------------------------------------------------------------------


def local_name(tag: str) -> str:
    """An XML tag without its namespace: "{http://www.w3.org/2003/InkML}trace" -> "trace"."""
    return tag.rsplit("}", 1)[-1]


def _channels(root: ET.Element) -> tuple[list[str], bool, tuple[float, float]]:
    """The trace format's channel names upper-cased, whether a <traceFormat> declared them (default X, Y and an
    optional T), and the (x, y) signs: -1 where the channel says orientation="-ve" (its values grow the other way:
    a tablet's Y up), else 1 (InkML's default, y down as on a screen)."""
    for el in root.iter():
        if local_name(el.tag) == "traceFormat":
            chans = [c for c in el if local_name(c.tag) == "channel"]
            names = [c.get("name", "").upper() for c in chans]
            if names:
                flip = {n for n, c in zip(names, chans) if c.get("orientation", "+ve").strip() == "-ve"}
                return names, True, (-1.0 if "X" in flip else 1.0, -1.0 if "Y" in flip else 1.0)
    return ["X", "Y", "T"], False, (1.0, 1.0)


# One InkML value (W3C InkML 2011, trace grammar): an optional difference order ("!" explicit, "'" first
# difference, '"' second difference), then a number (decimal, exponent, or "#" hex), or T / F (booleans).
# Values need no space between them where a qualifier or a sign starts the next: "'23'43" is two.
_VALUE = re.compile(r"""\s*([!'"]?)\s*([-+]?\s*(?:\#[0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|[TF])""")
_PAIR = re.compile(r"[-+.\deE]+(?:,[-+.\deE]+)+")  # "x,y" or "x,y,t": a point written with commas (not InkML)


def _values(chunk: str, i: int, j: int) -> list[tuple[str, float]]:
    """One point's text -> [(difference order or "", value)]."""
    out, pos, chunk = [], 0, chunk.strip()
    while pos < len(chunk):
        m = _VALUE.match(chunk, pos)
        if not m or m.end() == pos:
            raise InkError(f"trace {i}, point {j}: {chunk[:40]!r} is not numbers")
        tok = m.group(2).replace(" ", "")
        v = (1.0 if tok == "T" else 0.0) if tok in "TF" else (
            float(int(tok.replace("#", ""), 16)) if "#" in tok else float(tok))
        out.append((m.group(1), v))
        pos = m.end()  # the next value's leading spaces are _VALUE's own
    return out


def _points(text: str) -> list[str]:
    """A trace's points as texts: split at commas (InkML), or, where every space-separated item is itself
    "x,y[,t]" (the commas inside the points, as some exporters write), at the spaces."""
    items = text.split()
    if items and all(_PAIR.fullmatch(it) for it in items):
        return [it.replace(",", " ") for it in items]
    return [c for c in text.replace("\n", " ").split(",") if c.strip()]


def _trace(text: str, channels: list[str], i: int, declared: bool = True) -> list[list[float]]:
    """One <trace>'s text ("x y t, x y t, ...", with InkML's difference orders) -> points [x, y] or [x, y, t]
    by the channel names."""
    if "X" not in channels or "Y" not in channels:
        raise InkError("the InkML trace format has no X and Y channels")
    ix, iy = channels.index("X"), channels.index("Y")
    it = channels.index("T") if "T" in channels else None
    mode: dict[int, str] = {}  # per channel: the difference order in force ("!" until a qualifier says otherwise)
    last: dict[int, float] = {}  # per channel: the last value, and its last first difference
    step: dict[int, float] = {}
    out = []
    for j, chunk in enumerate(_points(text)):
        v = []
        for c, (q, x) in enumerate(_values(chunk, i, j)):
            mode[c] = q or mode.get(c, "!")
            if mode[c] != "!" and c not in last:
                raise InkError(f"trace {i}, point {j}: a difference ({mode[c]}) with no value before it")
            if mode[c] == "'":
                step[c] = x
            elif mode[c] == '"':
                step[c] = step.get(c, 0.0) + x
            else:
                step[c] = x - last[c] if c in last else 0.0
            last[c] = x if mode[c] == "!" else last[c] + step[c]
            v.append(last[c])
        if len(v) < 2:
            raise InkError(f"trace {i}, point {j}: needs at least x and y")
        t = [v[it]] if it is not None and it < len(v) else []
        if it is not None and not t and declared:
            raise InkError(f"trace {i}, point {j}: the trace format has a time but the point has none")
        if max(ix, iy) >= len(v):
            raise InkError(f"trace {i}, point {j}: fewer values than the trace format's channels")
        out.append([v[ix], v[iy]] + t)
    if not out:
        raise InkError(f"trace {i} is empty")
    return out


def _inkml_bytes(limits: InkLimits) -> int:
    """The most bytes one drawing's InkML may take: 512 for each point allowed (long decimals, spaces, markup)."""
    return 64 * limits.max_points * 8


def inkml_root(text: str | bytes, max_bytes: int) -> ET.Element:
    """The <ink> element of an InkML document of at most `max_bytes` (a DOCTYPE refused: no entity expansion)."""
    if isinstance(text, (bytes, bytearray)) and len(text) > max_bytes:
        raise InkError("the InkML document is too large")
    if "<!DOCTYPE" in (text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text):
        raise InkError("InkML with a DOCTYPE is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InkError(f"not well-formed InkML: {e}") from None
    if local_name(root.tag) != "ink":
        raise InkError(f"the root element must be <ink>, not <{local_name(root.tag)}>")
    return root


def annotated_writer(el: ET.Element) -> str | None:
    """The text of `el`'s own ``<annotation type="writer">`` child (an InkML <ink> or <traceGroup>), else None."""
    for a in el:
        if local_name(a.tag) == "annotation" and a.get("type", "").strip().lower() == "writer":
            return (a.text or "").strip() or None
    return None


def traces_ink(root: ET.Element, traces: list[ET.Element], limits: InkLimits = LIMITS) -> Ink:
    """The ink of some <trace> elements of a document (its trace format and orientation), in the order given."""
    channels, declared, (sx, sy) = _channels(root)
    if not traces:
        raise InkError("the ink is empty: no <trace>")
    if len(traces) > limits.max_strokes:
        raise InkError(f"too many strokes: {len(traces)} (at most {limits.max_strokes})")
    rows = [_trace(el.text or "", channels, i, declared) for i, el in enumerate(traces)]
    if (sx, sy) != (1.0, 1.0):
        rows = [[[p[0] * sx, p[1] * sy] + p[2:] for p in r] for r in rows]
    if len({len(p) for r in rows for p in r}) > 1:
        raise InkError("either every point has a time or none does")
    return from_strokes(rows, limits=limits)


def parse_inkml(text: str | bytes, limits: InkLimits = LIMITS) -> Ink:
    """Ink from InkML text: every <trace> in document order is a stroke."""
    root = inkml_root(text, _inkml_bytes(limits))
    return traces_ink(root, [el for el in root.iter() if local_name(el.tag) == "trace"], limits)


def to_inkml(ink: Ink) -> str:
    """The InkML form of an ink (X Y T channels), readable by `parse_inkml`."""
    fmt = ('<traceFormat><channel name="X" type="decimal"/><channel name="Y" type="decimal"/>'
           '<channel name="T" type="decimal" units="ms"/></traceFormat>')
    traces = "".join("<trace>" + ", ".join(f"{x:g} {y:g} {t:g}" for x, y, t in s) + "</trace>" for s in ink.strokes)
    return f'<ink xmlns="http://www.w3.org/2003/InkML">{fmt}{traces}</ink>'


def parse(data: str | bytes | dict | list, limits: InkLimits = LIMITS) -> Ink:
    """Ink in any supported form: InkML when the text starts with '<', else JSON (a leading UTF-8 byte-order mark,
    as Windows editors write, is dropped)."""
    data = _without_bom(data)
    if _is_inkml(data):
        return parse_inkml(data, limits)
    return parse_json(data, limits)


def _without_bom(data):
    """Text or bytes less a leading UTF-8 byte-order mark (as Windows editors write); anything else as it is."""
    if isinstance(data, (bytes, bytearray)) and data[:3] == b"\xef\xbb\xbf":
        return data[3:]
    if isinstance(data, str) and data[:1] == "\ufeff":
        return data[1:]
    return data


def _is_inkml(data) -> bool:
    """Whether text or bytes (without a byte-order mark) are InkML: they start with '<' after white space."""
    if not isinstance(data, (str, bytes, bytearray)):
        return False
    head = data[:64].decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data[:64]
    return head.lstrip().startswith("<")
