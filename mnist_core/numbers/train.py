"""Training the number reader (models.build_number_reader) with CTC loss on lines made by `lines.py`.

A plain loop over width-bucketed batches (each batch padded to its widest line; lines of like widths are
batched together so little is padding), one-cycle Adam, a progress callback and a cancel flag like
`training.fit`, and the exact-match accuracy on validation lines at the end of each epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from mnist_core.numbers import reader as nr
from mnist_core.config import NumberTrainSettings
from mnist_core.train.nets import build_number_reader
from mnist_core.train.fit import Progress

MAX_DIGITS = 40  # labels longer than this are cut (the made lines have at most 12)


@dataclass
class NumberResult:
    """What a run produced; `model` (logits out) is None only when cancelled before an epoch finished."""

    model: keras.Model | None
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch loss, val_exact, val_digits
    exact: float = 0.0  # share of validation lines read exactly (every digit, none missing or extra)
    digit_accuracy: float = 0.0  # 1 - edit distance / digits, over the validation lines
    train_seconds: float = 0.0
    epochs_done: int = 0
    cancelled: bool = False
    train_size: int = 0


def _pad(xs: list[np.ndarray], ys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines and labels -> (B, 32, W, 1) float32, (B, L) int32 symbols (digit + 1), (B,) int32 label lengths."""
    W = max(x.shape[1] for x in xs)
    x = np.zeros((len(xs), nr.HEIGHT, W, 1), np.float32)
    for i, a in enumerate(xs):
        x[i, :, :a.shape[1], 0] = a / np.float32(255)
    L = max(1, max(len(y) for y in ys))
    lab = np.zeros((len(ys), min(L, MAX_DIGITS)), np.int32)
    n = np.zeros(len(ys), np.int32)
    for i, y in enumerate(ys):
        s = [int(c) + 1 for c in y[:MAX_DIGITS]]
        lab[i, :len(s)] = s
        n[i] = len(s)
    return x, lab, n


