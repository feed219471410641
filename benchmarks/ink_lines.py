"""A number read from its ink alone: a CTC line reader over the whole number's trajectory (an experiment).

    python benchmarks/ink_lines.py --out /tmp/inklines      # train (8 min), then read the calibration writers' numbers
    python benchmarks/ink_lines.py --model /tmp/inklines/line.keras --held-out --seeds 3,4   # held-out UNIPEN numbers
    python benchmarks/ink_lines.py --model OTHER.keras --sets /tmp/inklines/held_3-4.pkl   # the same drawings again

The digit ink net reads one digit's strokes. A number's strokes are read today by cutting the picture into digits
(the segmenter, the number reader's alignment) and handing each digit the strokes in its box. Touching numbers
lose digits to it (a thin 1 merged into its neighbour), numbers with separators gain some (a slash or a dash read as
a digit), and a stroke near two boxes goes with one of them; in the ink these are separate strokes, drawn in their
own order. On-line recognisers read a whole line's trajectory with a
recurrent net and CTC, no cutting at all. This is that reader, trained here on lines written with the ink net's
training writers' digits (never the calibration or held-out writers), augmented as the ink net's digits are, with
the number reader's line style (gaps, separators, size and baseline jitter, slant):

- a line's strokes are scaled by its ink's height, resampled by arc length every `STEP` of it, and read as per-point
  features (direction, turning, pen up/down, the jump between strokes, height in the line, x about its neighbours);
- a 1-D convolutional net (pooled by 4) and a bidirectional GRU give (T/4, 11) frame probabilities, blank first, as
  the number reader's frames, so `numbers.reader.greedy` and `ctc_logprob` read them.

Read on numbers written by the calibration writers (chosen on) or the held-out writers (reported), drawn exactly as
`bench_numbers.py` draws its canvas sets, with the served reading (digits fused with the ink) beside it on the same
numbers, and a rescoring of the two readings' candidates by both readers' CTC log-likelihoods.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core.ink.features import arc_length, point_features  # noqa: E402
from mnist_core.numbers import lines  # noqa: E402
from mnist_core.train import pen, synth  # noqa: E402

STEP = 0.07  # resampling step along the pen's path, in line heights (a digit's path is 1-4 of them)
POOL = 4  # points per output frame
CHANNELS = 10
DATA = ROOT.parent / "shared" / "data"


# ------------------------------------------------------------------------------------------------------------
# Lines of strokes
# ------------------------------------------------------------------------------------------------------------


def line_strokes(text: str, hand: dict, rng: np.random.Generator, style: lines.LineStyle = lines.LineStyle(),
                 augment: bool = True) -> list[np.ndarray]:
    """`text` written by one hand ({label: digits}) as strokes in digit heights (y down), in writing order: each
    digit redrawn in a convention by its share and augmented as the ink net's are, gaps and separators as the
    number reader's training lines have them, one slant for the line."""
    gaps = (style.natural_gap, style.tight_gap, style.wide_gap)[int(rng.choice(3, p=list(style.gap_mix)))]
    out, x = [], 0.0
    for ch in text:
        hi = 1 + rng.uniform(-style.size_jitter, style.size_jitter)
        y = rng.uniform(-style.baseline_jitter, style.baseline_jitter) + (1 - hi)
        if ch.isdigit():
            d = hand[int(ch)][int(rng.integers(len(hand[int(ch)])))]
            s = pen.written(d, rng, 1.0) if augment else d.strokes
            s = synth.augment(s, rng) if augment and rng.random() > 0.1 else synth.unit(s)
            w = float(np.concatenate(s)[:, 0].max()) * hi
            out += [np.asarray(p, np.float64) * hi + [x, y] for p in s]
            x += w + rng.uniform(*gaps)
        else:
            strokes, w, margin = lines._sep_strokes(ch, rng)  # noqa: SLF001 (the number reader's own separators)
            x += margin * rng.uniform(*lines._MARGIN_SPREAD)  # noqa: SLF001
            out += [np.asarray(p, np.float64) + [x, 0.0] for p in strokes]
            x += (w + margin * rng.uniform(*lines._MARGIN_SPREAD))  # noqa: SLF001
    slant = rng.uniform(-lines._SLANT, lines._SLANT) if augment else 0.0  # noqa: SLF001
    return [s + np.stack([-slant * (s[:, 1] - 0.6), np.zeros(len(s))], axis=1) for s in out]


