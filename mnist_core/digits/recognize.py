"""A batched, thread-safe, hot-swappable predictor over one model.

Never ``model.predict`` per image (about 68 ms for one digit here, most of it Keras'
per-call setup). Three paths, all checked to agree with a plain model call:

- a stored TensorFlow Lite copy of the model (``model.tflite`` beside ``model.keras``,
  made and checked when the model was saved), run by the standalone LiteRT runtime:
  no TensorFlow import at all, so a server answers seconds sooner and uses far less
  memory (TensorFlow's own ``tf.lite.Interpreter`` when LiteRT is not installed);
- a ``tf.function`` with a fixed input signature over the Keras model (ready at once);
- the Keras model converted to TF Lite in a background thread, which takes over from
  the ``tf.function`` as soon as it is built (for models saved without a copy).
"""

from __future__ import annotations

import queue
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from mnist_core.config import Limits
from mnist_core.store.registry import DEFAULT_ID, TF_IMPORT_LOCK, Registry, load_model_file


def _tf():
    """TensorFlow, imported on first need (~6 s) under the import lock (see registry.TF_IMPORT_LOCK)."""
    with TF_IMPORT_LOCK:
        import tensorflow as tf  # noqa: PLC0415

    return tf


def _interpreter(content: bytes, threads: int):
    """A TF Lite interpreter: LiteRT's (imports in ~0.3 s) if installed, else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        Interpreter = _tf().lite.Interpreter  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite's notice about its successor package
        return Interpreter(model_content=content, num_threads=threads)


def to_lite(model) -> bytes:
    """Convert a Keras digit model to TF Lite flatbuffer bytes (float32; takes a few seconds)."""
    tf = _tf()
    # The converter prints a summary of the exported graph to stdout (Keras' interactive logging):
    # not for our callers. Turned off for this thread only (Keras keeps the setting per thread);
    # redirecting sys.stdout would swallow every thread's output, and two builders at once left it
    # on a StringIO for good.
    import keras  # noqa: PLC0415 (loaded already: the model is a Keras model)

    interactive = keras.config.is_interactive_logging_enabled()
    keras.config.disable_interactive_logging()
    try:
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()
    finally:
        if interactive:
            keras.config.enable_interactive_logging()


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


class LiteFunction:
    """A TensorFlow Lite copy of a Keras model: a small pool of interpreters, one per caller at a time.

    Inputs of any shape the model takes (the digit model's (N, 28, 28, 1), the number reader's (N, 32, W, 1)):
    an interpreter is resized when the shape it gets changes."""

    def __init__(self, model=None, content: bytes | None = None, pool: int = 2, chunk: int = 256, threads: int = 2):
        self.content = content if content is not None else to_lite(model)
        self.chunk = chunk  # inputs per invoke: activations stay in cache
        self._pool: queue.Queue = queue.Queue()
        for _ in range(pool):
            it = _interpreter(self.content, threads)
            it._shape = None
            self._pool.put(it)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(N, ...) float32 -> the model's (N, ...) float32 output, e.g. (N, 28, 28, 1) -> (N, 10)."""
        it = self._pool.get()  # interpreters are not thread-safe: each caller takes one
        try:
            inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
            parts = []
            for i in range(0, len(x), self.chunk):
                part = np.ascontiguousarray(x[i:i + self.chunk])
                if it._shape != part.shape:
                    it.resize_tensor_input(inp, list(part.shape))
                    it.allocate_tensors()
                    it._shape = part.shape
                it.set_tensor(inp, part)
                it.invoke()
                parts.append(it.get_tensor(out).copy())
            return parts[0] if len(parts) == 1 else np.concatenate(parts)
        finally:
            self._pool.put(it)


def _probe() -> np.ndarray:
    # Fixed digit-like inputs for checking that a compiled copy answers like the model.
    rng = np.random.default_rng(0)
    return (rng.random((8, 28, 28, 1)) ** 4).astype(np.float32)


def agrees(fn, model, atol: float = 1e-4, probe: np.ndarray | None = None) -> bool:
    """Whether `fn` gives the model's own outputs on a fixed probe batch (default: digit-like 28x28 inputs)."""
    x = _probe() if probe is None else probe
    return bool(np.allclose(fn(x), np.asarray(model(x, training=False)), atol=atol))


def checked_lite(model, probe: np.ndarray | None = None) -> bytes | None:
    """TF Lite bytes for `model`, or None when it cannot be converted or its copy disagrees with it on `probe`
    (see `agrees`)."""
    try:
        content = to_lite(model)
        return content if agrees(LiteFunction(content=content, pool=1), model, probe=probe) else None
    except Exception:  # a layer TF Lite cannot convert: the model is served through tf.function
        return None


