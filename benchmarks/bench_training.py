"""Training: the tutorial's recipe beside the default CNN recipe, on full MNIST, in the same run.

    python benchmarks/bench_training.py [--runs 1] [--epochs 1,6] [--baseline-epochs 20] [--no-baseline]
        [--batch-size N] [--lr X] [--schedule onecycle|constant] [--no-augment] [--label-smoothing X]
        [--validation N] [--jit auto|on|off] [--threads N] [--no-curve] [--shipped PATH] [--data PATH]

Each run trains, in this order: the tutorial's recipe (its exact model, MLP Flatten-Dense16-Dense16-Dropout0.2-
Dense10; Adam at Keras' default lr 1e-3; sparse categorical cross-entropy; batch 32; 20 epochs; x/255; model.fit
on the 60,000 training digits), then `mnist_core.train.fit.fit` with the default TrainSettings (plus any lever
given here) once per epoch count in --epochs (the one-cycle schedule depends on the total, so a 2-epoch run is not
the first third of a 6-epoch run).

Clocks: `train_s` runs from the start of the second step to the end of fit() with the data already in memory
(the first step's tracing and compiling is `setup_s`; TensorFlow's import is timed once, apart). Test accuracy is
on the 10,000 MNIST test digits, which no run trains on. With the curve on (the default) the test set is also
scored at every epoch's end, *off the clock*, to give the time at which a run first reached 99.0% / 99.5%.

One run (the default) took about 9 minutes on this 2-core EPYC with nothing else running (tutorial 79 s, 1 epoch
31 s, 6 epochs 235 s, plus imports and scoring); about 2.5x that at load 7-16. `--runs 3` gives medians with min
and max.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

THRESHOLDS = (0.990, 0.995)


def cpu() -> float:
    """CPU seconds (user + system) of this process, all threads: less sensitive than wall time to other load."""
    return time.process_time()  # all threads; nanosecond resolution (os.times() ticks in 10 ms)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1, help="rounds of (baseline, each epoch count); default 1")
    p.add_argument("--epochs", default="1,6", help="epoch counts for the default recipe, comma-separated")
    p.add_argument("--baseline-epochs", type=int, default=20, help="the tutorial's epochs (20; lower only to try)")
    p.add_argument("--no-baseline", action="store_true", help="skip the tutorial's recipe")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--width", type=int, default=None, help="the CNN's width (default: TrainSettings')")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--schedule", choices=("onecycle", "constant"), default=None)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--label-smoothing", type=float, default=None)
    p.add_argument("--validation", type=int, default=None, help="digits held out for validation curves")
    p.add_argument("--jit", choices=("auto", "on", "off"), default="auto", help="XLA for our recipe")
    p.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF's choice)")
    p.add_argument("--no-curve", action="store_true", help="skip the per-epoch test scoring")
    p.add_argument("--shipped", default=str(c.MODEL), help="also score this model on the test set ('' to skip)")
    p.add_argument("--data", default=str(c.DATA), help="MNIST .npz (Keras layout)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    t0 = time.perf_counter()
    import tensorflow as tf  # noqa: PLC0415
    import keras  # noqa: PLC0415
    import_s = time.perf_counter() - t0
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, args.threads // 2))
    import numpy as np  # noqa: PLC0415

    import mnist_core.train.fit as training  # noqa: PLC0415
    from mnist_core.config import TrainSettings  # noqa: PLC0415
    from mnist_core.train.data import load_mnist, to_model_input  # noqa: PLC0415
    from mnist_core.train.nets import build_mlp  # noqa: PLC0415

    info = c.machine(tensorflow=tf.__version__, keras=keras.__version__)
    print(f"# machine: {c.describe(info)}; TensorFlow import {import_s:.1f} s", flush=True)
    t = time.perf_counter()
    data = load_mnist(args.data)
    load_s = time.perf_counter() - t
    x_test = to_model_input(data.x_test)
    y_test = np.asarray(data.y_test, np.int64)

    def scorer(model):
        graph = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        def score() -> float:
            hits = 0
            for i in range(0, len(x_test), 2000):
                hits += int((np.argmax(graph(x_test[i:i + 2000]).numpy(), 1) == y_test[i:i + 2000]).sum())
            return hits / len(x_test)

        return score

    overrides = {k: v for k, v in dict(batch_size=args.batch_size, width=args.width, lr=args.lr, schedule=args.schedule,
                                        label_smoothing=args.label_smoothing, validation=args.validation).items()
                 if v is not None}
    if args.no_augment:
        overrides["augment"] = False
    base_settings = replace(TrainSettings(seed=args.seed), **overrides)
    jit = {"auto": "auto", "on": True, "off": False}[args.jit]
    epoch_counts = [int(e) for e in args.epochs.split(",") if e.strip()]
    print(f"# recipe: {base_settings}; jit={args.jit}; threads={args.threads or 'TF default'}", flush=True)

    # ---------------------------------------------------------------- the tutorial's recipe
    class Clock(keras.callbacks.Callback):
        """First-step clock like mnist_core.train.fit's, plus off-the-clock test scoring per epoch."""

        def __init__(self, score):
            super().__init__()
            self.score, self.t0, self.t_first, self.off, self.off_cpu, self.curve = score, None, None, 0.0, 0.0, []

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if self.t_first is None and batch == 1:
                self.t_first = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if self.score is None:
                return
            now = time.perf_counter()
            cpu_now = cpu()
            acc = self.score()
            self.curve.append((epoch + 1, now - self.t_first - self.off, acc))
            self.off += time.perf_counter() - now
            self.off_cpu += cpu() - cpu_now

    def baseline() -> dict:
        keras.utils.set_random_seed(args.seed)
        x = data.x_train.reshape(-1, 28, 28, 1) / 255.0  # the tutorial: x / 255 (float64, as numpy makes it)
        model = build_mlp()
        model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        clock = Clock(None if args.no_curve else scorer(model))
        cpu0 = cpu()
        model.fit(x, data.y_train, epochs=args.baseline_epochs, batch_size=32, callbacks=[clock], verbose=0)
        end = time.perf_counter()
        return {"recipe": "tutorial", "epochs": args.baseline_epochs, "train_s": end - clock.t_first - clock.off,
                "cpu_s": cpu() - cpu0 - clock.off_cpu,
                "setup_s": clock.t_first - clock.t0, "accuracy": scorer(model)(), "curve": clock.curve}

    # ---------------------------------------------------------------- ours, through the product's fit()
    built = []
    original_build = training.build_model

    def recording_build(*args, **kwargs):
        built.append(original_build(*args, **kwargs))
        return built[-1]

    training.build_model = recording_build  # only to hold the model for the off-the-clock curve

    def ours(epochs: int) -> dict:
        settings = replace(base_settings, epochs=epochs)
        curve, off, state = [], [0.0, 0.0], {}

        def progress(p):
            if p.event != "epoch" or args.no_curve:
                return
            now, cpu_now = time.perf_counter(), cpu()
            if "score" not in state:
                state["score"] = scorer(built[-1])
            acc = state["score"]()
            curve.append((p.epoch, p.elapsed_s - off[0], acc))
            off[0] += time.perf_counter() - now
            off[1] += cpu() - cpu_now

        built.clear()
        cpu0 = cpu()
        result = training.fit(settings, data, progress=progress, jit_compile=jit)
        return {"recipe": "ours", "epochs": epochs, "train_s": result.train_seconds - off[0],
                "cpu_s": cpu() - cpu0 - off[1],
                "setup_s": result.setup_seconds, "accuracy": scorer(result.model)(), "curve": curve,
                "val_accuracy": (result.history.get("val_accuracy") or [None])[-1]}

    rows = []
    for run in range(1, args.runs + 1):
        jobs = ([("tutorial", None)] if not args.no_baseline else []) + [("ours", e) for e in epoch_counts]
        for name, epochs in jobs:
            before = c.load()
            r = baseline() if name == "tutorial" else ours(epochs)
            r.update(run=run, load_before=before, load_after=c.load())
            for th in THRESHOLDS:
                r[f"t{th * 100:.1f}"] = next((t for _, t, a in r["curve"] if a >= th), None)
            rows.append(r)
            print(f"run {run} {name:8s} {r['epochs']:2d} ep: test {r['accuracy']:.2%}  train {r['train_s']:.1f} s  "
                  f"setup {r['setup_s']:.1f} s  cpu {r['cpu_s']:.0f} s  curve {[(e, round(t, 1), round(a, 4)) for e, t, a in r['curve']]}  "
                  f"[{r['load_before']} -> {r['load_after']}]", flush=True)

    shipped = None
    if args.shipped and Path(args.shipped).exists():
        from mnist_core.store.registry import load_model_file  # noqa: PLC0415

        shipped = {"path": args.shipped, "accuracy": scorer(load_model_file(args.shipped))()}

    # ---------------------------------------------------------------- summary
    print(f"\n# {c.describe(info)}; TensorFlow import {import_s:.1f} s, MNIST load {load_s:.2f} s; "
          f"load at end {c.load()}")
    print("| recipe | epochs | test accuracy | train s | setup s | to 99.0% s | to 99.5% s | train s vs tutorial "
          "| CPU s (fit, setup included) |")
    print("|---|---|---|---|---|---|---|---|---|")
    tut = [r["train_s"] for r in rows if r["recipe"] == "tutorial"]
    groups = []
    for r in rows:
        key = (r["recipe"], r["epochs"])
        if key not in groups:
            groups.append(key)
    table = []
    for key in groups:
        rs = [r for r in rows if (r["recipe"], r["epochs"]) == key]
        acc = c.summary([100 * r["accuracy"] for r in rs])
        tr = c.summary([r["train_s"] for r in rs])
        setup = c.summary([r["setup_s"] for r in rs])
        to = {th: [r[f"t{th * 100:.1f}"] for r in rs] for th in THRESHOLDS}
        to_s = {th: c.mmm(c.summary([v for v in vs if v is not None])) + (
            f" ({sum(v is None for v in vs)}/{len(vs)} runs never)" if any(v is None for v in vs) else "")
            for th, vs in to.items()}
        ratio = (f"{tr['median'] / c.summary(tut)['median']:.2f}x" if tut and key[0] != "tutorial" else "1")
        name = "tutorial MLP (model.fit, batch 32)" if key[0] == "tutorial" else "default CNN (training.fit)"
        line = (f"| {name} | {key[1]} | {c.mmm(acc, '{:.2f}', '%')} | {c.mmm(tr)} | {c.mmm(setup)} | "
                f"{to_s[THRESHOLDS[0]]} | {to_s[THRESHOLDS[1]]} | {ratio} | {c.mmm(c.summary([r['cpu_s'] for r in rs]), '{:.0f}')} |")
        table.append(line)
        print(line)
    if shipped:
        print(f"\nshipped model {shipped['path']}: test accuracy {shipped['accuracy']:.2%}")
    path = c.save("training", {"machine": info, "import_s": import_s, "load_s": load_s, "args": vars(args),
                               "settings": str(base_settings), "rows": rows, "table": table, "shipped": shipped,
                               "load_at_end": c.load()})
    print(f"raw numbers: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
