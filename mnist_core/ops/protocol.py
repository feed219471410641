"""The trainer <-> job manager protocol: the request file, the job log's events, the cancel file, the exit codes.

A job lives in a folder (``<home>/jobs/<id>``). The job manager writes ``request.json`` there (a ``TrainJob`` as JSON:
the settings dataclass and the job's options) and starts ``python -m mnist_core train --request FILE`` (or hands the
file to a waiting spare trainer). An ink net's training (``mnist_core.ink.job.InkJob``, the file's "kind": "ink") is
``python -m mnist_core train-ink --request FILE`` instead; each trainer refuses the other's files. The trainer
appends one JSON object a line to ``log.jsonl``::

    {"event": "start", "time": ..., "settings": {...}, "data": "...", "subset": false, "pid": 1, "parent": null,
     "profile": null, "warm": false, "kind": "image"}
    {"event": "progress", "epoch": 1, "epochs": 6, "step": 10, "steps": 469, "loss": ..., "accuracy": ..., ...}
    {"event": "epoch", ..., "val_loss": ..., "val_accuracy": ...}
    then one of {"event": "done", "version", "card", "active_before", "active_accuracy", "activated", "profile",
    "personal"}, {"event": "cancelled", "epochs_done"}, {"event": "failed", "message"}

and stops when ``cancel`` appears in the folder (or on SIGTERM). Its exit status is one of the EXIT_ codes. The
trainer (the CLI), the job manager, the spare trainer and the tests' fake trainer all use this module; logs written
before it are read the same way (the format is unchanged). No TensorFlow here.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core.train.job import Outcome, Started, TrainJob

if TYPE_CHECKING:
    from mnist_core.ink.job import InkJob

# Exit codes of the trainer (the CLI): 0 done, 1 failed, 2 bad arguments, 3 cancelled.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 3
# The job status an exit code gives when the log has no last word (any other code: "failed").
EXIT_STATUS = {EXIT_OK: "done", EXIT_CANCELLED: "cancelled"}

# The files of a job folder.
LOG_FILE, CANCEL_FILE, REQUEST_FILE, OUTPUT_FILE = "log.jsonl", "cancel", "request.json", "output.log"

# Events of the log; the terminal ones and the job status each gives.
START, PROGRESS, EPOCH, DONE, CANCELLED, FAILED = "start", "progress", "epoch", "done", "cancelled", "failed"
TERMINAL = {DONE: "done", CANCELLED: "cancelled", FAILED: "failed"}

# The request file's format; a trainer refuses a file of another.
REQUEST_FORMAT = 1


# ------------------------------------------------------------------------------------------------ the request file
@dataclass(frozen=True)
class Request:
    """A job handed to a trainer: what to train, where its log goes, whether to draw a progress bar."""

    job: TrainJob | InkJob
    # The job folder: log.jsonl and the cancel file (None: no log, as at a terminal).
    job_dir: str | None = None
    # No progress bar: the trainer's output goes to a file.
    quiet: bool = True


def write_request(path: Path, request: Request) -> Path:
    """Write ``request`` as JSON to ``path`` (atomically: a trainer never reads half a file); returns ``path``."""
    body = {"format": REQUEST_FORMAT, "kind": getattr(request.job, "kind", "image"), "job": request.job.to_dict(),
            "job_dir": request.job_dir, "quiet": request.quiet}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=1))
    tmp.replace(path)
    return path


def read_request(path: str | Path, kind: str = "image") -> Request:
    """The request in ``path`` for a trainer of ``kind`` ("image": a TrainJob, "ink": an InkJob); ValueError naming
    the file when it is not one (or is the other kind's: files without a kind are "image")."""
    try:
        body = json.loads(Path(path).read_text())
        if body.get("format") != REQUEST_FORMAT:
            raise ValueError(f"format {body.get('format')!r}, not {REQUEST_FORMAT}")
        got = body.get("kind", "image")
        if got != kind:
            command = "train-ink" if got == "ink" else "train"
            raise ValueError(f"a request to train the {got} model: python -m mnist_core {command} --request FILE")
        if kind == "ink":
            from mnist_core.ink.job import InkJob  # noqa: PLC0415 (numpy and the ink settings: only for ink jobs)

            job = InkJob.from_dict(body["job"])
        else:
            job = TrainJob.from_dict(body["job"])
        job_dir = body.get("job_dir")
        return Request(job, None if job_dir is None else str(job_dir), bool(body.get("quiet", True)))
    except OSError as e:
        raise ValueError(f"cannot read the job request {path}: {e.strerror or e}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"not a job request: {path} ({e})") from None


# ------------------------------------------------------------------------------------------------ the writer
class JobLog:
    """Appends events to <job-dir>/log.jsonl and turns <job-dir>/cancel into ``cancel`` being set.

    With no folder it writes nothing (a training at the terminal). ``report`` takes what a training run reports
    (train.job.Started, fit.Progress, train.job.Outcome) and writes its event.
    """

    def __init__(self, job_dir: str | Path | None, cancel: threading.Event | None = None):
        self.path: Path | None = None
        self.cancel = cancel if cancel is not None else threading.Event()
        if job_dir:
            d = Path(job_dir)
            d.mkdir(parents=True, exist_ok=True)
            self.path = d / LOG_FILE
            self.cancel_file = d / CANCEL_FILE
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while not self.cancel.is_set():
            if self.cancel_file.exists():
                self.cancel.set()
            time.sleep(0.2)

    def write(self, event: str, **fields) -> None:
        """Append one event (its time added)."""
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": time.time(), **fields}, default=float)
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()

    def report(self, item) -> None:
        """The event of one thing a training run reports (a Note is for people: no event)."""
        if isinstance(item, Started):
            self.write(START, settings=item.settings, data=item.data, subset=item.subset, pid=item.pid,
                       parent=item.parent, profile=item.profile, warm=item.warm, kind=item.kind)
        elif isinstance(item, Outcome):
            if item.status == "done":
                self.write(DONE, **item.result)
            elif item.status == "cancelled":
                self.write(CANCELLED, epochs_done=item.epochs_done)
        elif hasattr(item, "to_dict"):  # fit.Progress: "step" during an epoch, "epoch" at its end
            fields = item.to_dict()
            kind = fields.pop("event")
            self.write(EPOCH if kind == "epoch" else PROGRESS, **fields)

    def failed(self, message: str) -> None:
        self.write(FAILED, message=message)


def request_cancel(job_dir: Path) -> None:
    """Ask the job's trainer to stop (it checks for the file a few times a second)."""
    (job_dir / CANCEL_FILE).touch()


def cancel_requested(job_dir: Path) -> bool:
    return (job_dir / CANCEL_FILE).exists()


# ------------------------------------------------------------------------------------------------ the reader
class LogTail:
    """Reads a job's log.jsonl incrementally and folds its events into ``state`` (JobStatus's fields) and
    ``curves`` (points {"epoch", "metric", "split", "value"})."""

    def __init__(self, job_id: str, log: Path):
        self.log = log
        self.offset = 0
        self.partial = b""
        self.state: dict = {"status": "running", "id": job_id}
        self.curves: list[dict] = []

    def read(self) -> None:
        """Fold in the events appended since the last read (an incomplete last line waits for the rest)."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self.apply(event)

    def apply(self, e: dict) -> None:
        """Fold one event into the state."""
        s, kind = self.state, e.get("event")
        if kind == START:
            s["settings"] = e.get("settings") or {}
            s["data"] = str(e.get("data") or "")
            s["epochs"] = int(s["settings"].get("epochs") or 0)
            s["kind"] = "ink" if e.get("kind") == "ink" else "image"
            if isinstance(e.get("profile"), str):
                s["profile"] = e["profile"]
        elif kind == PROGRESS:
            for key in ("epoch", "epochs", "step", "steps"):
                if isinstance(e.get(key), int):
                    s[key] = e[key]
            for key in ("loss", "accuracy", "eta_s", "elapsed_s"):
                if isinstance(e.get(key), (int, float)):
                    s[key] = float(e[key])
            if s.get("steps"):
                x = s.get("epoch", 1) - 1 + s.get("step", 0) / s["steps"]
                self._point(x, "train", e)
        elif kind == EPOCH:
            s["epoch"] = int(e.get("epoch") or s.get("epoch", 0))
            if s.get("steps"):
                s["step"] = s["steps"]
            self._point(float(s["epoch"]), "train", e)
            self._point(float(s["epoch"]), "validation", {"loss": e.get("val_loss"), "accuracy": e.get("val_accuracy")})
        elif kind in TERMINAL:
            self._end(kind, e)

    def _end(self, kind: str, e: dict) -> None:
        s = self.state
        s["status"] = TERMINAL[kind]
        s["eta_s"] = None
        if kind == DONE:
            s["result"] = {k: v for k, v in e.items() if k != "event"}
            card = s["result"].get("card") or {}
            if isinstance(card.get("train_seconds"), (int, float)):
                s["elapsed_s"] = float(card["train_seconds"])
        if kind == FAILED:
            s["message"] = str(e.get("message") or "")

    def _point(self, x: float, split: str, values: dict) -> None:
        for metric in ("loss", "accuracy"):
            value = values.get(metric)
            if isinstance(value, (int, float)):
                self.curves.append({"epoch": round(x, 4), "metric": metric, "split": split, "value": float(value)})
