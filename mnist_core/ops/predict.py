"""Reading digits (or numbers) from image files and ink files: the model to read with, and one part of the files
read as one batch, returned as result records (``python -m mnist_core predict`` prints them; ops.parallel reads
parts in several processes).

An ink file (.json or .inkml, see mnist_core.ink.format) is drawn on the canvas as the page would draw it and read
like a drawing with its strokes: by the image model and by the ink model, the two fused. A file of many labelled
digits, a UNIPEN file (.unp, .tra, .tes, or .dat holding UNIPEN text; mnist_core.ink.unipen) or an InkML file with
labelled trace groups (mnist_core.ink.groups), gives an item for each of its digits (a `Part`, shown as ``path#n``),
read like an ink file, its record carrying the file's label.

A record is a dict: ``{"path", "error"}`` for a file that could not be read; ``{"path", "number", "digits", ...}``
(numbers.reader.as_json) with ``number``; else ``{"path", "digit", "confidence", "probabilities", "box"}``
(``digit`` None and no box when the image holds no ink), floats unrounded; an ink file's record also has
``"image"`` and ``"ink"``: what each model said alone (``{"digit", "confidence"}``, the ink's with ``"bar"``: whether
its strokes have a crossed 7's bar, mnist_core.ink.hand), and ``"writer"`` where known (a `Part`'s: the file's
.WRITER_ID, else the file; a JSON ink's "writer"); a `Part`'s also ``"label"`` when the file labels it.

`with_hands` then reads each writer's digits together: a writer who crosses their 7s has their uncrossed 7-shapes
read as such a writer means them (mnist_core.ink.hand); a record it changed says so in ``"hand"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
INK_SUFFIXES = {".json", ".inkml"}
# Converting to TF Lite pays off past a few thousand digits (it takes seconds); a version's stored copy is used at
# once, without importing TensorFlow.
LITE_FROM_FILES = 3000


@dataclass(frozen=True)
class Part:
    """One digit of a file of many (a UNIPEN segment, an InkML trace group), read as an ink file of its own; shown
    as ``path#n`` (n from 1)."""

    path: Path
    index: int

    def __str__(self) -> str:
        return f"{self.path}#{self.index + 1}"


def expand(paths: list[str]) -> list:
    """Files and folders to the items to read: image and ink files (a folder's by suffix, recursively, sorted; files
    as given), a file of many labelled digits as its `Part`s (in a folder, a .dat file only when it has segments)."""
    from mnist_core.ink.unipen import SUFFIXES  # noqa: PLC0415

    out: list = []
    wanted = IMAGE_SUFFIXES | INK_SUFFIXES | SUFFIXES | {".dat"}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in wanted):
                if f.suffix.lower() != ".dat":
                    out.extend(_items(f))
                elif _is_unipen(f, segmented=True):
                    out.extend(_items(f, unipen=True))
        else:
            out.extend(_items(p))
    return out


def _is_unipen(path: Path, segmented: bool = False) -> bool:
    """Whether a file is UNIPEN: by suffix, or a .dat whose text is (with `segmented`: and has a .SEGMENT)."""
    from mnist_core.ink.unipen import SUFFIXES, looks_like_unipen  # noqa: PLC0415

    suffix = path.suffix.lower()
    if suffix in SUFFIXES and not segmented:
        return True
    if suffix not in SUFFIXES | {".dat"}:
        return False
    try:
        text = path.read_text(encoding="latin-1") if segmented else path.open(encoding="latin-1").read(8192)
    except OSError:
        return suffix in SUFFIXES  # unreadable: the reading says why
    return looks_like_unipen(text[:8192]) and (not segmented or ".SEGMENT" in text.upper())


def _items(path: Path, unipen: bool = False) -> list:
    """A file's items: its digits when it is a readable file of many labelled digits, else the file (whose reading
    says why not). `unipen`: already known to be a UNIPEN file (not read again to tell)."""
    if not (unipen or _is_unipen(path) or path.suffix.lower() == ".inkml"):
        return [path]
    try:
        pieces = _pieces(path)
    except (OSError, ValueError):
        return [path]
    return [path] if pieces is None else [Part(path, i) for i in range(len(pieces))]


_pieces_of: dict = {}  # the last few files' pieces, {path: [Piece] or None}: items are read in order, a part at a time
KEEP_FILES = 4


def _pieces(path: Path) -> list | None:
    """The labelled digits (mnist_core.ink.format.Piece) of a UNIPEN file or of an InkML file (None: an InkML file
    without labelled groups, one drawing), kept for the next items of the same file."""
    if path not in _pieces_of:
        if path.suffix.lower() == ".inkml":
            from mnist_core.ink.groups import read_file  # noqa: PLC0415
        else:
            from mnist_core.ink.unipen import read_file  # noqa: PLC0415
        pieces = read_file(path)
        while len(_pieces_of) >= KEEP_FILES:
            _pieces_of.pop(next(iter(_pieces_of)))
        _pieces_of[path] = pieces
    return _pieces_of[path]


