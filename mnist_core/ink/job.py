"""One ink-net training run, ``run(job, progress, cancel) -> Outcome``: train on the training writers, read a test
set, calibrate the fusion with the active image model, save an ink version (or files), maybe activate it.

``python -m mnist_core train-ink`` and the job manager's trainer (``train-ink --request FILE``, an ``InkJob`` in the
request file, mnist_core.ops.protocol) call it. ``progress`` receives what ``train.run.run``'s does, so the job log
and the Retrain tab read both alike: one ``Started`` (kind "ink"), ``InkProgress`` records (during an epoch at most
every `REPORT_S` seconds, and at its end), ``Note`` lines for people, and last the ``Outcome`` also returned.
TensorFlow is imported when ``run`` is called, not at import.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import ClassVar

from mnist_core.config import Paths
from mnist_core.ink.fit import InkTrainSettings
from mnist_core.train.job import Note, Outcome, RunError, Started

# How an ink version may go live: "no"; "if_better": it reads the test set better than the active ink version;
# "always".
ACTIVATE = ("no", "if_better", "always")
# Seconds between two progress reports within an epoch (an epoch of the full set is 10-20 s on 2 cores).
REPORT_S = 1.0


@dataclass(frozen=True)
class InkJob:
    """One training of the ink net: its settings, whether it goes live, or files to write instead of a version."""

    settings: InkTrainSettings = field(default_factory=InkTrainSettings)
    # "no", "if_better" or "always" (see ACTIVATE).
    activate: str = "no"
    # Write files here instead of a registry version: a folder (one that exists, or a path ending in "/") gets
    # model.keras, model.tflite and card.json; any other path is a stem for <stem>.keras, .tflite and .json.
    output: str | None = None

    kind: ClassVar[str] = "ink"  # the request file's "kind"

    def to_dict(self) -> dict:
        """JSON-ready: the request file's "job"."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> InkJob:
        """The job of ``to_dict``; unknown keys are refused (TypeError)."""
        d = dict(d)
        settings = InkTrainSettings.from_dict(d.pop("settings", {}))
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown ink job fields: {sorted(unknown)}")
        return cls(settings=settings, **d)

    def checked(self) -> InkJob:
        """This job, or ValueError naming what is wrong (before TensorFlow loads)."""
        self.settings.validate()
        if self.activate not in ACTIVATE:
            raise ValueError(f"activate must be one of {', '.join(ACTIVATE)}, not {self.activate!r}")
        if self.output is not None and self.activate != "no":
            raise ValueError("--output writes files, not a registry version: there is nothing to activate")
        return self


@dataclass(frozen=True)
class InkProgress:
    """How far the training is (the job log's "progress" during an epoch, "epoch" at its end)."""

    event: str  # "progress" or "epoch"
    epoch: int  # 1-based
    epochs: int
    step: int  # batches done in this epoch
    steps: int  # batches in an epoch
    loss: float | None
    accuracy: float | None
    elapsed_s: float  # since training began (the data loaded)
    eta_s: float  # to the end of the last epoch, at the pace so far
    val_accuracy: float | None = None  # the calibration writers' digits as written, at an epoch's end

    def to_dict(self) -> dict:
        return asdict(self)


class _Clock:
    """Turns train_ink's per-batch and per-epoch callbacks into InkProgress reports."""

    def __init__(self, epochs: int, progress):
        self.epochs, self.progress = epochs, progress
        self.t0 = self.last = time.perf_counter()
        self.steps = 1

    def _report(self, event: str, epoch: int, step: int, loss, accuracy, val=None) -> None:
        now = time.perf_counter()
        done = ((epoch - 1) * self.steps + step) / (self.epochs * self.steps)
        elapsed = now - self.t0
        eta = elapsed * (1 - done) / done if done > 0 else 0.0
        f = lambda v: None if v is None else float(v)  # noqa: E731
        self.progress(InkProgress(event, epoch, self.epochs, step, self.steps, f(loss), f(accuracy), elapsed, eta,
                                  f(val)))
        self.last = now

    def batch(self, epoch: int, step: int, steps: int, logs: dict) -> None:
        self.steps = steps
        if time.perf_counter() - self.last >= REPORT_S and step < steps:
            self._report("progress", epoch, step, logs.get("loss"), logs.get("accuracy"))

    def epoch(self, p: dict) -> None:
        self._report("epoch", p["epoch"], self.steps, p["loss"], p["accuracy"], p.get("val_accuracy"))


