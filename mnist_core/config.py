"""Settings as small frozen dataclasses: paths, limits, training defaults.

No TensorFlow here: this module is imported by the CLI's ``--help`` path and by
preprocessing-only code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# The project root: the shipped default model lives in <root>/models.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _home_from_env() -> Path:
    return Path(os.environ.get("MNIST_STUDIO_HOME", "data")).expanduser()


def _database_from_env() -> str | None:
    return os.environ.get("MNIST_STUDIO_DB") or None


@dataclass(frozen=True)
class Paths:
    """Where the studio keeps its state on disk."""

    # The data directory; env MNIST_STUDIO_HOME, default ./data (git-ignored).
    home: Path = field(default_factory=_home_from_env)
    # The model shipped in the repository, used whenever no version is active.
    default_model: Path = PROJECT_ROOT / "models" / "default.keras"
    # Where the samples (and so the profiles' samples) live instead of samples.sqlite3: a postgresql:// URL, for
    # replicas on several machines (env MNIST_STUDIO_DB; None: the SQLite file in the data directory).
    database: str | None = field(default_factory=_database_from_env, repr=False)

    @property
    def models(self) -> Path:
        """Folder of registered versions: models/<version>/{model.keras, card.json}."""
        return self.home / "models"

    @property
    def active(self) -> Path:
        """File holding the active version id, replaced atomically."""
        return self.home / "active"

    @property
    def samples_db(self) -> Path:
        """The user's labelled digits (SQLite, WAL)."""
        return self.home / "samples.sqlite3"

    @property
    def samples_location(self) -> str | Path:
        """What mnist_core.store.samples.open_store opens: the database URL when set, else the SQLite file."""
        return self.database or self.samples_db

    @property
    def jobs(self) -> Path:
        """Training runs' logs: jobs/<id>/log.jsonl."""
        return self.home / "jobs"

    @property
    def default_card(self) -> Path:
        """The card beside the shipped model."""
        return self.default_model.with_suffix(".json")


@dataclass(frozen=True)
class Limits:
    """Caps on what a request may make the server do."""

    # Largest image accepted, in pixels (width * height); 40 MP covers phone photos,
    # while a 30000x30000 "decompression bomb" (900 MP) is refused before decoding.
    max_pixels: int = 40_000_000
    # Largest upload, in bytes; a 40 MP JPEG is well under this.
    max_upload_bytes: int = 20 * 1024 * 1024
    # Most digits read from one image; more is a page of text, not a number.
    max_digits: int = 64
    # Largest batch passed to the model in one call (bounds memory per request).
    max_batch: int = 4096


