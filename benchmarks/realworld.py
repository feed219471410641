"""Real handwriting nobody trained on: accuracy per population and input path, models side by side.

    python benchmarks/realworld.py [--n 1500] [--n-photo 300] [--n-crop 1000] [--model PATH ...]
                                   [--baseline REV] [--ink models/ink | none] [--per 300]
                                   [--out benchmarks/REALWORLD.md]

Sets (all from writers held out of training; see `mnist_core.train.pen.split_writers`, a fixed hash of the writer):

- canvas: the pen trajectories of held-out pendigits and UNIPEN writers drawn as written on the studio's 400x400
  sketchpad layer (digit 90-340 px tall anywhere on it, brush 6, 12 or 20 px), read through `canvas_to_mnist`;
- paper: the same strokes written on paper and photographed (robustness.py's generator: paper colour and
  texture, light and shadow, ruled and squared paper, blur, noise, JPEG), read through `photo_to_mnist`;
- crops: a digit cut tightly from a line of 3-5 touching digits by the same writer on grey, patterned or ruled
  paper (what a form box or a cheque gives: neighbours' fragments at the edges), 16-64 px tall, read through
  `photo_to_mnist` beside a plain normalisation (Otsu, ink box -> 20x20 -> centre of mass);
- USPS (16x16 scans, never trained on), all 9,298 and its test split, through `photo_to_mnist`;
- MNIST's 10,000 test digits as they are.

Per set and model: accuracy, the three worst writers (with at least 20 digits), the top confusions. Models are
.keras/.tflite files; `--baseline REV` adds models/default.tflite as committed at git revision REV (the previous
shipped model). Timings are reported, never asserted.

With the ink model (`--ink STEM`, default models/ink; `none` leaves it out), the canvas sets also get the ink model's
accuracy on the same digits' strokes and the fused one (the last model's answer and the ink model's, combined by the
ink card's weights, as the Draw tab reads a drawing that comes with its strokes); the ink model reads each
digit's whole strokes, which is what `ModelServer.read` gives a drawing the segmenter finds as one digit (how many
drawings came out as several pieces is counted). Then one row per writing convention (`--per` digits each,
synthesised from the held-out writers' digits by `mnist_core.train.synth`), read the three ways (benchmarks/ink.py).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mnist_core.train import pen  # noqa: E402
from mnist_core import digits as pp  # noqa: E402
from robustness import Item, log, make_photo, write_between  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BEGIN, END = "<!-- realworld table: begin -->", "<!-- realworld table: end -->"
PHOTO_KINDS = ("clean", "light", "noise", "ruled", "squared", "geometry", "dust")


# ------------------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------------------


def segments(strokes: list[np.ndarray]) -> np.ndarray:
    """Unit-height strokes -> (S, 2, 2) float32 segments, the robustness generator's digit shape."""
    segs = [np.stack([s[:-1], s[1:]], axis=1) for s in strokes if len(s) > 1]
    segs += [np.stack([s, s], axis=1) for s in strokes if len(s) == 1]
    return np.concatenate(segs).astype(np.float32)


