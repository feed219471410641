"""Inference in process: a drawn 800x800 canvas to a digit, and batches of 1,000 digits, beside the tutorial's way.

    python benchmarks/bench_inference.py [--model models/default.keras] [--runs 300] [--canvas 800]
        [--batch 1000] [--batch-reps 15] [--distinct 50]

Single digit, per run (the paths interleaved, their order rotated each run, over --distinct different canvases):
- ours, TF Lite: the RGBA stroke layer -> `digits.canvas_to_mnist` -> `Recognizer(model, lite=True).predict`;
- ours, tf.function: the same with `Recognizer(model, lite=False)`;
- tutorial: the light-theme composite -> grey, resize to 28x28, / 255 -> `model.predict(x)` on the tutorial's MLP
  (its exact architecture; fresh weights, since only the time matters here), and the same with a direct
  `model(x)` call; plus `model.predict` on our CNN, to show the cost is Keras' per-call overhead, not the model.
Batch: 1,000 MNIST test digits (28x28, in memory) per call, digits/s for both recognizer paths and for the
tutorial's `model.predict` (its default batch_size 32) on both models; also per CPU-second of this process, a
figure less sensitive to other load (on an idle machine digits/s is at most about nproc times it).
Correctness: both recognizer paths must give the same predicted digit on all 10,000 MNIST test digits and on the
canvases; their test accuracy is printed. About 5 minutes at load 8-12 here. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402


def cpu() -> float:
    """CPU seconds (user + system) of this process, all threads."""
    return time.process_time()  # all threads; nanosecond resolution (os.times() ticks in 10 ms)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(c.MODEL), help="the model served (default: the shipped one)")
    p.add_argument("--runs", type=int, default=300, help="single-digit runs per path (default 300)")
    p.add_argument("--canvas", type=int, default=800, help="canvas side in pixels (default 800)")
    p.add_argument("--distinct", type=int, default=50, help="different drawn digits cycled through")
    p.add_argument("--batch", type=int, default=1000, help="digits per batch call (default 1000)")
    p.add_argument("--batch-reps", type=int, default=15, help="batch calls per path (default 15)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    t0 = time.perf_counter()
    import tensorflow as tf  # noqa: PLC0415
    import keras  # noqa: PLC0415
    import_s = time.perf_counter() - t0
    import numpy as np  # noqa: PLC0415

    from mnist_core.train.nets import build_mlp  # noqa: PLC0415
    from mnist_core.digits import canvas_to_mnist, most_prominent  # noqa: PLC0415
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.store.registry import load_model_file  # noqa: PLC0415

    info = c.machine(tensorflow=tf.__version__, keras=keras.__version__)
    print(f"# machine: {c.describe(info)}; TensorFlow import {import_s:.1f} s", flush=True)
    if not Path(args.model).exists():
        print(f"no model at {args.model}: train one first (python -m mnist_core train ...)", file=sys.stderr)
        return 2
    model = load_model_file(args.model)
    t = time.perf_counter()
    rec_tf = Recognizer(model, lite=False)
    tf_build_s = time.perf_counter() - t
    t = time.perf_counter()
    rec_lite = Recognizer(model, lite=True)
    lite_build_s = time.perf_counter() - t
    if rec_lite.compiled != "tflite":
        print("the TF Lite path could not be built or disagreed with the model", file=sys.stderr)
        return 1
    keras.utils.set_random_seed(0)
    mlp = build_mlp()  # the tutorial's model; fresh weights (timing only)
    cs = c.canvases(args.distinct, side=args.canvas)

    # ---------------------------------------------------------------- correctness
    x_test, y_test = c.load_test_digits(10000)
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    p_tf, p_lite = rec_tf.predict(x_test), rec_lite.predict(x_test)
    agree_test = int((p_tf.argmax(1) == p_lite.argmax(1)).sum())
    max_diff = float(np.abs(p_tf - p_lite).max())
    acc_tf, acc_lite = float((p_tf.argmax(1) == y_test).mean()), float((p_lite.argmax(1) == y_test).mean())
    canvas_hits, canvas_agree, canvas_read = 0, 0, 0
    for label, layer, _ in cs:
        digits = canvas_to_mnist([layer])
        if not digits:
            continue
        canvas_read += 1
        xs = np.stack([d.image for d in digits])
        i = most_prominent(digits)
        a, b = int(rec_tf.predict(xs)[i].argmax()), int(rec_lite.predict(xs)[i].argmax())
        canvas_agree += a == b
        canvas_hits += b == label
    print(f"paths agree on {agree_test}/10000 test digits (max |dp| {max_diff:.1e}) and {canvas_agree}/{len(cs)} "
          f"canvases ({canvas_read} had a digit); test accuracy tf.function {acc_tf:.2%}, TF Lite {acc_lite:.2%}; canvases read right "
          f"{canvas_hits}/{len(cs)}", flush=True)

    # ---------------------------------------------------------------- one drawn digit
    def ours(rec):
        def run(layer, composite):
            t1 = time.perf_counter()
            digits = canvas_to_mnist([layer])
            t2 = time.perf_counter()
            probs = rec.predict(np.stack([d.image for d in digits]))
            int(probs[most_prominent(digits)].argmax())
            t3 = time.perf_counter()
            return t3 - t1, t2 - t1, t3 - t2
        return run

    def tutorial(m, how):
        def run(layer, composite):
            t1 = time.perf_counter()
            x = c.tutorial_input(composite)
            t2 = time.perf_counter()
            probs = m.predict(x, verbose=0) if how == "predict" else np.asarray(m(x, training=False))
            int(probs[0].argmax())
            t3 = time.perf_counter()
            return t3 - t1, t2 - t1, t3 - t2
        return run

    paths = {
        "ours: canvas_to_mnist + Recognizer (TF Lite)": ours(rec_lite),
        "ours: canvas_to_mnist + Recognizer (tf.function)": ours(rec_tf),
        "tutorial: resize + model.predict (MLP)": tutorial(mlp, "predict"),
        "tutorial: resize + direct model(x) call (MLP)": tutorial(mlp, "call"),
        "resize + model.predict on our CNN": tutorial(model, "predict"),
    }
    names = list(paths)
    for name in names:  # warm every path (first calls trace and allocate)
        for k in range(3):
            paths[name](cs[k][1], cs[k][2])
    single = {n: ([], [], []) for n in names}
    load_single = c.load()
    for i in range(args.runs):
        _, layer, composite = cs[i % len(cs)]
        for j in range(len(names)):
            name = names[(i + j) % len(names)]
            for acc, v in zip(single[name], paths[name](layer, composite)):
                acc.append(v * 1000)
    print(f"single digit done [{load_single} -> {c.load()}]", flush=True)

    # ---------------------------------------------------------------- batches of 1,000
    xb = x_test[: args.batch]
    batch_paths = {
        "Recognizer (TF Lite)": lambda: rec_lite.predict(xb),
        "Recognizer (tf.function)": lambda: rec_tf.predict(xb),
        "tutorial: model.predict (MLP, batch_size 32)": lambda: mlp.predict(xb, verbose=0),
        "model.predict on our CNN (batch_size 32)": lambda: model.predict(xb, verbose=0),
    }
    bnames = list(batch_paths)
    for name in bnames:
        batch_paths[name]()
    rates = {n: [] for n in bnames}
    cpu_rates = {n: [] for n in bnames}  # digits per CPU-second of this process: less sensitive to other load
    load_batch = c.load()
    for i in range(args.batch_reps):
        for j in range(len(bnames)):
            name = bnames[(i + j) % len(bnames)]
            c1, t1 = cpu(), time.perf_counter()
            batch_paths[name]()
            rates[name].append(args.batch / (time.perf_counter() - t1))
            cpu_rates[name].append(args.batch / max(cpu() - c1, 1e-3))
    print(f"batches done [{load_batch} -> {c.load()}]", flush=True)

    # ---------------------------------------------------------------- report
    base = c.summary(single["tutorial: resize + model.predict (MLP)"][0])["median"]
    print(f"\n# {c.describe(info)}; TensorFlow import {import_s:.1f} s; Recognizer ready: tf.function "
          f"{tf_build_s:.2f} s, TF Lite {lite_build_s:.2f} s; load at end {c.load()}")
    print(f"# {args.runs} runs per path, {args.canvas}x{args.canvas} canvases; ms as median (min-max) of per-run times")
    print("| one drawn digit | p50 ms | p90 ms | min-max ms | of which preprocess p50 | predict p50 | p50 vs tutorial |")
    print("|---|---|---|---|---|---|---|")
    table = []
    for name in names:
        tot, pre, pred = (c.summary(v) for v in single[name])
        line = (f"| {name} | {tot['median']:.2f} | {tot['p90']:.2f} | {tot['min']:.2f}-{tot['max']:.2f} | "
                f"{pre['median']:.2f} | {pred['median']:.2f} | {tot['median'] / base:.3f}x |")
        table.append(line)
        print(line)
    base_rate = c.summary(rates["tutorial: model.predict (MLP, batch_size 32)"])["median"]
    print(f"\n# batches of {args.batch} MNIST test digits, {args.batch_reps} calls per path; digits/s median (min-max)")
    print("| batch path | digits/s | vs tutorial | digits per CPU-second |")
    print("|---|---|---|---|")
    for name in bnames:
        s = c.summary(rates[name])
        line = (f"| {name} | {c.mmm(s, '{:,.0f}')} | {s['median'] / base_rate:.1f}x | "
                f"{c.mmm(c.summary(cpu_rates[name]), '{:,.0f}')} |")
        table.append(line)
        print(line)
    path = c.save("inference", {
        "machine": info, "import_s": import_s, "args": vars(args), "tf_build_s": tf_build_s,
        "lite_build_s": lite_build_s, "agree_test": agree_test, "max_diff": max_diff, "acc_tf": acc_tf,
        "acc_lite": acc_lite, "canvas_agree": canvas_agree, "canvas_hits": canvas_hits, "canvas_read": canvas_read,
        "single_ms": {n: {"total": c.summary(v[0]), "preprocess": c.summary(v[1]), "predict": c.summary(v[2])}
                      for n, v in single.items()},
        "batch_digits_per_s": {n: c.summary(v) for n, v in rates.items()},
        "batch_digits_per_cpu_s": {n: c.summary(v) for n, v in cpu_rates.items()}, "table": table,
        "load_single": load_single, "load_batch": load_batch, "load_at_end": c.load()})
    print(f"raw numbers: {os.path.relpath(path)}")
    return 0 if agree_test == len(y_test) and canvas_agree == canvas_read == len(cs) else 1


if __name__ == "__main__":
    sys.exit(main())
