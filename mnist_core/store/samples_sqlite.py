"""The samples in one SQLite file (stdlib sqlite3, WAL mode): ``SampleStore``, the default backend.

One connection per call keeps the store safe to use from Gradio's worker threads and from several processes at
once, and makes every write one transaction; WAL lets a training run read while the app writes. The schema's
version is the file's ``PRAGMA user_version``; older files (schema 1, before profiles; 2, before the trash) are
migrated in place when first opened.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mnist_core.store.profiles import DEFAULT_PROFILE
from mnist_core.store.samples_base import SCHEMA_VERSION, BaseSampleStore

# How long a first open keeps retrying while another thread or process holds the file (seconds).
OPEN_TIMEOUT_S = 30.0

# One first-open at a time in this process; other processes are handled by retrying.
_CREATE_LOCK = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    label    INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    image    BLOB    NOT NULL,
    original BLOB,
    source   TEXT    NOT NULL,
    created  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_label ON samples (label);
"""
# Schema 1 -> 2: every sample gets an owner; those saved before profiles existed are "me"'s.
_SCHEMA_2 = f"""
ALTER TABLE samples ADD COLUMN profile TEXT NOT NULL DEFAULT '{DEFAULT_PROFILE}';
CREATE INDEX IF NOT EXISTS samples_profile ON samples (profile, label);
"""
# Schema 2 -> 3: deleted samples wait in a trash for a while (samples_base.TRASH_KEEP_S), so a delete can be undone.
_SCHEMA_3 = """
CREATE TABLE IF NOT EXISTS samples_trash (
    id       INTEGER PRIMARY KEY,
    label    INTEGER NOT NULL,
    image    BLOB    NOT NULL,
    original BLOB,
    source   TEXT    NOT NULL,
    created  TEXT    NOT NULL,
    profile  TEXT    NOT NULL,
    deleted  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_trash_profile ON samples_trash (profile, deleted);
"""


class SampleStore(BaseSampleStore):
    """The user's labelled samples in one SQLite file, created with its folder on first use."""

    kind = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._ready = False

    def exists(self) -> bool:
        return self.path.exists()

    def describe(self) -> str:
        return f"SQLite file {self.path}"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection, committed on success, always closed."""
        if not self._ready:
            self._create()
        conn = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT_S)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _create(self) -> None:
        """Create the folder, the file and the table once, retrying while another opener holds the lock."""
        with _CREATE_LOCK:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            deadline = time.monotonic() + OPEN_TIMEOUT_S
            while True:
                try:
                    self._create_once()
                    break
                except sqlite3.OperationalError as exc:
                    # Switching to WAL needs an exclusive lock, and SQLite answers "locked" at once,
                    # without its busy timeout, when another connection is mid-transaction.
                    busy = "locked" in str(exc) or "busy" in str(exc)
                    if not busy or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            self._ready = True

    def _create_once(self) -> None:
        conn = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT_S, isolation_level=None)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            if self._check_version(conn) == SCHEMA_VERSION:
                return
            # Migrated in place under the write lock, the version read again inside it: two processes opening an
            # old file at once migrate it once (the second finds it done).
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._check_version(conn)
                for step, script in ((1, _SCHEMA), (2, _SCHEMA_2), (3, _SCHEMA_3)):
                    if version < step:
                        for statement in filter(str.strip, script.split(";")):
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    def _check_version(self, conn: sqlite3.Connection) -> int:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer version of the studio (schema {version}, "
                f"this one reads {SCHEMA_VERSION})"
            )
        return version
