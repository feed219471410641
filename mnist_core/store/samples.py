"""The user's labelled digits: ``open_store(location)`` picks the backend, SQLite by default, PostgreSQL when asked.

A ``postgresql://`` URL (env MNIST_STUDIO_DB) opens ``samples_pg.PgSampleStore`` (psycopg 3, imported only
then); a file path opens ``samples_sqlite.SampleStore``. Both hold the same table and answer the same way
(``samples_base.BaseSampleStore``). No TensorFlow and no Gradio here: the training CLI calls
``open_store(location).arrays(profile)`` and the app calls the rest. The names below are re-exported so that
``from mnist_core.store.samples import ...`` keeps working for every caller.
"""

from __future__ import annotations

from pathlib import Path

from mnist_core.store.samples_base import (
    MAX_LIST,
    MAX_ORIGINAL_BYTES,
    MAX_SOURCE_CHARS,
    SCHEMA_VERSION,
    BaseSampleStore,
    SampleNotFound,
    copy_samples,
    validate_label,
    validate_sample_id,
)
from mnist_core.store.samples_sqlite import SampleStore

__all__ = [
    "MAX_LIST", "MAX_ORIGINAL_BYTES", "MAX_SOURCE_CHARS", "SCHEMA_VERSION", "BaseSampleStore", "SampleNotFound",
    "SampleStore", "copy_samples", "is_database_url", "open_store", "validate_label", "validate_sample_id",
]


def is_database_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database (a ``postgresql://`` or ``postgres://`` URL)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | Path) -> BaseSampleStore:
    """The sample store at ``location``: PostgreSQL for a ``postgresql://`` URL, else the SQLite file there."""
    if is_database_url(location):
        from mnist_core.store.samples_pg import PgSampleStore  # noqa: PLC0415  (psycopg only when asked for)

        return PgSampleStore(str(location))
    if isinstance(location, str) and "://" in location:
        raise ValueError(f"not a sample store: {location.split('://')[0]}://... (give a postgresql:// URL or a file path)")
    return SampleStore(location)
