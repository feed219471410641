"""InkML files of many labelled digits (as handwriting collections write them): each labelled trace group an ink.

A collection's InkML file holds many drawings and says which traces make each one and what it is:

    <traceGroup xml:id="g3">
      <annotation type="truth">7</annotation>
      <traceView traceDataRef="t5"/> <traceView traceDataRef="t6"/>     (or the <trace>s themselves, nested)
    </traceGroup>

Every <traceGroup> with an ``<annotation type="truth">`` (or ``type="label"``) of its own is a labelled drawing; of
nested labelled groups (a number, then its digits) the innermost are read. Its strokes are the traces inside it and
those its <traceView>s name (by ``traceDataRef``, with or without ``#``; a view of a group takes all of that group's
traces), in document order of the views. The document's trace format (channels, orientation) applies, as for a
single drawing (`format.parse_inkml`). A file without labelled groups is not a collection: `read_groups` returns None
and the file is one drawing, as before.

Each drawing is a `format.Piece` named by the group's ``xml:id`` (else its number from 1), with its writer where the
group or the document says (an ``<annotation type="writer">`` of the group's own, else of the <ink>), and its ink or,
where that group cannot be read (a view of a trace the file lacks, bad points), the reason: one bad group never stops
the others. No TensorFlow here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mnist_core.ink.format import (LIMITS, InkError, InkLimits, Piece, annotated_writer, inkml_root, local_name,
                                    traces_ink)

MAX_BYTES = 64 * 1024 * 1024  # a collection file (thousands of drawings); one drawing stays under format's own bound
_ID = "{http://www.w3.org/XML/1998/namespace}id"
LABEL_TYPES = ("truth", "label")  # annotation types that name what a group is


def _label(group: ET.Element) -> str | None:
    """The group's own label: the text of a direct <annotation type="truth"|"label"> child."""
    for a in group:
        if local_name(a.tag) == "annotation" and a.get("type", "").strip().lower() in LABEL_TYPES:
            return (a.text or "").strip()
    return None


def _groups(el: ET.Element) -> list[ET.Element]:
    """The innermost labelled <traceGroup>s at or below `el`, in document order."""
    inner = [g for child in el for g in _groups(child)]
    if local_name(el.tag) == "traceGroup" and _label(el) is not None and not inner:
        return [el]
    return inner


def _strokes(group: ET.Element, by_id: dict[str, ET.Element], depth: int = 0) -> list[ET.Element]:
    """The <trace> elements of a group: its own, and those its <traceView>s name (a view of a group: that group's,
    the same way), in document order."""
    if depth > 8:
        raise InkError("traceViews name each other in a loop")
    out = []
    for el in group.iter():
        kind = local_name(el.tag)
        if kind == "trace" and (el.text or "").strip():
            out.append(el)
        elif kind == "traceView" and el.get("traceDataRef"):
            ref = el.get("traceDataRef", "").strip().lstrip("#")
            target = by_id.get(ref)
            if target is None:
                raise InkError(f"a traceView names {ref!r}, which the file does not have")
            out.extend([target] if local_name(target.tag) == "trace" else _strokes(target, by_id, depth + 1))
    return out


def read_groups(text: str | bytes, limits: InkLimits = LIMITS) -> list[Piece] | None:
    """The labelled drawings of an InkML collection file, or None when it has no labelled trace group."""
    root = inkml_root(text, MAX_BYTES)
    groups = _groups(root)
    if not groups:
        return None
    by_id = {el.get(_ID) or el.get("id"): el for el in root.iter() if el.get(_ID) or el.get("id")}
    pieces, everyone = [], annotated_writer(root)
    for n, g in enumerate(groups, 1):
        name, label = g.get(_ID) or g.get("id") or str(n), _label(g)
        writer = annotated_writer(g) or everyone
        try:
            pieces.append(Piece(name, label, traces_ink(root, _strokes(g, by_id), limits), writer=writer))
        except InkError as e:
            pieces.append(Piece(name, label, None, str(e), writer))
    return pieces


def read_file(path: str | Path, limits: InkLimits = LIMITS) -> list[Piece] | None:
    """`read_groups` of a file on disk."""
    return read_groups(Path(path).read_bytes(), limits)
