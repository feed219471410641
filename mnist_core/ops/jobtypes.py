"""What a training job is asked (``JobOptions``, ``JobRequest``) and where one stands (``JobStatus``, ``JobBusy``):
the plain values that mnist_core.ops.jobs' ``JobManager`` takes and returns. No TensorFlow and no Gradio here."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mnist_core.config import TrainSettings
from mnist_core.ops.lock import JOB_ID as _JOB_ID
from mnist_core.store.profiles import validate_profile
from mnist_core.train.job import Activate, TrainJob

if TYPE_CHECKING:
    from mnist_core.ink.fit import InkTrainSettings
    from mnist_core.ink.job import InkJob

__all__ = ["JobBusy", "JobOptions", "JobRequest", "JobStatus", "validate_job_id"]


@dataclass(frozen=True)
class JobOptions:
    """How the manager runs trainers: niceness, cancel escalation, how many old job folders to keep."""

    # Added niceness of the trainer, so serving stays responsive on a small machine.
    nice: int = 10
    # Seconds after the cancel file before SIGTERM, then before SIGKILL.
    term_after_s: float = 6.0
    kill_after_s: float = 12.0
    # Finished job folders kept in <home>/jobs (oldest pruned on start).
    keep: int = 20
    # Keep one trainer waiting with TensorFlow already imported (`python -m mnist_core spare`), so that a training or
    # a fine-tune starts 4-5 s sooner on 2 cores; it holds ~0.7 GB of memory while it waits. Default command only.
    spare: bool = False


@dataclass(frozen=True)
class JobRequest:
    """What to train: the recipe, the data, the user's samples, fine-tuning, activation policy."""

    settings: TrainSettings = field(default_factory=TrainSettings)
    # An MNIST .npz path (None: the core's default, the full MNIST or its offline subset).
    data: str | None = None
    # Add the user's samples (weighted by settings.sample_weight) to the training data.
    use_samples: bool = False
    # Fine-tune this version on the user's samples (plus an MNIST replay) instead of training anew.
    finetune: str | None = None
    # "no": leave the active model; "if_better": activate when its test accuracy beats it; "always"; "if_helps"
    # (a personal fine-tune only): activate for the profile when personal.judge says it helps that person.
    activate: Activate = "no"
    # A personal fine-tune for this profile: its samples only, the measured recipe (personal.Recipe), judged by
    # cross-validation over its samples, activated for this profile alone. Needs ``finetune``.
    profile: str | None = None
    # Train the ink net with these settings (mnist_core.ink.fit.InkTrainSettings) instead of the image model:
    # settings, data, samples, finetune and profile do not apply; activate is "no", "if_better" or "always".
    ink: InkTrainSettings | None = None

    def validate(self) -> None:
        """Raise ValueError naming the first bad field (settings first)."""
        if self.ink is not None:
            self.ink_job()
            if self.use_samples or self.finetune is not None or self.profile is not None:
                raise ValueError("the ink model trains on the shipped pen digits: no samples, fine-tune or profile")
            return
        self.settings.validate()
        if self.activate not in ("no", "if_better", "always", "if_helps"):
            raise ValueError(f"activate must be 'no', 'if_better', 'always' or 'if_helps', not {self.activate!r}")
        if self.profile is not None:
            validate_profile(self.profile)
            if self.finetune is None:
                raise ValueError("a profile's model is a fine-tune: give the version to fine-tune")
        elif self.activate == "if_helps":
            raise ValueError("activate 'if_helps' is for a profile's fine-tune")
        if self.finetune is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.finetune):
            raise ValueError(f"not a model version id: {self.finetune!r}")
        if self.data is not None and not Path(self.data).is_file():
            raise ValueError(f"no MNIST file at {self.data}")

    def ink_job(self) -> InkJob:
        """The ink trainer's job for this request (ValueError for bad settings or activation)."""
        from mnist_core.ink.job import InkJob  # noqa: PLC0415

        return InkJob(settings=self.ink, activate=self.activate).checked()

    def train_job(self, samples: Path | str) -> TrainJob:
        """The trainer's job for this request (``samples``: the SQLite file or a database URL without its
        password)."""
        with_samples = self.use_samples or self.finetune is not None
        return TrainJob(settings=self.settings, data=self.data, samples=str(samples) if with_samples else None,
                        finetune=self.finetune,
                        profile=None if self.profile is None else validate_profile(self.profile),
                        activate=self.activate)


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job (or of none: status "idle")."""

    status: Literal["idle", "running", "done", "cancelled", "failed"] = "idle"
    id: str | None = None
    settings: dict = field(default_factory=dict)
    # The trainer's description of its data ("MNIST (60,000)...", "offline subset ...").
    data: str = ""
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    # Latest training loss / accuracy of the progress events.
    loss: float | None = None
    accuracy: float | None = None
    eta_s: float | None = None
    elapsed_s: float = 0.0
    # Curve points so far: {"epoch": float, "metric": "loss"|"accuracy", "split": "train"|"validation",
    # "value": float}; train points every progress event (fractional epochs), validation each epoch.
    curves: tuple = ()
    # The done event: version, card, active_before, active_accuracy, activated.
    result: dict | None = None
    message: str = ""
    # True when the job was started by another process (found through the lock).
    attached: bool = False
    # The profile a personal fine-tune is for (None: a training for everyone).
    profile: str | None = None
    cancel_requested: bool = False
    # What is trained: "image" (the digit model) or "ink" (the ink net; its versions are in the ink registry).
    kind: str = "image"

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def fraction(self) -> float:
        """Share of the work done, 0-1."""
        if self.status == "done":
            return 1.0
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, ((max(self.epoch, 1) - 1) * self.steps + self.step) / (self.epochs * self.steps))

    def describe(self) -> str:
        """One line for people: what the job is doing and how far it is."""
        if self.status == "idle":
            return "No training has run yet."
        if self.status == "running":
            cancelling = " (cancelling…)" if self.cancel_requested else ""
            if not self.epochs:
                return f"Training is starting (loading the data)…{cancelling}"
            eta = f", about {_duration(self.eta_s)} left" if self.eta_s is not None else ""
            return f"Training: epoch {max(self.epoch, 1)}/{self.epochs}, {self.fraction:.0%} done{eta}.{cancelling}"
        if self.status == "done":
            version = (self.result or {}).get("version", "?")
            return f"Training finished in {_duration(self.elapsed_s)}: version {version}."
        if self.status == "cancelled":
            return "Training was cancelled."
        return f"Training failed: {self.message or 'no reason given'}"

    def to_dict(self) -> dict:
        """A JSON-ready dict (for the API)."""
        d = asdict(self)
        d["curves"] = list(self.curves)
        d["fraction"] = self.fraction
        d["summary"] = self.describe()
        return d


class JobBusy(RuntimeError):
    """A job is already running; ``.status`` says how far it is."""

    def __init__(self, status: JobStatus):
        super().__init__(f"A training is already running. {status.describe()}")
        self.status = status


def validate_job_id(job_id: object) -> str:
    """Return ``job_id`` when it is one this module made, or raise ValueError (no path tricks)."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"not a training job id: {job_id!r}")
    return job_id


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
