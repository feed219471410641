"""The 1s and 7s people wrote, by how their first stroke begins: image, ink and fused accuracy per flag angle.

    python benchmarks/ink_real_flags.py [--writers held-out|calibration] [--seed 2]

`ink_flags.py` measures synthesised continental 1s; this measures the real ones, and the 7s they are confused
with. Every 1 and 7 of the held-out writers (`realworld.held_out`, both populations) or of the fusion's calibration
writers, as written. A digit "begins with a flag" when its first stroke starts below and left of that stroke's
topmost point, more than 20% of the ink's height away (a continental 1's up-stroke, or a 7's bar drawn rising to its
corner); the angle is that start's direction below the horizontal, seen from the top. "+ stroke": more strokes follow
(a 1's base, a 7's cross or a separate bar). Each digit is drawn on the canvas once (seed) for the image model, read
by the ink model and fused by the ink card, as `ink.py` reads them.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.ink.fuse import default_image_predict, image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from ink_variants import writers_digits  # noqa: E402 (the held-out or the calibration writers' digits)


def start_of(strokes) -> str:
    """How a digit's first stroke begins: "plain", or "flag A-B°" (15° bins), with " + stroke" when more follow."""
    u = synth.unit(strokes)
    s = u[0]
    d = s[0] - s[np.argmin(s[:, 1])]  # from the topmost point to the start; y down
    kind = "plain"
    if d[0] < 0 and d[1] > 0 and np.hypot(*d) > 0.2:
        lo = int(np.degrees(np.arctan2(d[1], -d[0])) // 15 * 15)
        kind = f"flag {lo}-{lo + 15}°"
    return kind + (" + stroke" if len(u) > 1 else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--writers", choices=("held-out", "calibration"), default="held-out")
    ap.add_argument("--seed", type=int, default=2)
    args = ap.parse_args(argv)
    digits = [d for d in writers_digits(args.writers) if d.label in (1, 7)]
    reader, image = InkReader.shipped(), default_image_predict()
    strokes = [d.strokes for d in digits]
    p_img = image_probs_on_canvas(strokes, np.random.default_rng(args.seed), image)
    p_ink = reader.predict(strokes)
    fused = reader.fuse(p_img, p_ink)
    rows = collections.defaultdict(lambda: np.zeros(4))  # (label, start) -> digits, right by image, ink, fused
    misread = collections.Counter()
    for d, a, b, c in zip(digits, p_img.argmax(1), p_ink.argmax(1), fused.argmax(1)):
        key = (d.label, start_of(d.strokes))
        rows[key] += [1, a == d.label, b == d.label, c == d.label]
        if c != d.label:
            misread[(key, d.writer)] += 1
    print(f"Command: `python benchmarks/ink_real_flags.py --writers {args.writers} --seed {args.seed}`\n")
    print("| digit | first stroke begins | digits | image | ink | fused |\n|---:|---|---:|---:|---:|---:|")
    for (label, kind), (n, a, b, c) in sorted(rows.items()):
        print(f"| {label} | {kind} | {int(n)} | {a / n:.1%} | {b / n:.1%} | **{c / n:.1%}** |")
    print("\nFused misreads by writer: " + (", ".join(f"{lab} {kind}: {w} ×{n}" for ((lab, kind), w), n
                                                  in misread.most_common()) or "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
