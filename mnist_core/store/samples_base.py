"""The samples' shared part: the interface and behaviour both backends give (``BaseSampleStore``), the schema
version, the validation of what users send (labels, ids, images, originals), and ``copy_samples``.

Each sample is the 28x28 float32 image in [0, 1] the model saw (stored losslessly as 3,136 raw bytes), its label
0-9, where it came from ("draw", "photo", ...), optionally the original image as PNG bytes (the canvas strokes,
or the crop of the photo), and the profile it belongs to (the person who wrote it; "me" unless told, and for
every sample saved before profiles existed). Reads without a profile see everyone's. The queries are written
here once, with ``?`` placeholders; a backend (``samples_sqlite``, ``samples_pg``) gives the connections.

A deleted sample goes to the ``samples_trash`` table (in the same transaction), where ``restore`` can bring the
profile's last one back with its id, for ``TRASH_KEEP_S``; older ones are dropped by the next delete or restore.
Nothing reads the trash but ``restore`` and ``trashed``: training, lists and counts never see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone

import numpy as np

from mnist_core.store.profiles import DEFAULT_PROFILE, validate_profile

# Bumped when the table layout changes; stored in SQLite's PRAGMA user_version and PostgreSQL's studio_schema row.
# 1: the table; 2: the profile column; 3: the trash (deleted samples kept a while, for undo).
SCHEMA_VERSION = 3
# How long a deleted sample can be brought back (seconds): an undo is for a slip, not an archive.
TRASH_KEEP_S = 3600
# Originals larger than this are refused: a sample is a digit, not a photo album.
MAX_ORIGINAL_BYTES = 4 * 1024 * 1024
# Longest "source" tag kept.
MAX_SOURCE_CHARS = 32
# Largest page list() returns.
MAX_LIST = 10_000


class SampleNotFound(ValueError):
    """No sample has the id asked for."""


def _as_int(value: object) -> int | None:
    """``value`` as an int when it is one exactly (7, "7", 7.0, np.int64(7)), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def validate_label(label: object) -> int:
    """Return ``label`` as an int 0-9, or raise ValueError."""
    value = _as_int(label)
    if value is None or not 0 <= value <= 9:
        raise ValueError(f"label must be a digit from 0 to 9, not {label!r}")
    return value


def validate_sample_id(sample_id: object) -> int:
    """Return ``sample_id`` as a positive int, or raise ValueError (ids come from users and URLs)."""
    value = _as_int(sample_id)
    if value is None or not 1 <= value < 2**63:
        raise ValueError(f"sample id must be a positive integer, not {sample_id!r}")
    return value


