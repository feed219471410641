"""Where the continental 1 is lost: image, ink and fused accuracy by the generator's flag angle and length.

    python benchmarks/ink_flags.py [--n 1500] [--seed 3] [--writers held-out|calibration]

The 1s of held-out writers (`realworld.held_out`, both populations) or of the fusion's calibration writers
(`ink.fit.is_calibration`) are redrawn as continental 1s without a base (`synth.continental_one`), recording the
flag's length (fraction of the height) and angle below the horizontal that the generator drew; each is read by the
shipped image model on the canvas, by the ink model, and fused by the ink card. Prints the accuracy per flag-angle
and flag-length bin and each fused misread with both models' odds of 1 and 7.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.digits.recognize import LiteFunction  # noqa: E402
from mnist_core.ink.fuse import image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from ink_variants import writers_digits  # noqa: E402 (the held-out or the calibration writers' digits)


class Recorded:
    """A numpy Generator that keeps the values its `uniform` gave (the flag's length, then its angle)."""

    def __init__(self, rng: np.random.Generator):
        self.rng, self.drawn = rng, []

    def uniform(self, *a, **k):
        v = self.rng.uniform(*a, **k)
        self.drawn.append(float(v))
        return v

    def __getattr__(self, name):
        return getattr(self.rng, name)


def ones(writers: str) -> list:
    """The 1s of the held-out or of the calibration writers."""
    return [d for d in writers_digits(writers) if d.label == 1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--writers", choices=("held-out", "calibration"), default="held-out")
    args = ap.parse_args(argv)
    src = ones(args.writers)
    if not src:
        print("no pen data in ../shared/data/pen; nothing to measure", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    strokes, flags = [], []
    for i in rng.integers(0, len(src), args.n):
        r = Recorded(rng)
        strokes.append(synth.continental_one(src[int(i)].strokes, r))
        flags.append(r.drawn[:2])  # (length, angle)
    flags = np.array(flags)
    reader = InkReader.shipped()
    image = LiteFunction(content=(ROOT / "models" / "default.tflite").read_bytes())
    p_ink = reader.predict(strokes)
    p_img = image_probs_on_canvas(strokes, rng, image)
    p_fus = reader.fuse(p_img, p_ink)
    right = {k: p.argmax(1) == 1 for k, p in (("image", p_img), ("ink", p_ink), ("fused", p_fus))}
    print(f"{args.writers} writers' 1s, {args.n} continental 1s without a base (seed {args.seed}): "
          + ", ".join(f"{k} {v.mean():.2%}" for k, v in right.items()))
    for col, name, edges in ((1, "angle (deg)", (20, 25, 30, 40, 50, 60.01)), (0, "length", (0.2, 0.3, 0.4, 0.5, 0.551))):
        for lo, hi in zip(edges[:-1], edges[1:]):
            m = (flags[:, col] >= lo) & (flags[:, col] < hi)
            print(f"  {name} {lo:g}-{hi:.4g}: {int(m.sum())} digits, "
                  + ", ".join(f"{k} {v[m].mean():.1%}" for k, v in right.items()))
    for j in np.flatnonzero(~right["fused"]):
        print(f"  misread as {int(p_fus[j].argmax())}: flag {flags[j, 0]:.2f} of the height at {flags[j, 1]:.1f} deg; "
              f"ink p(1) {p_ink[j, 1]:.2f} p(7) {p_ink[j, 7]:.2f}; image p(1) {p_img[j, 1]:.2f} p(7) {p_img[j, 7]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
