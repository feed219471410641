"""Pen devices not seen: the writers' digits as other tablets and pointers would record them, read by image, ink, fused.

    python benchmarks/ink_devices.py [--writers calibration|held-out] [--seed 3]

The training writers' inks come from two collections' tablets; a new population brings its own device: hooks where
the pen lands and lifts, coarser or noisier coordinates, fewer points a second (a slow pointer or a fast hand), a
stray dot. Each condition is applied to every digit of the fusion's calibration writers (default; the ink net never
trained on them) or of the held-out writers, drawn on the canvas for the image model, read by the ink model and
fused by the ink card (as `ink_variants.py` reads its shapes). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.ink.fuse import default_image_predict, image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from ink_variants import writers_digits  # noqa: E402


def hooks(strokes, rng, size: tuple[float, float], ends: tuple[bool, bool] = (True, True)) -> list[np.ndarray]:
    """Each stroke with a short hook (`size`: its length, a fraction of the ink's side) at its start and end, in a
    random direction, 70% of the time each: the pen sliding as it lands and lifts."""
    out = []
    for s in synth.unit(strokes):
        s = np.asarray(s, float)
        for at_start, wanted in zip((True, False), ends):
            if not wanted or len(s) < 2 or rng.random() >= 0.7:
                continue
            a, length = rng.uniform(0, 2 * np.pi), rng.uniform(*size)
            end = s[0] if at_start else s[-1]
            h = synth._line(end + length * np.array([np.cos(a), np.sin(a)]), end, 3)
            s = np.concatenate([h[:-1], s]) if at_start else np.concatenate([s, h[::-1][1:]])
        out.append(s)
    return out


def sparse(strokes, k: int) -> list[np.ndarray]:
    """Every k-th point kept (both ends of a short stroke): a device sampling k times less often."""
    return [np.asarray(s, float)[::k] if len(s) > 2 * k else np.asarray(s, float)[[0, -1]] for s in synth.unit(strokes)]


def stray_dot(strokes, rng) -> list[np.ndarray]:
    """The strokes and a last one of two points 0.001 apart somewhere in the ink's box: the pen touching down."""
    u = synth.unit(strokes)
    p = rng.uniform(0, 1, 2) * np.concatenate(u).max(0)
    return u + [np.array([p, p + 1e-3])]


CONDITIONS = {  # name: (strokes, rng) -> strokes
    "as written": lambda u, g: synth.unit(u),
    "hooks 3-8% at both ends": lambda u, g: hooks(u, g, (0.03, 0.08)),
    "hooks 8-15% at both ends": lambda u, g: hooks(u, g, (0.08, 0.15)),
    "hooks 8-15% where the pen lands": lambda u, g: hooks(u, g, (0.08, 0.15), (True, False)),
    "every 2nd point": lambda u, g: sparse(u, 2),
    "every 3rd point": lambda u, g: sparse(u, 3),
    "coordinates on a grid of 1/20 of the side": lambda u, g: [np.round(np.asarray(s, float) * 20) / 20
                                                                for s in synth.unit(u)],
    "noise 1% of the side": lambda u, g: [np.asarray(s, float) + g.normal(0, 0.01, np.shape(s)) for s in synth.unit(u)],
    "noise 2% of the side": lambda u, g: [np.asarray(s, float) + g.normal(0, 0.02, np.shape(s)) for s in synth.unit(u)],
    "a stray dot": lambda u, g: stray_dot(u, g),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--writers", choices=("calibration", "held-out"), default="calibration")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    digits = writers_digits(args.writers)
    y = np.array([d.label for d in digits])
    reader, image = InkReader.shipped(), default_image_predict()
    points = np.median([sum(len(s) for s in d.strokes) for d in digits])
    print(f"Command: `python benchmarks/ink_devices.py --writers {args.writers} --seed {args.seed}` "
          f"({len(digits):,} digits, median {points:.0f} points a digit as written)\n")
    print("| device condition | image | ink | fused |\n|---|---:|---:|---:|")
    for name, make in CONDITIONS.items():
        rng = np.random.default_rng(args.seed)
        inks = [make(d.strokes, rng) for d in digits]
        p_img = image_probs_on_canvas(inks, np.random.default_rng(2), image)
        p_ink = reader.predict(inks)
        fused = reader.fuse(p_img, p_ink)
        acc = lambda p: f"{(p.argmax(1) == y).mean():.2%}"  # noqa: E731
        print(f"| {name} | {acc(p_img)} | {acc(p_ink)} | **{acc(fused)}** |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
