"""A collection the ink net never saw: the shipped recipe trained without some sources, read on their held-out writers.

    python benchmarks/ink_labs.py --leave-out ced,uqb,val [--seed 1] [--epochs 40] [--draw-seed 2] [--model STEM]

Every held-out writer of ../shared/data/pen comes from a collection (pendigits, or one of UNIPEN's labs) whose other
writers the ink net trained on; the issue's new populations come from collections it never saw. This trains the
shipped recipe (`ink.fit.train_ink`) with the training writers of the `--leave-out` sources (UNIPEN lab codes,
"pendigits") left out, or reads a net so trained (`--model STEM`: its .tflite), then reads every held-out digit with
the shipped ink net and with that one, each alone and fused with the shipped image model by the shipped card's
fusion (the image model did train on those sources' writers: the fused columns are the ink net's part of the cost).
A second training of the whole recipe with another seed (`--leave-out none --seed 2`) tells the spread between two
trainings apart from what the collection costs. Prints a Markdown table; the net is written to --out.
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

from mnist_core.ink import fit  # noqa: E402
from mnist_core.ink.fuse import default_image_predict, image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def left_out_net(args, leave_out: tuple[str, ...], shipped: InkReader, all_train: list) -> InkReader:
    """The ink net trained without `leave_out` (trained here, or read from --model), with the shipped card;
    `all_train`: the recipe's training digits of every source (`fit.training_writers()[0]`)."""
    stem = Path(args.model) if args.model else Path(args.out)
    if not args.model:
        s = fit.InkTrainSettings(seed=args.seed, epochs=args.epochs, leave_out=leave_out)
        train = [d for d in all_train if d.source not in leave_out]  # what train_ink will train on
        log(f"training on {len(train):,} digits of {len({d.writer for d in train})} writers, "
            f"without {', '.join(leave_out) or 'none'}")
        model, history, metrics = fit.train_ink(s, progress=lambda p: log(
            f"epoch {p['epoch']}/{p['epochs']}: loss {p['loss']:.4f}, calibration writers {p['val_accuracy']:.2%}"))
        fit.save_shipped(model, s, history, metrics, stem)
        log(f"saved {stem}.keras/.tflite/.json")
    return InkReader(stem.with_suffix(".tflite").read_bytes(), card=shipped.card)


def groups_of(digits, leave_out: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Row name -> mask over `digits`: the left-out sources' writers, the other UNIPEN labs, pendigits, all UNIPEN."""
    src = np.array([d.source for d in digits])
    out_mask = np.isin(src, list(leave_out))
    unipen = src != "pendigits"
    rows = {}
    if leave_out:
        rows[f"left out: {'+'.join(leave_out)}"] = out_mask
    labs_out = bool((out_mask & unipen).any())  # a UNIPEN lab among the left-out sources
    rows["UNIPEN, the other labs" if labs_out else "UNIPEN"] = unipen & ~out_mask
    if "pendigits" not in leave_out:
        rows["pendigits"] = ~unipen
    if labs_out:
        rows["UNIPEN, all"] = unipen
    return rows


def table(digits, p_img, readers: dict[str, InkReader], leave_out: tuple[str, ...]) -> list[str]:
    """Markdown rows: each group's image, ink and fused accuracy for each ink net."""
    y = np.array([d.label for d in digits])
    strokes = [d.strokes for d in digits]
    ink = {n: r.predict(strokes) for n, r in readers.items()}
    fused = {n: readers[n].fuse(p_img, ink[n]) for n in readers}
    names = list(readers)
    lines = ["| held-out writers | digits | image | " + " | ".join(f"ink: {n}" for n in names) + " | "
             + " | ".join(f"fused: {n}" for n in names) + " |", "|---|---:|---:|" + "---:|" * (2 * len(names))]
    for g, m in groups_of(digits, leave_out).items():
        acc = lambda p: f"{(p[m].argmax(1) == y[m]).mean():.2%}"  # noqa: E731
        lines.append(f"| {g} | {int(m.sum()):,} | {acc(p_img)} | " + " | ".join(acc(ink[n]) for n in names)
                     + " | " + " | ".join(f"**{acc(fused[n])}**" for n in names) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leave-out", required=True, help="comma-separated sources (UNIPEN lab codes, 'pendigits'), "
                    "or 'none' (the whole recipe again: the spread between trainings)")
    ap.add_argument("--seed", type=int, default=1, help="the training's seed (the shipped net's: 1)")
    ap.add_argument("--epochs", type=int, default=fit.InkTrainSettings.epochs)
    ap.add_argument("--draw-seed", type=int, default=2, help="the canvas draw of the held-out digits")
    ap.add_argument("--model", default=None, help="an ink net's stem already trained so (skips the training)")
    ap.add_argument("--out", default="/tmp/ink_labs/ink", help="where the trained net is written (<stem>.*)")
    args = ap.parse_args(argv)
    from realworld import held_out

    sets = held_out()
    if not sets:
        print("no pen data in ../shared/data/pen; nothing to measure", file=sys.stderr)
        return 2
    leave_out = fit.sources(args.leave_out)
    all_train = fit.training_writers()[0]
    known = {d.source for d in all_train}
    if set(leave_out) - known:  # a misspelt lab would leave nothing out
        print(f"no training writers from {sorted(set(leave_out) - known)}; sources: {sorted(known)}", file=sys.stderr)
        return 2
    shipped = InkReader.shipped()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    other = left_out_net(args, leave_out, shipped, all_train)
    digits = [d for ds in sets.values() for d in ds]
    p_img = image_probs_on_canvas([d.strokes for d in digits], np.random.default_rng(args.draw_seed),
                                  default_image_predict())
    label = f"without {'+'.join(leave_out)}" if leave_out else f"seed {args.seed}"
    print(f"Command: `python benchmarks/ink_labs.py --leave-out {args.leave_out} --seed {args.seed} "
          f"--epochs {args.epochs} --draw-seed {args.draw_seed}`\n")
    print("\n".join(table(digits, p_img, {"shipped": shipped, label: other}, leave_out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
