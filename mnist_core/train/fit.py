"""The one training function used by the CLI and the app: fit with a progress callback,
a cancel flag, optional user samples with a weight, and fine-tuning."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from mnist_core.train import pen as pen_mod
from mnist_core.train.augment import AugmentSettings, augment_batch
from mnist_core.config import Paths, TrainSettings
from mnist_core.train.data import MnistData, to_model_input
from mnist_core.train.nets import build_model


class TrainingFailed(RuntimeError):
    """Training could not produce a usable model (for example the loss became NaN)."""


@dataclass
class Progress:
    """One progress report; `event` is "step" (during an epoch) or "epoch" (at its end)."""

    event: str
    epoch: int                      # 1-based
    epochs: int
    step: int                       # steps done in this epoch
    steps: int                      # steps per epoch
    loss: float
    accuracy: float
    elapsed_s: float                # since the first step started
    eta_s: float                    # estimated seconds to the end of training
    val_loss: float | None = None   # only at "epoch"
    val_accuracy: float | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass
class TrainResult:
    """What a run produced; `model` is None only when cancelled before an epoch finished."""

    model: keras.Model | None
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch loss/accuracy/val_*
    train_seconds: float = 0.0      # first step to the end, data already in memory
    setup_seconds: float = 0.0      # building, compiling and tracing (the first step's overhead)
    epochs_done: int = 0
    cancelled: bool = False
    train_size: int = 0
    extra_size: int = 0
    pen_size: int = 0               # pen digits (real handwriting of other writers) among train_size
    data: str = ""                  # what the training digits were, in words
    batch_size: int = 0             # the batch size used (smaller than asked for when settings.min_steps needs it)


class _Reporter(keras.callbacks.Callback):
    """Turns Keras' callbacks into Progress reports, watches the cancel flag and NaN losses."""

    def __init__(self, epochs, steps, progress, cancel, every_s=0.5):
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.progress, self.cancel, self.every_s = progress, cancel, every_s
        self.epoch = 0
        self.t0 = self.t_first = None
        self.last_report = 0.0
        self.cancelled = False
        self.diverged = False
        self.history: dict[str, list[float]] = {}

    def _eta(self, done_steps):
        elapsed = time.perf_counter() - self.t_first
        total = self.epochs * self.steps
        return elapsed / max(done_steps, 1) * (total - done_steps)

    def on_train_begin(self, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_begin(self, batch, logs=None):
        if self.t_first is None and batch == 1:
            # The first step includes tracing and compiling: time from the second step on,
            # and count the first as setup.
            self.t_first = time.perf_counter()
            self.setup = self.t_first - self.t0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = float(logs.get("loss", 0.0))
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
            return
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
            self.model.stop_training = True
            return
        now = time.perf_counter()
        if self.progress and self.t_first is not None and now - self.last_report >= self.every_s:
            self.last_report = now
            done = (self.epoch - 1) * self.steps + batch + 1
            self.progress(Progress("step", self.epoch, self.epochs, batch + 1, self.steps, loss,
                                   float(logs.get("accuracy", 0.0)), now - self.t_first, self._eta(done)))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.cancelled or self.diverged:
            return
        if not math.isfinite(float(logs.get("loss", 0.0))):
            self.diverged = True
            self.model.stop_training = True
            return
        for k, v in logs.items():
            if k in ("loss", "accuracy", "val_loss", "val_accuracy"):
                self.history.setdefault(k, []).append(float(v))
        if self.progress:
            now = time.perf_counter()
            t_first = self.t_first or self.t0
            self.progress(Progress("epoch", self.epoch, self.epochs, self.steps, self.steps,
                                   float(logs.get("loss", 0.0)), float(logs.get("accuracy", 0.0)),
                                   now - t_first, self._eta(self.epoch * self.steps) if self.t_first else 0.0,
                                   _maybe(logs.get("val_loss")), _maybe(logs.get("val_accuracy"))))


def _maybe(v):
    return None if v is None else float(v)


def _dataset(x, y, w, batch_size, augment, seed, shuffle=True, augmentation: AugmentSettings = AugmentSettings(),
             shard: int = 0):
    """tf.data over in-memory tensors; augmentation runs per batch as tensor ops (`shard`: a worker's own draws)."""
    y1 = tf.one_hot(y.astype(np.int32), 10)
    parts = (x, y1) if w is None else (x, y1, w)
    ds = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment:
        counter = tf.data.Dataset.counter(start=shard << 32)  # worker 0 (or one process): 0, 1, 2...

        def aug(i, batch):
            return (augment_batch(batch[0], tf.stack([tf.cast(seed, tf.int64), i]), augmentation),) + tuple(batch[1:])

        ds = tf.data.Dataset.zip((counter, ds)).map(aug, num_parallel_calls=2)
    # Fixed parallelism and prefetch, autotuning off: tf.data's autotune thread sleeps up to ~16 s between
    # optimisations (the period doubles) and an iterator's destructor waits for it, so every epoch's end
    # stalled 0-17 s idle (seen with py-spy in RootDataset::Iterator::~Iterator). 2 calls and 2 batches
    # ahead keep two cores fed.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def _fit_across_workers(model: keras.Model, strategy, train, sample, fit_args: dict) -> None:
    """model.fit under a MultiWorkerMirroredStrategy, around two faults of Keras 3's fit with several workers.

    Keras (3.15) reduces a distributed batch as one nest with strategy.reduce before building the model, and the
    step's logs with reduce(axis=0) over scalars; MultiWorkerMirroredStrategy refuses both (keras-team/keras#20585).
    So the model and its metrics are built here from a plain batch, and the train and test functions are the
    Keras steps run on every replica with each log averaged over the replicas, one scalar at a time. Inside
    strategy.scope() fit still finds the strategy; its own model-building pass is skipped.
    """
    with strategy.scope():
        model._symbolic_build(data_batch=sample)  # noqa: SLF001 (see above)
        model._distribute_strategy = None  # noqa: SLF001 -- fit takes tf.distribute.get_strategy(): this one
        model.train_function = _replicated(strategy, model.train_step)
        model.test_function = _replicated(strategy, model.test_step)
        model.fit(train, **fit_args)


def _replicated(strategy, step):
    """A Keras train/test function: `step` on every replica, logs averaged over them; StopIteration at the end."""

    @tf.function
    def one(data):
        logs = strategy.run(step, args=(data,))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

    def function(iterator):
        batch = iterator.get_next_as_optional()  # the workers agree whether one is left
        if not batch.has_value():
            raise StopIteration
        return one(batch.get_value())

    return function


def _plain_copy(model: keras.Model) -> keras.Model:
    """The trained weights in a model outside any strategy (every worker reads them, so none waits on another)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _optimizer(settings: TrainSettings, total_steps: int) -> keras.optimizers.Optimizer:
    if settings.schedule == "onecycle":
        # One cycle: linear warm-up from lr/10 over the first 15% of steps, then cosine to lr/100.
        warmup = max(1, int(0.15 * total_steps))
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=settings.lr / 10, decay_steps=max(1, total_steps - warmup),
            alpha=0.01 / 0.1, warmup_target=settings.lr, warmup_steps=warmup)
    else:
        lr = settings.lr
    return keras.optimizers.Adam(learning_rate=lr)


def _training_arrays(settings: TrainSettings, data: MnistData, extra, init_model, pen_cache: Path | None):
    """(x, y, weights or None, (x_val, y_val), pen digits, user digits, description): MNIST's first settings.limit
    training digits less the validation hold-out, then the pen digits, then the user's; x (N, 28, 28, 1) float32."""
    x = to_model_input(data.x_train[: settings.limit])        # (N, 28, 28, 1) float32 in [0, 1]
    y = np.asarray(data.y_train[: settings.limit], dtype=np.int64)
    n_val = min(settings.validation, len(x) // 10)
    # Hold out the last n_val training digits for the validation curves (the test set stays unseen).
    x_val, y_val = x[len(x) - n_val:], y[len(y) - n_val:]
    x, y = x[: len(x) - n_val], y[: len(y) - n_val]
    described = data.describe()
    n_pen = 0
    if settings.data == "mnist+pen" and init_model is None:
        # A short run takes pen digits in MNIST's proportion (13,292 to 60,000 in the full recipe).
        limit = None if settings.limit is None else max(10, settings.limit * 2 // 9)
        xp, yp, pen_desc = pen_mod.training_set(settings.pen_renders, settings.seed, limit,
                                                pen_cache if pen_cache is not None else Paths().home / "cache",
                                                crops=settings.pen_crops, conventions=settings.pen_conventions)
        n_pen = len(xp)
        if n_pen:
            x = np.concatenate([x, to_model_input(xp)])
            y = np.concatenate([y, yp.astype(np.int64)])
        described += f" + {pen_desc}"
    w = None
    if n_pen and settings.pen_weight != 1.0:
        w = np.concatenate([np.ones(len(x) - n_pen, np.float32), np.full(n_pen, settings.pen_weight, np.float32)])
    n_extra = 0
    if extra is not None and len(extra[0]):
        xe, ye = to_model_input(extra[0]), np.asarray(extra[1], dtype=np.int64)
        if xe.shape[1:] != (28, 28, 1) or len(xe) != len(ye) or ye.min() < 0 or ye.max() > 9:
            raise ValueError("extra samples must be 28x28 images with labels 0-9, as many labels as images")
        if not np.isfinite(xe).all():
            raise ValueError("extra samples contain NaN or infinite pixels")
        n_extra = len(xe)
        w = np.concatenate([np.ones(len(x), np.float32) if w is None else w,
                            np.full(n_extra, settings.sample_weight, np.float32)])
        x, y = np.concatenate([x, xe]), np.concatenate([y, ye])
    if len(x) == 0:
        raise ValueError("no training data")
    return x, y, w, (x_val, y_val), n_pen, n_extra, described


def _even_for_replicas(replicas: int, batch_size: int, x, y, w, n_pen: int, n_extra: int):
    """The global batch split evenly over the replicas, and every worker's shard as long as the others' (the last
    len % replicas digits are left out): all take the same number of steps, or the last would wait forever."""
    batch_size = max(replicas, batch_size // replicas * replicas)
    dropped = len(x) % replicas  # the user's digits come last, then the pen digits
    keep = len(x) - dropped
    x, y, w = x[:keep], y[:keep], None if w is None else w[:keep]
    n_pen -= max(0, dropped - n_extra)
    n_extra -= min(n_extra, dropped)
    return batch_size, x, y, w, n_pen, n_extra


def fit(
    settings: TrainSettings,
    data: MnistData,
    *,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    init_model: keras.Model | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    jit_compile: bool | str = "auto",
    augmentation: AugmentSettings = AugmentSettings(),
    pen_cache: Path | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> TrainResult:
    """Train a model per `settings` on `data` (+ `extra` user digits weighted by settings.sample_weight).

    `extra` is (x: (M, 28, 28) float32 in [0, 1] or uint8, y: (M,) ints). With `init_model`
    the model is fine-tuned from those weights instead of built fresh. With settings.data "mnist+pen" the shipped
    pen digits (drawn by `pen.training_set`, cached in `pen_cache`, default <home>/cache) join MNIST's training
    digits at settings.pen_weight; validation stays MNIST's. Raises TrainingFailed
    when the loss diverges; returns with `cancelled=True` soon after `cancel` is set.

    With a `strategy` (a MultiWorkerMirroredStrategy, made by cluster.make_strategy) every worker runs this same
    call: the training digits are split into one shard per worker, `settings.batch_size` stays the global batch
    (each worker takes its share of it every step) and gradients are summed over the workers; the model returned
    is a plain copy of the trained one. A worker lost mid-run raises TensorFlow's UnavailableError on the others.
    """
    settings.validate()
    keras.utils.set_random_seed(settings.seed)
    x, y, w, (x_val, y_val), n_pen, n_extra, described = _training_arrays(settings, data, extra, init_model,
                                                                          pen_cache)
    n_val = len(x_val)

    # Enough steps for batch norm and the schedule to learn: smaller batches in a short run.
    batch_size = min(settings.batch_size, max(8, len(x) * settings.epochs // settings.min_steps))
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if replicas > 1:
        batch_size, x, y, w, n_pen, n_extra = _even_for_replicas(replicas, batch_size, x, y, w, n_pen, n_extra)
    steps = math.ceil(len(x) / batch_size)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = init_model if init_model is not None else build_model(settings.arch, settings.width)
        model.compile(
            optimizer=_optimizer(settings, steps * settings.epochs),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
            jit_compile=jit_compile if strategy is None else False,
        )
    val = (x_val, tf.one_hot(y_val, 10)) if n_val else None
    reporter = _Reporter(settings.epochs, steps, progress, cancel)
    # The dataset shuffles itself. Validation in batches of 1,000: Keras' default of 32 spent 1.5-2.5 s of every
    # epoch on the 5,000 held-out digits (0.8 s at 1,000; the same numbers).
    fit_args = {"epochs": settings.epochs, "validation_data": val, "validation_batch_size": 1000,
                "callbacks": [reporter], "verbose": 0, "shuffle": False}
    if strategy is None:
        train = _dataset(x, y, w, batch_size, settings.augment, settings.seed, augmentation=augmentation)
        model.fit(train, **fit_args)
    else:
        def shard(context):  # one worker's digits, in batches of its share of the global batch
            n, i = context.num_input_pipelines, context.input_pipeline_id
            return _dataset(x[i::n], y[i::n], None if w is None else w[i::n],
                            context.get_per_replica_batch_size(batch_size), settings.augment, settings.seed,
                            augmentation=augmentation, shard=i)

        train = strategy.distribute_datasets_from_function(shard)
        sample = (x[:1], tf.one_hot(y[:1], 10)) + (() if w is None else (w[:1],))
        _fit_across_workers(model, strategy, train, sample, fit_args)
        model = _plain_copy(model)
    end = time.perf_counter()
    if reporter.diverged:
        raise TrainingFailed("training diverged: the loss became NaN or infinite (try a lower learning rate)")
    t_first = reporter.t_first or end
    result = TrainResult(
        model=model if reporter.history else None,
        history=reporter.history,
        train_seconds=end - t_first,  # building and the first step are reported apart
        setup_seconds=getattr(reporter, "setup", 0.0),
        epochs_done=len(reporter.history.get("loss", [])),
        cancelled=reporter.cancelled,
        train_size=len(x) - n_extra,
        extra_size=n_extra,
        pen_size=n_pen,
        data=described,
        batch_size=batch_size,
    )
    return result
