"""Reading many image files in several processes: ``python -m mnist_core predict --jobs N``.

The files are cut into consecutive parts; N processes (started fresh with ``spawn``: no copy of the parent's
threads or TensorFlow state) each load the model once and read their parts exactly as ``--jobs 1`` reads a part
(the same code, ``ops.predict.read_part``), handing back its records. They come back in input order, so the
output is the same lines as with one process, errors per file included.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from mnist_core.ops import predict

# Files per part: small enough that the processes share the work evenly and the first lines appear soon,
# large enough that each part is one worthwhile batch for the model.
MAX_PART = 256

_state: dict = {}  # in a worker process: the recognizer and reader, loaded on its first part


def parts_of(files: list, jobs: int) -> list[list]:
    """Consecutive parts of `files`, about four per process (at most MAX_PART files each), in order."""
    size = max(1, min(MAX_PART, math.ceil(len(files) / (jobs * 4))))
    return [files[i:i + size] for i in range(0, len(files), size)]


def _read_part(options: dict, n_files: int, part: list) -> list[dict]:
    """In a worker: read one part as --jobs 1 would; its records."""
    if "setup" not in _state:
        _state["setup"] = predict.setup(n_files=n_files, **options)  # errors reach the parent as raised
    recognizer, reader = _state["setup"]
    return predict.read_part(part, recognizer, reader, options["number"])


def predict_in_processes(options: dict, files: list, jobs: int) -> Iterator[dict]:
    """The records of `files` (predict.expand's items: paths and UNIPEN parts) read in `jobs` processes, in input
    order; ``options``: predict.setup's version, model, number and no_reader."""
    parts = parts_of(list(files), jobs)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(parts)), mp_context=context)
    try:
        # map() yields in submission order: each part is given once it and all before it are read.
        for records in pool.map(_read_part, [options] * len(parts), [len(files)] * len(parts), parts):
            yield from records
    finally:  # an error (a model that cannot load) or Ctrl-C: the parts not started are dropped
        pool.shutdown(wait=True, cancel_futures=True)
