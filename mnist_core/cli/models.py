"""``models``: list, activate or delete model versions (``--kind ink``: the ink model's)."""

from __future__ import annotations

import json

from mnist_core.cli.common import EXIT_OK, CliError


def register(sub) -> None:
    m = sub.add_parser("models", help="list, activate or delete model versions")
    m.add_argument("action", choices=("list", "activate", "delete"))
    m.add_argument("id", nargs="?", help="version id (for activate and delete)")
    m.add_argument("--kind", choices=("image", "ink"), default="image",
                   help="the image model's versions (default) or the ink model's (train-ink)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=run)


def run(args) -> int:
    """List, activate or delete model versions."""
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    registry = Registry(kind=args.kind)
    if args.action == "list":
        ink = args.kind == "ink"
        return _list(registry, args.json, INK_HEADER if ink else IMAGE_HEADER, _ink_line if ink else _image_line)
    if not args.id:
        raise CliError(f"models {args.action} needs a version id")
    if args.action == "activate":
        registry.activate(args.id)
        print(f"active{' ink' if args.kind == 'ink' else ''}: {args.id}")
    else:
        registry.delete(args.id)
        print(f"deleted: {args.id}")
    return EXIT_OK


def _list(registry, as_json: bool, header: str, line) -> int:
    """Every version: JSON cards, or ``header`` and a ``line(card, mark)`` for each (a broken one says so)."""
    active = registry.active()
    cards = registry.versions()
    if as_json:
        print(json.dumps([{**c, "active": c["id"] == active} for c in cards]))
        return EXIT_OK
    print(header)
    for c in cards:
        print(f"  {c['id']:22}BROKEN: {c['broken']}" if "broken" in c else line(c, "*" if c["id"] == active else " "))
    return EXIT_OK


IMAGE_HEADER = f"{'':2}{'version':22}{'arch':5} {'accuracy':>9} {'train s':>8}  data"
INK_HEADER = f"{'':2}{'version':22}{'arch':8} {'accuracy':>9} {'fusion':>9}  test set"  # fusion: w_image/w_ink


def _image_line(c: dict, mark: str) -> str:
    acc = (c.get("metrics") or {}).get("accuracy")
    if acc is None:
        return f"  {c['id']:22}{c.get('arch', '?')}"
    return (f"{mark} {c['id']:22}{c.get('arch', '?'):5} {acc:9.2%} {c.get('train_seconds', 0):8.1f}  "
            f"{(c.get('data') or {}).get('source', '?')}")


def _ink_line(c: dict, mark: str) -> str:
    m, f = c.get("metrics") or {}, c.get("fusion") or {}
    # The shipped card reports its calibration writers; a trained version, its test set (card's test_set).
    acc = m.get("accuracy", m.get("calibration_accuracy"))
    where = c.get("test_set") or ("calibration writers" if "calibration_accuracy" in m else "?")
    weights = f"{f['w_image']:g}/{f['w_ink']:g}" if "w_image" in f and "w_ink" in f else "-"
    acc_text = f"{acc:9.2%}" if isinstance(acc, (int, float)) else f"{'?':>9}"
    learned = " + learned" if f.get("matrix") else ""  # the (10, 20) correction kept beside the weights
    return f"{mark} {c['id']:22}{c.get('arch', '?'):8} {acc_text} {weights:>9}{learned}  {where}"
