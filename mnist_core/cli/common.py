"""What the subcommands share: the one-line error, the merge of flags into settings, the model flags, a training
run logged to its job."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from mnist_core.ops.protocol import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_USAGE  # noqa: F401 (the commands')
from mnist_core.train.run import quiet_tensorflow  # noqa: F401 (the commands')


class CliError(Exception):
    """An expected failure: printed as one line, no traceback."""


def merged(cls, args: argparse.Namespace, **given):
    """A ``cls`` settings dataclass: its defaults, overridden by every flag of a field's name that was given (flags
    default to None), then by ``given``; validated (ValueError names the first bad setting)."""
    from_flags = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    settings = cls(**{**from_flags, **given})
    settings.validate()
    return settings


def positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def add_model_choice(parser: argparse.ArgumentParser) -> None:
    """--version or --model: which model a command reads with."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--version", help="a registered version id (default: the active one)")
    g.add_argument("--model", help="a .keras model file")


def logged_run(run, log):
    """``run()`` (a training job's run, returning its Outcome) with a failure written to the job ``log`` first (a
    RunError becomes the CLI's one-line error); None when the run was cancelled, which is said on stderr."""
    from mnist_core.train.job import RunError  # noqa: PLC0415

    try:
        outcome = run()
    except Exception as e:
        log.failed(str(e) or type(e).__name__)
        if isinstance(e, RunError):
            raise CliError(str(e)) from None
        raise
    if outcome.status == "cancelled":
        print("cancelled", file=sys.stderr)
        return None
    return outcome
