"""``spare``: a trainer waiting for its job, as the studio keeps one (mnist_core.ops.spare): the slow imports now,
then one JSON line on stdin, {"request": a request file, "output": a file for stdout and stderr}, and ``train
--request`` runs it as if just started. End of input (the studio went away): exit at once."""

from __future__ import annotations

import os
import sys

from mnist_core.cli.common import EXIT_OK, EXIT_USAGE, quiet_tensorflow


def register(sub) -> None:
    w = sub.add_parser("spare", help="(the studio's) a trainer that imports TensorFlow, then waits on stdin for its "
                                     "job's train arguments")
    w.set_defaults(func=run)


def run(args) -> int:
    """Import, wait for the job line, then run the job with stdout and stderr in its output file."""
    from mnist_core.ops import spare  # noqa: PLC0415

    quiet_tensorflow()
    spare.import_training()
    try:
        job = spare.read_job(sys.stdin.readline())
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if job is None:
        return EXIT_OK
    request, output = job
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    from mnist_core.cli.main import main  # noqa: PLC0415 (main lists this module)

    return main(["train", "--request", request, "--warm"])
