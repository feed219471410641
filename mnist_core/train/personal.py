"""Teaching the model one person's handwriting: profiles, the fine-tune recipe, and the rule that activates it.

A profile (default "me") owns its samples (SampleStore) and its personal model versions (a per-profile active
pointer in the Registry). A personal fine-tune starts from the shared active model and replays training digits so the
rest of the world is not forgotten. It is judged by cross-validation: the person's samples are split into
``folds`` (oldest first, in turn), and for each fold a twin is fine-tuned on the others and reads the fold, so that
every sample is read by a model that never trained on it; the version saved is then fine-tuned on every sample.
`judge` activates it for that profile only when those readings show it helps this person beyond what luck gives
(`Evidence`: a one-sided Wilcoxon signed-rank test of the changes of each sample's probability of its right digit)
and it costs the data's fair test set (MNIST's, or offline the held-out pen writers') at most ``max_mnist_cost``.

What the check can show: whether a model trained on the person's other samples reads a new one of theirs better.
What it cannot: how it reads digits unlike those they saved (a digit saved once is judged by a twin that saw none
of it), nor anything firm from a handful of samples: with 5 samples, all 5 must come out surer to count.

No TensorFlow at import: `finetune` imports the training module when it runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Recipe:
    """How a personal fine-tune trains and is judged; the training defaults are measured by
    benchmarks/bench_personal.py (docs/PERSONALIZE.md)."""

    # Fewest saved samples before the Draw tab offers to fine-tune: the fewest that can show it helps (all 5 surer
    # is a 1-in-32 chance for a model no better than the shared one: under `max_chance`).
    min_samples: int = 5
    # Cross-validation folds: each sample is read by a twin fine-tuned without its fold (samples in turn, oldest
    # first). Each fold is one more fit of the recipe's length (~10-20 s on two cores), so 2: every sample judged,
    # each twin trained on half of them (a cautious estimate of the saved model, which trains on all).
    folds: int = 2
    # Training digits replayed beside the person's, so the model does not forget everybody else.
    replay: int = 6000
    # Share of the replay drawn from the shipped pen digits of the training writers (the rest: MNIST or the offline
    # subset), as the shipped model trained on both. With MNIST alone, a fine-tune on 20 canvas digits of one writer
    # cost the held-out pen writers 0.9 point (98.73% -> 97.84%, two writers) and MNIST nothing; with 25% it cost
    # neither (98.69-98.74%, MNIST 99.61-99.64%) (issue 23).
    pen_share: float = 0.25
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
    # Largest fall of the fair test set's accuracy (MNIST's, or offline the held-out pen writers') a personal model
    # may cost and still be activated (0.002: 0.2 point).
    max_mnist_cost: float = 0.002
    # Largest chance, for a model no better than the shared one, of reading the person's samples this much surer (the
    # one-sided signed-rank test of `signed_rank`) that still counts as evidence it helps: 0.05.
    max_chance: float = 0.05
    # A change of the right digit's probability smaller than this is no change (a sure reading stays sure).
    surer_by: float = 1e-3
    # Seed of the replay draw, shuffling and augmentation.
    seed: int = 0

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        for name in ("min_samples", "folds", "replay", "repeat", "epochs", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2 (a sample is judged by a twin trained without it), "
                             f"not {self.folds!r}")
        if self.min_samples < self.folds:
            raise ValueError(f"min_samples must be at least folds ({self.folds}), not {self.min_samples!r}")
        if not (isinstance(self.freeze_blocks, int) and 0 <= self.freeze_blocks <= 5):
            raise ValueError(f"freeze_blocks must be 0-5, not {self.freeze_blocks!r}")
        if not 1e-6 <= self.lr <= 1.0:
            raise ValueError(f"lr must be between 1e-6 and 1, not {self.lr!r}")
        if not 0.0 < self.sample_weight <= 100.0:
            raise ValueError(f"sample_weight must be above 0 and at most 100, not {self.sample_weight!r}")
        if not 0.0 <= self.max_mnist_cost < 1.0:
            raise ValueError(f"max_mnist_cost must be in [0, 1), not {self.max_mnist_cost!r}")
        if not 0.0 <= self.pen_share < 1.0:
            raise ValueError(f"pen_share must be in [0, 1), not {self.pen_share!r}")
        if not 0.0 < self.max_chance < 0.5:
            raise ValueError(f"max_chance must be above 0 and below 0.5, not {self.max_chance!r}")
        if not 0.0 <= self.surer_by < 1.0:
            raise ValueError(f"surer_by must be in [0, 1), not {self.surer_by!r}")

    def fewest_to_show(self) -> int:
        """The fewest samples that can show a help (all of them surer) within ``max_chance``."""
        n = 1
        while 0.5 ** n > self.max_chance:  # signed_rank's chance when all n come out surer
            n += 1
        return n


def folds_of(n: int, folds: int = Recipe.folds) -> np.ndarray:
    """(n,) int: the fold of each of n samples (oldest first, in turn: 0, 1, 0, 1, ...); min(folds, n) folds."""
    return np.arange(n) % max(1, min(folds, n))


def signed_rank(changes: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank test, exact: the chance that the changes' positive ranks (of their sizes; ties
    share a rank) sum to at least what they do when each change is as likely up as down (a model no better than the
    shared one). Zero changes are left out; 1.0 with none. A few large gains (misreadings fixed) outweigh many small
    losses of already sure readings, where a count of ups and downs would not."""
    d = np.asarray(changes, np.float64)
    d = d[d != 0]
    if not len(d):
        return 1.0
    size = np.abs(d)
    order = np.argsort(size, kind="stable")
    ranks = np.empty(len(d))
    ranks[order] = np.arange(1, len(d) + 1)
    for value in np.unique(size):  # ties: their mean rank
        tied = size == value
        ranks[tied] = ranks[tied].mean()
    twice = np.rint(2 * ranks).astype(np.int64)  # half ranks as whole numbers
    # Under chance each rank is in the positive sum or not: the sum's distribution by dynamic programming.
    ways = np.zeros(int(twice.sum()) + 1)
    ways[0] = 1.0
    for r in twice:  # r >= 2
        ways[r:] = ways[r:] + ways[:-r]
        ways /= 2.0
    observed = int(twice[d > 0].sum())
    return float(min(1.0, ways[observed:].sum()))


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
class Evidence:
    """What reading each of the person's samples before and after (by a model that never trained on it) shows."""

    judged: int      # distinct samples read both ways
    fixed: int       # read wrong before, right after
    broken: int      # read right before, wrong after
    surer: int       # the right digit's probability rose by more than Recipe.surer_by
    less_sure: int   # ... fell by more than that
    chance: float    # signed_rank of those changes: how often luck alone would look this good

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def compare(before: np.ndarray, after: np.ndarray, labels: np.ndarray, surer_by: float = Recipe.surer_by) -> Evidence:
    """The Evidence of (N, 10) probabilities before and after on the same (N,) labelled samples."""
    labels = np.asarray(labels, np.int64)
    if not len(labels):
        return Evidence(0, 0, 0, 0, 0, 1.0)
    rows = np.arange(len(labels))
    before, after = np.asarray(before), np.asarray(after)
    right_b, right_a = before.argmax(1) == labels, after.argmax(1) == labels
    delta = after[rows, labels] - before[rows, labels]
    delta = np.where(np.abs(delta) > surer_by, delta, 0.0)  # a sure reading that stays sure is no change
    surer, less = int((delta > 0).sum()), int((delta < 0).sum())
    return Evidence(len(labels), int((~right_b & right_a).sum()), int((right_b & ~right_a).sum()), surer, less,
                    signed_rank(delta))


