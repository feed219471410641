"""The held-out pen writers' digits as the studio's canvas gives them: a test set that no model here trained on,
shipped with the project (``mnist_core/assets/pen_test.npz``), so that a figure can be fair offline too.

The pen files (UCI pendigits, UNIPEN; ../shared/data/pen on development machines) are split by whole writers with a
fixed hash of the writer's name (`pen.split_writers`): the shipped model and every training here use the training
writers only (``pen_train.npz``); the held-out third (133 writers, 5,963 digits) is drawn here once each as a person
draws it on the studio's 400x400 canvas (`pen.draw_layer`: 90-340 px tall anywhere on it, a 6, 12 or 20 px brush,
a fixed seed) and read by `canvas_to_mnist`, the digit the model would be shown kept as 28x28 uint8. The images are
kept, not the strokes, so the set stays the same however the canvas path changes later (and the ink net, which
reads strokes, cannot train on it by mistake). No MNIST digit is in it.

    python -m mnist_core.train.heldout [--out mnist_core/assets/pen_test.npz]   # development machines only
    python -m mnist_core.train.heldout --score models/default.tflite   # its card (.json beside it) gets the figure
"""

from __future__ import annotations

import argparse
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from mnist_core.config import PROJECT_ROOT

PEN_TEST = PROJECT_ROOT / "mnist_core" / "assets" / "pen_test.npz"
# How the images were made, written into the file and shown in cards.
HOW = ("the held-out third of the UCI pendigits and UNIPEN writers (whole writers, pen.is_held_out), each digit drawn "
       "once on the 400x400 canvas (90-340 px, brush 6/12/20, seed {seed}) and read by canvas_to_mnist; CC BY 4.0")


@lru_cache(maxsize=2)
def _load(path: str, stamp: float) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    with np.load(path, allow_pickle=False) as f:
        x, y = f["images"], f["labels"]
        writers = tuple(str(w) for w in f["writers"][f["writer"]])
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8 or len(x) != len(y) or len(writers) != len(y):
        raise ValueError(f"{path}: not a pen test set ((N, 28, 28) uint8 images, N labels and writers)")
    return x, y, writers


def load_pen_test(path: str | os.PathLike = PEN_TEST) -> tuple[np.ndarray, np.ndarray] | None:
    """The held-out pen writers' digits: x (N, 28, 28) uint8 ink 255, y (N,) uint8; None if the file is missing."""
    got = pen_test_with_writers(path)
    return None if got is None else got[:2]


def pen_test_with_writers(path: str | os.PathLike = PEN_TEST):
    """(x, y, each digit's writer) of the held-out pen test set, or None without the file (read once, cached)."""
    p = Path(path)
    if not p.is_file():
        return None
    return _load(str(p), p.stat().st_mtime)


def pen_test_size(path: str | os.PathLike = PEN_TEST) -> int:
    """How many digits the shipped held-out pen set holds (0 without the file), read without the images."""
    p = Path(path)
    if not p.is_file():
        return 0
    with np.load(p, allow_pickle=False) as f:
        return int(len(f["labels"]))


def build_pen_test(pen_folder: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of pen_test.npz from the shared pen files (development machines): every held-out writer's digit
    drawn once on the canvas and read by canvas_to_mnist (a digit the segmenter finds nothing in is left out)."""
    from mnist_core.digits import canvas_to_mnist, most_prominent  # noqa: PLC0415
    from mnist_core.train import pen  # noqa: PLC0415

    digits = []
    for name in ("pendigits_dev.json.gz", "unipen_dev.json.gz"):
        digits += pen.split_writers(pen.load_pen(pen_folder / name))[1]
    if not digits:
        raise ValueError(f"{pen_folder}: no held-out pen digits")
    rng = np.random.default_rng(seed)
    images, labels, kept = [], [], []
    for d in digits:
        got = canvas_to_mnist([pen.draw_layer(d.strokes, rng)])
        i = most_prominent(got)
        if i is None:
            continue
        images.append((np.clip(got[i].image, 0, 1) * 255 + 0.5).astype(np.uint8))
        labels.append(d.label)
        kept.append(d)
    writers = sorted({d.writer for d in kept})
    sources = sorted({d.source for d in kept})
    return {
        "images": np.stack(images),
        "labels": np.array(labels, np.uint8),
        "writer": np.array([writers.index(d.writer) for d in kept], np.uint16),
        "source": np.array([sources.index(d.source) for d in kept], np.uint8),
        "writers": np.array(writers),
        "sources": np.array(sources),
        "how": np.array(HOW.format(seed=seed)),
    }


def score_card(lite: Path) -> dict:
    """Measure a model's checked TF Lite copy (through LiteRT) on the held-out pen set and write the figure into
    its card (the .json beside it): "tests" gets it, and "metrics" names its own test set if it did not. The card."""
    import json  # noqa: PLC0415

    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.train.data import MNIST_TEST, PEN_HELD_OUT, name_of_test_set  # noqa: PLC0415
    from mnist_core.train.evaluate import evaluate  # noqa: PLC0415

    test = load_pen_test()
    if test is None:
        raise FileNotFoundError(f"{PEN_TEST}: missing")
    card_path = lite.with_suffix(".json")
    card = json.loads(card_path.read_text())
    m = evaluate(Recognizer.from_lite(lite.read_bytes()).predict, *test, worst=0)
    metrics = card.get("metrics") or {}
    if "test_set" not in metrics and not (card.get("data") or {}).get("subset") and metrics.get("count"):
        metrics["test_set"] = {"key": MNIST_TEST, "name": name_of_test_set(MNIST_TEST, metrics["count"]),
                               "count": metrics["count"]}
    card["tests"] = {**(card.get("tests") or {}), PEN_HELD_OUT: {
        "name": name_of_test_set(PEN_HELD_OUT, m["count"]), "count": m["count"], "accuracy": m["accuracy"],
        "errors": m["errors"], "how": f"its TF Lite copy on {PEN_TEST.name}, never trained on (its card's pen digits "
                                      "are the training writers' alone)"}}
    card_path.write_text(json.dumps(card, indent=2))
    return card


def main(argv: list[str] | None = None) -> int:
    """Write the shipped held-out pen test set from ../shared/data/pen, or score a model's card on it."""
    from mnist_core.train.pen import SHARED  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pen", type=Path, default=SHARED, help="folder of the shared pen files")
    ap.add_argument("--out", type=Path, default=PEN_TEST)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--score", type=Path, help="a model's .tflite: write its figure on the set into its card")
    args = ap.parse_args(argv)
    if args.score:
        t = score_card(args.score)["tests"]["pen_held_out"]
        print(f"{args.score}: {t['accuracy']:.2%} on {t['name']} ({t['errors']} errors)")
        return 0
    arrays = build_pen_test(args.pen, args.seed)
    np.savez_compressed(args.out, **arrays)
    print(f"{args.out}: {len(arrays['labels']):,} digits by {len(arrays['writers'])} held-out writers, "
          f"{args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
