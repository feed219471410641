"""One training at a time across processes and replicas: the ``<jobs>/lock`` file and the processes it names.

The lock holds the trainer's pid (with its start time, so a reused pid is told apart), the job id and the machine.
A lock whose process is gone is stale and taken over. A lock from another machine sharing the directory cannot be
checked by pid: it is live while it is fresh (the app that started the job touches it every few seconds, the trainer
appends to its log) or while the database's training lock is held. Taking and freeing it is serialised by flock on
``lock.mutex``. No TensorFlow here.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mnist_core.ops.protocol import LOG_FILE

# Job ids are made by the job manager (time + random); anything else coming back from a user is refused.
JOB_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
# The machine a lock was taken on: pids are only checked on their own machine.
HOST = socket.gethostname()
# How long a lock from another machine stays live without a touch (nor a line in the job's log).
FOREIGN_STALE_S = 60.0


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (Linux), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot): tells a reused pid from the process it was."""
    stat = proc_stat(pid)
    return int(stat[19]) if stat and len(stat) > 19 and stat[19].isdigit() else None


def pid_alive(pid: int, started: int | None = None) -> bool:
    """True when ``pid`` runs (a zombie counts as gone), and is the process started at ``started``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = proc_stat(pid)
    if stat is None:
        return True  # no /proc: trust kill()
    if stat[0] in ("Z", "X"):
        return False
    return started is None or start_time(pid) == started


class JobLock:
    """The lock file of ``jobs`` (a folder), and the database's training lock ``db_lock`` when there is one."""

    def __init__(self, jobs: Path, db_lock=None):
        self.jobs = jobs
        self.db_lock = db_lock

    @property
    def path(self) -> Path:
        return self.jobs / "lock"

    def read(self) -> dict | None:
        """The holder ({pid, started, job, host}); None without a lock, {} for garbage (treated as stale)."""
        try:
            holder = json.loads(self.path.read_text())
            return holder if isinstance(holder, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # the lock is only ever written whole (see write): garbage is stale

    @contextmanager
    def mutex(self) -> Iterator[None]:
        """Serialises taking and freeing the lock across processes (flock: freed if its holder dies).

        Without it, a process could read the lock between another's create and write (empty: "stale"),
        or two could judge the same stale lock and one delete the lock the other had just taken: two
        trainings started at the same moment both ran.
        """
        self.jobs.mkdir(parents=True, exist_ok=True)
        with open(self.jobs / "lock.mutex", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def live_holder(self) -> dict | None:
        """The lock's holder when its process runs, else None (a stale lock is replaced by acquire)."""
        holder = self.read()
        if holder is None:
            return None
        if holder.get("host", HOST) != HOST:
            return holder if self._foreign_live(holder) else None
        pid, started = holder.get("pid"), holder.get("started")
        if isinstance(pid, int) and pid_alive(pid, started if isinstance(started, int) else None):
            return holder
        return None

    def _foreign_live(self, holder: dict) -> bool:
        """Whether a lock taken on another machine is live: the database lock is held, or it is fresh."""
        if self.db_lock is not None and self.db_lock.held():
            return True
        stamps = [self.path]
        if isinstance(holder.get("job"), str) and JOB_ID.fullmatch(holder["job"]):
            stamps.append(self.jobs / holder["job"] / LOG_FILE)
        newest = 0.0
        for path in stamps:
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
        return time.time() - newest < FOREIGN_STALE_S

    def acquire(self, job_id: str) -> bool:
        """Take the lock for ``job_id`` (this process as its holder until ``write`` names the trainer)."""
        if self.db_lock is not None and not self.db_lock.acquire():
            return False  # a replica elsewhere is training
        got = False
        try:
            with self.mutex():
                if self.live_holder() is None:
                    self.write(os.getpid(), job_id)
                    got = True
        finally:
            if not got and self.db_lock is not None:
                self.db_lock.release()
        return got

    def write(self, pid: int, job_id: str) -> None:
        """Name ``pid`` as the holder, written whole (a temporary file renamed into place)."""
        tmp = self.path.with_name(f"lock.tmp-{os.getpid()}-{secrets.token_hex(3)}")
        tmp.write_text(json.dumps({"pid": pid, "started": start_time(pid), "job": job_id, "host": HOST}))
        os.replace(tmp, self.path)

    def release(self, job_id: str) -> None:
        """Free the lock when it is still ``job_id``'s, and the database's lock."""
        try:
            with self.mutex():
                holder = self.read()
                if holder is not None and holder.get("job") == job_id:
                    try:
                        self.path.unlink()
                    except FileNotFoundError:
                        pass
        finally:
            if self.db_lock is not None:
                self.db_lock.release()

    def heartbeat(self, job_id: str) -> None:
        """Touch the lock while it is ``job_id``'s: replicas on other machines see it live."""
        with self.mutex():
            holder = self.read()
            if holder is not None and holder.get("job") == job_id:
                try:
                    os.utime(self.path)
                except OSError:
                    pass
