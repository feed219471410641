"""Whole numbers as people write them: the old segmenter and the number reader side by side.

    python benchmarks/bench_numbers.py [--n 400] [--n-paper 200] [--reader models/number.tflite] [--out benchmarks/NUMBERS.md]
    python benchmarks/bench_numbers.py --populations UNIPEN --canvas-only --seed 3   # one population's canvas sets

Sets (the pen sets from writers held out of all training, `mnist_core.train.pen.split_writers`; each number written by
one writer, with that writer's own digits as written, no distortion):

- canvas, natural spacing: 2-6 digits left to right on the studio's 400x400 sketchpad layer, from slightly
  overlapping to a quarter of a digit apart, the writer's own small size and baseline wobble, brush 6, 12 or
  20 px, read through the canvas path (`canvas_ink`);
- canvas, touching: the same with every pair overlapping or touching (a fifth of a digit to nothing apart);
- canvas, with separators: amounts and dates (`1,250`, `12.50`, `3/4`, `2026-12`, a trailing `.-` or `=`);
- paper: the natural-spacing numbers written on paper and photographed (paper colour and grain, ruled lines,
  a light gradient and shadow, blur, sensor noise, JPEG), read through the photo path (`photo_ink`);
- cheque amounts: 2-7 digits (many zeros), overlapping to slightly apart, a dot, dash or comma between groups
  and often `.-` or `=` after, on grey paper with a printed pattern and a ruled line, cut tightly and scaled to
  24-64 px tall, JPEG half the time, read through the photo path;
- MNIST test digits: lines of 1-8 digits made by `mnist_core.numbers.lines` from the 10,000 test digits, on the canvas.

Per set: exact-match (the whole number right, no digit missing or extra) and digit accuracy (1 - edit
distance / digits) for the old segmenter (each cut piece read by the digit model), the reader alone, and the
reader as served (combined with the segmenter where they count alike); the canvas natural set per line
length; the time to read one line (p50, p90; the whole path from the picture's ink on, and the reader alone:
its network at every shear and width and their vote); how each pen set's misread numbers spread over its writers
(the median writer's exact match, the writers with the most). Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core.numbers import lines
from mnist_core.train import pen  # noqa: E402
from mnist_core.numbers import reader as nr  # noqa: E402
from mnist_core import digits as pp  # noqa: E402
from ink import fused_digits  # noqa: E402
from mnist_core.ink.fuse import ink_for_reader  # noqa: E402
from numbers_writing import (amount_text, canvas_number, cheque_crop, number_text, paper_photo,  # noqa: E402
                             write, writer_of, writers_with_all_digits)
from robustness import log, write_between  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BEGIN, END = "<!-- numbers table: begin -->", "<!-- numbers table: end -->"
GAPS = {"natural": (-0.1, 0.25), "touching": (-0.2, 0.0)}  # of the mean digit width


# ------------------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------------------


class Readers:
    """The digit model, the number reader and the ink model, and the ways of reading a picture's numbers."""

    def __init__(self, reader_path: Path, shears: tuple[float, ...] = nr.SHEARS,
                 widths: tuple[float, ...] = nr.WIDTHS, ink_stem: str | None = None, reader_ink: bool = True):
        from mnist_core.digits.recognize import Recognizer
        from mnist_core.ink.reader import InkReader

        self.predict = Recognizer.from_lite((ROOT / "models" / "default.tflite").read_bytes()).predict
        # The ink model and its card's fusion weights (None: numbers are read without their strokes).
        self.ink = InkReader.shipped(ink_stem) if ink_stem else None
        # Whether the reader's own digits (where its count stands) are fused with their strokes too, as served.
        self.reader_ink = reader_ink
        # The served weights; other widths weigh 1 beside the own width's served weight.
        weights = nr.WIDTH_WEIGHTS if widths == nr.WIDTHS else (nr.WIDTH_WEIGHTS[0],) + (1.0,) * (len(widths) - 1)
        self.reader = nr.NumberReader.load(reader_path, shears, widths, weights)
        if self.reader is None:
            raise SystemExit(f"no number reader at {reader_path}")
        self.times: dict[str, list[float]] = collections.defaultdict(list)

    def read(self, digits: list[pp.Digit], ink: pp.Ink | None, strokes: list[np.ndarray] | None = None
             ) -> dict[str, str]:
        """{"segmenter": ..., "reader alone": ..., "served": ...} for one picture's digits and ink; with the
        drawing's `strokes` (canvas pixels) also "fused": served with each digit's answer fused with the ink model's
        (mnist_core.ink.fuse.read_digits, as ModelServer.read does for a drawing that comes with its strokes)."""
        inked = strokes is not None and self.ink is not None
        if not digits:
            return {"segmenter": "", "reader alone": "", "served": "", **({"fused": ""} if inked else {})}
        probs = self.predict(pp.to_model_batch(digits))
        seg = "".join(str(int(p.argmax())) for p in probs)
        t = time.perf_counter()
        served = nr.read_numbers(digits, probs, ink, self.reader)
        self.times["line"].append(time.perf_counter() - t)
        fused = {}
        if inked:
            t = time.perf_counter()
            both, placed = fused_digits(digits, strokes, probs, self.ink)
            with_ink = ink_for_reader(placed, self.ink) if self.reader_ink else None
            number = nr.read_numbers(digits, both, ink, self.reader, with_ink)
            self.times["ink"].append(time.perf_counter() - t)
            fused = {"fused": nr.as_json(number)["number"]}
        alone = []
        for row in nr.rows_of(digits):
            band = nr.band(ink, row) if ink is not None else None
            if band is None:
                continue
            x = nr.line_input(band)
            t = time.perf_counter()
            found = self.reader.read(x).found
            self.times["network"].append(time.perf_counter() - t)
            alone.append("".join(str(d) for d, *_ in found))
        return {"segmenter": seg, "reader alone": "".join(alone), "served": nr.as_json(served)["number"], **fused}


