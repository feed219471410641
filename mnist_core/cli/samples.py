"""``samples copy``: copy saved samples between stores (SQLite file or postgresql:// URL), profiles kept."""

from __future__ import annotations

import json
import sys

from mnist_core.cli.common import EXIT_OK, CliError


def register(sub) -> None:
    s = sub.add_parser("samples", help="copy saved samples between stores (SQLite to PostgreSQL, for replicas)")
    s.add_argument("action", choices=("copy",))
    s.add_argument("source", help="a samples.sqlite3 file or a postgresql:// URL (password in PGPASSWORD)")
    s.add_argument("destination", help="the same kinds; created or migrated as the studio does")
    s.add_argument("--append", action="store_true", help="add to a destination that already holds samples")
    s.add_argument("--json", action="store_true", help="print one JSON summary line")
    s.set_defaults(func=run)


def run(args) -> int:
    """Copy every saved sample from one store to another (SQLite file or postgresql:// URL), profiles kept."""
    from mnist_core.store.samples import copy_samples, open_store  # noqa: PLC0415 (no TensorFlow)

    src, dst = open_store(args.source), open_store(args.destination)
    if src.describe() == dst.describe():
        raise CliError("the source and the destination are the same store")

    def progress(n: int) -> None:
        if not args.json:
            print(f"\r{n:,} samples copied", end="", file=sys.stderr, flush=True)

    try:
        n = copy_samples(src, dst, append=args.append, progress=progress)
    except ValueError as e:  # a destination that holds samples, no source, a bad row: the store's own words
        raise CliError(str(e)) from None
    profiles = dst.profiles()
    if args.json:
        print(json.dumps({"copied": n, "source": src.describe(), "destination": dst.describe(),
                          "destination_profiles": profiles}))
    else:
        print(f"\rcopied {n:,} samples from {src.describe()} to {dst.describe()}; it now holds "
              + ", ".join(f"{name}: {count:,}" for name, count in profiles.items()), file=sys.stderr)
    return EXIT_OK
