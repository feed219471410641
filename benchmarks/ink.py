"""The ink model beside the image model on held-out writers: image alone, ink alone, fused; per convention.

    python benchmarks/ink.py [--n 1500] [--per 300] [--seed 0] [--ink models/ink] [--image models/default.tflite]
                             [--out benchmarks/INK.md]

Sets (writers held out of every training: `pen.split_writers`' held-out side of ../shared/data/pen):

- pendigits and UNIPEN held-out writers' digits as written: each drawn on the 400x400 canvas layer with
  `pen.draw_layer` (90-340 px tall anywhere, brush 6/12/20) and read by the image model through
  `canvas_to_mnist`, as benchmarks/realworld.py does; the ink model reads the same strokes (its features are
  blind to position and size, so the canvas's placement does not change its input);
- one row per writing convention of `synth.CONVENTIONS`, synthesised from held-out writers' digits of its label
  (both populations pooled), read the same three ways;
- MNIST's test 1s and 7s: the image model's recall (the image model is not changed by the ink work).

The fusion's weights are the ink card's (calibrated on training-side writers the ink net did not train on).
Each population's fused accuracy also gets its interval over writers (`evaluate.writer_interval`: whole writers resampled,
as one writer's habit misreads many of their digits at once).
Timings: the ink reader's median for one digit in process (features + LiteRT), over `--n-time` calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.digits.recognize import LiteFunction  # noqa: E402
from mnist_core.train import synth  # noqa: E402
from mnist_core.train.evaluate import writer_interval  # noqa: E402
from mnist_core.ink.format import from_strokes  # noqa: E402
from mnist_core.ink.fuse import image_probs_on_canvas, read_digits  # noqa: E402
from mnist_core.ink.reader import InkReader  # noqa: E402
from realworld import held_out  # noqa: E402 (the held-out writers' digits, as the real-world benchmark reads them)

DATA = ROOT.parent / "shared" / "data"
BEGIN, END = "<!-- ink table: begin -->", "<!-- ink table: end -->"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def three_ways(strokes, labels, rng, image, reader) -> dict:
    """Accuracy of image, ink and fused on these strokes (each drawn on the canvas for the image model), and the
    fused answers' worst confusions."""
    return scored(image_probs_on_canvas(strokes, rng, image), reader.predict(strokes), labels, reader)


def scored(p_img, p_ink, labels, reader, found=None) -> dict:
    """Accuracy of the image model's (N, 10) answers, the ink model's and the two fused by ``reader``'s card, and
    the fused answers' worst confusions (true→read; "none" where no digit was found), and which fused answers are
    right (``fused_right``, (N,) bool). ``found`` (N,) bool: where
    the canvas path found a digit; elsewhere the image and fused answers count as wrong, as nothing is read."""
    labels = np.asarray(labels)
    found = np.ones(len(labels), bool) if found is None else np.asarray(found, bool)
    p_fus = reader.fuse(p_img, p_ink)
    acc = lambda p, m=found: float(((p.argmax(1) == labels) & m).mean())  # noqa: E731
    read = np.where(found, p_fus.argmax(1), -1)
    wrong = read != labels
    pairs = {}
    for a, b in zip(labels[wrong], read[wrong]):
        b = "none" if b < 0 else int(b)
        pairs[(int(a), b)] = pairs.get((int(a), b), 0) + 1
    conf = ", ".join(f"{a}→{b} ×{c}" for (a, b), c in sorted(pairs.items(), key=lambda kv: -kv[1])[:4]) or "-"
    return dict(n=len(labels), image=acc(p_img), ink=acc(p_ink, True), fused=acc(p_fus), conf=conf,
                p=(p_img, p_ink, labels), fused_right=~wrong)


def convention_drawn(c, pool, per: int, rng) -> tuple[list, list]:
    """(strokes, their source digits): `per` digits of convention `c`'s label drawn at random from `pool`
    (held-out writers' PenDigits), each redrawn in the convention."""
    src = [d for d in pool if d.label == c.label]
    pick = [src[int(i)] for i in rng.integers(0, len(src), per)]
    return [c.make(d.strokes, rng) for d in pick], pick


def convention_rows(pool, per: int, rng, image, reader) -> list[tuple[str, dict]]:
    """One row per writing convention of `synth.CONVENTIONS`: `per` digits of its label drawn at random from
    `pool` (held-out writers' PenDigits), redrawn in the convention, read three ways (`three_ways`)."""
    rows = []
    for c in synth.CONVENTIONS:
        strokes, _ = convention_drawn(c, pool, per, rng)
        r = three_ways(strokes, [c.label] * len(strokes), rng, image, reader)
        rows.append((c.name, r))
        log(f"{c.name}: image {r['image']:.2%} ink {r['ink']:.2%} fused {r['fused']:.2%}  ({r['conf']})")
    return rows


def convention_table(conv_rows) -> list[str]:
    """The per-convention rows as Markdown table lines."""
    lines = ["| convention (synthesised on held-out writers' digits) | digits | image | ink | fused | "
             "fused's misreads |", "|---|---:|---:|---:|---:|---|"]
    for name, r in conv_rows:
        lines.append(f"| {name} | {r['n']:,} | {r['image']:.2%} | {r['ink']:.2%} | **{r['fused']:.2%}** "
                     f"| {r['conf']} |")
    return lines


