"""A writer who crosses their 7s: each digit read alone, and read with its writer's other digits (ink.hand).

    python benchmarks/ink_hand.py [--writers calibration|held-out] [--per 5] [--seed 1]

Continental writers are made from real ones: each writer's 7s crossed (90% with a separate bar, 10% in one looped
stroke: `synth.crossed_seven`, `crossed_seven_looped`) and their 1s continental, a third each without a base with a
flag of 20-60° (as taught), without a base with a flag of 10-20° (flatter than taught: a 7's bar in shape), and with
a base; their other digits as written. `--per 5` keeps at most five digits of each label per writer (the issue's
continental population wrote each digit five times); 0 keeps all. Then the same writers as written (the hand must
cost them nothing), and as written with every writer's digits taken for one writer's (a file of many writers read
as one). Each digit is drawn on the canvas once for the image model, read by the ink model and fused by the ink card,
as `ink.py` reads them; then `hand.by_writer` reads each writer's digits together, and `hand.PageHand` reads them
as the page does: one after another, each with the hand of the digits drawn before it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.ink import hand  # noqa: E402
from mnist_core.ink.fuse import default_image_predict, image_probs_on_canvas  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from ink_variants import writers_digits  # noqa: E402 (the held-out or the calibration writers' digits)

ONES = (("1 continental, flag 20-60°", synth.continental_one),
        ("1 continental, flag 10-20°", synth.flat_flagged_one),
        ("1 continental with a base", synth.continental_one_base))


def subsample(digits, per: int, rng: np.random.Generator) -> list:
    """At most `per` digits of each (writer, label) (0: all), in their order."""
    if not per:
        return list(digits)
    seen: dict = {}
    keep = []
    for i in rng.permutation(len(digits)):
        key = (digits[i].writer, digits[i].label)
        if seen.get(key, 0) < per:
            seen[key] = seen.get(key, 0) + 1
            keep.append(i)
    return [digits[i] for i in sorted(keep)]


def continental(digits, rng: np.random.Generator) -> tuple[list, list]:
    """(strokes, kind) of each digit, its writer made continental (see the module doc)."""
    strokes, kinds = [], []
    for d in digits:
        s, kind = d.strokes, "as written"
        if d.label == 7:
            looped = rng.random() < 0.1
            s = (synth.crossed_seven_looped if looped else synth.crossed_seven)(s, rng)
            kind = "7 crossed in one stroke" if looped else "7 crossed"
        elif d.label == 1:
            kind, make = ONES[rng.integers(len(ONES))]
            s = make(s, rng)
        strokes.append(s)
        kinds.append(kind if d.label in (1, 7) else "other digits, as written")
    return strokes, kinds


def read(strokes, rng, reader, image) -> tuple[np.ndarray, np.ndarray]:
    """(fused, ink) (N, 10), each digit drawn on the canvas once for the image model."""
    p_ink = reader.predict(strokes)
    return reader.fuse(image_probs_on_canvas(strokes, rng, image), p_ink), p_ink


def on_a_page(fused, p_ink, bars, writers, rng: np.random.Generator) -> np.ndarray:
    """(N, 10) answers as the page gives them: each writer's digits drawn one after another in a random order on a
    page of their own (ink.hand.PageHand: a digit is read with the hand of the drawings finished before it)."""
    out = np.array(fused, np.float64)
    by: dict = {}
    for i, w in enumerate(writers):
        by.setdefault(w, []).append(i)
    for idx in by.values():
        page = hand.PageHand()
        for n, i in enumerate(rng.permutation(idx)):
            strokes = [np.array([[n, 0.0], [n, 1.0]])]  # a new drawing each time (only its signature matters)
            out[i] = page.read(strokes, fused[i:i + 1], p_ink[i:i + 1], [bars[i]])[0][0]
    return out


def table(title: str, labels, kinds, fused, with_hand, hands, page=None) -> None:
    """Rows of read-right shares: each kind, then all digits and 1s read as 7 (`page`: a column more)."""
    labels, kinds = np.asarray(labels), np.asarray(kinds)
    answers = [("alone", fused.argmax(1)), ("with the writer's hand", with_hand.argmax(1))]
    if page is not None:
        answers.append(("on a page, one digit after another", page.argmax(1)))
    crossers = sum(h.crosses() for h in hands.values())
    print(f"\n{title}: {len(labels):,} digits of {len(hands)} writers ({crossers} read as crossing their 7s)\n")
    print("| digits | n | " + " | ".join(n for n, _ in answers) + " |\n|---|---:|" + "---:|" * len(answers))
    for k in [*sorted(set(kinds)), "every digit"]:
        m = kinds == k if k != "every digit" else np.ones(len(labels), bool)
        cells = " | ".join(f"{np.mean(x[m] == labels[m]):.2%}" for _, x in answers)
        print(f"| {k} | {m.sum():,} | {cells} |")
    for name, x in answers:
        n17 = int(np.sum((labels == 1) & (x == 7)))
        print(f"\n1s read as 7, {name}: {n17} ({n17 / len(labels):.2%} of the digits)", end="")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--writers", choices=("calibration", "held-out"), default="calibration")
    ap.add_argument("--per", type=int, default=5, help="digits of each label per writer at most (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ink", default=None, help="an ink model's stem (.tflite, .json, checked against its .keras "
                    "where there is one; default: the shipped one)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    digits = subsample(writers_digits(args.writers), args.per, rng)
    if not digits:
        print("skipped: no pen digits (the held-out writers come from ../shared)")
        return 0
    reader = InkReader.shipped(args.ink) if args.ink else InkReader.shipped()
    image = default_image_predict()
    labels, writers = [d.label for d in digits], [d.writer for d in digits]
    print(f"Command: `python benchmarks/ink_hand.py --writers {args.writers} --per {args.per} --seed {args.seed}"
          + (f" --ink {args.ink}`" if args.ink else "`"))

    strokes, kinds = continental(digits, rng)
    fused, p_ink = read(strokes, rng, reader, image)
    bars = [hand.has_bar(s) for s in strokes]
    after, hands = hand.by_writer(fused, p_ink, bars, writers)
    page = on_a_page(fused, p_ink, bars, writers, rng)
    table("Continental writers (7s crossed, 1s continental)", labels, kinds, fused, after, hands, page)

    strokes = [d.strokes for d in digits]
    fused, p_ink = read(strokes, rng, reader, image)
    bars = [hand.has_bar(s) for s in strokes]
    kinds = [f"{d.label}s as written" if d.label in (1, 7) else "other digits, as written" for d in digits]
    after, hands = hand.by_writer(fused, p_ink, bars, writers)
    page = on_a_page(fused, p_ink, bars, writers, rng)
    table("The same writers as written", labels, kinds, fused, after, hands, page)
    after, hands = hand.by_writer(fused, p_ink, bars, ["everyone"] * len(digits))
    table("As written, every writer's digits taken for one writer's", labels, kinds, fused, after, hands)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
