"""What the studio keeps on disk and in databases: the model versions and which one is active (``registry``), the
user's labelled digits in SQLite or PostgreSQL behind one ``open_store`` (``samples``: the shared base in
``samples_base``, the backends in ``samples_sqlite`` and ``samples_pg``, psycopg imported only for a
``postgresql://`` URL), profile names (``profiles``) and the cache of prepared arrays (``cache``). Nothing here
imports TensorFlow at import time, Gradio, or any package above the store.
"""

from mnist_core.store.registry import Registry, RegistryError
from mnist_core.store.samples import (
    BaseSampleStore,
    SampleNotFound,
    SampleStore,
    copy_samples,
    is_database_url,
    open_store,
)

__all__ = [
    "BaseSampleStore", "Registry", "RegistryError", "SampleNotFound", "SampleStore", "copy_samples",
    "is_database_url", "open_store",
]
