"""Teaching the model one person's handwriting: profiles, the fine-tune recipe, and the rule that activates it.

A profile (default "me") owns its samples (SampleStore) and its personal model versions (a per-profile active
pointer in the Registry). A personal fine-tune starts from the shared active model, trains on the profile's
samples but one in every ``holdout_every`` (held out, oldest first), replays MNIST digits so the rest of the
world is not forgotten, and is activated for that profile only when `judge` says it helps this person (its
held-out samples) and costs MNIST's test set at most ``max_mnist_cost``.

No TensorFlow at import: `finetune` imports the training module when it runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Recipe:
    """How a personal fine-tune trains; the defaults are measured by benchmarks/bench_personal.py (docs/PERSONALIZE.md)."""

    # Fewest saved samples before the Draw tab offers to fine-tune (one of them is held out to judge it).
    min_samples: int = 5
    # One sample in this many (the 5th, 10th, ... oldest first) is held out of training to score it.
    holdout_every: int = 5
    # MNIST training digits replayed beside the person's, so the model does not forget everybody else.
    replay: int = 6000
    # Copies of each of the person's samples per epoch (each augmented differently): 16 beat 8 (benchmarks).
    repeat: int = 16
    # Weight of each copy relative to one replayed MNIST digit in the loss.
    sample_weight: float = 2.0
    # Passes over replay + copies (5 x ~6,100 digits: ~480 steps, 7-10 s of fitting on two cores).
    epochs: int = 5
    # Peak learning rate of the one-cycle schedule: under a third of training's; 1e-2 cost MNIST up to 0.09 point for
    # no more gain, 1e-3 (2 epochs) cut a median 17% of the errors (docs/PERSONALIZE.md).
    lr: float = 3e-3
    # Leading convolution blocks (convolution + batch norm) kept as they are: the stem's stroke detectors serve
    # everybody; the later blocks and the head learn this person's shapes.
    freeze_blocks: int = 1
    # Batch norm keeps the shared model's statistics (a few dozen digits must not move them).
    freeze_batchnorm: bool = True
    # Digits per step.
    batch_size: int = 64
    # Random rotation, shift, zoom and thickness per batch (the person's few digits seen in many versions).
    augment: bool = True
    # Replayed digits held out for the validation curve the Retrain tab draws.
    validation: int = 500
    # Largest fall of MNIST test accuracy a personal model may cost and still be activated (0.002: 0.2 point).
    max_mnist_cost: float = 0.002
    # Seed of the replay draw, shuffling and augmentation.
    seed: int = 0
    # After the held-out samples have judged a model trained without them, train the saved one again from the shared
    # model on every sample: with 5 samples a digit that is 5 of each instead of 4, and on the benchmark's writers
    # it cut a median 74% of the errors instead of 55% (docs/PERSONALIZE.md), for a second fit of the same length.
    refit_all: bool = True

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        for name in ("min_samples", "holdout_every", "replay", "repeat", "epochs", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if not (isinstance(self.freeze_blocks, int) and 0 <= self.freeze_blocks <= 5):
            raise ValueError(f"freeze_blocks must be 0-5, not {self.freeze_blocks!r}")
        if not 1e-6 <= self.lr <= 1.0:
            raise ValueError(f"lr must be between 1e-6 and 1, not {self.lr!r}")
        if not 0.0 < self.sample_weight <= 100.0:
            raise ValueError(f"sample_weight must be above 0 and at most 100, not {self.sample_weight!r}")
        if not 0.0 <= self.max_mnist_cost < 1.0:
            raise ValueError(f"max_mnist_cost must be in [0, 1), not {self.max_mnist_cost!r}")


def held_out(n: int, every: int = Recipe.holdout_every) -> np.ndarray:
    """(n,) bool: which of n samples (oldest first) are held out of the fine-tuning: the every-th, 2*every-th, ..."""
    return (np.arange(n) % every) == every - 1


@dataclass(frozen=True)
class Score:
    """How a model reads some labelled digits: right answers, of how many, and the mean probability of the truth."""

    correct: int
    count: int
    mean_p: float

    @property
    def accuracy(self) -> float:
        """Share read right (0 when there are none)."""
        return self.correct / self.count if self.count else 0.0

    def to_dict(self) -> dict:
        """JSON-ready, with the accuracy."""
        return {**asdict(self), "accuracy": self.accuracy}


def score(probs: np.ndarray, labels: np.ndarray) -> Score:
    """Score (N, 10) probabilities against (N,) labels."""
    labels = np.asarray(labels, np.int64)
    if not len(labels):
        return Score(0, 0, 0.0)
    probs = np.asarray(probs)
    right = int((probs.argmax(1) == labels).sum())
    return Score(right, int(len(labels)), float(probs[np.arange(len(labels)), labels].mean()))


@dataclass(frozen=True)
class Verdict:
    """Whether a personal model goes live for its profile, and why in one word (see `judge`)."""

    activate: bool
    # "helps", "no_holdout" (nothing held out to judge by), "no_help" (not better on the held-out samples),
    # "mnist_cost" (MNIST fell more than allowed).
    reason: str
    mnist_cost: float

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def judge(before: Score, after: Score, mnist_before: float, mnist_after: float,
          max_mnist_cost: float = Recipe.max_mnist_cost) -> Verdict:
    """Activate only when the held-out samples read better (fewer errors, or as many with more confidence in the
    right digits) and MNIST's test accuracy fell by at most ``max_mnist_cost``."""
    cost = float(mnist_before - mnist_after)
    if cost > max_mnist_cost + 1e-9:
        return Verdict(False, "mnist_cost", cost)
    if not after.count:
        return Verdict(False, "no_holdout", cost)
    helps = after.correct > before.correct or (after.correct == before.correct and after.mean_p > before.mean_p)
    return Verdict(helps, "helps" if helps else "no_help", cost)


