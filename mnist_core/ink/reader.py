"""Serving the ink net: its TF Lite copy through LiteRT, no TensorFlow import.

    reader = InkReader.shipped()              # models/ink.tflite and its card models/ink.json
    reader = InkReader.from_registry(Registry(paths, kind="ink"))   # the active ink version (reader.version)
    probs = reader.predict([ink, ...])        # (N, 10) float32; a loop begun low is also read begun at its top
    fused = reader.fuse(p_image, probs)       # with the card's calibrated fusion weights

A copy whose card's `lite_of` does not match the `.keras` file beside it is refused (like the image model's:
a model replaced by hand is never served with a stale copy). Measured: see benchmarks/INK.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from mnist_core.ink import features as F
from mnist_core.ink.fuse import Fusion, fuse
from mnist_core.ink.loops import begun_at_the_top

SHIPPED_STEM = Path(__file__).resolve().parent.parent.parent / "models" / "ink"


class InkReader:
    """Digit probabilities for batches of inks (each an `Ink`, a list of (K, 2|3) strokes or a `PenDigit`)."""

    def __init__(self, content: bytes, card: dict | None = None, pool: int = 2, threads: int = 1):
        from mnist_core.digits.recognize import LiteFunction  # LiteRT; TensorFlow only if LiteRT is missing

        self.card = card or {}
        # The registry version served ("default": the shipped one; None: files given by hand).
        self.version: str | None = None
        inp = self.card.get("input", {})
        self.settings = F.FeatureSettings(points=int(inp.get("points", F.FeatureSettings.points)),
                                          max_strokes=int(inp.get("max_strokes", F.FeatureSettings.max_strokes)))
        if inp.get("channels") not in (None, list(F.CHANNELS)):
            raise ValueError(f"the ink model was trained on channels {inp.get('channels')}, these are {F.CHANNELS}")
        self.fusion = Fusion.from_dict(self.card.get("fusion"))
        self._fn = LiteFunction(content=content, pool=pool, threads=threads)

    @classmethod
    def from_files(cls, lite: str | Path, card: str | Path | None = None, keras: str | Path | None = None,
                   **kw) -> "InkReader":
        """From a .tflite and its card (JSON); with `keras`, the card's `lite_of` must be that file's sha256."""
        c = json.loads(Path(card).read_text()) if card and Path(card).is_file() else {}
        if keras is not None and Path(keras).is_file() and c.get("lite_of"):
            if hashlib.sha256(Path(keras).read_bytes()).hexdigest() != c["lite_of"]:
                raise ValueError(f"{lite} was not made from {keras} (lite_of differs): not served")
        return cls(Path(lite).read_bytes(), c, **kw)

    @classmethod
    def shipped(cls, stem: str | Path = SHIPPED_STEM, **kw) -> "InkReader":
        """models/ink.tflite with models/ink.json (checked against models/ink.keras)."""
        stem = Path(stem)
        return cls.from_files(stem.with_suffix(".tflite"), stem.with_suffix(".json"), stem.with_suffix(".keras"), **kw)

    @classmethod
    def from_registry(cls, registry, vid: str | None = None, **kw) -> "InkReader":
        """The ink version `vid` (default: the active one) of an ink registry, its checked TF Lite copy and its card
        (fusion weights in it); a version without a checked copy falls back to the shipped default.

        Which version is active is cheap to ask (``registry.active()`` reads one small file): compare it with
        ``reader.version`` to know when to load again. RegistryError when not even the shipped one can be read."""
        from mnist_core.store.registry import DEFAULT_ID, RegistryError

        if getattr(registry, "kind", None) != "ink":
            raise RegistryError("InkReader.from_registry needs an ink registry: Registry(paths, kind=\"ink\")")
        for v in dict.fromkeys([vid or registry.active(), DEFAULT_ID]):
            content = registry.lite_content(v)  # None unless its card's lite_of is this model file's sha256
            if content is not None:
                reader = cls(content, registry.card(v), **kw)
                reader.version = v
                return reader
        raise RegistryError(f"no ink model to serve: neither {vid or registry.active()!r} nor the shipped "
                            f"{registry.default_model.with_suffix('.tflite')} has a checked TF Lite copy")

    def features(self, inks) -> np.ndarray:
        """(N, points, C) float32 input for these inks."""
        return F.batch_features(list(inks), self.settings)

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """(N, points, C) features -> (N, 10) float32 probabilities."""
        x = np.asarray(x, np.float32)
        if x.ndim != 3 or x.shape[1:] != (self.settings.points, len(F.CHANNELS)):
            raise ValueError(f"features must be (N, {self.settings.points}, {len(F.CHANNELS)}), not {x.shape}")
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        return self._fn(x)

    def predict(self, inks) -> np.ndarray:
        """A list of inks -> (N, 10) float32 probabilities (N may be 0). An ink with a loop begun low (a 0 or an 8
        begun at its bottom) is read twice, as written and begun at the top (`loops`), and the two averaged."""
        inks = list(inks)
        if not inks:
            return np.zeros((0, 10), np.float32)
        strokes = [F.strokes_of(ink) for ink in inks]  # once: the features and the loop check both read them
        p = self.predict_features(self.features(strokes))
        again = {i: top for i, st in enumerate(strokes) if (top := begun_at_the_top(st)) is not None}
        if again:
            q = self.predict_features(self.features(list(again.values())))
            idx = np.fromiter(again, np.int64, len(again))
            p[idx] = (p[idx] + q) / 2
        return p

    def fuse(self, p_image: np.ndarray, p_ink: np.ndarray | None) -> np.ndarray:
        """The image model's (N, 10) answer combined with this reader's, by the card's calibrated weights."""
        return fuse(p_image, p_ink, self.fusion)
