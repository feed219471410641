"""One training job at a time, run apart from serving; its state (progress, curves, result).

A job is the training CLI in a subprocess (``nice``d, in its own session)::

    python -m mnist_core train --job-dir DIR ... 

which appends JSON lines to ``DIR/log.jsonl`` (start, progress, epoch, then one of done / cancelled /
failed). With ``JobOptions.spare`` (``python app.py``) that process is started before the job, as
``python -m mnist_core spare``: it imports TensorFlow and waits on its stdin, where the job's arguments and
output file are written when it comes (a start 4-5 s sooner on 2 cores); a new one is started after each job.
``JobManager`` starts it, tails that log into a ``JobStatus`` the app polls, and cancels it by creating
``DIR/cancel`` (then SIGTERM, then SIGKILL if it does not stop). A crash or ``kill -9`` of the app
never hurts the training, and the reverse: they share only files written atomically by the core.

One job at a time across processes: ``<jobs>/lock`` is created with O_EXCL and holds the trainer's pid
and job id; a lock whose pid is gone is stale and taken over. An app started while another process's job
runs attaches to it (shows its progress, can cancel it). No TensorFlow and no Gradio here.

Across replicas (several apps over one data directory, see docs/SCALE.md): on one machine the lock file is
enough. The lock also names its machine; a lock from another machine sharing the directory cannot be checked by
pid, so it is live while it is fresh: the app that started the job touches it every few seconds and the trainer
appends to its log. With the samples in PostgreSQL (``Paths.database``) a job is also started only under the
database's advisory lock (mnist_core.store.samples_pg.TrainingLock), held by the starting app for the job's life:
at most one training across every replica of the database, whatever their filesystem does with flock.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from mnist_core.config import PROJECT_ROOT, Paths, TrainSettings
from mnist_core.store.profiles import validate_profile
from mnist_core.store.samples import is_database_url, open_store

# Job ids are made here (time + random); anything else coming back from a user is refused.
_JOB_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
# Environment variables never handed to the trainer (nor written anywhere).
_SECRET_ENV = ("MNIST_STUDIO_ADMIN_PASSWORD",)
# Terminal events of the log, and the status each gives.
_TERMINAL = {"done": "done", "cancelled": "cancelled", "failed": "failed"}
# Exit codes of the CLI: 0 done, 1 failed, 2 bad arguments, 3 cancelled.
_EXIT_STATUS = {0: "done", 3: "cancelled"}
# The machine a lock was taken on: pids are only checked on their own machine.
_HOST = socket.gethostname()
# How often the app that started a job touches its lock, and how long a lock from another machine stays live
# without a touch (nor a line in the job's log).
HEARTBEAT_S = 5.0
FOREIGN_STALE_S = 60.0

Activate = Literal["no", "if_better", "always", "if_helps"]


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
    # A personal fine-tune for this profile: its samples only, the measured recipe (personal.Recipe), one sample
    # in five held out to judge it, activated for this profile alone. Needs ``finetune``.
    profile: str | None = None

    def validate(self) -> None:
        """Raise ValueError naming the first bad field (settings first)."""
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

    def argv(self, job_dir: Path, samples_db: Path | str) -> list[str]:
        """The CLI arguments after ``train`` for this request (``samples_db``: the SQLite file or a database URL
        without its password)."""
        s = self.settings
        args = ["--job-dir", str(job_dir), "--arch", s.arch, "--width", str(s.width), "--epochs", str(s.epochs)]
        args += ["--batch-size", str(s.batch_size), "--lr", repr(float(s.lr)), "--seed", str(s.seed)]
        args += ["--validation", str(s.validation), "--augment" if s.augment else "--no-augment", "--quiet"]
        args += ["--train-data", s.data]
        if s.limit is not None:
            args += ["--limit", str(s.limit)]
        if self.data is not None:
            args += ["--data", str(self.data)]
        if self.use_samples or self.finetune is not None:
            args += ["--samples", str(samples_db), "--sample-weight", repr(float(s.sample_weight))]
        if self.finetune is not None:
            args += ["--finetune", self.finetune]
        if self.profile is not None:
            args += ["--profile", validate_profile(self.profile)]
        if self.activate == "always":
            args += ["--activate"]
        elif self.activate == "if_better":
            args += ["--activate-if-better"]
        elif self.activate == "if_helps":
            args += ["--activate-if-helps"]
        return args


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


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (Linux), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot): tells a reused pid from the process it was."""
    stat = _proc_stat(pid)
    return int(stat[19]) if stat and len(stat) > 19 and stat[19].isdigit() else None