def freeze(model, recipe: Recipe = Recipe()) -> int:
    """Mark the recipe's leading convolution blocks (and batch norm, if asked) untrainable in each net of ``model``
    (an ensemble's every member); returns layers frozen."""
    import keras  # noqa: PLC0415 (the model is a Keras model: loaded already)

    from mnist_core.train.nets import leaf_layers, members  # noqa: PLC0415

    frozen = 0
    for net in members(model):
        convs = 0
        for layer in leaf_layers(net):
            if isinstance(layer, keras.layers.Conv2D):
                convs += 1
            in_frozen_block = 0 < convs <= recipe.freeze_blocks
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            if layer.weights and (in_frozen_block or (is_bn and recipe.freeze_batchnorm)):
                layer.trainable = False
                frozen += 1
    return frozen


def train_settings(model, recipe: Recipe = Recipe()):
    """The TrainSettings a personal fine-tune of ``model`` runs with (its net's shape, the recipe's schedule)."""
    from mnist_core.config import TrainSettings  # noqa: PLC0415
    from mnist_core.train.nets import net_shape  # noqa: PLC0415

    return TrainSettings(
        **net_shape(model), epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr, augment=recipe.augment,
        seed=recipe.seed, validation=recipe.validation, sample_weight=recipe.sample_weight, data="mnist",
        min_steps=1,  # the recipe's batch size is already small: no shrinking
    )


def finetune(model, x: np.ndarray, y: np.ndarray, data, recipe: Recipe = Recipe(), progress=None, cancel=None):
    """Fine-tune ``model`` in place on the person's digits x (N, 28, 28) in [0, 1], y (N,), plus an MNIST replay
    drawn from ``data`` (MnistData); returns training.fit's TrainResult (its test set stays ``data``'s)."""
    from mnist_core.train import fit as training  # noqa: PLC0415(imports TensorFlow)
    from mnist_core.train.data import MnistData  # noqa: PLC0415

    recipe.validate()
    if not len(x):
        raise ValueError("fine-tuning needs at least one of the person's samples")
    rng = np.random.default_rng(recipe.seed)
    idx = rng.permutation(len(data.x_train))[: recipe.replay]
    replay = MnistData(data.x_train[idx], data.y_train[idx], data.x_test, data.y_test, data.source, data.subset)
    settings = train_settings(model, recipe)
    freeze(model, recipe)
    xs = np.repeat(np.asarray(x, np.float32), recipe.repeat, axis=0)
    ys = np.repeat(np.asarray(y, np.int64), recipe.repeat)
    try:
        return training.fit(settings, replay, extra=(xs, ys), init_model=model, progress=progress, cancel=cancel)
    finally:
        from mnist_core.train.nets import leaf_layers  # noqa: PLC0415

        for layer in [*model.layers, *leaf_layers(model)]:  # saved trainable: a later fine-tune starts whole
            layer.trainable = True
