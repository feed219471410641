"""Several ink nets on the same held-out drawings: ink alone and fused, each against the first, paired over writers.

    python benchmarks/ink_compare.py --ink shipped=models/ink --ink other=/tmp/other/ink [--seed 0] [--per 300]
                                     [--image models/default.tflite] [--fusion-of shipped]

Every held-out digit of both populations (`pen.split_writers`' held-out side of ../shared/data/pen) is drawn once
on the 400x400 canvas for the image model, which reads it once, as benchmarks/ink.py does with `--n 4000`; every
ink net reads the same strokes. Then `--per` digits of each convention of `synth.CONVENTIONS`, made from held-out
writers' digits, the same way. Each net is fused by its own card, or with `--fusion-of NAME` by that net's card (a
net trained on the calibration writers has no fusion of its own to fit).

Each figure comes with its interval over writers (`evaluate.writer_interval`: whole writers resampled), and each
net after the first with its change against the first, paired digit by digit: a lever whose interval includes no
change has not been shown to pay. The tables are printed; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.digits.recognize import LiteFunction  # noqa: E402
from mnist_core.ink.fuse import image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from mnist_core.train.evaluate import writer_interval  # noqa: E402
from ink import convention_drawn  # noqa: E402 (benchmarks/ink.py: the same convention digits)
from realworld import held_out  # noqa: E402 (the held-out writers' digits, as the real-world benchmark reads them)


def named(text: str) -> tuple[str, str]:
    """'name=stem' -> (name, stem); a bare stem is named by its folder."""
    name, _, stem = text.rpartition("=")
    return (name or Path(stem).parent.name or stem), stem


def read_set(strokes, labels, writers, rng, image, readers: dict, fusers: dict) -> dict:
    """One set read by the image model once and by every net: {"y", "w", "image": (N,) bool, name: {"ink", "fused"}}."""
    p_img = image_probs_on_canvas(strokes, rng, image)
    y = np.asarray(labels)
    out = {"y": y, "w": np.asarray(writers), "image": p_img.argmax(1) == y}
    for name, reader in readers.items():
        p_ink = reader.predict(strokes)
        out[name] = {"ink": p_ink.argmax(1) == y, "fused": fusers[name].fuse(p_img, p_ink).argmax(1) == y}
    return out


def population_rows(name: str, r: dict, nets: list[str]) -> list[str]:
    """Markdown rows of one population: each net's ink and fused accuracy, the fused one's interval over writers,
    and its paired change against the first net."""
    first, rows = r[nets[0]]["fused"], []
    for i, net in enumerate(nets):
        fused = r[net]["fused"]
        lo, hi = writer_interval(fused, r["w"])
        change = "-"
        if i:
            d = fused.astype(np.float64) - first
            dlo, dhi = writer_interval(d, r["w"])
            change = (f"{d.mean() * 100:+.2f} ({dlo * 100:+.2f} to {dhi * 100:+.2f}); "
                      f"+{int((d > 0).sum())} −{int((d < 0).sum())}")
        rows.append(f"| {name} | {net} | {r['image'].mean():.2%} | {r[net]['ink'].mean():.2%} | "
                    f"**{fused.mean():.2%}** | {lo:.2%}-{hi:.2%} | {change} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ink", action="append", required=True, metavar="NAME=STEM",
                    help="an ink net's stem (.tflite, .json), named; give two or more, the first is the reference")
    ap.add_argument("--fusion-of", default=None, help="fuse every net by this net's card (default: each its own)")
    ap.add_argument("--image", default=str(ROOT / "models" / "default.tflite"))
    ap.add_argument("--per", type=int, default=300, help="digits per convention (default 300)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sets = held_out()
    if not sets:
        print("skipped: no held-out pen writers (they come from ../shared/data/pen)")
        return 0
    stems = dict(named(x) for x in args.ink)
    readers = {k: InkReader.shipped(v) for k, v in stems.items()}
    if args.fusion_of is not None and args.fusion_of not in readers:
        ap.error(f"--fusion-of names none of the nets: {args.fusion_of}")
    fusers = {k: readers[args.fusion_of or k] for k in readers}
    image = LiteFunction(content=Path(args.image).read_bytes())
    rng, started, nets = np.random.default_rng(args.seed), time.perf_counter(), list(readers)
    lines = ["| held-out writers, every digit | net | image | ink | fused | fused, 95% over writers | "
             "fused against the first, points (95% over writers); digits gained, lost |",
             "|---|---|---:|---:|---:|---:|---|"]
    for name, digits in sets.items():
        pick = [digits[i] for i in rng.permutation(len(digits))]
        r = read_set([d.strokes for d in pick], [d.label for d in pick], [d.writer for d in pick], rng, image,
                     readers, fusers)
        lines += population_rows(f"{name} ({len(pick):,})", r, nets)
    pool = [d for ds in sets.values() for d in ds]
    lines += ["", "| convention (synthesised on held-out writers' digits), fused | digits | "
              + " | ".join(nets) + " |", "|---|---:|" + "---:|" * len(nets)]
    for c in synth.CONVENTIONS:
        strokes, pick = convention_drawn(c, pool, args.per, rng)
        r = read_set(strokes, [c.label] * len(pick), [d.writer for d in pick], rng, image, readers, fusers)
        lines.append(f"| {c.name} | {len(pick):,} | " + " | ".join(f"{r[n]['fused'].mean():.2%}" for n in nets) + " |")
    fusion = "each net's own card" if args.fusion_of is None else f"the card of {args.fusion_of}"
    print(f"Command: `python benchmarks/ink_compare.py {' '.join('--ink ' + x for x in args.ink)} --seed {args.seed} "
          f"--per {args.per}" + (f" --fusion-of {args.fusion_of}" if args.fusion_of else "")
          + f"` ({(time.perf_counter() - started) / 60:.1f} min). Fused by {fusion}.\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