def _ink_bytes(item) -> bytes | None:
    """The bytes of a JSON or InkML ink file, read once for both its ink and its writer; None for any other item.
    OSError when the file cannot be read."""
    if isinstance(item, Part) or item.suffix.lower() not in INK_SUFFIXES:
        return None
    return item.read_bytes()


def _about(item, data: bytes | None = None) -> dict:
    """``{"label", "writer"}`` for a `Part` (its file's label for it; its writer where the file says, a UNIPEN
    .WRITER_ID or an InkML writer annotation, else the file), ``{"writer"}`` for a JSON or InkML ink file that names
    one (`data`: its bytes, when already read), else {} (also when the file can no longer be read)."""
    try:
        if isinstance(item, Part):
            piece = _pieces(item.path)[item.index]
            return {"label": piece.label, "writer": piece.writer or str(item.path)}
        if item.suffix.lower() in INK_SUFFIXES:
            from mnist_core.ink.format import declared_writer  # noqa: PLC0415

            writer = declared_writer(item.read_bytes() if data is None else data)
            return {} if writer is None else {"writer": writer}
    except (OSError, ValueError, IndexError, TypeError):
        pass
    return {}


def model_of(version: str | None, model_file: str | None):
    """(a Keras model, its name): the .keras ``model_file``, else ``version``, else the active version."""
    from mnist_core.store.registry import Registry, load_model_file  # noqa: PLC0415

    if model_file:
        return load_model_file(model_file), str(model_file)
    registry = Registry()
    vid = version or registry.active()
    return registry.load(vid), vid


def setup(version: str | None, model: str | None, number: bool, no_reader: bool, n_files: int):
    """The recognizer (and with ``number`` the number reader, unless ``no_reader``) for reading ``n_files`` files."""
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    lite = n_files > LITE_FROM_FILES
    if model:
        net, name = model_of(None, model)
        recognizer = Recognizer(net, name, lite=lite)
    else:
        recognizer = Recognizer.from_registry(Registry(), version, lite=lite)
    reader = None
    if number and not no_reader:
        from mnist_core.config import Paths  # noqa: PLC0415
        from mnist_core.numbers import reader as nr  # noqa: PLC0415

        reader = nr.NumberReader.load(nr.served_path(Paths().home))  # None: the segmenter alone, as before
    return recognizer, reader


def read_part(part: list, recognizer, reader, number: bool) -> list[dict]:
    """The records of ``part`` (paths and `Part`s) in order (one model call for all its digits); a bad file's record is
    its error."""
    per_file: list = []
    images = []
    abouts = []
    for f in part:
        label = {}  # a file that cannot be read names no writer
        try:
            data = _ink_bytes(f)  # an ink file's bytes, read once for its writer and its ink
            label = _about(f, data)  # never raises: {} when nothing is known
            digits, ink, strokes = _digits_of(f, data)
            if not number:
                k = most_prominent_of(digits)
                digits, ink = ([] if k is None else [digits[k]]), None  # a photo's ink map is megabytes: not kept
            per_file.append((len(images), digits, ink, strokes))
            images.extend(d.image for d in digits)
        except Exception as e:  # one bad file must not stop the rest
            per_file.append((str(e) or type(e).__name__, None, None, None))
        abouts.append(label)
    probs = recognizer.predict(np.stack(images)) if images else np.zeros((0, 10), np.float32)
    records = []
    for f, label, (first, digits, ink, strokes) in zip(part, abouts, per_file):
        if digits is None:
            records.append({"path": str(f), "error": first, **label})
            continue
        rows = probs[first:first + len(digits)]
        fused, p_ink = _with_ink(digits, strokes, rows)
        if number:
            from mnist_core.numbers import reader as nr  # noqa: PLC0415

            with_ink = None
            if p_ink is not None:
                from mnist_core.ink.fuse import ink_for_reader  # noqa: PLC0415

                with_ink = ink_for_reader(strokes, _ink["reader"])
            records.append({"path": str(f), **nr.as_json(nr.read_numbers(digits, fused, ink, reader, with_ink)),
                            **label})
        else:
            records.append({**_digit_record(f, digits, fused, rows if strokes is not None else None, p_ink,
                                            strokes), **label})
    return records


def most_prominent_of(digits):
    """The most prominent digit's index (digits.most_prominent), None when there are none."""
    from mnist_core.digits import most_prominent  # noqa: PLC0415

    return most_prominent(digits)


def _digits_of(path, data: bytes | None = None):
    """(digits, their ink map, the strokes placed on the canvas or None) of an image file, an ink file (`data`: its
    bytes, when already read) or a `Part`."""
    from mnist_core.digits import canvas_ink, load_image, photo_ink  # noqa: PLC0415

    if isinstance(path, Part) or _is_unipen(path):
        ink = _piece_ink(path)
    elif path.suffix.lower() in INK_SUFFIXES:
        from mnist_core.ink.format import parse  # noqa: PLC0415

        ink = parse(path.read_bytes() if data is None else data)  # InkError (a ValueError) says what is wrong
    else:
        return (*photo_ink(load_image(path)), None)
    from mnist_core.ink.canvas import on_canvas  # noqa: PLC0415

    placed, layer = on_canvas(ink)
    return (*canvas_ink([layer], None), placed)


