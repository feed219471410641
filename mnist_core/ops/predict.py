"""Reading digits (or numbers) from image files: the model to read with, and one part of the files read as one
batch, returned as result records (``python -m mnist_core predict`` prints them; ops.parallel reads parts in
several processes).

A record is a dict: ``{"path", "error"}`` for a file that could not be read; ``{"path", "number", "digits", ...}``
(numbers.reader.as_json) with ``number``; else ``{"path", "digit", "confidence", "probabilities", "box"}``
(``digit`` None and no box when the image holds no ink), floats unrounded.
"""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
# Converting to TF Lite pays off past a few thousand digits (it takes seconds); a version's stored copy is used at
# once, without importing TensorFlow.
LITE_FROM_FILES = 3000


def expand(paths: list[str]) -> list[Path]:
    """Files and folders to image files: a folder's images (by suffix, recursively, sorted), files as given."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


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


def read_part(part: list[Path], recognizer, reader, number: bool) -> list[dict]:
    """The records of ``part`` in order (one model call for all its digits); a bad file's record is its error."""
    import numpy as np  # noqa: PLC0415

    from mnist_core.digits import load_image, most_prominent, photo_ink  # noqa: PLC0415

    per_file: list = []
    images = []
    for f in part:
        try:
            digits, ink = photo_ink(load_image(f))
            if not number:
                k = most_prominent(digits)
                digits, ink = ([] if k is None else [digits[k]]), None  # a photo's ink map is megabytes: not kept
            per_file.append((len(images), digits, ink))
            images.extend(d.image for d in digits)
        except Exception as e:  # one bad file must not stop the rest
            per_file.append((str(e) or type(e).__name__, None, None))
    probs = recognizer.predict(np.stack(images)) if images else np.zeros((0, 10), np.float32)
    records = []
    for f, (first, digits, ink) in zip(part, per_file):
        if digits is None:
            records.append({"path": str(f), "error": first})
        elif number:
            from mnist_core.numbers import reader as nr  # noqa: PLC0415

            rows = probs[first:first + len(digits)]
            records.append({"path": str(f), **nr.as_json(nr.read_numbers(digits, rows, ink, reader))})
        else:
            records.append(_digit_record(f, digits, probs[first:first + len(digits)]))
    return records


def _digit_record(path, digits, rows) -> dict:
    if not len(rows):
        return {"path": str(path), "digit": None, "confidence": 0.0, "probabilities": [0.0] * 10}
    r = rows[0]
    return {"path": str(path), "digit": int(r.argmax()), "confidence": float(r.max()),
            "probabilities": [float(v) for v in r], "box": [int(v) for v in digits[0].box]}