def plain_normalise(image: np.ndarray) -> np.ndarray:
    """The 40-line normalisation: grey, ink bright by the median, Otsu, ink box -> 20x20 -> centre of mass."""
    g = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    if np.median(g) > 127:
        g = 255 - g
    _, m = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(m)
    if ys.size == 0:
        return np.zeros((28, 28), np.float32)
    crop = g[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    crop = np.clip((crop - crop.min()) / max(float(crop.max() - crop.min()), 1.0), 0, 1)
    return pp.normalize_digit(crop)


def form_paper(H: int, W: int, rng: np.random.Generator, wave: tuple[float, float] = (0.15, 0.5)) -> tuple[np.ndarray, float]:
    """A form's or cheque's paper (H, W) float32: grey, plain or with a printed pattern (waves or a dot screen);
    and its grey level."""
    paper = rng.uniform(150, 240)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.full((H, W), paper, np.float32)
    kind = rng.integers(0, 3)
    if kind == 1:
        f = rng.uniform(*wave)
        img -= rng.uniform(8, 35) * (0.5 + 0.5 * np.sin(f * xx + 3 * np.sin(0.05 * yy) + rng.uniform(0, 6)))
    elif kind == 2:
        p = rng.uniform(3, 6)
        img -= rng.uniform(8, 30) * ((np.sin(xx * np.pi / p) * np.sin(yy * np.pi / p)) > 0.6)
    return img, paper


def lay_ink(img: np.ndarray, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink (uint8 coverage) written on the paper in a grey pen, then a scanner's slight blur and noise."""
    inkc = rng.uniform(10, 90)
    a = ink.astype(np.float32) / 255
    img = img * (1 - a) + inkc * a
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    return img + rng.normal(0, rng.uniform(1, 6), img.shape)


def crop_from_line(line: list[pen.PenDigit], target: int, rng: np.random.Generator) -> np.ndarray:
    """A tight crop (grey uint8, 16-64 px tall) of digit `target` of a line of touching digits on form paper."""
    h = 60.0
    pen_w = h * rng.uniform(0.05, 0.14)
    shapes = [pen.distort(d.strokes, rng, 0.0) for d in line]
    widths = [float(np.concatenate(s)[:, 0].max()) * h for s in shapes]
    gap = lambda: rng.uniform(-0.2, 0.12) * h  # noqa: E731  overlapping to slightly apart
    xs, x = [], pen_w + 20
    for w in widths:
        xs.append(x)
        x += w + gap()
    W, H = int(x + pen_w + 40), int(h * 1.8)
    ink = np.zeros((H, W), np.uint8)
    base = H * 0.2
    boxes = []
    for s, x0 in zip(shapes, xs):
        y0 = base + rng.uniform(-0.08, 0.08) * h
        pen._polylines(ink, s, h, x0, y0, pen_w)
        boxes.append((x0, y0))
    # paper: grey, a printed pattern (waves or a dot screen) and a ruled baseline
    img, paper = form_paper(H, W, rng)
    if rng.random() < 0.6:
        ly = int(base + h + rng.uniform(-0.05, 0.2) * h)
        cv2.line(img, (0, ly), (W - 1, ly), float(paper - rng.uniform(40, 110)), int(rng.integers(1, 3)))
    img = lay_ink(img, ink, rng)
    # the crop: the target's ink box, each side moved by -3% to +15% of the digit's height (neighbours come in)
    x0 = xs[target] - pen_w / 2
    x1 = xs[target] + widths[target] + pen_w / 2
    y0, y1 = boxes[target][1] - pen_w / 2, boxes[target][1] + h + pen_w / 2
    m = lambda: rng.uniform(-0.03, 0.15) * h  # noqa: E731
    x0, x1, y0, y1 = int(max(0, x0 - m())), int(min(W, x1 + m())), int(max(0, y0 - m())), int(min(H, y1 + m()))
    crop = np.clip(img[y0:y1, x0:x1], 0, 255).astype(np.uint8)
    f = rng.uniform(16, 64) / crop.shape[0]
    crop = cv2.resize(crop, (max(4, int(round(crop.shape[1] * f))), max(4, int(round(crop.shape[0] * f)))),
                      interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = cv2.imdecode(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 95))])[1],
                            cv2.IMREAD_GRAYSCALE)
    return crop


def _first(digits: list) -> np.ndarray | None:
    i = pp.most_prominent(digits)
    return None if i is None else digits[i].image


def held_out() -> dict[str, list[pen.PenDigit]]:
    """The held-out writers' digits of each pen population."""
    out = {}
    for name, file in (("pendigits", "pendigits_dev.json.gz"), ("UNIPEN", "unipen_dev.json.gz")):
        p = DATA / "pen" / file
        if p.is_file():
            out[name] = pen.split_writers(pen.load_pen(p))[1]
    return out


