"""``python -m mnist_core``: the subcommands' parser, and the errors each ends with as exit codes
(mnist_core.ops.protocol: 0 done, 1 failed, 2 bad arguments, 3 cancelled)."""

from __future__ import annotations

import argparse
import importlib
import sys

from mnist_core.cli.common import EXIT_CANCELLED, EXIT_ERROR, EXIT_USAGE, CliError

# The subcommands' modules (mnist_core/cli/<name>.py, each with register(subparsers) and run(args)), in --help's
# order. Adding a subcommand is adding its module's name here.
COMMANDS = ("train", "evaluate", "predict", "train_number", "train_ink", "combine", "samples", "spare", "models")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (no heavy imports)."""
    p = argparse.ArgumentParser(prog="python -m mnist_core", description="Train, evaluate and use MNIST digit models.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"mnist_core.cli.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    from mnist_core.store.registry import RegistryError  # noqa: PLC0415
    from mnist_core.train.data import DataError  # noqa: PLC0415
    from mnist_core.train.job import RunError  # noqa: PLC0415

    try:
        return args.func(args)
    except ValueError as e:  # bad settings (TrainSettings.validate), bad inputs, DataError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(e, DataError) else EXIT_ERROR
    except (CliError, RunError, RegistryError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED


if __name__ == "__main__":
    sys.exit(main())
