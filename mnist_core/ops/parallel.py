"""Reading many image files in several processes: ``python -m mnist_core predict --jobs N``.

The files are cut into consecutive parts; N processes (started fresh with ``spawn``: no copy of the parent's
threads or TensorFlow state) each load the model once, read their parts exactly as ``--jobs 1`` reads a chunk
(the same code, ``__main__._predict_chunk``) and hand back what it printed. The parent prints the parts in input
order, so the output is the same lines as with one process, errors per file included.
"""

from __future__ import annotations

import contextlib
import io
import math
import multiprocessing
import sys
from argparse import Namespace
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Files per part: small enough that the processes share the work evenly and the first lines appear soon,
# large enough that each part is one worthwhile batch for the model.
MAX_PART = 256

_state: dict = {}  # in a worker process: the recognizer and reader, loaded on its first part


def parts_of(files: list, jobs: int) -> list[list]:
    """Consecutive parts of `files`, about four per process (at most MAX_PART files each), in order."""
    size = max(1, min(MAX_PART, math.ceil(len(files) / (jobs * 4))))
    return [files[i:i + size] for i in range(0, len(files), size)]


def _read_part(options: dict, n_files: int, part: list[str]) -> tuple[str, str, bool]:
    """In a worker: read one part as --jobs 1 would; returns (stdout, stderr, whether a file failed)."""
    from mnist_core.cli import main as cli  # noqa: PLC0415(the CLI's own reading code)

    args = Namespace(**options)
    if "setup" not in _state:
        _state["setup"] = cli._predict_setup(args, n_files)  # noqa: SLF001 -- errors reach the parent as raised
    recognizer, reader = _state["setup"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        failed = cli._predict_chunk([Path(f) for f in part], recognizer, reader, args)  # noqa: SLF001
    return out.getvalue(), err.getvalue(), failed


def predict_in_processes(args: Namespace, files: list[Path], jobs: int) -> bool:
    """Read `files` in `jobs` processes and print the results in input order; True when a file failed."""
    options = {k: v for k, v in vars(args).items() if k != "func"}
    parts = parts_of([str(f) for f in files], jobs)
    failed = False
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(parts)), mp_context=context)
    try:
        # map() yields in submission order: each part is printed once it and all before it are read.
        for out, err, part_failed in pool.map(_read_part, [options] * len(parts), [len(files)] * len(parts), parts):
            sys.stdout.write(out)
            sys.stdout.flush()
            sys.stderr.write(err)
            failed |= part_failed
    finally:  # an error (a model that cannot load) or Ctrl-C: the parts not started are dropped
        pool.shutdown(wait=True, cancel_futures=True)
    return failed