@dataclass(frozen=True)
class Verdict:
    """Whether a personal model goes live for its profile, and why in one word (see `judge`)."""

    activate: bool
    # "helps", "no_holdout" (no sample judged), "no_help" (not better on the person's samples), "too_few" (better,
    # but no more than luck could give with so few samples), "mnist_cost" (the fair test set fell more than allowed).
    reason: str
    mnist_cost: float

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def judge(before: Score, after: Score, evidence: Evidence, mnist_before: float, mnist_after: float,
          recipe: Recipe = Recipe()) -> Verdict:
    """Activate only when the person's samples, each read by a model that never trained on it, read better (no more
    misread, and surer of their right digits) beyond luck (``evidence.chance`` at most ``recipe.max_chance``), and
    the fair test set's accuracy fell by at most ``recipe.max_mnist_cost``."""
    cost = float(mnist_before - mnist_after)
    if cost > recipe.max_mnist_cost + 1e-9:
        return Verdict(False, "mnist_cost", cost)
    if not after.count or not evidence.judged:
        return Verdict(False, "no_holdout", cost)
    if after.correct < before.correct or evidence.chance > 0.5:  # misreads more, or no surer than chance makes it
        return Verdict(False, "no_help", cost)
    if evidence.chance > recipe.max_chance:
        return Verdict(False, "too_few", cost)
    return Verdict(True, "helps", cost)


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