def _piece_ink(item):
    """The ink of a `Part`; InkError if it has none. A UNIPEN path reaches here only when `expand` could not list
    its segments, and reading it raises that error again (its first piece is read if the file has since mended)."""
    from mnist_core.ink.format import InkError  # noqa: PLC0415

    pieces = _pieces(item.path if isinstance(item, Part) else item)  # a file's own error is raised here
    piece = pieces[item.index if isinstance(item, Part) else 0]
    if piece.ink is None:
        raise InkError(piece.error)
    return piece.ink


_ink: dict = {}  # the ink reader, loaded on the first ink file


def _with_ink(digits, strokes, rows):
    """(the answer, the ink model's rows or None): fused with the ink model when the file had strokes."""
    if strokes is None or not digits:
        return rows, None
    if "reader" not in _ink:
        from mnist_core.config import Paths  # noqa: PLC0415
        from mnist_core.ops.serving import load_ink_reader  # noqa: PLC0415
        from mnist_core.store.registry import Registry  # noqa: PLC0415

        _ink["reader"] = load_ink_reader(Registry(Paths()))
    if _ink["reader"] is None:
        return rows, None
    from mnist_core.ink.fuse import read_digits  # noqa: PLC0415

    return read_digits(digits, strokes, rows, _ink["reader"])


def _digit_record(path, digits, rows, image=None, ink=None, strokes=None) -> dict:
    if not len(rows):
        return {"path": str(path), "digit": None, "confidence": 0.0, "probabilities": [0.0] * 10}
    r = rows[0]
    record = {"path": str(path), "digit": int(r.argmax()), "confidence": float(r.max()),
              "probabilities": [float(v) for v in r], "box": [int(v) for v in digits[0].box]}
    if image is not None:  # an ink file: what each model said alone
        one = lambda p: None if p is None or np.isnan(p).any() else {"digit": int(p.argmax()),  # noqa: E731
                                                                    "confidence": float(p.max())}
        record.update(image=one(image[0]), ink=one(None if ink is None else ink[0]))
        if record["ink"] is not None and strokes is not None:
            from mnist_core.ink.hand import bars_in_boxes  # noqa: PLC0415

            record["ink"]["bar"] = bars_in_boxes(strokes, [digits[0].box])[0]
    return record


# ----------------------------------------------------------------------------------------------------------
# A writer's digits read together (mnist_core.ink.hand)
# ----------------------------------------------------------------------------------------------------------

def with_hands(records, writers: str = "folder"):
    """Digit records (`read_part`'s, in input order) with each writer's hand applied (mnist_core.ink.hand). Whose
    digits go together: ``auto``, those of one named writer (`_about`); ``folder``, also the unnamed ink files of one
    folder; ``one``, every ink file given; ``none``, nobody's (records as they come). Records are held back until
    their folder's last one (``one``: until the end), since a writer's later digits speak for the earlier ones."""
    if writers == "none":
        yield from records
        return
    run: list = []
    run_folder = None
    for record in records:
        folder = None if writers == "one" else Path(record["path"]).parent  # a Part's "dir/f.dat#3": dir
        if run and folder != run_folder:
            yield from _hands(run, writers)
            run = []
        run_folder = folder
        run.append(record)
    yield from _hands(run, writers)


def _writer_of(record: dict, writers: str):
    """The writer a digit record goes with (None: nobody's): see `with_hands`."""
    if not record.get("ink") or "bar" not in record["ink"]:
        return None  # an image, or a digit without strokes: no hand to read
    if writers == "one":
        return "one"
    if "writer" in record:
        return record["writer"]
    return str(Path(record["path"]).parent) if writers == "folder" else None


def _hands(run: list, writers: str) -> list:
    """`run`'s records, the digits of each writer who crosses their 7s read with that hand."""
    from mnist_core.ink.hand import by_writer  # noqa: PLC0415

    who = [_writer_of(r, writers) for r in run]
    have = [i for i, w in enumerate(who) if w is not None]
    if not have:
        return run
    probs = np.array([run[i]["probabilities"] for i in have])
    # The ink's answer and how sure it was (all a record keeps of it): a plain 7 counts against crossing only when the
    # ink is sure of it (ink.hand.HandSettings.plain_sure); the rest of its odds spread evenly.
    sure = np.array([float(run[i]["ink"].get("confidence", 1.0)) for i in have])
    ink = np.repeat(((1.0 - sure) / 9.0)[:, None], probs.shape[1], axis=1)
    ink[np.arange(len(have)), [run[i]["ink"]["digit"] for i in have]] = sure
    bars = [run[i]["ink"]["bar"] for i in have]
    new, hands = by_writer(probs, ink, bars, [who[i] for i in have])
    for k, i in enumerate(have):
        r = run[i]
        if int(new[k].argmax()) != r["digit"] or abs(float(new[k].max()) - r["confidence"]) > 1e-3:
            hand = hands[who[i]]
            run[i] = {**r, "digit": int(new[k].argmax()), "confidence": float(new[k].max()),
                      "probabilities": [float(v) for v in new[k]], "hand": hand.describe()}
    return run