def build_sets(args) -> list[dict]:
    """Every set: name, labels, writers, the 28x28 inputs of ours (None: no digit), and of the baseline if any."""
    rng = np.random.default_rng(args.seed)
    sets = []
    for name, digits in held_out().items():
        pick = rng.permutation(len(digits))
        canv = [digits[i] for i in pick[: args.n]]
        t = time.perf_counter()
        found = [pp.canvas_to_mnist([pen.draw_layer(d.strokes, rng)]) for d in canv]
        sets.append(dict(name=f"canvas: {name} held-out writers (400x400, 90-340 px, brush 6/12/20)",
                         labels=[d.label for d in canv], writers=[d.writer for d in canv],
                         ours=[_first(f) for f in found], secs=time.perf_counter() - t,
                         strokes=[d.strokes for d in canv], pieces=sum(len(f) > 1 for f in found)))
        log(f"{sets[-1]['name']}: built in {sets[-1]['secs']:.0f} s")
        ph = [digits[i] for i in pick[args.n: args.n + args.n_photo]]
        t = time.perf_counter()
        ours = []
        for d in ph:
            item = Item(d.label, segments(pen.distort(d.strokes, rng, 0.0)))
            ours.append(_first(pp.photo_to_mnist(make_photo(item, rng, str(rng.choice(PHOTO_KINDS))))))
        sets.append(dict(name=f"paper: {name} held-out writers, photographed ({', '.join(PHOTO_KINDS)})",
                         labels=[d.label for d in ph], writers=[d.writer for d in ph], ours=ours,
                         secs=time.perf_counter() - t))
        log(f"{sets[-1]['name']}: built in {sets[-1]['secs']:.0f} s")
        # crops from lines of one writer's digits
        by_writer = collections.defaultdict(list)
        for d in digits:
            by_writer[d.writer].append(d)
        writers = [w for w, ds in by_writer.items() if len(ds) >= 5]
        labels, wr, ours, plain = [], [], [], []
        t = time.perf_counter()
        for _ in range(args.n_crop // 2):
            w = writers[int(rng.integers(len(writers)))]
            ds = by_writer[w]
            line = [ds[i] for i in rng.choice(len(ds), int(rng.integers(3, 6)), replace=False)]
            target = int(rng.integers(len(line)))
            crop = crop_from_line(line, target, rng)
            labels.append(line[target].label)
            wr.append(w)
            ours.append(_first(pp.photo_to_mnist(crop)))
            plain.append(plain_normalise(crop))
        sets.append(dict(name=f"crops: {name} held-out writers, cut from lines of touching digits on form paper",
                         labels=labels, writers=wr, ours=ours, plain=plain, secs=time.perf_counter() - t))
        log(f"{sets[-1]['name']}: built in {sets[-1]['secs']:.0f} s")
    usps = DATA / "usps.npz"
    if usps.is_file():
        with np.load(usps) as u:
            imgs, labs, split = u["images"], u["labels"].astype(int), u["split"]
        ours = [_first(pp.photo_to_mnist(x)) for x in imgs]
        for part, sel in (("all 9,298", np.ones(len(labs), bool)), ("test split, 2,007", split == "test")):
            sets.append(dict(name=f"USPS 16x16 scans ({part}; never trained on)", labels=list(labs[sel]),
                             writers=None, ours=[o for o, s in zip(ours, sel) if s]))
    mnist = DATA / "mnist.npz"
    if mnist.is_file():
        with np.load(mnist) as f:
            sets.append(dict(name="MNIST test set as it is (10,000)", labels=list(f["y_test"].astype(int)),
                             writers=None, ours=list(f["x_test"].astype(np.float32) / 255)))
    return sets


# ------------------------------------------------------------------------------------------------------------
# Models and scoring
# ------------------------------------------------------------------------------------------------------------


def load_model(path: str):
    """(N, 28, 28, 1) -> (N, 10) through the stored TF Lite copy (LiteRT) when there is one, else Keras."""
    from mnist_core.digits.recognize import Recognizer, load_recognizer

    p = Path(path)
    lite = p if p.suffix == ".tflite" else p.with_suffix(".tflite")
    if lite.is_file():
        return Recognizer.from_lite(lite.read_bytes(), str(p)).predict
    return load_recognizer(str(p)).predict


def baseline_model(rev: str) -> str:
    """models/default.tflite as committed at `rev`, written to a temporary file."""
    blob = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:models/default.tflite"], capture_output=True,
                          check=True).stdout
    f = tempfile.NamedTemporaryFile(suffix=".tflite", delete=False)
    f.write(blob)
    f.close()
    return f.name


