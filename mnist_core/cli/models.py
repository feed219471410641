"""``models``: list, activate or delete model versions."""

from __future__ import annotations

import json

from mnist_core.cli.common import EXIT_OK, CliError


def register(sub) -> None:
    m = sub.add_parser("models", help="list, activate or delete model versions")
    m.add_argument("action", choices=("list", "activate", "delete"))
    m.add_argument("id", nargs="?", help="version id (for activate and delete)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=run)


def run(args) -> int:
    """List, activate or delete model versions."""
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    registry = Registry()
    if args.action == "list":
        return _list(registry, args.json)
    if not args.id:
        raise CliError(f"models {args.action} needs a version id")
    if args.action == "activate":
        registry.activate(args.id)
        print(f"active: {args.id}")
    else:
        registry.delete(args.id)
        print(f"deleted: {args.id}")
    return EXIT_OK


def _list(registry, as_json: bool) -> int:
    active = registry.active()
    cards = registry.versions()
    if as_json:
        print(json.dumps([{**c, "active": c["id"] == active} for c in cards]))
        return EXIT_OK
    print(f"{'':2}{'version':22}{'arch':5} {'accuracy':>9} {'train s':>8}  data")
    for c in cards:
        if "broken" in c:
            print(f"  {c['id']:22}BROKEN: {c['broken']}")
            continue
        acc = (c.get("metrics") or {}).get("accuracy")
        print(f"{'*' if c['id'] == active else ' '} {c['id']:22}{c.get('arch', '?'):5} "
              f"{acc:9.2%} {c.get('train_seconds', 0):8.1f}  {(c.get('data') or {}).get('source', '?')}"
              if acc is not None else f"  {c['id']:22}{c.get('arch', '?')}")
    return EXIT_OK