def features(strokes: list[np.ndarray]) -> np.ndarray:
    """A line's strokes (any units, y down) -> (N, CHANNELS) float32 per-point features, N about path / STEP."""
    strokes = [np.asarray(s, np.float64)[:, :2] for s in strokes if len(s)]
    allp = np.concatenate(strokes)
    top, h = allp[:, 1].min(), max(float(np.ptp(allp[:, 1])), 1e-6)
    pts, ids = [], []
    for i, s in enumerate(strokes):
        s = (s - [allp[:, 0].min(), top]) / h
        cum = arc_length(s)
        k = max(2, int(math.ceil(cum[-1] / STEP)) + 1)
        u = np.linspace(0.0, cum[-1], k)
        pts.append(np.stack([np.interp(u, cum, s[:, 0]), np.interp(u, cum, s[:, 1])], axis=1))
        ids.append(np.full(k, i))
    pts, ids = np.concatenate(pts), np.concatenate(ids)
    f = point_features(pts, ids)  # x, y, dx, dy, cos, sin, pen_down, start, jump_x, jump_y
    kernel = np.ones(15) / 15  # x about its neighbours: the line's absolute x says nothing of the digit
    f[:, 0] = pts[:, 0] - np.convolve(np.pad(pts[:, 0], 7, mode="edge"), kernel, mode="valid")
    f[:, 1] -= 0.5
    f[:, 8:10] = np.clip(f[:, 8:10], -3, 3)
    return f


# ------------------------------------------------------------------------------------------------------------
# The net and its training
# ------------------------------------------------------------------------------------------------------------


def build_line_net(width: int = 64, rnn: int = 96):
    """(B, N, CHANNELS) -> (B, ceil(N / POOL), 11) logits, blank first."""
    import keras  # noqa: PLC0415
    from keras import layers  # noqa: PLC0415

    inp = keras.Input((None, CHANNELS), name="ink_line")
    x = inp
    for filters, kernel, pool in ((width, 5, True), (width * 2, 5, True), (width * 2, 3, False)):
        for _ in range(2):
            x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        if pool:
            x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.Bidirectional(layers.GRU(rnn, return_sequences=True))(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inp, layers.Dense(11, name="logits")(x), name="ink_line_reader")


def _pad(fs: list[np.ndarray], texts: list[str]):
    n = max(len(f) for f in fs)
    n = int(math.ceil(n / POOL) * POOL)
    x = np.zeros((len(fs), n, CHANNELS), np.float32)
    for i, f in enumerate(fs):
        x[i, :len(f)] = f
    digits = [[int(c) + 1 for c in t if c.isdigit()] for t in texts]
    lab = np.zeros((len(fs), max(1, max(len(d) for d in digits))), np.int32)
    for i, d in enumerate(digits):
        lab[i, :len(d)] = d
    return (x, lab, np.array([len(d) for d in digits], np.int32),
            np.array([int(math.ceil(len(f) / POOL)) for f in fs], np.int32))


def epoch_lines(hands: list[dict], n: int, rng: np.random.Generator, style: lines.LineStyle):
    """`n` fresh lines by the training hands: features and texts."""
    fs, texts = [], []
    for _ in range(n):
        text = lines._number_text(rng, style)  # noqa: SLF001
        fs.append(features(line_strokes(text, hands[int(rng.integers(len(hands)))], rng, style)))
        texts.append(text)
    return fs, texts