def _pid_alive(pid: int, started: int | None = None) -> bool:
    """True when ``pid`` runs (a zombie counts as gone), and is the process started at ``started``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc: trust kill()
    if stat[0] in ("Z", "X"):
        return False
    return started is None or _start_time(pid) == started


class _LogTail:
    """Reads a job's log.jsonl incrementally and folds its events into a JobStatus."""

    def __init__(self, job_id: str, log: Path):
        self.log = log
        self.offset = 0
        self.partial = b""
        self.state: dict = {"status": "running", "id": job_id}
        self.curves: list[dict] = []

    def read(self) -> None:
        try:
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()  # an incomplete last line waits for the rest
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._apply(event)

    def _apply(self, e: dict) -> None:
        s, kind = self.state, e.get("event")
        if kind == "start":
            s["settings"] = e.get("settings") or {}
            s["data"] = str(e.get("data") or "")
            s["epochs"] = int(s["settings"].get("epochs") or 0)
            if isinstance(e.get("profile"), str):
                s["profile"] = e["profile"]
        elif kind == "progress":
            for key in ("epoch", "epochs", "step", "steps"):
                if isinstance(e.get(key), int):
                    s[key] = e[key]
            for key in ("loss", "accuracy", "eta_s", "elapsed_s"):
                if isinstance(e.get(key), (int, float)):
                    s[key] = float(e[key])
            if s.get("steps"):
                x = s.get("epoch", 1) - 1 + s.get("step", 0) / s["steps"]
                self._point(x, "train", e)
        elif kind == "epoch":
            s["epoch"] = int(e.get("epoch") or s.get("epoch", 0))
            if s.get("steps"):
                s["step"] = s["steps"]
            self._point(float(s["epoch"]), "train", e)
            self._point(float(s["epoch"]), "validation", {"loss": e.get("val_loss"), "accuracy": e.get("val_accuracy")})
        elif kind in _TERMINAL:
            s["status"] = _TERMINAL[kind]
            s["eta_s"] = None
            if kind == "done":
                s["result"] = {k: v for k, v in e.items() if k != "event"}
                card = s["result"].get("card") or {}
                if isinstance(card.get("train_seconds"), (int, float)):
                    s["elapsed_s"] = float(card["train_seconds"])
            if kind == "failed":
                s["message"] = str(e.get("message") or "")

    def _point(self, x: float, split: str, values: dict) -> None:
        for metric in ("loss", "accuracy"):
            value = values.get(metric)
            if isinstance(value, (int, float)):
                self.curves.append({"epoch": round(x, 4), "metric": metric, "split": split, "value": float(value)})

    def snapshot(self, **extra) -> JobStatus:
        return JobStatus(**self.state, curves=tuple(self.curves), **extra)