def canvas_read(readers: Readers, layer: np.ndarray, strokes: list[np.ndarray] | None = None) -> dict[str, str]:
    digits, ink = pp.canvas_ink([layer])
    return readers.read(digits, ink, strokes)


def photo_read(readers: Readers, photo: np.ndarray) -> dict[str, str]:
    digits, ink = pp.photo_ink(photo)
    return readers.read(digits, ink)


def number_set(name: str, n: int, hands: list, rng: np.random.Generator, separators: bool, read) -> dict:
    """One set of `n` numbers of 2-6 digits (with `separators`: some between groups and after), each by a writer
    drawn from `hands`, written and read by ``read(text, hand) -> {way: reading}``: name, truths (digits only), each
    way's readings, the lengths and the writers."""
    truth, got, lens, who = [], collections.defaultdict(list), [], []
    t = time.perf_counter()
    for _ in range(n):
        hand = hands[int(rng.integers(len(hands)))]
        k = int(rng.integers(2, 7))
        text = number_text(rng, k, separators)
        for way, v in read(text, hand).items():
            got[way].append(v)
        truth.append("".join(c for c in text if c.isdigit()))
        lens.append(k)
        who.append(writer_of(hand))
    log(f"{name}: {time.perf_counter() - t:.0f} s")
    return dict(name=name, truth=truth, got=got, lens=lens, who=who)