def probabilities(predict, inputs: list) -> tuple[np.ndarray, np.ndarray]:
    """(N, 10) answers of one model to 28x28 inputs (a uniform row where no digit was found), and which were found."""
    found = np.array([o is not None for o in inputs], bool)
    probs = np.full((len(inputs), 10), 0.1, np.float32)
    if found.any():
        probs[found] = predict(np.stack([o for o in inputs if o is not None]).astype(np.float32)[..., None])
    return probs, found


def score(predict, s: dict, key: str = "ours") -> dict:
    """Accuracy, worst writers and top confusions of one model on one set's `key` inputs (and its answers)."""
    labels = np.array(s["labels"])
    probs, found = probabilities(predict, s[key])
    answer = np.where(found, probs.argmax(1), -1)
    ok = answer == labels
    worst = []
    if s["writers"]:
        per = collections.defaultdict(list)
        for w, k in zip(s["writers"], ok):
            per[w].append(k)
        rated = [(float(np.mean(v)), w, len(v)) for w, v in per.items() if len(v) >= 20]
        worst = sorted(rated)[:3]
    conf = collections.Counter((int(a), int(b)) for a, b, k in zip(labels, answer, ok) if not k)
    return dict(acc=float(ok.mean()), n=len(labels), worst=worst, conf=conf.most_common(5), answer=answer,
                probs=probs)


def fmt_conf(conf) -> str:
    return ", ".join(f"{a}→{'none' if b < 0 else b} ×{c}" for (a, b), c in conf) or "-"


def fmt_worst(worst) -> str:
    return ", ".join(f"{w} {a:.0%} (n {n})" for a, w, n in worst) or "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1500, help="canvas digits per population (default 1500)")
    ap.add_argument("--n-photo", type=int, default=300, help="photographed digits per population (default 300)")
    ap.add_argument("--n-crop", type=int, default=1000, help="tight crops in all (default 1000)")
    ap.add_argument("--model", action="append", default=[], help="a .keras or .tflite model (repeatable; "
                    "default models/default.keras)")
    ap.add_argument("--baseline", default=None, help="also the shipped model as committed at this git revision")
    ap.add_argument("--ink", default=str(ROOT / "models" / "ink"), help="the ink model's stem (.tflite and its card "
                    ".json, whose fusion weights are used) for the canvas sets' ink and fused columns; none: no ink")
    ap.add_argument("--per", type=int, default=300, help="digits per writing convention (default 300; 0: no "
                    "convention table)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the table into this Markdown file between its markers")
    args = ap.parse_args(argv)
    if not (DATA / "pen").is_dir():
        print(f"no pen data at {DATA / 'pen'}; nothing to measure", file=sys.stderr)
        return 2
    started, load0 = time.perf_counter(), os.getloadavg()
    models = []
    if args.baseline:
        models.append((f"shipped at {args.baseline}", baseline_model(args.baseline)))
    for m in args.model or [str(ROOT / "models" / "default.keras")]:
        models.append((os.path.relpath(m, ROOT) if os.path.isabs(m) else m, m))
    sets = build_sets(args)
    predicts = [(name, load_model(path)) for name, path in models]
    reader = ink_reader(args.ink)
    rows = []
    for s in sets:
        res = [score(p, s) for _, p in predicts]
        plain = score(predicts[-1][1], s, "plain") if "plain" in s else None
        inked = with_ink(s, res[-1], reader)
        rows.append((s, res, plain, inked))
        log(f"{s['name']}: " + "  ".join(f"{n}: {r['acc']:.2%}" for (n, _), r in zip(predicts, res))
            + (f"  plain normalisation: {plain['acc']:.2%}" if plain else "")
            + (f"  ink: {inked['ink']:.2%}  fused: {inked['fused']:.2%} ({inked['conf']})" if inked else "")
            + f"  worst: {fmt_worst(res[-1]['worst'])}  confusions: {fmt_conf(res[-1]['conf'])}")
    conventions = []
    if reader is not None and args.per > 0:
        from ink import convention_rows  # noqa: PLC0415 (benchmarks/ink.py imports this module: not at the top)

        pool = [d for ds in held_out().values() for d in ds]
        conventions = convention_rows(pool, args.per, np.random.default_rng(args.seed), predicts[-1][1], reader)
    seconds = time.perf_counter() - started
    if args.out:
        write_table(Path(args.out), rows, predicts, args, load0, seconds, conventions)
    return 0