@dataclass(frozen=True)
class _Live:
    """What one prediction uses; replaced as a whole, so a request never mixes two models."""

    model: object  # the Keras model, or None when served from a stored TF Lite copy alone
    fn: object
    version: str


class Recognizer:
    """Predicts digit probabilities for batches of 28x28 inputs; swap() changes the model live."""

    def __init__(self, model, version: str = DEFAULT_ID, limits: Limits = Limits(), lite: bool | str = "background"):
        """`lite`: True builds the TensorFlow Lite path now, "background" in a thread, False never."""
        self.limits = limits
        self.lite = lite
        self._swap_lock = threading.Lock()
        self._live = self._compile(model, version)
        self._start_lite(self._live)

    @classmethod
    def from_lite(cls, content: bytes, version: str = DEFAULT_ID, limits: Limits = Limits()) -> "Recognizer":
        """Serve a stored TF Lite copy alone: no TensorFlow import when LiteRT is installed."""
        self = cls.__new__(cls)
        self.limits, self.lite = limits, "background"
        self._swap_lock = threading.Lock()
        self._live = _Live(None, LiteFunction(content=content), version)
        return self

    def _start_lite(self, live: "_Live") -> None:
        if not self.lite:
            return
        if self.lite == "background":
            # Not a daemon: killing TF Lite's converter mid-way at interpreter exit aborts the process.
            threading.Thread(target=self._build_lite, args=(live,), daemon=False).start()
        else:
            self._build_lite(live)

    def _build_lite(self, live: "_Live") -> None:
        content = checked_lite(live.model)
        if content is None:
            return  # cannot be converted, or its copy disagrees: the tf.function path keeps serving
        lite = LiteFunction(content=content)
        with self._swap_lock:
            if self._live is live:  # not swapped meanwhile
                self._live = _Live(live.model, lite, live.version)

    @property
    def compiled(self) -> str:
        """Which path serves now: "tflite" or "tf.function"."""
        return "tflite" if isinstance(self._live.fn, LiteFunction) else "tf.function"

    @staticmethod
    def _compile(model, version: str) -> _Live:
        # One trace for every batch size; training=False so dropout/batch norm are in inference mode.
        tf = _tf()
        graph = tf.function(lambda x: model(x, training=False),
                            input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])

        def fn(x: np.ndarray) -> np.ndarray:
            return graph(tf.constant(x)).numpy()

        fn(np.zeros((1, 28, 28, 1), np.float32))  # trace and warm up now, not on somebody's first request
        return _Live(model, fn, version)

    @classmethod
    def from_registry(cls, registry: Registry | None = None, vid: str | None = None,
                      lite: bool | str = "background") -> "Recognizer":
        """Serve version `vid` (default: the active one, the shipped default when none is set), from its
        TF Lite copy when it has a matching one, else from its Keras model (`lite` as in __init__)."""
        registry = registry or Registry()
        vid = vid or registry.active()
        content = registry.lite_content(vid)
        return cls.from_lite(content, vid) if content else cls(registry.load(vid), vid, lite=lite)

    @property
    def version(self) -> str:
        """Id of the model now serving."""
        return self._live.version

    @property
    def model(self):
        """The Keras model now serving (None when served from a stored TF Lite copy)."""
        return self._live.model

    def swap(self, model, version: str) -> None:
        """Serve `model` from now on; requests already running finish on the old one."""
        live = self._compile(model, version)  # compiled before it goes live
        self._go_live(live)
        self._start_lite(live)

    def _go_live(self, live: _Live) -> None:
        with self._swap_lock:
            self._live = live

    def refresh(self, registry: Registry) -> bool:
        """Swap to the registry's active version if it changed; True when it did."""
        vid = registry.active()
        if vid == self._live.version:
            return False
        content = registry.lite_content(vid)
        if content:
            self._go_live(_Live(None, LiteFunction(content=content), vid))  # built before it goes live
        else:
            self.swap(registry.load(vid), vid)
        return True

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28[, 1]) in [0, 1] -> (N, 10) float32 probabilities, in chunks of limits.max_batch."""
        x = as_batch(images)
        live = self._live  # one model for the whole request, even if swapped meanwhile
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        step = self.limits.max_batch
        parts = [live.fn(x[i:i + step]) for i in range(0, len(x), step)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def load_recognizer(model_path: str | None = None, registry: Registry | None = None) -> Recognizer:
    """A Recognizer over a .keras file, or over the registry's active version when no path is given."""
    if model_path:
        return Recognizer(load_model_file(model_path), version=str(model_path))
    return Recognizer.from_registry(registry)
