"""What each training lever buys on real handwriting: train recipe variants, then score them all with
realworld.py's held-out sets in one run.

    python benchmarks/levers.py [--epochs 6] [--only NAME,NAME] [-- realworld.py arguments]

Each variant is the default recipe (mnist_core.config.TrainSettings, augment.AugmentSettings) with one or more
levers changed; models go to benchmarks/out/levers/<name>.keras (+ .tflite). Training seconds are printed beside
each; accuracy comes from realworld.py (table printed, or written with --out).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DATA = ROOT.parent / "shared" / "data" / "mnist.npz"
OUT = ROOT / "benchmarks" / "out" / "levers"

# name -> (TrainSettings changes, AugmentSettings changes)
VARIANTS = {
    "mnist": (dict(data="mnist", pen_crops=0), dict(aspect=0.0)),
    "mnist+aspect": (dict(data="mnist", pen_crops=0), {}),
    "pen": (dict(data="mnist+pen", pen_crops=0), dict(aspect=0.0)),
    "pen+aspect": (dict(data="mnist+pen", pen_crops=0), {}),
    "pen+aspect+4renders": (dict(data="mnist+pen", pen_renders=4, pen_crops=0), {}),
    "pen+aspect+width32": (dict(data="mnist+pen", width=32, pen_crops=0), {}),
    "pen+aspect+crops": (dict(data="mnist+pen", pen_crops=1), {}),
    "pen+aspect+crops+width32": (dict(data="mnist+pen", pen_crops=1, width=32), {}),
    "pen1+aspect+crops": (dict(data="mnist+pen", pen_renders=1, pen_crops=1), {}),
    "pen+aspect+crops+weight0.5": (dict(data="mnist+pen", pen_crops=1, pen_weight=0.5), {}),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rest = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    ap.add_argument("--skip-training", action="store_true", help="score the models already in benchmarks/out/levers")
    args = ap.parse_args(argv)
    names = [n for n in VARIANTS if not args.only or n in args.only.split(",")]
    if args.skip_training:
        names = [n for n in names if (OUT / f"{n}.keras").is_file()]
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.skip_training:
        import keras

        from mnist_core.train import fit as training
        from mnist_core.train.augment import AugmentSettings
        from mnist_core.config import TrainSettings
        from mnist_core.train.data import load_mnist
        from mnist_core.digits.recognize import checked_lite

        data = load_mnist(DATA)
        for name in names:
            ts, aug = VARIANTS[name]
            settings = replace(TrainSettings(epochs=args.epochs), **ts)
            t = time.perf_counter()
            res = training.fit(settings, data, augmentation=replace(AugmentSettings(), **aug),
                               pen_cache=OUT / "cache")
            wall = time.perf_counter() - t
            model = keras.models.clone_model(res.model)
            model.set_weights(res.model.get_weights())
            acc = float((model.predict(data.x_test[..., None] / 255.0, batch_size=1000, verbose=0).argmax(1)
                         == data.y_test).mean())
            model.save(OUT / f"{name}.keras")
            (OUT / f"{name}.tflite").write_bytes(checked_lite(model))
            print(f"{name}: MNIST test {acc:.2%}; trained {res.train_seconds:.0f} s ({wall:.0f} s with data and "
                  f"setup); {res.data}", flush=True)
    import realworld

    return realworld.main(rest + sum((["--model", str(OUT / f"{n}.keras")] for n in names), []))


if __name__ == "__main__":
    sys.exit(main())