def run(job: InkJob, progress, cancel, paths: Paths | None = None) -> Outcome:
    """Train, read the test set, calibrate, save (and maybe activate) one ink version; see the module's docstring.

    ``cancel``: a threading.Event (set: stops within the batch, nothing saved). RunError for expected failures."""
    from mnist_core.ink import fit  # noqa: PLC0415
    from mnist_core.train.run import quiet_tensorflow  # noqa: PLC0415

    job, paths = job.checked(), paths or Paths()
    s = job.settings
    quiet_tensorflow()
    train, calib = fit.training_writers(s)
    if not train:
        raise RunError("the shipped pen digits are missing (mnist_core/assets/pen_train.npz): nothing to train on")
    data = (f"{len(train):,} pen digits of {len({d.writer for d in train})} training writers (shipped), redrawn in "
            f"the writing conventions and augmented each epoch; {len(calib):,} digits of "
            f"{len({d.writer for d in calib})} calibration writers kept out")
    progress(Started(settings=asdict(s), data=data, subset=False, pid=os.getpid(), parent=None, profile=None,
                     warm=False, kind="ink"))
    t0 = time.perf_counter()
    clock = _Clock(s.epochs, progress)
    model, history, trained = fit.train_ink(s, progress=clock.epoch, cancel=cancel.is_set, batch_progress=clock.batch)
    train_seconds = time.perf_counter() - t0
    if cancel.is_set():
        return _report(progress, Outcome("cancelled", epochs_done=trained["epochs_run"]))
    digits, test_set = fit.report_digits(s)
    progress(Note(f"reading {len(digits):,} digits of {test_set}"))
    m = fit.evaluate_ink(model, digits, s, name="test")
    metrics = {"accuracy": m["test_accuracy"], "count": m["test_digits"], "writers": m["test_writers"],
               "test_set": test_set, "conventions": m["conventions"],
               **{k: v for k, v in trained.items() if k.startswith("calibration_")}}
    progress(Note("calibrating the fusion with the image model on the calibration writers"))
    fusion = _fusion(model, s, paths)
    card_fields = dict(data={"source": "pen digits (training writers)", "train_size": len(train),
                             "description": fit.TRAINING_DATA}, test_set=test_set,
                       train_seconds=round(train_seconds, 2), epochs_done=trained["epochs_run"])
    outcome = _save(job, model, history, metrics, fusion, card_fields, digits, paths)
    return _report(progress, outcome)


def _report(progress, outcome: Outcome) -> Outcome:
    progress(outcome)
    return outcome


def _fusion(model, settings: InkTrainSettings, paths: Paths) -> dict:
    """The fusion's weights, calibrated with the active image version's checked TF Lite copy (else the shipped)."""
    from mnist_core.digits.recognize import LiteFunction  # noqa: PLC0415
    from mnist_core.ink import fit  # noqa: PLC0415
    from mnist_core.store.registry import DEFAULT_ID, Registry  # noqa: PLC0415

    images = Registry(paths)
    vid = images.active()
    content = images.lite_content(vid)
    predict = LiteFunction(content=content) if content is not None else None
    fusion = fit.calibrate_fusion(model, settings, image_predict=predict)
    return {**fusion, "image_version": vid if content is not None else DEFAULT_ID}


def _active_accuracy(registry, vid: str, digits, settings: InkTrainSettings) -> float | None:
    """The accuracy of ink version `vid` on the same digits (through its TF Lite copy), or None if it cannot read."""
    import numpy as np  # noqa: PLC0415

    from mnist_core.ink.reader import InkReader  # noqa: PLC0415

    try:
        reader = InkReader.from_registry(registry, vid)
        if reader.version != vid:
            return None  # its copy is not served: no figure to compare with
        p = reader.predict([d.strokes for d in digits])
        return float((p.argmax(1) == np.array([d.label for d in digits])).mean())
    except Exception:  # a broken active version must not lose the new one
        return None


def _save(job: InkJob, model, history, metrics, fusion, card_fields, digits, paths: Paths) -> Outcome:
    """Write the files (--output) or a registry version, activate it as the job says; the "done" outcome."""
    from mnist_core.ink import fit  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    s, acc = job.settings, metrics["accuracy"]
    summary = {"kind": "ink", "test_accuracy": acc, "test_set": metrics["test_set"],
               "train_seconds": card_fields["train_seconds"], "epochs": card_fields["epochs_done"], "arch": s.arch,
               "fusion": {k: fusion.get(k) for k in ("w_image", "w_ink", "method")}}
    line = (f"test accuracy {acc:.2%} ({metrics['count']:,} digits of {metrics['test_set']}); trained "
            f"{card_fields['epochs_done']} epochs in {card_fields['train_seconds']:.1f} s")
    if job.output is not None:
        out = Path(job.output)
        folder = job.output.endswith(("/", os.sep)) or out.is_dir()
        save = fit.save_version if folder else fit.save_shipped
        card = save(model, s, history, metrics, out, fusion, **card_fields)
        done = {"kind": "ink", "version": None, "output": str(out), "card": card, "active_before": None,
                "active_accuracy": None, "activated": False, "profile": None, "personal": None}
        return Outcome("done", result=done, summary={**summary, "output": str(out)}, line=f"{out}: {line}",
                       epochs_done=card_fields["epochs_done"])
    registry = Registry(paths, kind="ink")
    before = registry.active()
    before_acc = _active_accuracy(registry, before, digits, s)
    vid, card = fit.save_to_registry(registry, model, s, history, metrics, fusion, **card_fields)
    activate = job.activate == "always" or (job.activate == "if_better" and (before_acc is None or acc > before_acc))
    if activate:
        registry.activate(vid)
    done = {"kind": "ink", "version": vid, "card": card, "active_before": before, "active_accuracy": before_acc,
            "activated": activate, "profile": None, "personal": None}
    summary.update(version=vid, activated=activate, active_before=before, active_accuracy=before_acc)
    return Outcome("done", result=done, summary=summary,
                   line=f"ink version {vid}: {line}" + (", activated" if activate else ""),
                   epochs_done=card_fields["epochs_done"])
