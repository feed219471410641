"""Single digits: turning what people give (canvas strokes, photos, scans, small bitmaps) into MNIST-style 28x28
digits, recognising them with the digit model (Keras or its TF Lite copy), and explaining a prediction. Arrays in,
arrays out: every path ends in `normalize_digit` (MNIST's 20-px box, centre of mass at the centre, ink bright) and
returns `Digit`s (the 28x28 image plus its box in the input's pixels) in reading order. The modules, by stage:
`images` (decoding files, size caps, `ImageError`), `normalise`, `segment` (components -> digits), `canvas`,
`bitmap`, `background` and `photo` (the input paths), `recognize` (serving), `explain` (occlusion maps).
Importing this package loads nothing: each name below is imported on first use, and none imports TensorFlow
(the Keras path of `recognize` imports it when a Keras model is first used).
"""

from __future__ import annotations

import importlib

# The public surface: name -> the module that defines it.
_PUBLIC = {
    "ImageError": "images",
    "load_image": "images",
    "Digit": "results",
    "Ink": "results",
    "most_prominent": "results",
    "to_model_batch": "results",
    "PreprocessSettings": "settings",
    "normalize_digit": "normalise",
    "split_digits": "segment",
    "canvas_to_mnist": "canvas",
    "canvas_ink": "canvas",
    "bitmap_to_mnist": "bitmap",
    "photo_to_mnist": "photo",
    "photo_ink": "photo",
    "Recognizer": "recognize",
    "load_recognizer": "recognize",
    "occlusion_maps": "explain",
    "heat_image": "explain",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """Import a public name's module on first use (PEP 562), so `import mnist_core.digits` stays cheap."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