def train(hands: list[dict], epochs: int, per_epoch: int, seed: int, batch: int = 32, lr: float = 2e-3):
    """A line reader trained on fresh lines each epoch: (model, seconds)."""
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    style = lines.LineStyle(min_digits=1, max_digits=7)
    model = build_line_net()
    steps = epochs * math.ceil(per_epoch / batch)
    sched = keras.optimizers.schedules.CosineDecay(lr / 10, max(1, steps - steps // 20), alpha=0.01,
                                                   warmup_target=lr, warmup_steps=max(1, steps // 20))
    opt = keras.optimizers.Adam(learning_rate=sched, clipnorm=5.0)

    @tf.function(input_signature=[tf.TensorSpec([None, None, CHANNELS], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.int32)])
    def step(x, lab, n, t):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            per = keras.ops.ctc_loss(lab, logits, n, t, mask_index=0)
            per = tf.where(tf.math.is_finite(per), per, tf.zeros_like(per))
            loss = tf.reduce_mean(per)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    t0 = time.perf_counter()
    for epoch in range(epochs):
        fs, texts = epoch_lines(hands, per_epoch, rng, style)
        order = np.argsort([len(f) + rng.uniform(0, 40) for f in fs])  # like lengths batched together
        batches = [order[i:i + batch] for i in range(0, len(order), batch)]
        rng.shuffle(batches)
        losses = [float(step(*map(tf.constant, _pad([fs[i] for i in b], [texts[i] for i in b])))) for b in batches]
        print(f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return model, time.perf_counter() - t0


def add_frames(model, sets: dict) -> None:
    """Each drawing of `sets` ({set: rows}) gets the line reader's frames of its strokes ("frames")."""
    for rows in sets.values():
        for r, f in zip(rows, frames_of(model, [r["strokes"] for r in rows])):
            r["frames"] = f


def frames_of(model, strokes_list: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Each line's (T, 11) frame probabilities."""
    import tensorflow as tf  # noqa: PLC0415

    call = tf.function(lambda x: model(x, training=False),  # one graph for every length (eager GRUs loop in Python)
                       input_signature=[tf.TensorSpec([1, None, CHANNELS], tf.float32)])
    out = []
    for s in strokes_list:
        f = features(s)
        x, *_ = _pad([f], ["0"])
        logits = call(tf.constant(x))[0].numpy()[: int(math.ceil(len(f) / POOL))]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        out.append(e / e.sum(axis=1, keepdims=True))
    return out


# ------------------------------------------------------------------------------------------------------------
# Reading numbers written as bench_numbers.py writes them
# ------------------------------------------------------------------------------------------------------------


def hands_of(digits) -> list[dict]:
    """Writers who wrote every digit, each as {label: their digits}."""
    from numbers_writing import writers_with_all_digits  # noqa: PLC0415

    return writers_with_all_digits(digits)


def read_sets(model, hands: list[dict], seeds: list[int], n: int) -> dict:
    """For each canvas set (natural, touching, separators) and seed: truths, served fused readings, the line
    reader's frames, and the pixel number reader's readings of each line (for rescoring)."""
    import bench_numbers as bn  # noqa: PLC0415
    from mnist_core import digits as pp  # noqa: PLC0415
    from mnist_core.numbers import reader as nr  # noqa: PLC0415
    from numbers_writing import canvas_number, number_text, writer_of  # noqa: PLC0415

    readers = bn.Readers(ROOT / "models" / "number.tflite", ink_stem=str(ROOT / "models" / "ink"))
    out = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for cond, gap, seps in (("natural", bn.GAPS["natural"], False), ("touching", bn.GAPS["touching"], False),
                                ("separators", bn.GAPS["natural"], True)):
            rows = out.setdefault(cond, [])
            for _ in range(n):
                hand = hands[int(rng.integers(len(hands)))]
                text = number_text(rng, int(rng.integers(2, 7)), seps)
                layer, strokes = canvas_number(text, hand, rng, gap)
                digits, ink = pp.canvas_ink([layer])
                got = readers.read(digits, ink, strokes)
                band = [nr.band(ink, row) for row in nr.rows_of(digits)] if digits else []
                pixel = readers.reader.read(nr.line_input(band[0])) if len(band) == 1 else None
                rows.append(dict(truth="".join(c for c in text if c.isdigit()), served=got.get("fused", ""),
                                 image=got.get("served", ""), strokes=strokes, writer=writer_of(hand),
                                 pixel=None if pixel is None else (pixel.frames, pixel.weights)))
    if model is not None:
        add_frames(model, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a trained line reader (.keras) to read with, instead of training one")
    ap.add_argument("--out", default="/tmp/inklines", help="folder for the trained reader")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--per-epoch", type=int, default=8000, help="fresh lines an epoch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--held-out", action="store_true", help="read the held-out UNIPEN writers (default: the ink "
                    "net's calibration writers, pendigits and UNIPEN)")
    ap.add_argument("--seeds", default="1", help="draws of numbers to read, comma-separated")
    ap.add_argument("--n", type=int, default=400, help="numbers a set and draw")
    ap.add_argument("--sets", help="the .pkl files (comma-separated) of drawings this "
                    "script read before (in --out): read them again, as one set each")
    args = ap.parse_args(argv)
    import keras  # noqa: PLC0415
    from mnist_core.ink import fit  # noqa: PLC0415

    train_digits, calib_digits = fit.training_writers(fit.InkTrainSettings())
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.model:
        model = keras.models.load_model(args.model)
    else:
        model, secs = train(hands_of_any(train_digits), args.epochs, args.per_epoch, args.seed)
        model.save(Path(args.out) / "line.keras")
        print(f"trained in {secs / 60:.1f} min; saved {Path(args.out) / 'line.keras'}")
    if args.sets:  # drawings read before (by this script): the line reader's frames read again
        sets = {}
        for path in args.sets.split(","):
            with open(path, "rb") as fh:
                for cond, rows in pickle.load(fh).items():
                    sets.setdefault(cond, []).extend(rows)
        add_frames(model, sets)
    else:
        read_on = pen.split_writers(pen.load_pen(DATA / "pen" / "unipen_dev.json.gz"))[1] if args.held_out \
            else calib_digits
        hands = hands_of(read_on)
        print(f"reading {len(hands)} writers' numbers")
        sets = read_sets(model, hands, [int(s) for s in args.seeds.split(",")], args.n)
        name = f"{'held' if args.held_out else 'calib'}_{args.seeds.replace(',', '-')}.pkl"
        with open(Path(args.out) / name, "wb") as fh:
            pickle.dump(sets, fh)
    report(sets)
    return 0


def hands_of_any(digits) -> list[dict]:
    """Every writer with at least one digit of each label they wrote; labels they lack are drawn from others."""
    by: dict[str, dict[int, list]] = {}
    for d in digits:
        by.setdefault(d.writer, {}).setdefault(d.label, []).append(d)
    pool: dict[int, list] = {}
    for d in digits:
        pool.setdefault(d.label, []).append(d)
    return [{k: v.get(k) or pool[k] for k in range(10)} for v in by.values()]


def rescored(row: dict) -> str:
    """The number chosen for one drawing: of the served reading (digits fused with the ink), the number reader's
    own and the line reader's, the one with the highest sum of the two CTC readers' log-likelihoods (the number
    reader's over its widths, as `LineReading.logprob`); the served one on a tie, or where the picture is not one
    row."""
    from mnist_core.numbers.reader import ctc_logprob, greedy  # noqa: PLC0415

    if row["pixel"] is None:
        return row["served"]
    frames, weights = row["pixel"]

    def score(text: str) -> float:
        d = [int(c) for c in text]
        return sum(w * ctc_logprob(f, d) for w, f in zip(weights, frames)) + ctc_logprob(row["frames"], d)

    candidates = {"".join(str(d) for d, *_ in greedy(f)) for f in (row["frames"], frames[0])} - {"", row["served"]}
    best = row["served"], score(row["served"])
    for c in sorted(candidates):
        lp = score(c)
        if lp > best[1]:
            best = c, lp
    return best[0]


def report(sets: dict) -> None:
    """Exact match per set: served without and with the ink, the line reader alone, and the rescoring (with the
    numbers it turns right and wrong against the served reading)."""
    from mnist_core.numbers.reader import greedy  # noqa: PLC0415
    from mnist_core.train.evaluate import writer_interval  # noqa: PLC0415

    print("| set | numbers | served (image alone) | served, fused with the ink | line reader alone | rescored | "
          "turned right / wrong | change, 95% over writers |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for cond, rows in sets.items():
        truth = [r["truth"] for r in rows]
        rate = lambda got: np.mean([g == t for g, t in zip(got, truth)])  # noqa: E731
        alone = ["".join(str(d) for d, *_ in greedy(r["frames"])) for r in rows]
        pick = [rescored(r) for r in rows]
        gained = sum(p == t != r["served"] for p, t, r in zip(pick, truth, rows))
        lost = sum(p != t == r["served"] for p, t, r in zip(pick, truth, rows))
        change = np.array([(p == t) - (r["served"] == t) for p, t, r in zip(pick, truth, rows)], np.float64)
        lo, hi = writer_interval(change, [r["writer"] for r in rows])
        print(f"| {cond} | {len(rows)} | {rate([r['image'] for r in rows]):.2%} | "
              f"{rate([r['served'] for r in rows]):.2%} | {rate(alone):.2%} | **{rate(pick):.2%}** | "
              f"+{gained} / -{lost} | {change.mean() * 100:+.2f} ({lo * 100:+.2f} to {hi * 100:+.2f}) |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