class JobManager:
    """Starts, watches and cancels training jobs under ``paths.jobs``; thread-safe."""

    def __init__(
        self,
        paths: Paths | None = None,
        command: Sequence[str] | None = None,
        options: JobOptions = JobOptions(),
    ):
        self.paths = paths or Paths()
        # The trainer's command before its arguments; tests swap in a fake trainer.
        self.command = list(command) if command else [sys.executable, "-m", "mnist_core", "train"]
        self.options = options
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._tail: _LogTail | None = None  # the job shown: ours, attached, or the last one
        self._cancel_requested = False
        self._spare: subprocess.Popen | None = None  # a trainer waiting for its job (options.spare)
        self._spares = options.spare and command is None  # a custom command knows nothing of waiting
        # With the samples in PostgreSQL: the database's training lock, held while our job runs.
        self._db_lock = None
        if is_database_url(self.paths.database):
            from mnist_core.store.samples_pg import TrainingLock  # noqa: PLC0415

            self._db_lock = TrainingLock(self.paths.database)

    @property
    def lock_path(self) -> Path:
        return self.paths.jobs / "lock"

    def job_dir(self, job_id: str) -> Path:
        return self.paths.jobs / validate_job_id(job_id)

    # --- the lock (one job at a time across processes) ---

    def _read_lock(self) -> dict | None:
        try:
            holder = json.loads(self.lock_path.read_text())
            return holder if isinstance(holder, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # garbage: treated as stale (the lock is only ever written whole, see _write_lock)

    @contextmanager
    def _mutex(self) -> Iterator[None]:
        """Serialises taking and freeing the lock across processes (flock: freed if its holder dies).

        Without it, a process could read the lock between another's create and write (empty: "stale"),
        or two could judge the same stale lock and one delete the lock the other had just taken: two
        trainings started at the same moment both ran.
        """
        self.paths.jobs.mkdir(parents=True, exist_ok=True)
        with open(self.paths.jobs / "lock.mutex", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def _live_holder(self) -> dict | None:
        """The lock's {pid, job} when its process runs, else None (a stale lock is replaced by _acquire)."""
        holder = self._read_lock()
        if holder is None:
            return None
        if holder.get("host", _HOST) != _HOST:
            return holder if self._foreign_live(holder) else None
        pid, started = holder.get("pid"), holder.get("started")
        if isinstance(pid, int) and _pid_alive(pid, started if isinstance(started, int) else None):
            return holder
        return None

    def _foreign_live(self, holder: dict) -> bool:
        """Whether a lock taken on another machine is live: the database lock is held, or it is fresh."""
        if self._db_lock is not None and self._db_lock.held():
            return True
        stamps = [self.lock_path]
        if isinstance(holder.get("job"), str) and _JOB_ID.fullmatch(holder["job"]):
            stamps.append(self.paths.jobs / holder["job"] / "log.jsonl")
        newest = 0.0
        for path in stamps:
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
        return time.time() - newest < FOREIGN_STALE_S

    def _acquire(self, job_id: str) -> bool:
        if self._db_lock is not None and not self._db_lock.acquire():
            return False  # a replica elsewhere is training
        got = False
        try:
            with self._mutex():
                if self._live_holder() is None:
                    self._write_lock(os.getpid(), job_id)
                    got = True
        finally:
            if not got and self._db_lock is not None:
                self._db_lock.release()
        return got

    @staticmethod
    def _holder(pid: int, job_id: str) -> dict:
        return {"pid": pid, "started": _start_time(pid), "job": job_id, "host": _HOST}

    def _write_lock(self, pid: int, job_id: str) -> None:
        tmp = self.lock_path.with_name(f"lock.tmp-{os.getpid()}-{secrets.token_hex(3)}")
        tmp.write_text(json.dumps(self._holder(pid, job_id)))
        os.replace(tmp, self.lock_path)

    def _release(self, job_id: str) -> None:
        try:
            with self._mutex():
                holder = self._read_lock()
                if holder is not None and holder.get("job") == job_id:
                    try:
                        self.lock_path.unlink()
                    except FileNotFoundError:
                        pass
        finally:
            if self._db_lock is not None:
                self._db_lock.release()

    def _heartbeat(self, job_id: str) -> None:
        """Touch the lock while it is our job's: replicas on other machines see it live."""
        with self._mutex():
            holder = self._read_lock()
            if holder is not None and holder.get("job") == job_id:
                try:
                    os.utime(self.lock_path)
                except OSError:
                    pass

    # --- public API ---

    def start(self, request: JobRequest) -> JobStatus:
        """Start a job; ValueError for a bad request, JobBusy when one is running (here or elsewhere)."""
        request.validate()
        if (request.finetune is not None or request.use_samples) and not self._has_samples(request.profile):
            what = "Fine-tuning" if request.finetune is not None else "Training on your samples"
            raise ValueError(f"{what} needs saved samples: correct a few predictions first.")
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                if self.status().running:
                    raise JobBusy(self.status())
                try:  # its log says it is over: it is only exiting
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    raise JobBusy(self.status()) from None
            job_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            if not self._acquire(job_id):
                status = self.status()
                if not status.running:  # only the database lock said so: a replica with another data directory
                    status = JobStatus(status="running", attached=True,
                                       message="A training started by another replica is running.")
                raise JobBusy(status)
            try:
                self._prune()
                job_dir = self.paths.jobs / job_id
                job_dir.mkdir(parents=True)
                proc = self._spawn(job_dir, request)
            except BaseException:
                self._release(job_id)
                raise
            self._write_lock(proc.pid, job_id)
            self._proc = proc
            self._tail = _LogTail(job_id, job_dir / "log.jsonl")
            self._cancel_requested = False
            threading.Thread(target=self._watch, args=(proc, job_id), name=f"job-{job_id}", daemon=True).start()
            return self.status()

    def _has_samples(self, profile: str | None = None) -> bool:
        store = open_store(self.paths.samples_location)
        return store.exists() and store.count(profile) > 0

    def _samples_arg(self) -> tuple[Path | str, str | None]:
        """(the samples as the trainer is told them, the database password to hand over in its environment)."""
        if is_database_url(self.paths.database):
            from mnist_core.store.samples_pg import split_password  # noqa: PLC0415

            return split_password(self.paths.database)  # the password never on a command line
        return self.paths.samples_db.resolve(), None

    def _launch(self, argv: list[str], out, stdin=subprocess.DEVNULL) -> subprocess.Popen:
        """Start a trainer process: ``nice``d, in its own session, with the studio's environment (no secrets)."""
        nice = shutil.which("nice")
        if nice and self.options.nice:
            argv = [nice, "-n", str(self.options.nice)] + argv  # exec's in place: same pid
        env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}
        password = self._samples_arg()[1]
        if password is not None:
            env["PGPASSWORD"] = password  # libpq reads it
        env["MNIST_STUDIO_HOME"] = str(self.paths.home.resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        return subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,  # Ctrl-C or a crash of the app leaves it be
        )

    def _spawn(self, job_dir: Path, request: JobRequest) -> subprocess.Popen:
        args = request.argv(job_dir.resolve(), self._samples_arg()[0])
        output = job_dir / "output.log"
        spare = self._take_spare()
        if spare is not None:
            output.touch()  # there from the start, as with a fresh trainer, even before the spare has read its job
            try:  # it appends to the job's output.log from here on, and runs train with these arguments
                spare.stdin.write(json.dumps({"argv": args, "output": str(output.resolve())}).encode() + b"\n")
                spare.stdin.close()
                return spare
            except OSError:  # it died meanwhile: a fresh trainer instead
                spare.kill()
        with open(output, "wb") as out:
            return self._launch(self.command + args, out)

    def keep_spare(self) -> None:
        """Start a trainer that waits for the next job with TensorFlow imported (``options.spare``), unless one
        waits already or a job of ours runs (it would slow that job down)."""
        if not self._spares:
            return
        with self._lock:
            if self._spare is not None and self._spare.poll() is None:
                return
            if self._proc is not None and self._proc.poll() is None:
                return
            try:
                self._spare = self._launch([sys.executable, "-m", "mnist_core", "spare"], subprocess.DEVNULL,
                                           stdin=subprocess.PIPE)
            except OSError:  # no spare: jobs start the usual way
                self._spare = None

    def _take_spare(self) -> subprocess.Popen | None:
        """The waiting trainer, if it is alive, now no longer spare."""
        spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None:
            return spare
        return None

    def close(self) -> None:
        """Let the waiting trainer go: its stdin closes, and it exits as soon as its imports are done (not waited
        for here). A running job is left to finish."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.stdin is not None:
            try:
                spare.stdin.close()
            except OSError:
                pass

    def _watch(self, proc: subprocess.Popen, job_id: str) -> None:
        """Wait for our trainer (touching the lock meanwhile), then settle its status and free the lock."""
        while True:
            try:
                code = proc.wait(HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                self._heartbeat(job_id)
        with self._lock:
            tail = self._tail
            if tail is not None and tail.state.get("id") == job_id:
                tail.read()
                if tail.state["status"] == "running":  # died without its last word
                    tail.state["status"] = _EXIT_STATUS.get(code, "failed")
                    tail.state["eta_s"] = None
                    if tail.state["status"] == "failed":
                        tail.state["message"] = self._exit_message(job_id, code)
            self._release(job_id)
        self.keep_spare()  # the next job's trainer, now that this one no longer needs the cores

    def _exit_message(self, job_id: str, code: int) -> str:
        try:
            lines = (self.job_dir(job_id) / "output.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        last = lines[-1][-300:] if lines else ""
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        return f"the trainer stopped ({how}){': ' + last if last else ''}"

    def status(self) -> JobStatus:
        """The job running (ours or another process's), else the last one here, else idle."""
        with self._lock:
            holder = None
            if self._proc is None or self._proc.poll() is not None:
                holder = self._live_holder()
            if holder is not None and isinstance(holder.get("job"), str):
                job_id = holder["job"]
                try:
                    log = self.job_dir(job_id) / "log.jsonl"
                except ValueError:
                    return JobStatus(status="running", message="A training started elsewhere is running.")
                if self._tail is None or self._tail.state.get("id") != job_id:
                    self._tail = _LogTail(job_id, log)
                    self._cancel_requested = (log.parent / "cancel").exists()
                self._tail.read()
                snap = self._tail.snapshot(attached=True, cancel_requested=self._cancel_requested)
                # Its log may already say done while the process exits: still busy until it has.
                return snap if snap.running else JobStatus(**{**asdict(snap), "status": "running"})
            if self._tail is None:
                return JobStatus()
            if self._proc is None and self._tail.state["status"] == "running":
                self._tail.read()
                if self._tail.state["status"] == "running":  # an attached job ended without its last word
                    self._tail.state.update(status="failed", message="the trainer stopped without a result")
            else:
                self._tail.read()
            return self._tail.snapshot(
                attached=self._proc is None, cancel_requested=self._cancel_requested
            )

    def cancel(self) -> bool:
        """Ask the running job to stop (cancel file, then SIGTERM, then SIGKILL); False when none runs."""
        with self._lock:
            status = self.status()
            if not status.running or status.id is None:
                return False
            holder = self._read_lock() or {}
            pid = self._proc.pid if self._proc is not None and self._proc.poll() is None else holder.get("pid")
            (self.job_dir(status.id) / "cancel").touch()
            self._cancel_requested = True
        if isinstance(pid, int):
            threading.Thread(target=self._escalate, args=(pid, status.id), daemon=True).start()
        return True

    def _escalate(self, pid: int, job_id: str) -> None:
        """SIGTERM, then SIGKILL, a trainer that ignores its cancel file."""
        start = time.monotonic()
        for sig, after in ((signal.SIGTERM, self.options.term_after_s), (signal.SIGKILL, self.options.kill_after_s)):
            while time.monotonic() - start < after:
                if not self._same_job_alive(pid, job_id):
                    return
                time.sleep(0.2)
            if not self._same_job_alive(pid, job_id):
                return
            try:
                os.killpg(pid, sig)  # its own session: the group is the trainer and its helpers
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    return

    def _same_job_alive(self, pid: int, job_id: str) -> bool:
        with self._lock:
            if self._proc is not None and self._proc.pid == pid:
                return self._proc.poll() is None
        holder = self._read_lock() or {}
        return holder.get("job") == job_id and _pid_alive(pid, holder.get("started"))

    def wait(self, timeout: float) -> JobStatus:
        """Poll until the job shown is over (and our trainer has exited) or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        status = self.status()
        while status.running and time.monotonic() < deadline:
            time.sleep(0.1)
            status = self.status()
        if not status.running:
            self._finish_exiting(max(0.0, deadline - time.monotonic()))
        return status

    def _finish_exiting(self, timeout: float = 10.0) -> None:
        """Wait for our trainer, whose log is already over, to exit and free the lock."""
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return
            deadline = time.monotonic() + 1.0
            while self.lock_path.exists() and (self._read_lock() or {}).get("pid") == proc.pid:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)  # the watcher thread is releasing the lock

    def _prune(self) -> None:
        """Drop the oldest finished job folders beyond ``options.keep``."""
        dirs = sorted((p for p in self.paths.jobs.iterdir() if p.is_dir() and _JOB_ID.fullmatch(p.name)),
                      key=lambda p: (p.stat().st_mtime_ns, p.name))  # ids are per second: mtime orders within one
        for old in dirs[: max(0, len(dirs) - self.options.keep + 1)]:
            shutil.rmtree(old, ignore_errors=True)
