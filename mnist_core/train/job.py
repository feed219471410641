"""What one training run is asked to do (``TrainJob``) and what it reports while it runs and at its end.

No TensorFlow here: the CLI, the job manager and the fake trainer of the tests build, check and write jobs without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

from mnist_core.config import TrainSettings

Activate = Literal["no", "if_better", "always", "if_helps"]
ACTIVATE = ("no", "if_better", "always", "if_helps")


class RunError(Exception):
    """An expected failure of a run (no samples to fine-tune on, a bad recipe, a lost worker): one line for people."""


@dataclass(frozen=True)
class TrainJob:
    """One training run: the recipe, the data, the user's samples, fine-tuning, activation, workers."""

    settings: TrainSettings = field(default_factory=TrainSettings)
    # An MNIST .npz or IDX folder (None: env MNIST_DATA, Keras' download, else the offline subset).
    data: str | None = None
    # The user's labelled digits added to the training data: their SQLite file or a postgresql:// URL (password in
    # PGPASSWORD). None: MNIST (and pen digits) alone.
    samples: str | None = None
    # Fine-tune this version on ``samples`` plus an MNIST replay instead of training anew.
    finetune: str | None = None
    # A personal fine-tune for this profile: its samples only, the measured recipe, judged by cross-validation.
    profile: str | None = None
    # "no"; "if_better": when it beats the active model on the data's test set (MnistData.test_set); "always"; "if_helps": a profile's
    # fine-tune, for that profile, when personal.judge says it helps.
    activate: Activate = "no"
    # Also write the model to this .keras file (card and TF Lite copy beside it).
    output: str | None = None
    # HOST:PORT,... of a run across workers (None: env TF_CONFIG when set, else one process), and this one's place.
    workers: str | None = None
    worker_index: int | None = None
    # Seconds to wait for every worker to join before giving up.
    join_timeout: float = 300.0
    # JSON of personal.Recipe fields (benchmarks/personalize.py); None: the measured recipe.
    recipe: str | None = None
    # Run by a spare trainer that had TensorFlow imported before the job came (recorded in the start event).
    warm: bool = False

    def to_dict(self) -> dict:
        """JSON-ready: the request file's "job"."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainJob:
        """The job of ``to_dict``; unknown keys are refused (TypeError) rather than silently dropped."""
        d = dict(d)
        settings = TrainSettings(**d.pop("settings", {}))
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise TypeError(f"unknown job fields: {sorted(unknown)}")
        return cls(settings=settings, **d)

    def checked(self) -> TrainJob:
        """This job with its profile name normalised; ValueError (settings, profile) or RunError before TensorFlow."""
        from mnist_core.store.profiles import validate_profile  # noqa: PLC0415

        self.settings.validate()
        if self.activate not in ACTIVATE:
            raise ValueError(f"activate must be one of {', '.join(ACTIVATE)}, not {self.activate!r}")
        if self.profile is not None:
            job = replace(self, profile=validate_profile(self.profile))
            if not (job.finetune and job.samples):
                raise RunError("--profile fine-tunes a version on that profile's samples: give --finetune and --samples")
            return job
        if self.activate == "if_helps":
            raise RunError("--activate-if-helps is for a profile's fine-tune (--profile)")
        return self


@dataclass(frozen=True)
class Started:
    """The run has its data and recipe (the job log's "start" event)."""

    settings: dict
    data: str                # the data for people: "MNIST (60,000) + ..."
    subset: bool             # the offline subset stood in for MNIST
    pid: int
    parent: str | None
    profile: str | None
    warm: bool
    kind: str = "image"      # what is trained: "image" (this package's run) or "ink" (mnist_core.ink.job)


@dataclass(frozen=True)
class Note:
    """A line for the person at the terminal (worker messages); ``always``: shown even with --json."""

    text: str
    always: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a run ended. ``status``: "done" (a version saved), "cancelled", or "worker" (a worker other than the chief
    finished its part; the chief saves). ``result``: the job log's "done" fields; ``summary``: the JSON summary;
    ``line``: the same for people."""

    status: Literal["done", "cancelled", "worker"]
    result: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    line: str = ""
    epochs_done: int | None = None
