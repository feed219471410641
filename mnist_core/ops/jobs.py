"""One training job at a time, run apart from serving; its state (progress, curves, result).

A job is the training CLI in a subprocess (``nice``d, in its own session)::

    python -m mnist_core train --request DIR/request.json

which appends JSON lines to ``DIR/log.jsonl`` (start, progress, epoch, then one of done / cancelled /
failed; the request file, the events, the cancel file and the exit codes are mnist_core.ops.protocol). With
``JobOptions.spare`` (``python app.py``) that process is started before the job (mnist_core.ops.spare): it imports
TensorFlow and waits on its stdin for the job's request file; a new one is started after each job.
``JobManager`` starts it, tails that log into a ``JobStatus`` the app polls, and cancels it by creating
``DIR/cancel`` (then SIGTERM, then SIGKILL if it does not stop). A request for the ink net (``JobRequest.ink``) is
the same, one at a time with the image model's, through ``python -m mnist_core train-ink --request DIR/request.json``
(never a spare trainer: those wait for the image model's jobs). A crash or ``kill -9`` of the app
never hurts the training, and the reverse: they share only files written atomically by the core.

One job at a time across processes: ``<jobs>/lock`` (mnist_core.ops.lock) holds the trainer's pid and job
id; a lock whose pid is gone is stale and taken over. An app started while another process's job
runs attaches to it (shows its progress, can cancel it). No TensorFlow and no Gradio here.

Across replicas (several apps over one data directory, see docs/SCALE.md): on one machine the lock file is
enough. The lock also names its machine; a lock from another machine sharing the directory cannot be checked by
pid, so it is live while it is fresh: the app that started the job touches it every few seconds and the trainer
appends to its log. With the samples in PostgreSQL (``Paths.database``) a job is also started only under the
database's advisory lock (mnist_core.store.samples_pg.TrainingLock), held by the starting app for the job's life:
at most one training across every replica of the database, whatever their filesystem does with flock.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from mnist_core.config import PROJECT_ROOT, Paths
from mnist_core.ops import spare as spares
from mnist_core.ops.jobtypes import (JobBusy, JobOptions, JobRequest, JobStatus,  # noqa: F401 (re-exported)
                                     validate_job_id)
from mnist_core.ops.lock import FOREIGN_STALE_S, HOST as _HOST, JOB_ID as _JOB_ID, JobLock, pid_alive as _pid_alive
from mnist_core.ops.protocol import (EXIT_STATUS, LOG_FILE, OUTPUT_FILE, REQUEST_FILE, LogTail, Request, cancel_requested,
                                     request_cancel, write_request)
from mnist_core.store.samples import is_database_url, open_store
from mnist_core.train.job import Activate  # noqa: F401 (re-exported)

__all__ = ["FOREIGN_STALE_S", "HEARTBEAT_S", "Activate", "JobBusy", "JobManager", "JobOptions", "JobRequest",
           "JobStatus", "validate_job_id", "_HOST", "_pid_alive"]

# Environment variables never handed to the trainer (nor written anywhere).
_SECRET_ENV = ("MNIST_STUDIO_ADMIN_PASSWORD",)
# How often the app that started a job touches its lock (mnist_core.ops.lock.FOREIGN_STALE_S: how long a lock
# from another machine stays live without a touch).
HEARTBEAT_S = 5.0


def _snapshot(tail: LogTail, **extra) -> JobStatus:
    return JobStatus(**tail.state, curves=tuple(tail.curves), **extra)


class JobManager:
    """Starts, watches and cancels training jobs under ``paths.jobs``; thread-safe."""

    def __init__(
        self,
        paths: Paths | None = None,
        command: Sequence[str] | None = None,
        options: JobOptions = JobOptions(),
        ink_command: Sequence[str] | None = None,
    ):
        self.paths = paths or Paths()
        # The trainer's command before its arguments; tests swap in a fake trainer.
        self.command = list(command) if command else [sys.executable, "-m", "mnist_core", "train"]
        # The ink net's trainer (a custom ``command`` stands for both unless this is given).
        self.ink_command = (list(ink_command) if ink_command else list(command) if command
                            else [sys.executable, "-m", "mnist_core", "train-ink"])
        self.options = options
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._tail: LogTail | None = None  # the job shown: ours, attached, or the last one
        self._cancel_requested = False
        self._spare: subprocess.Popen | None = None  # a trainer waiting for its job (options.spare)
        self._spares = options.spare and command is None  # a custom command knows nothing of waiting
        # With the samples in PostgreSQL: the database's training lock, held while our job runs.
        db_lock = None
        if is_database_url(self.paths.database):
            from mnist_core.store.samples_pg import TrainingLock  # noqa: PLC0415

            db_lock = TrainingLock(self.paths.database)
        self._jobs_lock = JobLock(self.paths.jobs, db_lock)

    @property
    def lock_path(self) -> Path:
        return self._jobs_lock.path

    def job_dir(self, job_id: str) -> Path:
        return self.paths.jobs / validate_job_id(job_id)

    def _read_lock(self) -> dict | None:
        return self._jobs_lock.read()

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
            if not self._jobs_lock.acquire(job_id):
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
                self._jobs_lock.release(job_id)
                raise
            self._jobs_lock.write(proc.pid, job_id)
            self._proc = proc
            self._tail = LogTail(job_id, job_dir / LOG_FILE)
            if request.profile is not None:  # whose job it is from the start, not only once its log says so
                self._tail.state["profile"] = request.profile
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
        if request.ink is not None:  # a fresh trainer: the spare waits for an image model's job
            path = write_request(job_dir / REQUEST_FILE, Request(request.ink_job(), job_dir=str(job_dir.resolve())))
            with open(job_dir / OUTPUT_FILE, "wb") as out:
                return self._launch(self.ink_command + ["--request", str(path.resolve())], out)
        job = request.train_job(self._samples_arg()[0])
        path = write_request(job_dir / REQUEST_FILE, Request(job, job_dir=str(job_dir.resolve())))
        output = job_dir / OUTPUT_FILE
        spare = self._take_spare()
        if spare is not None:
            output.touch()  # there from the start, as with a fresh trainer, even before the spare has read its job
            if spares.hand_over(spare, path, output):  # it appends to the job's output.log from here on
                return spare
        with open(output, "wb") as out:  # no spare, or it died meanwhile: a fresh trainer
            return self._launch(self.command + ["--request", str(path.resolve())], out)

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
                self._spare = self._launch(spares.command(), subprocess.DEVNULL, stdin=subprocess.PIPE)
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
        spares.let_go(spare)

    def _watch(self, proc: subprocess.Popen, job_id: str) -> None:
        """Wait for our trainer (touching the lock meanwhile), then settle its status and free the lock."""
        while True:
            try:
                code = proc.wait(HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                self._jobs_lock.heartbeat(job_id)
        with self._lock:
            tail = self._tail
            if tail is not None and tail.state.get("id") == job_id:
                tail.read()
                if tail.state["status"] == "running":  # died without its last word
                    tail.state["status"] = EXIT_STATUS.get(code, "failed")
                    tail.state["eta_s"] = None
                    if tail.state["status"] == "failed":
                        tail.state["message"] = self._exit_message(job_id, code)
            self._jobs_lock.release(job_id)
        self.keep_spare()  # the next job's trainer, now that this one no longer needs the cores

    def _exit_message(self, job_id: str, code: int) -> str:
        try:
            lines = (self.job_dir(job_id) / OUTPUT_FILE).read_text(errors="replace").strip().splitlines()
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
                holder = self._jobs_lock.live_holder()
            if holder is not None and isinstance(holder.get("job"), str):
                job_id = holder["job"]
                try:
                    log = self.job_dir(job_id) / LOG_FILE
                except ValueError:
                    return JobStatus(status="running", message="A training started elsewhere is running.")
                if self._tail is None or self._tail.state.get("id") != job_id:
                    self._tail = LogTail(job_id, log)
                    self._cancel_requested = cancel_requested(log.parent)
                self._tail.read()
                snap = _snapshot(self._tail, attached=True, cancel_requested=self._cancel_requested)
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
            return _snapshot(self._tail, 
                attached=self._proc is None, cancel_requested=self._cancel_requested
            )

    def status_for(self, profile: str | None) -> JobStatus:
        """The job a page of ``profile`` may see: the one shown when it is a training for everyone or ``profile``'s
        own fine-tune; while another profile's fine-tune runs, only that a training runs and how far (not whose, nor
        its curves or result); otherwise the newest finished job here that is for everyone or ``profile``'s."""
        status = self.status()
        if status.profile is None or status.profile == profile:
            return status
        if status.running:
            return JobStatus(status="running", epoch=status.epoch, epochs=status.epochs, step=status.step,
                             steps=status.steps, eta_s=status.eta_s, elapsed_s=status.elapsed_s,
                             attached=status.attached, cancel_requested=status.cancel_requested)
        jobs = self.paths.jobs
        folders = sorted(p for p in jobs.iterdir() if _JOB_ID.fullmatch(p.name)) if jobs.is_dir() else []
        for folder in reversed(folders):  # ids start with their time: newest first
            tail = LogTail(folder.name, folder / LOG_FILE)
            tail.read()
            if tail.state["status"] != "running" and tail.state.get("profile") in (None, profile):
                return _snapshot(tail, attached=True)
        return JobStatus()

    def cancel(self) -> bool:
        """Ask the running job to stop (cancel file, then SIGTERM, then SIGKILL); False when none runs."""
        with self._lock:
            status = self.status()
            if not status.running or status.id is None:
                return False
            holder = self._read_lock() or {}
            pid = self._proc.pid if self._proc is not None and self._proc.poll() is None else holder.get("pid")
            request_cancel(self.job_dir(status.id))
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
