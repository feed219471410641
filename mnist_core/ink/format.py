"""Digital ink in and out: JSON (ML Kit-like points or compact triples) and InkML, validated into an `Ink`.

An `Ink` is what a pen client sends for one drawing: its strokes in drawing order, each a (K, 3) float32 array of
(x, y, t) with y pointing down like image rows and t in milliseconds. Formats read:

- JSON objects: ``{"strokes": [[{"x": 10, "y": 20, "t": 0, "p": 0.5}, ...], ...]}`` (``t`` and ``p`` optional;
  ``p``, pressure, is accepted and dropped);
- compact JSON: ``[[[x, y, t], ...], ...]`` or ``[[[x, y], ...], ...]`` (also under ``{"strokes": ...}``);
- InkML: ``<ink><trace>x y t, x y t, ...</trace>...</ink>``, with an optional ``<traceFormat>`` naming the
  channels (X, Y, T, F, ...); without one the channels are X Y [T].

Anything else is refused with an `InkError` that says what is wrong (empty, NaN/inf, too many points or strokes,
time going backwards within a stroke, a wrong shape), never a traceback. Without times, points get a uniform
synthetic clock (10 ms a point) and `Ink.timed` is False: nothing downstream needs real time.

No TensorFlow here: numpy and the standard library only.
"""

from __future__ import annotations

import json
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
    """One drawing's strokes in drawing order: each (K, 3) float32 (x, y, t), y down, t in ms (increasing)."""

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
            s = a
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


def parse_json(data: str | bytes | dict | list, limits: InkLimits = LIMITS) -> Ink:
    """Ink from JSON text or an already-parsed value (either form; see the module's docstring)."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InkError(f"not JSON: {e}") from None
    strokes = data.get("strokes") if isinstance(data, dict) else data
    if isinstance(data, dict) and "strokes" not in data:
        raise InkError("a JSON ink object needs a 'strokes' list")
    if not isinstance(strokes, list):
        raise InkError("'strokes' must be a list of strokes, each a list of points")
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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _channels(root: ET.Element) -> tuple[list[str], bool]:
    """The trace format's channel names upper-cased, and whether a <traceFormat> declared them (default X, Y
    and an optional T)."""
    for el in root.iter():
        if _local(el.tag) == "traceFormat":
            names = [c.get("name", "").upper() for c in el if _local(c.tag) == "channel"]
            if names:
                return names, True
    return ["X", "Y", "T"], False


def _trace(text: str, channels: list[str], i: int, declared: bool = True) -> list[list[float]]:
    """One <trace>'s text ("x y t, x y t, ...") -> points [x, y] or [x, y, t] by the channel names."""
    if "X" not in channels or "Y" not in channels:
        raise InkError("the InkML trace format has no X and Y channels")
    ix, iy = channels.index("X"), channels.index("Y")
    it = channels.index("T") if "T" in channels else None
    out = []
    for j, chunk in enumerate(c for c in text.replace("\n", " ").split(",") if c.strip()):
        parts = chunk.split()
        try:
            v = [float(p) for p in parts]
        except ValueError:
            raise InkError(f"trace {i}, point {j}: {chunk.strip()[:40]!r} is not numbers") from None
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


def parse_inkml(text: str | bytes, limits: InkLimits = LIMITS) -> Ink:
    """Ink from InkML text: every <trace> in document order is a stroke."""
    if isinstance(text, (bytes, bytearray)) and len(text) > 64 * limits.max_points * 8:
        raise InkError("the InkML document is too large")
    if "<!DOCTYPE" in (text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text):
        raise InkError("InkML with a DOCTYPE is refused")  # no entity expansion
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InkError(f"not well-formed InkML: {e}") from None
    if _local(root.tag) != "ink":
        raise InkError(f"the root element must be <ink>, not <{_local(root.tag)}>")
    channels, declared = _channels(root)
    traces = [el for el in root.iter() if _local(el.tag) == "trace"]
    if not traces:
        raise InkError("the ink is empty: no <trace>")
    if len(traces) > limits.max_strokes:
        raise InkError(f"too many strokes: {len(traces)} (at most {limits.max_strokes})")
    rows = [_trace(el.text or "", channels, i, declared) for i, el in enumerate(traces)]
    if len({len(p) for r in rows for p in r}) > 1:
        raise InkError("either every point has a time or none does")
    return from_strokes(rows, limits=limits)


def to_inkml(ink: Ink) -> str:
    """The InkML form of an ink (X Y T channels), readable by `parse_inkml`."""
    fmt = ('<traceFormat><channel name="X" type="decimal"/><channel name="Y" type="decimal"/>'
           '<channel name="T" type="decimal" units="ms"/></traceFormat>')
    traces = "".join("<trace>" + ", ".join(f"{x:g} {y:g} {t:g}" for x, y, t in s) + "</trace>" for s in ink.strokes)
    return f'<ink xmlns="http://www.w3.org/2003/InkML">{fmt}{traces}</ink>'


def parse(data: str | bytes | dict | list, limits: InkLimits = LIMITS) -> Ink:
    """Ink in any supported form: InkML when the text starts with '<', else JSON."""
    if isinstance(data, (str, bytes, bytearray)):
        head = (data[:64].decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data[:64])
        if head.lstrip().startswith("<"):
            return parse_inkml(data, limits)
    return parse_json(data, limits)
