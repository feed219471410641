"""A batched, thread-safe, hot-swappable predictor over one model.

Never ``model.predict`` per image (about 68 ms for one digit here, most of it Keras'
per-call setup): one compiled function with a fixed input signature, traced once, called
directly on whole batches.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .config import Limits
from .registry import DEFAULT_ID, Registry, load_model_file


def as_batch(images: np.ndarray) -> np.ndarray:
    """Any (N, 28, 28[, 1]) or (28, 28) array -> (N, 28, 28, 1) float32 in [0, 1]; rejects NaN/inf."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"images must be numeric, not {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if x.shape == (28, 28) or x.shape == (28, 28, 1):
        x = x.reshape(1, 28, 28, 1)
    if x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be (N, 28, 28) or (N, 28, 28, 1), not {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("images contain NaN or infinite values")
    return np.clip(x, 0.0, 1.0)


@dataclass(frozen=True)
class _Live:
    """What one prediction uses; replaced as a whole, so a request never mixes two models."""

    model: object
    fn: object
    version: str


class Recognizer:
    """Predicts digit probabilities for batches of 28x28 inputs; swap() changes the model live."""

    def __init__(self, model, version: str = DEFAULT_ID, limits: Limits = Limits()):
        self.limits = limits
        self._swap_lock = threading.Lock()
        self._live = self._compile(model, version)

    @staticmethod
    def _compile(model, version: str) -> _Live:
        # One trace for every batch size; training=False so dropout/batch norm are in inference mode.
        fn = tf.function(lambda x: model(x, training=False),
                         input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        fn(tf.zeros([1, 28, 28, 1]))  # trace and warm up now, not on somebody's first request
        return _Live(model, fn, version)

    @classmethod
    def from_registry(cls, registry: Registry | None = None) -> "Recognizer":
        """Serve the registry's active version (the shipped default when none is set)."""
        registry = registry or Registry()
        vid = registry.active()
        return cls(registry.load(vid), vid)

    @property
    def version(self) -> str:
        """Id of the model now serving."""
        return self._live.version

    @property
    def model(self):
        """The model now serving."""
        return self._live.model

    def swap(self, model, version: str) -> None:
        """Serve `model` from now on; requests already running finish on the old one."""
        with self._swap_lock:
            self._live = self._compile(model, version)  # compiled before it goes live

    def refresh(self, registry: Registry) -> bool:
        """Swap to the registry's active version if it changed; True when it did."""
        vid = registry.active()
        if vid == self._live.version:
            return False
        with self._swap_lock:
            if vid == self._live.version:
                return False
            self._live = self._compile(registry.load(vid), vid)
        return True

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28[, 1]) in [0, 1] -> (N, 10) float32 probabilities, in chunks of limits.max_batch."""
        x = as_batch(images)
        live = self._live  # one model for the whole request, even if swapped meanwhile
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        step = self.limits.max_batch
        parts = [live.fn(tf.constant(x[i:i + step])).numpy() for i in range(0, len(x), step)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def load_recognizer(model_path: str | None = None, registry: Registry | None = None) -> Recognizer:
    """A Recognizer over a .keras file, or over the registry's active version when no path is given."""
    if model_path:
        return Recognizer(load_model_file(model_path), version=str(model_path))
    return Recognizer.from_registry(registry)
