"""Path signatures beside the shipped ink CNN: issue 22 asked for a 1-D net, a recurrent net or path signatures,
"measure and choose". This trains a signature model with the ink net's own data, augmentation and schedule and
scores it on the calibration writers (never the held-out writers), beside the shipped net.

    python benchmarks/ink_signatures.py [--epochs 40] [--seed 1] [--windows 8]

Features (numpy, `signature_features`): the ink's resampled trajectory (`ink.features`, 96 points) as a path in
three dimensions, (x, y, z) with z rising by 0.25 at each pen lift, so a stroke's end and the next one's start
are told apart from a pen-down segment. Its signature truncated at level 3 (3 + 9 + 27 = 39 numbers: increments,
signed areas, and third-order terms that carry the curve's order of turning) is taken over each of `windows`
equal runs of points and over the whole path, with each run's starting point (a signature forgets where a path
is): 9 x 39 + 8 x 2 = 367 numbers for 8 windows, standardised. Model: a small MLP (512, 256, dropout 0.3).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core.ink import features as F  # noqa: E402
from mnist_core.ink.fit import InkTrainSettings, epoch_data, training_writers  # noqa: E402
from mnist_core.train import synth  # noqa: E402

PEN, X, Y = F.CHANNELS.index("pen_down"), F.CHANNELS.index("x"), F.CHANNELS.index("y")


def _segment(d: np.ndarray):
    """Signature levels 1-3 of straight segments with increments d (N, 3)."""
    d2 = d[:, :, None] * d[:, None, :]
    return d, d2 / 2, d2[:, :, :, None] * d[:, None, None, :] / 6


def _chen(a, b):
    """The signature of path a followed by path b (Chen's identity), levels 1-3, batched."""
    a1, a2, a3 = a
    b1, b2, b3 = b
    return (a1 + b1, a2 + b2 + a1[:, :, None] * b1[:, None, :],
            a3 + b3 + a2[:, :, :, None] * b1[:, None, None, :] + a1[:, :, None, None] * b2[:, None, :, :])


def _flat(s) -> np.ndarray:
    return np.concatenate([s[0], s[1].reshape(len(s[0]), -1), s[2].reshape(len(s[0]), -1)], axis=1)


def signature_features(x: np.ndarray, windows: int = 8) -> np.ndarray:
    """(N, points, channels) ink features -> (N, 39 * (windows + 1) + 2 * windows) float32."""
    lift = np.cumsum(1.0 - x[:, :, PEN], axis=1) - (1.0 - x[:, :, PEN])  # pen lifts before each point
    path = np.stack([x[:, :, X], x[:, :, Y], 0.25 * lift], axis=2).astype(np.float64)  # (N, P, 3)
    inc = np.diff(path, axis=1)  # (N, P-1, 3)
    edges = np.linspace(0, inc.shape[1], windows + 1).round().astype(int)
    out, whole = [], None
    for w in range(windows):
        sig = None
        for k in range(edges[w], edges[w + 1]):
            seg = _segment(inc[:, k])
            sig = seg if sig is None else _chen(sig, seg)
        whole = sig if whole is None else _chen(whole, sig)
        out += [_flat(sig), path[:, edges[w], :2]]
    return np.concatenate(out + [_flat(whole)], axis=1).astype(np.float32)


def build_mlp(n_in: int, dropout: float = 0.3):
    """A small MLP over standardised signature features -> (N, 10) probabilities."""
    import keras
    from keras import layers

    inp = keras.Input((n_in,), name="signature")
    h = inp
    for units in (512, 256):
        h = layers.Dense(units, use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        h = layers.Activation("relu")(h)
        h = layers.Dropout(dropout)(h)
    return keras.Model(inp, layers.Softmax()(layers.Dense(10)(h)), name="ink_signature_mlp")


def calibration_sets(calib, settings: InkTrainSettings) -> dict:
    """The calibration writers as written, less pendigits-5 and -14, and 400 of each taught convention (seed 11)."""
    skip = {"pendigits-5", "pendigits-14"}
    sets = {"as written": ([d.strokes for d in calib], [d.label for d in calib]),
            "as written, less pendigits-5/14": ([d.strokes for d in calib if d.writer not in skip],
                                                 [d.label for d in calib if d.writer not in skip])}
    rng = np.random.default_rng(11)
    for c in synth.CONVENTIONS:
        if c.share == 0:
            continue
        pool = [d for d in calib if d.label == c.label]
        pick = [pool[int(i)] for i in rng.integers(0, len(pool), 400)]
        sets[c.name] = ([c.make(d.strokes, rng) for d in pick], [c.label] * 400)
    return {k: (F.batch_features(s, settings.features), np.array(y)) for k, (s, y) in sets.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--windows", type=int, default=8)
    args = ap.parse_args(argv)
    import keras

    from mnist_core.ink.reader import InkReader

    s = InkTrainSettings(epochs=args.epochs, seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, calib = training_writers(s)
    x0, _ = epoch_data(train, np.random.default_rng(0), s)
    f0 = signature_features(x0, args.windows)
    mu, sd = f0.mean(0), f0.std(0) + 1e-6
    model = build_mlp(f0.shape[1])
    steps = int(np.ceil(len(train) / s.batch_size))
    sched = keras.optimizers.schedules.CosineDecay(0.0, steps * (s.epochs - 1), warmup_target=s.lr, warmup_steps=steps)
    model.compile(optimizer=keras.optimizers.AdamW(sched, weight_decay=s.weight_decay),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=s.label_smoothing), metrics=["accuracy"])
    t0 = time.perf_counter()
    for epoch in range(s.epochs):
        x, y = epoch_data(train, rng, s)
        h = model.fit((signature_features(x, args.windows) - mu) / sd, keras.utils.to_categorical(y, 10),
                      batch_size=s.batch_size, epochs=1, verbose=0, shuffle=True)
        print(f"epoch {epoch + 1}: loss {h.history['loss'][-1]:.4f} ({time.perf_counter() - t0:.0f} s)",
              file=sys.stderr, flush=True)
    cnn = InkReader.shipped()
    print(f"Command: `python benchmarks/ink_signatures.py --epochs {args.epochs} --seed {args.seed} "
          f"--windows {args.windows}` ({(time.perf_counter() - t0) / 60:.1f} min); {f0.shape[1]} features, "
          f"{model.count_params():,} parameters\n")
    print("| calibration writers, the net alone | digits | shipped CNN | signatures + MLP |\n|---|---:|---:|---:|")
    conv = {"cnn": [], "sig": []}
    sets = calibration_sets(calib, s)
    for name, (x, y) in sets.items():
        a = float((cnn.predict_features(x).argmax(1) == y).mean())
        b = float((model.predict((signature_features(x, args.windows) - mu) / sd, batch_size=512,
                                 verbose=0).argmax(1) == y).mean())
        if not name.startswith("as written"):
            conv["cnn"].append(a)
            conv["sig"].append(b)
        print(f"| {name} | {len(y):,} | {a:.2%} | {b:.2%} |")
    print(f"| mean of the {len(conv['cnn'])} taught conventions | | {np.mean(conv['cnn']):.2%} | "
          f"{np.mean(conv['sig']):.2%} |")
    xs = sets["as written"][0][:1]
    times = []
    for _ in range(200):
        t = time.perf_counter()
        model((signature_features(xs, args.windows) - mu) / sd, training=False)
        times.append(time.perf_counter() - t)
    print(f"\nSignature features for one digit + the MLP (Keras, eager): median {np.median(times) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