def replay_digits(data, recipe: Recipe = Recipe()) -> tuple[np.ndarray, np.ndarray]:
    """The replay, x (R, 28, 28) uint8, y (R,): ``recipe.replay`` digits, ``pen_share`` of them the shipped training
    writers' pen digits drawn once each (spread over all writers, cached in <home>/cache), the rest drawn from
    ``data``'s training digits; shuffled (the fit's validation digits are its last ones)."""
    from mnist_core.config import Paths  # noqa: PLC0415
    from mnist_core.train.pen import training_set  # noqa: PLC0415

    rng = np.random.default_rng(recipe.seed)
    n_pen = int(round(recipe.replay * recipe.pen_share))
    xp, yp = (training_set(renders=1, seed=recipe.seed, limit=n_pen, cache=Paths().home / "cache")[:2] if n_pen
              else (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)))
    idx = rng.permutation(len(data.x_train))[: recipe.replay - len(xp)]
    x = np.concatenate([data.x_train[idx], xp])
    y = np.concatenate([np.asarray(data.y_train[idx], np.uint8), np.asarray(yp, np.uint8)])
    order = rng.permutation(len(y))
    return x[order], y[order]


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
    """Fine-tune ``model`` in place on the person's digits x (N, 28, 28) in [0, 1], y (N,), plus a replay drawn from
    ``data`` (MnistData) and the shipped pen digits (`replay_digits`); returns training.fit's TrainResult (its test
    set stays ``data``'s)."""
    from mnist_core.train import fit as training  # noqa: PLC0415(imports TensorFlow)

    recipe.validate()
    if not len(x):
        raise ValueError("fine-tuning needs at least one of the person's samples")
    replay = data.with_train(*replay_digits(data, recipe))
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


# ------------------------------------------------------------------------------------------------ the judged run
def part_of(progress, index: int, parts: int):
    """Progress of fit ``index`` (0-based) of ``parts`` equal fits, reported as that part of one run: epochs
    index*E+1..(index+1)*E of parts*E, its time to go counting each fit still to come as long as this one."""
    def report(p):
        progress(replace(p, epoch=p.epoch + index * p.epochs, epochs=parts * p.epochs,
                         eta_s=p.eta_s + (parts - 1 - index) * (p.elapsed_s + p.eta_s)))
    return report


def judged_finetune(parent, load_parent, x: np.ndarray, y: np.ndarray, data, recipe: Recipe, progress, cancel):
    """Cross-validate the recipe on the person's samples, then fine-tune the version to save on all of them.

    ``parent``: the shared model (trained in place: the first twin); ``load_parent()``: a fresh copy of it for each
    later fit. Returns (the last TrainResult: the saved model's fit, or the fit that was cancelled; (N, 10)
    probabilities of each sample read by the twin trained without its fold, None when cancelled; seconds the twins
    took)."""
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

    fold = folds_of(len(y), recipe.folds)
    k = int(fold.max()) + 1
    after = np.zeros((len(y), 10), np.float32)
    seconds = 0.0
    for i in range(k):
        out = fold == i
        model = parent if i == 0 else load_parent()
        result = finetune(model, x[~out], y[~out], data, recipe, part_of(progress, i, k + 1), cancel)
        if result.cancelled:
            return result, None, seconds
        seconds += result.train_seconds + result.setup_seconds
        after[out] = Recognizer(result.model, f"twin {i + 1}", lite=False).predict(x[out])
    result = finetune(load_parent(), x, y, data, recipe, part_of(progress, k, k + 1), cancel)
    return result, after, seconds


def personal_card(profile: str, state: dict, metrics: dict, result, recipe: Recipe) -> tuple[dict, Verdict]:
    """The card's "personal" block of a judged fine-tune and its Verdict. ``state``: "all" (x, y), "before" and
    "after" (N, 10) probabilities of each sample, "mnist_before" (the parent on the data's test set), "test_set"
    (its MnistData.test_card()), "twin_seconds"; ``metrics``: the saved version's on the same test set."""
    y = state["all"][1]
    before, after = score(state["before"], y), score(state["after"], y)
    evidence = compare(state["before"], state["after"], y, recipe.surer_by)
    verdict = judge(before, after, evidence, state["mnist_before"], metrics["accuracy"], recipe)
    n = int(len(y))
    block = {
        "profile": profile,
        "samples": n,                      # distinct samples (each trained on `repeat` times)
        "samples_trained": n,
        "held_out": evidence.judged,       # each sample was held out of one twin
        "folds": int(folds_of(n, recipe.folds).max()) + 1 if n else 0,
        "before": before.to_dict(),
        "after": after.to_dict(),
        "evidence": evidence.to_dict(),
        "test_set": state["test_set"],
        "mnist_before": state["mnist_before"],   # on test_set (MNIST's test, or offline the held-out pen writers)
        "mnist_after": metrics["accuracy"],
        "verdict": verdict.to_dict(),
        "recipe": asdict(recipe),
        "judged": "each sample read by a twin fine-tuned without its fold; this version fine-tuned on all of them",
        "finetune_seconds": round(result.train_seconds + result.setup_seconds + state.get("twin_seconds", 0.0), 2),
    }
    return block, verdict
