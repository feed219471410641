"""The spare trainer: a trainer process started before its job, its slow imports done, waiting on its stdin.

The job manager (``JobOptions.spare``) starts ``python -m mnist_core spare`` and, when a job comes, writes one JSON
line to its stdin: ``{"request": <the job's request.json>, "output": <a file for stdout and stderr>}``; the spare then
runs the job as ``train --request`` would (a start 4-5 s sooner on 2 cores). End of input (the studio went away): it
exits at once. No TensorFlow at import here: ``import_training`` is what the waiting trainer calls.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

# The spare's command after Python.
COMMAND = ["-m", "mnist_core", "spare"]
# Keras (TensorFlow: most of the 5-6 s a trainer takes to start on 2 cores) and what a training run imports after it.
IMPORTS = ("keras", "mnist_core.train.fit", "mnist_core.train.evaluate", "mnist_core.train.personal",
           "mnist_core.digits.recognize", "mnist_core.store.registry", "mnist_core.train.run")
USAGE = 'a spare trainer takes one JSON line: {"request": "FILE", "output": "FILE"}'


def command() -> list[str]:
    """The spare trainer's command line."""
    return [sys.executable, *COMMAND]


def import_training() -> None:
    """The imports a training run needs, done while the spare waits."""
    for module in IMPORTS:
        importlib.import_module(module)


def read_job(line: str) -> tuple[str, str] | None:
    """(the request file, the output file) of the job line; None at end of input; ValueError for anything else."""
    if not line.strip():
        return None
    try:
        job = json.loads(line)
        return str(job["request"]), str(job["output"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(USAGE) from None


def hand_over(spare: subprocess.Popen, request: Path, output: Path) -> bool:
    """Give the waiting ``spare`` its job; False when it has died meanwhile (it is killed: start a fresh trainer)."""
    try:
        spare.stdin.write(json.dumps({"request": str(request.resolve()), "output": str(output.resolve())}).encode()
                          + b"\n")
        spare.stdin.close()
        return True
    except OSError:
        spare.kill()
        return False


def let_go(spare: subprocess.Popen | None) -> None:
    """Close a waiting spare's stdin: it exits as soon as its imports are done (not waited for)."""
    if spare is not None and spare.stdin is not None:
        try:
            spare.stdin.close()
        except OSError:
            pass
