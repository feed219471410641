"""The image model's calibration twin: the shipped image recipe trained without the ink's calibration writers.

    python benchmarks/calibration_twin.py [--out /tmp/twin/default.keras] [--data ../shared/data/mnist.npz]

The fusion of the image and the ink model is calibrated on the calibration writers (`ink.fit.is_calibration`), whom
the ink net never trained on. The shipped image model did train on them (they are training writers of the pen
data), so on their digits it is surer, and more often right, than on a new writer's: a calibration against it
trusts the picture too much. The twin is the same recipe (MNIST + the shipped pen digits, width 24, 30 epochs,
seed 1) with the calibration writers' pen digits left out; `python -m mnist_core.ink.fit --calibrate-only
--image TWIN.tflite` then fits the fusion with it, and the fusion is served with the shipped image model.
Its drawn pen set is cached in a temporary studio home of its own, never beside the full set's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/twin/default.keras")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist.npz"))
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    code = ("import sys; from mnist_core.train import pen; from mnist_core.ink.fit import is_calibration\n"
            "whole = pen.load_shipped\n"
            "pen.load_shipped = lambda: [d for d in whole() if not is_calibration(d.writer)]\n"
            "from mnist_core.cli.main import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    with tempfile.TemporaryDirectory() as home:  # its own pen cache: the drawn set differs from the full one's
        env = dict(os.environ, MNIST_STUDIO_HOME=home)
        argv = [sys.executable, "-c", code, "train", "--data", args.data, "--width", "24", "--epochs",
                str(args.epochs), "--seed", "1", "--output", args.out]
        return subprocess.call(argv, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
