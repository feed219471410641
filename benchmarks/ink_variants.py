"""Past the generators' ranges: shapes the convention generators never draw, read by image, ink and fused.

    python benchmarks/ink_variants.py [--per 300] [--seed 5] [--writers calibration|held-out] [--ink STEM] [--only TEXT]

The conventions the ink net was taught (`synth.CONVENTIONS`) have ranges: a slash at most 15% past the ring, a flag
20-60 degrees below the horizontal, straight segments in a 4. A population not seen writes past them. Each variant
here is made from the digits of its label of the fusion's calibration writers (default; `ink.fit.is_calibration`)
or of the held-out writers (`realworld.held_out`), never taught, and read by the shipped image model on the canvas,
by the ink model (`InkReader.predict`) and fused by the ink card. Prints a Markdown table with each variant's fused
misreads.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.ink.fuse import default_image_predict, image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402


def rounded(stroke: np.ndarray, times: int) -> np.ndarray:
    """A stroke's corners cut `times` times (Chaikin: each segment's quarter points), its ends kept."""
    s = np.asarray(stroke, float)
    for _ in range(times):
        q, p = 0.75 * s[:-1] + 0.25 * s[1:], 0.25 * s[:-1] + 0.75 * s[1:]
        s = np.concatenate([s[:1], np.stack([q, p], 1).reshape(-1, 2), s[-1:]])
    return s


def _slash(strokes, rng, past: tuple[float, float], steep: bool) -> list[np.ndarray]:
    """The writer's 0 and a slash `past` (fraction of the height) beyond the ring; `steep`: nearly vertical."""
    u = synth.unit(strokes)
    (x0, y0), (x1, y1) = np.concatenate(u).min(0), np.concatenate(u).max(0)
    e = rng.uniform(*past, 2)
    if steep:
        xc = (x0 + x1) / 2
        a, b = np.array([xc + 0.12, y0 - e[0]]), np.array([xc - 0.12, y1 + e[1]])
    else:
        a, b = np.array([x1 + e[0] * 0.6, y0 - e[0]]), np.array([x0 - e[1] * 0.6, y1 + e[1]])
    s = synth._line(a, b, 10)
    return synth.unit(u + [s if rng.random() < 0.5 else s[::-1]])


def flat_top_three(strokes, rng) -> list[np.ndarray]:
    """The writer's 3 with its upper bowl replaced by a flat top (as in Ʒ): a bar drawn left to right from where the
    3 begins, then a straight diagonal down to the waist, then the writer's own lower bowl; other strokes kept."""
    u = synth.unit(strokes)
    k = synth._longest(u)
    s = u[k]
    first = s[: max(2, int(len(s) * 0.75))]  # (K, 2) in the unit box (height 1): the waist lies in this part
    band = (first[:, 1] > 0.3) & (first[:, 1] < 0.65) & (np.arange(len(first)) > len(first) // 5)
    if not band.any():
        return u
    w = int(np.flatnonzero(band)[np.argmin(first[band, 0])])  # the waist: leftmost in the middle band
    top = float(first[:w + 1, 1].min()) + rng.uniform(0, 0.05)
    right = float(first[:w + 1, 0].max()) * rng.uniform(0.85, 1.05)
    tilt = np.tan(np.deg2rad(rng.uniform(-6, 6))) * (right - s[0, 0])
    bar = synth._line((s[0, 0], top), (right, top - tilt), 8, bow=rng.uniform(-0.03, 0.03))
    diagonal = synth._line(bar[-1], s[w], 8)
    u[k] = np.concatenate([bar, diagonal[1:], s[w + 1:]])
    return synth.unit(u)


VARIANTS = {  # name: (label, make(strokes, rng) -> strokes)
    "4 open in one stroke, corners rounded twice": (4, lambda s, g: [rounded(x, 2) for x in synth.four_open_one(s, g)]),
    "4 open in one stroke, corners rounded four times": (
        4, lambda s, g: [rounded(x, 4) for x in synth.four_open_one(s, g)]),
    "4 closed in one stroke, corners rounded three times": (
        4, lambda s, g: [rounded(x, 3) for x in synth.four_closed_one(s, g)]),
    "4 open in one stroke, stopped at 75-90% of its path": (
        4, lambda s, g: [x[: int(len(x) * g.uniform(0.75, 0.9))] for x in synth.four_open_one(s, g)]),
    "slashed 0, the slash 15-35% past the ring": (0, lambda s, g: _slash(s, g, (0.15, 0.35), steep=False)),
    "slashed 0, the slash drawn first": (0, lambda s, g: (lambda u: [u[-1]] + u[:-1])(synth.slashed_zero(s, g))),
    "0 with a near-vertical slash": (0, lambda s, g: _slash(s, g, (0.05, 0.1), steep=True)),
    "1 with a base, flag 10-20 degrees": (1, lambda s, g: synth.flagged_one(s, g, (0.15, 0.4), (10, 20), base=1.0)),
    "continental 1, flag 10-20 degrees": (1, synth.flat_flagged_one),
    "crossed 7 in one stroke (looped back up from the foot)": (7, synth.crossed_seven_looped),
    "3 with a flat top (Ʒ)": (3, flat_top_three),
    "1 with a flag and a base in one stroke": (1, synth.one_stroke_base_one),
    "1 with a hooked foot": (1, synth.hooked_foot),
    "7 with a hooked foot": (7, synth.hooked_foot),
}


def writers_digits(writers: str) -> list:
    """The pen digits of the calibration or of the held-out writers."""
    if writers == "calibration":
        from mnist_core.ink.fit import training_writers

        return list(training_writers()[1])
    from realworld import held_out

    return [d for ds in held_out().values() for d in ds]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per", type=int, default=300, help="digits per variant (default 300)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--writers", choices=("calibration", "held-out"), default="calibration")
    ap.add_argument("--ink", default=None, help="an ink model's stem (.tflite, .json, checked against its .keras "
                    "where there is one; default: the shipped one)")
    ap.add_argument("--only", default="", help="only the variants whose name contains this")
    args = ap.parse_args(argv)
    digits, rng = writers_digits(args.writers), np.random.default_rng(args.seed)
    reader = InkReader.shipped(args.ink) if args.ink else InkReader.shipped()
    image = default_image_predict()
    print(f"Command: `python benchmarks/ink_variants.py --per {args.per} --seed {args.seed} --writers {args.writers}`\n")
    print("| variant (never taught) | digits | image | ink | fused | fused's misreads |\n|---|---:|---:|---:|---:|---|")
    for name, (label, make) in VARIANTS.items():
        if args.only not in name:
            continue
        pool = [d for d in digits if d.label == label]
        inks = [make(pool[int(i)].strokes, rng) for i in rng.integers(0, len(pool), args.per)]
        p_img = image_probs_on_canvas(inks, rng, image)
        p_ink = reader.predict(inks)
        fused = reader.fuse(p_img, p_ink).argmax(1)
        acc = lambda p: f"{(p.argmax(1) == label).mean():.2%}"  # noqa: E731
        wrong = Counter(int(v) for v in fused[fused != label]).most_common(3)
        print(f"| {name} | {args.per} | {acc(p_img)} | {acc(p_ink)} | **{(fused == label).mean():.2%}** | "
              + (", ".join(f"{label}→{v} ×{n}" for v, n in wrong) or "-") + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