@dataclass(frozen=True)
class TrainSettings:
    """One training run's recipe. The defaults are the measured fast CNN recipe."""

    # "cnn" (the default, >= 99.5%) or "mlp" (the tutorial's 13,002-parameter model).
    arch: str = "cnn"
    # Channels of the CNN's first stage (later stages 2x and 4x). 20 reaches 99% in one epoch at 0.6x the time
    # of 32 (benchmarks/RESULTS.md); 16 costs 4x less than 32 per digit to run (the shipped model, trained
    # longer). Ignored by the mlp.
    width: int = 20
    # Full passes over the training data.
    epochs: int = 6
    # Larger batches keep two CPU cores busy; the one-cycle schedule makes up for fewer steps.
    batch_size: int = 128
    # Peak learning rate of the one-cycle schedule (Adam): with batch norm 1e-2 gains ~0.1 point after one
    # epoch over 3e-3 (measured at widths 20-32).
    lr: float = 1e-2
    # "onecycle" (warm-up then cosine decay) or "constant".
    schedule: str = "onecycle"
    # Random rotation, shift, zoom and stroke thickness, applied per batch as tensor ops.
    augment: bool = True
    # Label smoothing for the cross-entropy; a little helps the last tenth of a point.
    label_smoothing: float = 0.05
    # Seed for weights, shuffling and augmentation.
    seed: int = 0
    # Use only the first `limit` training digits (None: all); tests train in seconds with it.
    limit: int | None = None
    # Digits held out from the training set to report validation curves while training.
    validation: int = 5000
    # Weight of each user sample relative to one MNIST digit in the loss.
    sample_weight: float = 5.0
    # Training data: "mnist+pen" adds real handwriting of other populations (the pen digits of the training
    # writers of UCI pendigits and UNIPEN, shipped with the project) to MNIST; "mnist" is MNIST alone, the
    # tutorial's choice. MNIST alone reads 1 in 20-30 digits of other writers wrong (benchmarks/REALWORLD.md).
    data: str = "mnist+pen"
    # Times each pen digit is drawn per run, each with its own slant, aspect, wobble and brush.
    pen_renders: int = 2
    # Times each pen digit is also cut tightly from a line between two others (their fragments at the edges),
    # on noisy paper, through the small-image path: what a form box or a cheque gives.
    pen_crops: int = 1
    # Scale of each writing convention's share (train.synth.CONVENTIONS: continental 1s, crossed 7s, slashed 0s,
    # one-stroke 4s, ...) when the pen digits are drawn; 0 draws every pen digit as its writer wrote it. Off: at 1
    # the image model read the continental 1 on the canvas better (68% -> 78%) but the held-out pendigits writers
    # worse (99.24% -> 98.80%) and MNIST's test set worse (99.64% -> 99.57%), and fused with the ink no better
    # (benchmarks/INK.md); the ink model, which sees the strokes, carries the conventions instead.
    pen_conventions: float = 0.0
    # Weight of each pen digit in the loss relative to an MNIST digit: at 0.5 MNIST's test set reads 0.08 point
    # and USPS 0.19 point better than at 1, for 0.1 point less on the held-out pen writers (benchmarks/REALWORLD.md).
    pen_weight: float = 0.5
    # The fewest optimizer steps a run takes: a short run (3,000 digits, one epoch: 23 steps of 128) shrinks its
    # batches to get them, since batch norm and the one-cycle schedule need a few hundred steps to learn.
    min_steps: int = 300

    def validate(self) -> None:
        """Raise ValueError naming the first setting that is out of range."""
        if self.arch not in ("cnn", "mlp"):
            raise ValueError(f"arch must be 'cnn' or 'mlp', not {self.arch!r}")
        if not (isinstance(self.width, int) and 4 <= self.width <= 128):
            raise ValueError(f"width must be an integer from 4 to 128, not {self.width!r}")
        if not (isinstance(self.epochs, int) and 1 <= self.epochs <= 200):
            raise ValueError(f"epochs must be an integer from 1 to 200, not {self.epochs!r}")
        if not (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 8192):
            raise ValueError(f"batch size must be an integer from 1 to 8192, not {self.batch_size!r}")
        if not (isinstance(self.lr, (int, float)) and 1e-6 <= self.lr <= 1.0):
            raise ValueError(f"learning rate must be between 1e-6 and 1, not {self.lr!r}")
        if self.schedule not in ("onecycle", "constant"):
            raise ValueError(f"schedule must be 'onecycle' or 'constant', not {self.schedule!r}")
        if not (0.0 <= self.label_smoothing < 0.5):
            raise ValueError(f"label smoothing must be in [0, 0.5), not {self.label_smoothing!r}")
        if self.limit is not None and not (isinstance(self.limit, int) and self.limit >= 100):
            raise ValueError(f"limit must be at least 100 digits, not {self.limit!r}")
        if not (isinstance(self.validation, int) and self.validation >= 0):
            raise ValueError(f"validation must be a count >= 0, not {self.validation!r}")
        if self.data not in ("mnist+pen", "mnist"):
            raise ValueError(f"data must be 'mnist+pen' or 'mnist', not {self.data!r}")
        if not (isinstance(self.pen_conventions, (int, float)) and 0 <= self.pen_conventions <= 2):
            raise ValueError(f"pen conventions must be a number from 0 to 2, not {self.pen_conventions!r}")
        if not (isinstance(self.pen_renders, int) and 1 <= self.pen_renders <= 20):
            raise ValueError(f"pen renders must be an integer from 1 to 20, not {self.pen_renders!r}")
        if not (isinstance(self.pen_weight, (int, float)) and 0.0 < self.pen_weight <= 10.0):
            raise ValueError(f"pen weight must be above 0 and at most 10, not {self.pen_weight!r}")
        if not (isinstance(self.pen_crops, int) and 0 <= self.pen_crops <= 20):
            raise ValueError(f"pen crops must be an integer from 0 to 20, not {self.pen_crops!r}")
        if not (isinstance(self.sample_weight, (int, float)) and 0.0 <= self.sample_weight <= 100.0):
            raise ValueError(f"sample weight must be between 0 and 100, not {self.sample_weight!r}")


@dataclass(frozen=True)
class NumberTrainSettings:
    """The number reader's recipe (`python -m mnist_core train-number`)."""

    # Lines made for training (each 1-12 digits by one hand; made once and kept in the studio's cache).
    lines: int = 60_000
    # Full passes over them.
    epochs: int = 6
    # Lines per step; a batch is padded to its widest line, so lines of like widths are batched together.
    batch_size: int = 32
    # Peak learning rate of the one-cycle schedule (Adam).
    lr: float = 3e-3
    # Channels of the reader's second stage (the first has half; later stages 2x, 3x, 4x).
    width: int = 32
    # Lines made from held-out data to report the exact-match accuracy on.
    validation: int = 1000
    # Seed for weights, the lines made and shuffling.
    seed: int = 0
    # Share of the lines written by one of the shipped pen writers rather than with MNIST digits (when both are
    # there). The shipped reader's third stage used 0.8: real writers' numbers read better (benchmarks/NUMBERS.md).
    pen_share: float = 0.5

    def validate(self) -> None:
        """Raise ValueError naming the first setting that is out of range."""
        if not (isinstance(self.pen_share, (int, float)) and 0.0 <= self.pen_share <= 1.0):
            raise ValueError(f"pen share must be between 0 and 1, not {self.pen_share!r}")
        if not (isinstance(self.lines, int) and 100 <= self.lines <= 2_000_000):
            raise ValueError(f"lines must be an integer from 100 to 2,000,000, not {self.lines!r}")
        if not (isinstance(self.epochs, int) and 1 <= self.epochs <= 200):
            raise ValueError(f"epochs must be an integer from 1 to 200, not {self.epochs!r}")
        if not (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 1024):
            raise ValueError(f"batch size must be an integer from 1 to 1024, not {self.batch_size!r}")
        if not (isinstance(self.width, int) and 8 <= self.width <= 128 and self.width % 2 == 0):
            raise ValueError(f"width must be an even integer from 8 to 128, not {self.width!r}")
        if not (isinstance(self.lr, (int, float)) and 1e-6 <= self.lr <= 1.0):
            raise ValueError(f"learning rate must be between 1e-6 and 1, not {self.lr!r}")
        if not (isinstance(self.validation, int) and self.validation >= 0):
            raise ValueError(f"validation must be a count >= 0, not {self.validation!r}")