def photo_sets(args, readers: Readers, rng: np.random.Generator, name: str, hands: list) -> list[dict]:
    """One population's photographed sets: its natural-spacing numbers on paper, and cheque amounts."""
    def on_paper(text: str, hand) -> dict[str, str]:
        height = rng.uniform(40, 110)
        ink, _, _ = write(text, hand, rng, GAPS["natural"], height, max(1.5, height * rng.uniform(0.05, 0.12)))
        return photo_read(readers, paper_photo(ink, rng))

    sets = [number_set(f"paper, natural spacing: {name} held-out writers, photographed", args.n_paper, hands, rng,
                       False, on_paper)]
    truth, got, lens = [], collections.defaultdict(list), []
    t = time.perf_counter()
    for i in range(args.n_paper):
        hand = hands[int(rng.integers(len(hands)))]
        text = amount_text(rng)
        height = 60.0
        ink, _, _ = write(text, hand, rng, (-0.2, 0.1), height, height * rng.uniform(0.05, 0.14))
        res = photo_read(readers, cheque_crop(ink, rng))
        truth.append("".join(c for c in text if c.isdigit()))
        lens.append(len(truth[-1]))
        for k, v in res.items():
            got[k].append(v)
    sets.append(dict(name=f"cheque amounts: {name} held-out writers, cut tightly from patterned paper (24-64 px)",
                     truth=truth, got=got, lens=lens))
    log(f"{sets[-1]['name']}: {time.perf_counter() - t:.0f} s")
    return sets


def build_and_read(args, readers: Readers) -> list[dict]:
    """Every set: name, truths, each way's readings, the line lengths."""
    rng = np.random.default_rng(args.seed)
    sets = []
    for name, file in (("pendigits", "pendigits_dev.json.gz"), ("UNIPEN", "unipen_dev.json.gz")):
        p = DATA / "pen" / file
        if not p.is_file() or name not in args.populations.split(","):
            continue
        hands = writers_with_all_digits(pen.split_writers(pen.load_pen(p))[1])
        log(f"{name}: {len(hands)} held-out writers who wrote every digit")
        for cond, gap, seps in (("natural spacing", GAPS["natural"], False), ("touching", GAPS["touching"], False),
                                ("with separators", GAPS["natural"], True)):
            def on_canvas(text: str, hand, gap=gap) -> dict[str, str]:
                return canvas_read(readers, *canvas_number(text, hand, rng, gap))

            sets.append(number_set(f"canvas, {cond}: {name} held-out writers", args.n, hands, rng, seps, on_canvas))
        if not args.canvas_only:
            sets += photo_sets(args, readers, rng, name, hands)
    mnist = DATA / "mnist.npz"
    if mnist.is_file() and not args.canvas_only:
        with np.load(mnist) as f:
            hand = lines.Hand(None, (f["x_test"], f["y_test"]))
        truth, got, lens = [], collections.defaultdict(list), []
        style = lines.LineStyle(min_digits=1, max_digits=8)
        for i in range(args.n):
            text = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(1, 9))))
            ink, _ = lines.write_line(text, hand, rng, style, height=rng.uniform(50, 90), pen=1.0)
            f = min(1.0, 380 / ink.shape[1], 380 / ink.shape[0])
            ink = cv2.resize(ink, (max(1, int(ink.shape[1] * f)), max(1, int(ink.shape[0] * f))), interpolation=cv2.INTER_AREA)
            layer = np.zeros((400, 400, 4), np.uint8)
            layer[10:10 + ink.shape[0], 10:10 + ink.shape[1], 3] = ink
            res = canvas_read(readers, layer)
            truth.append(text)
            lens.append(len(text))
            for k, v in res.items():
                got[k].append(v)
        sets.append(dict(name="canvas: lines of MNIST test digits (1-8 digits)", truth=truth, got=got, lens=lens))
    return sets


# ------------------------------------------------------------------------------------------------------------
# Scoring and the table
# ------------------------------------------------------------------------------------------------------------


def scores(read: list[str], truth: list[str]) -> tuple[float, float]:
    from mnist_core.numbers.train import score

    return score(read, truth)


