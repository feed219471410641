"""``combine``: average trained models (seeds of one recipe) into one ensemble version."""

from __future__ import annotations

import json

from mnist_core.cli.common import EXIT_OK, CliError, quiet_tensorflow


def register(sub) -> None:
    c = sub.add_parser("combine", help="average trained models (seeds of one recipe) into one ensemble version")
    c.add_argument("members", nargs="+", metavar="MODEL", help="version ids or .keras files (two or more)")
    c.add_argument("--data", help="MNIST for the test accuracy (as for train)")
    c.add_argument("--activate", action="store_true", help="make the ensemble the active version")
    c.add_argument("--output", help="also write it to this .keras file (card and TF Lite copy beside it)")
    c.add_argument("--json", action="store_true", help="print one JSON summary line")
    c.set_defaults(func=run)


def run(args) -> int:
    """Average trained digit models into one ensemble version: test accuracy, checked TF Lite copy, a card naming
    each member."""
    if len(args.members) < 2:
        raise CliError("combine needs at least two models")
    quiet_tensorflow()
    from mnist_core.train.version import combine  # noqa: PLC0415

    vid, card = combine(args.members, args.data, activate=args.activate, output=args.output)
    metrics = card["metrics"]
    summary = {"version": vid, "test_accuracy": metrics["accuracy"], "members": args.members,
               "member_accuracies": [m["test_accuracy"] for m in card["ensemble"]["members"]],
               "tflite": bool(card.get("lite_of")), "activated": bool(args.activate)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"version {vid}: the mean of {len(args.members)} models reads {metrics['accuracy']:.2%} of the test set "
              f"({metrics['errors']} errors in {metrics['count']:,}); the members alone "
              + ", ".join(f"{a:.2%}" if isinstance(a, float) else "?" for a in summary["member_accuracies"])
              + (", activated" if args.activate else ""))
    return EXIT_OK