def _batches(widths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index batches: shuffled, then sorted by width within windows of 50 batches, batch order shuffled."""
    n = len(widths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    window = batch_size * 50
    out = []
    for s in range(0, n, window):
        part = order[s:s + window]
        part = part[np.argsort(widths[part], kind="stable")]
        out.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    if rng is not None:
        rng.shuffle(out)
    return out


def _edit(a: str, b: str) -> int:
    """Levenshtein distance between two digit strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def score(read: list[str], truth: list[str]) -> tuple[float, float]:
    """(exact-match share, digit accuracy = 1 - edit distance / true digits) of strings read against the truth."""
    if not truth:
        return 0.0, 0.0
    exact = sum(r == t for r, t in zip(read, truth)) / len(truth)
    digits = sum(len(t) for t in truth)
    errors = sum(_edit(r, t) for r, t in zip(read, truth))
    return exact, max(0.0, 1 - errors / max(digits, 1))


def read_lines(model: keras.Model, xs: list[np.ndarray], batch_size: int = 64) -> list[str]:
    """Greedy CTC reading of (32, W) uint8 lines with a logits model, in the order given."""
    fn = _predict_fn(model)
    out: list[str] = [""] * len(xs)
    widths = np.array([x.shape[1] for x in xs])
    for idx in _batches(widths, batch_size, None):
        x, _, _ = _pad([xs[i] for i in idx], ["0"] * len(idx))
        probs = fn(tf.constant(x)).numpy()
        for i, p in zip(idx, probs):
            T = xs[i].shape[1] // nr.STRIDE
            out[i] = "".join(str(d) for d, *_ in nr.greedy(p[:T]))
    return out


def _predict_fn(model):
    return tf.function(lambda x: tf.nn.softmax(model(x, training=False)),
                       input_signature=[tf.TensorSpec([None, nr.HEIGHT, None, 1], tf.float32)])


def fit_number(train: tuple[list[np.ndarray], list[str]], val: tuple[list[np.ndarray], list[str]] | None,
               settings: NumberTrainSettings = NumberTrainSettings(),
               progress: Callable[[Progress], None] | None = None,
               cancel: Callable[[], bool] | None = None, init: keras.Model | None = None) -> NumberResult:
    """Train a number reader on `train` lines ((32, W) uint8, digit strings), a fresh one or `init` further (its
    logits model, e.g. `keras.models.load_model` of a saved reader); score it on `val`."""
    settings.validate()
    keras.utils.set_random_seed(settings.seed)
    xs, ys = train
    widths = np.array([x.shape[1] for x in xs])
    rng = np.random.default_rng(settings.seed)
    steps = math.ceil(len(xs) / settings.batch_size)
    total = steps * settings.epochs
    warmup = max(1, int(0.1 * total))
    lr = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=settings.lr / 10, decay_steps=max(1, total - warmup), alpha=0.01,
        warmup_target=settings.lr, warmup_steps=warmup)
    opt = keras.optimizers.Adam(learning_rate=lr, clipnorm=5.0)
    model = init if init is not None else build_number_reader(settings.width)

    @tf.function(input_signature=[tf.TensorSpec([None, nr.HEIGHT, None, 1], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])
    def step(x, lab, n):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            T = tf.fill([tf.shape(x)[0]], tf.shape(logits)[1])
            per = keras.ops.ctc_loss(lab, logits, n, T, mask_index=nr.BLANK)
            # A line CTC cannot align (more symbols than frames) has an infinite loss: left out of the step.
            per = tf.where(tf.math.is_finite(per), per, tf.zeros_like(per))
            loss = tf.reduce_mean(per)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    result = NumberResult(None, {"loss": [], "val_exact": [], "val_digits": []}, train_size=len(xs))
    t0 = time.perf_counter()
    done = 0
    for epoch in range(settings.epochs):
        losses = []
        last = 0.0
        for k, idx in enumerate(_batches(widths, settings.batch_size, rng)):
            if cancel is not None and cancel():
                result.cancelled = True
                result.train_seconds = time.perf_counter() - t0
                return result
            x, lab, n = _pad([xs[i] for i in idx], [ys[i] for i in idx])
            loss = float(step(tf.constant(x), tf.constant(lab), tf.constant(n)))
            losses.append(loss)
            done += 1
            now = time.perf_counter()
            if progress is not None and now - last >= 0.5:
                last = now
                el = now - t0
                progress(Progress("step", epoch + 1, settings.epochs, k + 1, steps, float(np.mean(losses[-50:])),
                                  0.0, el, el / done * (total - done)))
        result.history["loss"].append(float(np.mean(losses)))
        if val is not None and len(val[0]):
            exact, dig = score(read_lines(model, val[0]), val[1])
        else:
            exact, dig = 0.0, 0.0
        result.history["val_exact"].append(exact)
        result.history["val_digits"].append(dig)
        result.model, result.epochs_done = model, epoch + 1
        result.exact, result.digit_accuracy = exact, dig
        el = time.perf_counter() - t0
        if progress is not None:
            progress(Progress("epoch", epoch + 1, settings.epochs, steps, steps, result.history["loss"][-1], exact,
                              el, el / done * (total - done), None, exact))
    result.train_seconds = time.perf_counter() - t0
    return result


def _probe_lines() -> np.ndarray:
    # Fixed line-like inputs for checking that the TF Lite copy answers like the model.
    rng = np.random.default_rng(0)
    return (rng.random((2, nr.HEIGHT, 96, 1)) ** 6).astype(np.float32)


def save_reader(model: keras.Model, path, card: dict) -> bool:
    """Write the reader to `path` (.keras, logits out), its TF Lite copy (.tflite, probabilities out; checked
    against the model) and its card (.json) beside it; True when the TF Lite copy was made and agrees."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from mnist_core.train.nets import with_softmax  # noqa: PLC0415
    from mnist_core.digits.recognize import checked_lite  # noqa: PLC0415
    from mnist_core.store.registry import write_atomic  # noqa: PLC0415

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.keras")
    model.save(tmp)
    tmp.replace(path)
    content = checked_lite(with_softmax(model), probe=_probe_lines())
    if content is not None:
        write_atomic(path.with_suffix(".tflite"), content)
    card = dict(card, tflite=content is not None)
    write_atomic(path.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode())
    return content is not None