def canvas_points(stroke: np.ndarray) -> np.ndarray:
    """A stroke's points as the page's canvas keeps them: each a pixel or more from the last one kept."""
    kept = [stroke[0]]
    for q in stroke[1:]:
        if float(((q - kept[-1]) ** 2).sum()) >= 1:
            kept.append(q)
    return np.stack(kept)


def fused_digits(digits, strokes, image_probs: np.ndarray, reader):
    """((N, 10) fused answers, the strokes as an Ink) for a drawing's digits (the image model's ``image_probs``)
    given its strokes (canvas pixels, as the page's canvas records them): `read_digits`, the path of
    ModelServer.read."""
    ink = from_strokes([canvas_points(np.asarray(s, np.float32)) for s in strokes])
    return read_digits(digits, ink, image_probs, reader)[0], ink


def mnist_recall(image) -> str:
    f = DATA / "mnist.npz"
    if not f.is_file():
        return "MNIST not in ../shared: skipped"
    with np.load(f) as m:
        x, y = m["x_test"].astype(np.float32)[..., None] / 255, m["y_test"]
    pred = image(x).argmax(1)
    parts = [f"{d}: {float((pred[y == d] == d).mean()):.2%} ({int((y == d).sum()):,})" for d in (1, 7)]
    return f"image model's MNIST test recall, {', '.join(parts)}; all digits {float((pred == y).mean()):.2%}"


def timing(reader: InkReader, digits, n: int) -> dict:
    ts, tf = [], []
    for d in digits[:n]:
        t = time.perf_counter()
        reader.predict([d.strokes])
        ts.append(time.perf_counter() - t)
        t = time.perf_counter()
        reader.features([d.strokes])
        tf.append(time.perf_counter() - t)
    t = time.perf_counter()
    reader.predict([d.strokes for d in digits[:n]])
    batch = (time.perf_counter() - t) / max(1, min(n, len(digits)))
    return dict(one=float(np.median(ts)) * 1e3, p90=float(np.percentile(ts, 90)) * 1e3,
                features=float(np.median(tf)) * 1e3, batch=batch * 1e3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1500, help="held-out digits per population (default 1500)")
    ap.add_argument("--per", type=int, default=300, help="digits per convention (default 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ink", default=str(ROOT / "models" / "ink"), help="the ink model's stem (.tflite, .json)")
    ap.add_argument("--image", default=str(ROOT / "models" / "default.tflite"))
    ap.add_argument("--n-time", type=int, default=300)
    ap.add_argument("--out", default=None, help="write the tables into this Markdown file between its markers")
    args = ap.parse_args(argv)
    sets = held_out()
    if not sets:
        print(f"no pen data at {DATA / 'pen'}; nothing to measure", file=sys.stderr)
        return 2
    started, load0 = time.perf_counter(), os.getloadavg()
    reader = InkReader.shipped(args.ink)
    image = LiteFunction(content=Path(args.image).read_bytes())
    rng = np.random.default_rng(args.seed)
    rows = []
    for name, digits in sets.items():
        pick = [digits[i] for i in rng.permutation(len(digits))[: args.n]]
        r = three_ways([d.strokes for d in pick], [d.label for d in pick], rng, image, reader)
        r["writers"] = len({d.writer for d in pick})
        r["interval"] = writer_interval(r["fused_right"], [d.writer for d in pick])
        rows.append((name, r))
        log(f"{name}: image {r['image']:.2%} ink {r['ink']:.2%} fused {r['fused']:.2%}  ({r['conf']})")
    pool = [d for ds in sets.values() for d in ds]
    conv_rows = convention_rows(pool, args.per, rng, image, reader)
    recall = mnist_recall(image)
    t = timing(reader, pool, args.n_time)
    text = tables(rows, conv_rows, recall, t, reader, args, load0, time.perf_counter() - started)
    print(text)
    if args.out:
        from robustness import write_between

        write_between(Path(args.out), BEGIN, END, text)
    return 0


def tables(rows, conv_rows, recall, t, reader, args, load0, seconds) -> str:
    loads = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
    f = reader.fusion
    cmd = f"python benchmarks/ink.py --n {args.n} --per {args.per} --seed {args.seed}" + (
        f" --out {os.path.relpath(args.out, ROOT)}" if args.out else "")
    lines = [f"Command: `{cmd}` ({seconds / 60:.1f} min; load averages {loads(load0)} at the start, "
             f"{loads(os.getloadavg())} at the end). Fusion (the card's): w_image {f.w_image:g}, w_ink {f.w_ink:g}"
             + (f", with the learned matrix ({reader.card['fusion'].get('method')})."
                if f.matrix is not None else "."),
             "",
             "| held-out writers, canvas | digits | writers | image | ink | fused | fused, 95% over writers | "
             "fused's misreads, true→read |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in rows:
        lo, hi = r["interval"]
        lines.append(f"| {name} | {r['n']:,} | {r['writers']} | {r['image']:.2%} | {r['ink']:.2%} | "
                     f"**{r['fused']:.2%}** | {lo:.2%}-{hi:.2%} | {r['conf']} |")
    lines += ["", "95% over writers: the fused accuracy's interval when whole writers are resampled "
              "(`evaluate.writer_interval`, 2,000 draws): a writer's digits are misread together.",
              "", *convention_table(conv_rows)]
    lines += ["", f"- {recall}.",
              f"- Ink reader, one digit in process (features + LiteRT, 1 thread): median {t['one']:.2f} ms "
              f"(p90 {t['p90']:.2f} ms; features alone {t['features']:.2f} ms); "
              f"in a batch {t['batch']:.2f} ms a digit."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