def by_writer(s: dict, way: str = "served", worst: int = 3) -> dict:
    """How one set's misread numbers spread over its writers: writers, misread numbers, writers with none misread,
    the median writer's exact match, and the `worst` writers with the most misread (name, misread, numbers)."""
    per = collections.defaultdict(lambda: [0, 0])  # writer -> [misread, numbers]
    for w, got, truth in zip(s["who"], s["got"][way], s["truth"]):
        per[w][0] += got != truth
        per[w][1] += 1
    ranked = sorted(per.items(), key=lambda kv: (-kv[1][0], kv[0]))
    misread = [m for m, _ in per.values()]
    return dict(writers=len(per), misread=sum(misread), flawless=misread.count(0),
                median=float(np.median([1 - m / n for m, n in per.values()])),
                worst=[(w, m, n) for w, (m, n) in ranked[:worst] if m])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=400, help="canvas numbers per set (default 400)")
    ap.add_argument("--n-paper", type=int, default=200, help="photographed numbers per population (default 200)")
    ap.add_argument("--reader", default=str(nr.SHIPPED), help="the number reader (.tflite)")
    ap.add_argument("--shears", default=",".join(f"{v:g}" for v in nr.SHEARS),
                    help="slants each line is read at, comma-separated (default: the served "
                         "mnist_core.numbers.reader.SHEARS; 0 reads upright only, as before)")
    ap.add_argument("--widths", default=",".join(f"{v:g}" for v in nr.WIDTHS),
                    help="widths each line is read at, comma-separated, 1 first (default: the served "
                         "mnist_core.numbers.reader.WIDTHS and WIDTH_WEIGHTS; 1 reads it at its own width only)")
    ap.add_argument("--ink", default=str(ROOT / "models" / "ink"), help="the ink model's stem (.tflite and its card "
                    ".json with the fusion weights): the pen canvas sets are also read fused with their strokes; "
                    "none: not")
    ap.add_argument("--no-reader-ink", action="store_true", help="fuse the strokes with the segmenter's digits only, "
                    "not with the reader's where its count stands (as served before)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--populations", default="pendigits,UNIPEN", help="the pen populations read (comma-separated)")
    ap.add_argument("--canvas-only", action="store_true", help="the pen canvas sets only: no paper, cheques or MNIST "
                    "lines (the draws of a population after the first differ from the full run's)")
    ap.add_argument("--out", default=None, help="write the table into this Markdown file between its markers")
    args = ap.parse_args(argv)
    if not (DATA / "pen").is_dir():
        print(f"no pen data at {DATA / 'pen'}; nothing to measure", file=sys.stderr)
        return 2
    started, load0 = time.perf_counter(), os.getloadavg()
    readers = Readers(Path(args.reader), tuple(float(v) for v in args.shears.split(",")),
                      tuple(float(v) for v in args.widths.split(",")), None if args.ink == "none" else args.ink,
                      reader_ink=not args.no_reader_ink)
    sets = build_and_read(args, readers)
    ways = ("segmenter", "reader alone", "served", "fused")
    rows = []
    for s in sets:
        res = {k: scores(s["got"][k], s["truth"]) for k in ways if k in s["got"]}
        rows.append((s, res))
        log(f"{s['name']} (n {len(s['truth'])}): " + "  ".join(f"{k}: {e:.1%} exact, {d:.1%} digits"
                                                             for k, (e, d) in res.items()))
    per_len = []
    for s in sets:
        if s["name"].startswith("canvas, natural"):
            for n in sorted(set(s["lens"])):
                idx = [i for i, m in enumerate(s["lens"]) if m == n]
                r = {k: scores([s["got"][k][i] for i in idx], [s["truth"][i] for i in idx])[0] for k in ways
                     if k in s["got"]}
                per_len.append((s["name"].split(": ")[1].split(" ")[0], n, len(idx), r))
    spread = [(s["name"], by_writer(s), by_writer(s, "fused") if "fused" in s["got"] else None)
              for s in sets if "who" in s]
    for name, b, _ in spread:
        log(f"{name}: {b['misread']} misread by {b['writers']} writers ({b['flawless']} with none), median writer "
            f"{b['median']:.1%}; worst "
            + ", ".join(f"{w} {m}/{n}" for w, m, n in b["worst"]))
    t_line = np.array(readers.times["line"]) * 1000
    t_net = np.array(readers.times["network"]) * 1000
    timing = (f"reading a picture's numbers once its digits are found (rows, bands, the reader, combining): p50 "
              f"{np.percentile(t_line, 50):.1f} ms, p90 {np.percentile(t_line, 90):.1f} ms over {len(t_line)} pictures; "
              f"the reader alone per line (its network at every shear and width, and their vote): p50 "
              f"{np.percentile(t_net, 50):.1f} ms, p90 {np.percentile(t_net, 90):.1f} ms")
    if (t_ink := np.array(readers.times["ink"]) * 1000).size:
        timing += (f"; the ink model on a drawing's strokes (handed to its digits, read, fused): p50 "
                   f"{np.percentile(t_ink, 50):.1f} ms, p90 {np.percentile(t_ink, 90):.1f} ms over {len(t_ink)} drawings")
    log(timing)
    seconds = time.perf_counter() - started
    if args.out:
        write_table(Path(args.out), rows, per_len, spread, args, load0, seconds, timing)
    return 0