def ink_reader(stem: str):
    """The ink model (an InkReader with its card's fusion weights) at `stem`, or None for "none"."""
    if stem.lower() == "none":
        return None
    from mnist_core.ink.reader import InkReader  # noqa: PLC0415

    return InkReader.shipped(stem)


def with_ink(s: dict, image: dict, reader) -> dict | None:
    """For a set that has the digits' strokes: the image model's answers beside the ink model's and the fused
    ones (benchmarks/ink.py's `scored`); None for the others."""
    if reader is None or "strokes" not in s:
        return None
    from ink import scored  # noqa: PLC0415

    found = np.array([o is not None for o in s["ours"]], bool)
    return scored(image["probs"], reader.predict(s["strokes"]), s["labels"], reader, found)


def write_table(path: Path, rows, predicts, args, load0, seconds, conventions=()) -> None:
    """The results as Markdown between BEGIN and END in `path` (text around them kept), else the whole file."""
    loads = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
    cmd = (f"python benchmarks/realworld.py --n {args.n} --n-photo {args.n_photo} --n-crop {args.n_crop}"
           + "".join(f" --model {m}" for m in args.model) + (f" --baseline {args.baseline}" if args.baseline else "")
           + (f" --ink {args.ink}" if args.ink != str(ROOT / "models" / "ink") else "") + f" --per {args.per}"
           + f" --out {os.path.relpath(path, ROOT)}")
    names = [n for n, _ in predicts]
    inked = any(r[3] for r in rows)
    ink_heads = "ink model, the same digits' strokes | fused (last model + ink) | " if inked else ""
    lines = [f"Command: `{cmd}` ({seconds / 60:.0f} min; load averages {loads(load0)} at the start, "
             f"{loads(os.getloadavg())} at the end)", "",
             "| set | n | " + " | ".join(names) + f" | {ink_heads}plain normalisation (last model) | worst writers "
             "(last model) | top confusions, true→read (last model) |",
             "|---|---:|" + "---:|" * (len(names) + 2 * inked) + "---:|---|---|"]
    for s, res, plain, ink in rows:
        accs = " | ".join(f"{r['acc']:.2%}" for r in res[:-1]) + (" | " if len(res) > 1 else "") + f"**{res[-1]['acc']:.2%}**"
        if inked:
            accs += f" | {ink['ink']:.2%} | **{ink['fused']:.2%}**" if ink else " | - | -"
        lines.append(f"| {s['name']} | {res[-1]['n']:,} | {accs} | {plain['acc']:.2%} |" if plain else
                     f"| {s['name']} | {res[-1]['n']:,} | {accs} | - |")
        lines[-1] += f" {fmt_worst(res[-1]['worst'])} | {fmt_conf(res[-1]['conf'])} |"
    if inked:
        from ink import convention_table  # noqa: PLC0415

        lines += ["", "Fused, the canvas sets' misreads (true→read): " + "; ".join(
            f"{s['name'].split(' held-out')[0].split(': ')[1]}: {ink['conf']} ({s['pieces']} of {ink['n']:,} drawings "
            f"came out as several pieces)" for s, _, _, ink in rows if ink) + "."]
        if conventions:
            lines += ["", *convention_table(conventions)]
    write_between(path, BEGIN, END, "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