def _validate_image(image: np.ndarray) -> np.ndarray:
    """Return a C-contiguous (28, 28) float32 copy in [0, 1], or raise ValueError."""
    arr = np.asarray(image)
    if arr.shape == (28, 28, 1):
        arr = arr[..., 0]
    if arr.shape != (28, 28):
        raise ValueError(f"a sample image must be 28x28, not {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"a sample image must hold floats in [0, 1], not {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all() or arr.min() < 0.0 or arr.max() > 1.0:
        raise ValueError("a sample image must hold finite values in [0, 1]")
    return arr


def _validate_original(original: object) -> bytes | None:
    """The original picture as bytes (None when there is none), or raise ValueError."""
    if original is None:
        return None
    if not isinstance(original, (bytes, bytearray, memoryview)):
        raise ValueError("the original image must be PNG bytes")
    original = bytes(original)
    if len(original) > MAX_ORIGINAL_BYTES:
        raise ValueError(f"the original image is over {MAX_ORIGINAL_BYTES // 2**20} MB")
    return original


# One sample's row; `add` asks for its new id back.
_INSERT = "INSERT INTO samples (label, image, original, source, created, profile) VALUES (?, ?, ?, ?, ?, ?)"
# The columns a sample keeps through the trash and back.
_COLUMNS = "id, label, image, original, source, created, profile"


def _now(offset_s: float = 0.0) -> str:
    """UTC time ``offset_s`` from now as ISO text to the microsecond (one format: compared as text in SQL)."""
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).isoformat(timespec="microseconds")


class BaseSampleStore:
    """The samples' interface and behaviour, shared by the backends: validation, the queries, the results.

    A backend gives ``_connect()`` (one connection whose ``execute(sql, args)`` returns a cursor, committed as one
    transaction on success, rolled back on an error, always closed; the schema created or migrated before the
    first one), ``_sql`` (its parameter style), ``exists()`` and ``describe()``.
    """

    # The backend, for /healthz and messages: "sqlite" or "postgresql".
    kind = "?"

    def _connect(self) -> AbstractContextManager:
        raise NotImplementedError

    def _sql(self, query: str) -> str:
        """``query``, written with ``?`` placeholders, in the backend's parameter style."""
        return query

    def _run(self, conn, query: str, args: tuple = ()):
        return conn.execute(self._sql(query), args)

    def exists(self) -> bool:
        """Whether the store may hold samples yet (False for a SQLite file not created yet)."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the samples are, for people (never with a password)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Create or migrate the schema now rather than on first use; raises when the store cannot be reached."""
        with self._connect():
            pass

    def add(
        self,
        label: int,
        image: np.ndarray,
        original_png: bytes | None = None,
        source: str = "draw",
        profile: str = DEFAULT_PROFILE,
    ) -> int:
        """Store one sample for ``profile`` and return its id."""
        label = validate_label(label)
        profile = validate_profile(profile)
        pixels = _validate_image(image)
        original_png = _validate_original(original_png)
        source = str(source)[:MAX_SOURCE_CHARS]
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._connect() as conn:
            cur = self._run(conn, _INSERT + " RETURNING id",
                            (label, pixels.tobytes(), original_png, source, created, profile))
            return int(cur.fetchone()[0])

    def get(self, sample_id: int) -> dict:
        """One sample: id, label, source, created, image (28, 28) float32, profile, original (PNG bytes or None)."""
        sample_id = validate_sample_id(sample_id)
        with self._connect() as conn:
            row = self._run(
                conn,
                "SELECT id, label, source, created, image, profile, original FROM samples WHERE id = ?",
                (sample_id,),
            ).fetchone()
        if row is None:
            raise SampleNotFound(f"no sample with id {sample_id}")
        sample = _row_to_dict(row[:6])
        sample["original"] = None if row[6] is None else bytes(row[6])
        return sample

    def list(self, label: int | None = None, limit: int = 200, offset: int = 0,
             profile: str | None = None) -> list[dict]:
        """Samples newest first (without the originals): id, label, source, created, image, profile; only
        ``profile``'s when given."""
        if not (isinstance(limit, int) and 0 <= limit <= MAX_LIST):
            raise ValueError(f"limit must be an integer from 0 to {MAX_LIST}, not {limit!r}")
        if not (isinstance(offset, int) and offset >= 0):
            raise ValueError(f"offset must be an integer >= 0, not {offset!r}")
        where, args = _where(profile, label)
        query = "SELECT id, label, source, created, image, profile FROM samples" + where
        query += " ORDER BY id DESC LIMIT ? OFFSET ?"
        with self._connect() as conn:
            rows = self._run(conn, query, args + (limit, offset)).fetchall()
        return [_row_to_dict(row) for row in rows]

    def counts(self, profile: str | None = None) -> dict[int, int]:
        """Number of samples per digit (``profile``'s, or everyone's), every digit 0-9 present."""
        counts = dict.fromkeys(range(10), 0)
        where, args = _where(profile)
        with self._connect() as conn:
            for label, n in self._run(conn, f"SELECT label, COUNT(*) FROM samples{where} GROUP BY label", args):
                counts[int(label)] = int(n)
        return counts

    def count(self, profile: str | None = None) -> int:
        """How many samples ``profile`` has (everyone's when None)."""
        return sum(self.counts(profile).values())

    def profiles(self) -> dict[str, int]:
        """Every profile that has samples, with how many, by name."""
        with self._connect() as conn:
            rows = self._run(conn, "SELECT profile, COUNT(*) FROM samples GROUP BY profile ORDER BY profile").fetchall()
        return {str(name): int(n) for name, n in rows}

    def __len__(self) -> int:
        return sum(self.counts().values())

    def relabel(self, sample_id: int, label: int, profile: str | None = None) -> None:
        """Give a sample another label; SampleNotFound when there is no such sample (of ``profile``, when given)."""
        sample_id, label = validate_sample_id(sample_id), validate_label(label)
        where, args = _where(profile)
        where = (where + " AND" if where else " WHERE") + " id = ?"
        with self._connect() as conn:
            cur = self._run(conn, f"UPDATE samples SET label = ?{where}", (label, *args, sample_id))
        if cur.rowcount == 0:
            raise SampleNotFound(f"no sample with id {sample_id}" + (f" in profile {profile!r}" if profile else ""))

    def delete(self, sample_id: int, profile: str | None = None) -> None:
        """Delete a sample (into the trash, see ``restore``); SampleNotFound when there is no such sample (of
        ``profile``, when given)."""
        sample_id = validate_sample_id(sample_id)
        where, args = _where(profile)
        where = (where + " AND" if where else " WHERE") + " id = ?"
        with self._connect() as conn:
            self._purge_trash(conn)
            self._run(conn, "DELETE FROM samples_trash WHERE id = ?", (sample_id,))
            self._run(conn, f"INSERT INTO samples_trash ({_COLUMNS}, deleted) SELECT {_COLUMNS}, ? FROM samples{where}",
                      (_now(), *args, sample_id))
            cur = self._run(conn, f"DELETE FROM samples{where}", (*args, sample_id))
        if cur.rowcount == 0:
            raise SampleNotFound(f"no sample with id {sample_id}" + (f" in profile {profile!r}" if profile else ""))

    def restore(self, profile: str) -> int:
        """Bring back ``profile``'s last deleted sample (deleted less than TRASH_KEEP_S ago) with its id, label,
        image, original and time; its id. SampleNotFound when there is none."""
        profile = validate_profile(profile)
        with self._connect() as conn:
            self._purge_trash(conn)
            row = self._run(conn, "SELECT id FROM samples_trash WHERE profile = ? ORDER BY deleted DESC, id DESC "
                                  "LIMIT 1", (profile,)).fetchone()
            if row is None:
                raise SampleNotFound(f"no sample of profile {profile!r} was deleted in the last "
                                     f"{TRASH_KEEP_S // 60} minutes")
            sample_id = int(row[0])
            self._run(conn, f"INSERT INTO samples ({_COLUMNS}) SELECT {_COLUMNS} FROM samples_trash WHERE id = ?",
                      (sample_id,))
            self._run(conn, "DELETE FROM samples_trash WHERE id = ?", (sample_id,))
        return sample_id

    def trashed(self, profile: str) -> int:
        """How many of ``profile``'s deleted samples ``restore`` can still bring back."""
        with self._connect() as conn:
            row = self._run(conn, "SELECT COUNT(*) FROM samples_trash WHERE profile = ? AND deleted >= ?",
                            (validate_profile(profile), _now(-TRASH_KEEP_S))).fetchone()
        return int(row[0])

    def _purge_trash(self, conn) -> None:
        """Drop the deleted samples older than TRASH_KEEP_S (inside the caller's transaction)."""
        self._run(conn, "DELETE FROM samples_trash WHERE deleted < ?", (_now(-TRASH_KEEP_S),))

    def arrays(self, profile: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The samples (``profile``'s, or everyone's), oldest first: x (N, 28, 28) float32 in [0, 1], y (N,) int64."""
        where, args = _where(profile)
        with self._connect() as conn:
            rows = self._run(conn, f"SELECT label, image FROM samples{where} ORDER BY id", args).fetchall()
        x = np.empty((len(rows), 28, 28), dtype=np.float32)
        y = np.empty((len(rows),), dtype=np.int64)
        for i, (label, blob) in enumerate(rows):
            x[i] = np.frombuffer(blob, dtype=np.float32).reshape(28, 28)
            y[i] = label
        return x, y

    def export(self, batch: int = 500) -> Iterator[list[tuple]]:
        """Every sample, oldest first, in batches of rows as stored: (label, image float32 bytes, original PNG or
        None, source, created, profile)."""
        last = 0
        while True:
            with self._connect() as conn:
                rows = self._run(conn, "SELECT id, label, image, original, source, created, profile FROM samples"
                                       " WHERE id > ? ORDER BY id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            yield [(int(r[1]), bytes(r[2]), None if r[3] is None else bytes(r[3]), r[4], r[5], r[6]) for r in rows]

    def import_rows(self, rows: list[tuple]) -> int:
        """Add rows made by ``export`` as they are (their time and profile kept; new ids), all or none; returns
        how many."""
        checked = []
        for label, image, original, source, created, profile in rows:
            if len(image) != 28 * 28 * 4:
                raise ValueError(f"a sample's image must be 28x28 float32 ({28 * 28 * 4} bytes), not {len(image)}")
            pixels = _validate_image(np.frombuffer(image, dtype=np.float32).reshape(28, 28))
            checked.append((validate_label(label), pixels.tobytes(), _validate_original(original),
                            str(source)[:MAX_SOURCE_CHARS], str(created), validate_profile(profile)))
        with self._connect() as conn:
            for row in checked:
                self._run(conn, _INSERT, row)
        return len(checked)


def copy_samples(src: BaseSampleStore, dst: BaseSampleStore, append: bool = False, batch: int = 500,
                 progress=None) -> int:
    """Copy every sample of ``src`` into ``dst`` (labels, images, originals, sources, times and profiles kept),
    oldest first, one transaction a batch; returns how many. A destination that already holds samples is refused
    unless ``append``: a second run would hold every sample twice."""
    if not src.exists():
        raise ValueError(f"no samples at {src.describe()}")
    if not append and dst.exists() and len(dst):
        raise ValueError(f"{dst.describe()} already holds {len(dst):,} samples; give --append to add to them")
    done = 0
    for rows in src.export(batch):
        done += dst.import_rows(rows)
        if progress is not None:
            progress(done)
    return done


def _where(profile: str | None, label: object = None) -> tuple[str, tuple]:
    """A WHERE clause (or "") and its arguments for an optional profile and label, both validated."""
    terms, args = [], []
    if profile is not None:
        terms.append("profile = ?")
        args.append(validate_profile(profile))
    if label is not None:
        terms.append("label = ?")
        args.append(validate_label(label))
    return (" WHERE " + " AND ".join(terms) if terms else ""), tuple(args)


def _row_to_dict(row: tuple) -> dict:
    sample_id, label, source, created, blob, profile = row
    return {
        "id": int(sample_id),
        "label": int(label),
        "source": source,
        "created": created,
        "image": np.frombuffer(blob, dtype=np.float32).reshape(28, 28).copy(),
        "profile": profile,
    }