def write_table(path: Path, rows, per_len, spread, args, load0, seconds, timing) -> None:
    """The results as Markdown between BEGIN and END in `path` (text around them kept), else the whole file; "fused"
    (the digits fused with the ink) is `-` for the sets without strokes, or all of them with `--ink none`."""
    from _common import describe, machine

    loads = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
    pair = lambda r, k, b="": f"{b}{r[k][0]:.1%}{b} | {r[k][1]:.1%}" if k in r else "- | -"  # noqa: E731
    flags = f" --ink {args.ink}" if args.ink != str(ROOT / "models" / "ink") else ""  # the options not at default
    flags += f" --populations {args.populations}" if args.populations != "pendigits,UNIPEN" else ""
    flags += " --canvas-only" if args.canvas_only else ""
    out = [f"Command: `python benchmarks/bench_numbers.py --n {args.n} --n-paper {args.n_paper} --seed {args.seed}"
           f" --shears {args.shears} --widths {args.widths}{flags} --out {os.path.relpath(path, ROOT)}`"
           f" ({seconds / 60:.0f} min)  ",
           f"Reader: `{os.path.relpath(args.reader, ROOT)}`, each line read at shears {args.shears} and widths "
           f"{args.widths}; digit model: `models/default.tflite`; "
           + ("no ink model  " if args.ink == "none" else f"ink model: `{os.path.relpath(args.ink, ROOT)}`, fused by "
              "its card's weights  "),
           f"{describe(machine())}; load averages {loads(load0)} at the start, {loads(os.getloadavg())} at the end",
           "",
           "| set | n | old segmenter: exact | digits | reader alone: exact | digits | **served**: exact | digits | "
           "**served, digits fused with the ink**: exact | digits |", "|---|---:|" + "---:|" * 8]
    for s, res in rows:
        out.append(f"| {s['name']} | {len(s['truth'])} | {pair(res, 'segmenter')} | {pair(res, 'reader alone')} | "
                   f"{pair(res, 'served', '**')} | {pair(res, 'fused', '**')} |")
    out += ["", "Exact match per number length, canvas with natural spacing:", "",
            "| writers | digits | n | old segmenter | reader alone | served | served, fused |", "|---|" + "---:|" * 6]
    for pop, n, m, r in per_len:
        out.append(f"| {pop} | {n} | {m} | " + " | ".join(f"{r[k]:.1%}" if k in r else "-" for k in
                                                       ("segmenter", "reader alone", "served", "fused")) + " |")
    out += ["", "Served misreadings by writer (each number is one writer's; the median writer's exact match, and the "
            "three writers with the most misread numbers); and the misread numbers once the digits are fused with the "
            "ink:", "", "| set | writers | every number read right | median writer | misread | most misread "
            "(misread / numbers) | misread, fused |", "|---|---:|---:|---:|---:|---|---:|"]
    for name, b, f in spread:
        worst = ", ".join(f"{w} {m}/{n}" for w, m, n in b["worst"]) or "-"
        share = sum(m for _, m, _ in b["worst"])
        out.append(f"| {name} | {b['writers']} | {b['flawless']} | {b['median']:.1%} | {b['misread']} ({share} by "
                   f"these three) | {worst} | {f['misread'] if f else '-'} |")
    out += ["", f"Speed (reported, not asserted): {timing}."]
    write_between(path, BEGIN, END, "\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
