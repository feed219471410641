"""Levers at reading time, no retraining: seed ensembles, test-time variants, the canvas's size box. Each is
scored on every digit of the held-out pen writers drawn on the canvas (not realworld.py's sample of 1,500), a
few draws each, so that differences of 0.1-0.2 point are not one draw's luck; USPS and MNIST beside them.

    python benchmarks/reading_levers.py [--draws 2] [--model A.keras --model B.keras ...]

--model: models to compare as they are (an ensemble made by `python -m mnist_core combine` is one model);
the first one also gets the test-time variants and the box sizes. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import realworld as rw  # noqa: E402

from mnist_core.train import pen  # noqa: E402
from mnist_core import digits as pp  # noqa: E402


def _warp(x: np.ndarray, sx: float = 1.0, sy: float = 1.0, rot: float = 0.0, shear: float = 0.0) -> np.ndarray:
    """(N, 28, 28) digits scaled across by sx, down by sy, turned `rot` degrees and slanted by `shear` (columns per
    row: the top to the right for a shear above 0) about the image centre."""
    m = cv2.getRotationMatrix2D((13.5, 13.5), rot, 1.0)
    m[:, :2] = m[:, :2] @ np.diag([sx, sy]) @ np.array([[1.0, -shear], [0.0, 1.0]])
    m[:, 2] = 13.5 - m[:, :2] @ np.array([13.5, 13.5])
    return np.stack([cv2.warpAffine(i, m, (28, 28), flags=cv2.INTER_LINEAR) for i in x])


# Test-time variants: each digit is read as drawn and as these; the answer is the mean of the probabilities.
VARIANTS = {
    "narrower 0.85": lambda x: _warp(x, 0.85),
    "wider 1.15": lambda x: _warp(x, 1.15),
    "turned +8°": lambda x: _warp(x, rot=8),
    "turned -8°": lambda x: _warp(x, rot=-8),
    "smaller 0.9": lambda x: _warp(x, 0.9, 0.9),
    "larger 1.1": lambda x: _warp(x, 1.1, 1.1),
    "slanted +0.15": lambda x: _warp(x, shear=0.15),
    "slanted -0.15": lambda x: _warp(x, shear=-0.15),
    "bolder": lambda x: np.stack([cv2.dilate(i, np.ones((2, 2), np.uint8)) for i in x]),
}
TTA = {
    "+ narrower, wider": ["narrower 0.85", "wider 1.15"],
    "+ turned ±8°": ["turned +8°", "turned -8°"],
    "+ smaller, larger": ["smaller 0.9", "larger 1.1"],
    "+ slanted ±0.15": ["slanted +0.15", "slanted -0.15"],
    "+ all seven": [v for v in VARIANTS if not v.startswith("slanted")],
    "+ all nine": list(VARIANTS),
}
BOXES = (16, 18, 20)  # the canvas path's size box (20: MNIST's, the default)


def _stack(digits: list) -> np.ndarray:
    return np.stack([d if d is not None else np.zeros((28, 28), np.float32) for d in digits]).astype(np.float32)


def build(draws: int) -> dict:
    """Set name -> (layers or None, x (N, 28, 28), y (N,)); pen sets keep their canvas layers for the box sizes."""
    sets = {}
    for name, digits in rw.held_out().items():
        layers, ys = [], []
        for rep in range(draws):
            rng = np.random.default_rng(100 + rep)
            layers += [pen.draw_layer(d.strokes, rng) for d in digits]
            ys += [d.label for d in digits]
        found = [pp.canvas_to_mnist([la]) for la in layers]
        pieces = collections.Counter(y for y, f in zip(ys, found) if len(f) > 1)
        print(f"{name}: {sum(pieces.values())} of {len(found):,} drawn digits found as two or more "
              f"(by label: {dict(sorted(pieces.items()))})", file=sys.stderr)
        x = _stack([rw._first(f) for f in found])
        sets[f"canvas: {name} held-out writers, all {len(digits):,} x {draws}"] = (layers, x, np.array(ys))
    usps = rw.DATA / "usps.npz"
    if usps.is_file():
        with np.load(usps) as u:
            sets["USPS (all 9,298)"] = (None, _stack([rw._first(pp.photo_to_mnist(i)) for i in u["images"]]),
                                        u["labels"].astype(int))
    mnist = rw.DATA / "mnist.npz"
    if mnist.is_file():
        with np.load(mnist) as f:
            sets["MNIST test (10,000)"] = (None, f["x_test"].astype(np.float32) / 255, f["y_test"].astype(int))
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=2, help="times each pen digit is drawn (default 2)")
    ap.add_argument("--model", action="append", default=[], help="a .keras or .tflite model (repeatable); "
                                                                   "default models/default.keras")
    args = ap.parse_args(argv)
    paths = args.model or [str(ROOT / "models" / "default.keras")]
    predicts = {p: rw.load_model(p) for p in paths}
    first = predicts[paths[0]]
    sets = build(args.draws)
    columns: dict[str, dict[str, float]] = {}
    for name, (layers, x, y) in sets.items():
        for p, predict in predicts.items():
            columns.setdefault(Path(p).parent.name + "/" + Path(p).name, {})[name] = float(
                (predict(x[..., None]).argmax(1) == y).mean())
        probs = {"as drawn": first(x[..., None])}
        probs.update({v: first(f(x)[..., None]) for v, f in VARIANTS.items()})
        for label, extra in TTA.items():
            mean = np.mean([probs["as drawn"], *(probs[v] for v in extra)], axis=0)
            columns.setdefault(f"first model {label}", {})[name] = float((mean.argmax(1) == y).mean())
        for box in BOXES if layers is not None else ():
            s = dataclasses.replace(pp.PreprocessSettings(), box=box)
            xb = _stack([rw._first(pp.canvas_to_mnist([la], settings=s)) for la in layers])
            columns.setdefault(f"first model, canvas box {box}", {})[name] = float(
                (first(xb[..., None]).argmax(1) == y).mean())
        print(f"{name}: done", file=sys.stderr)
    names = list(sets)
    print("| reading | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, accs in columns.items():
        print(f"| {label} | " + " | ".join(f"{accs[n]:.2%}" if n in accs else "-" for n in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
