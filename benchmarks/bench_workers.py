"""Training across workers and reading in processes, on this machine: 1 process vs 2 local workers, and
`predict --jobs 1` vs `--jobs 2`.

    python benchmarks/bench_workers.py [--limit 10000] [--epochs 2] [--seed 0] [--runs 2] [--files 200] [--predict-runs 3]
        [--skip-train] [--skip-predict]

Training: the same recipe (`train --limit L --epochs E`, the default CNN and data otherwise) run as one process and
as two workers on loopback ports (`--workers 127.0.0.1:P,127.0.0.1:Q`, each a separate process), the two set-ups
alternated over --runs rounds, all over one fresh MNIST_STUDIO_HOME whose pen-digit cache is drawn before the first
run. Per run: the wall time from starting the process(es) to the end (imports, joining, data, training, and the
chief's evaluation and saving), the trainer's own `train_seconds` (first step to the end of training), and the
version's MNIST test accuracy.

Reading: --files digits of MNIST's test set written as PNGs (dark ink on white, 112 px), read by
`predict --json FOLDER` with --jobs 1 and --jobs 2 in turn; wall time per run, files/s, and a check that both
print the same lines. The version read with is the shipped one (its TF Lite copy). Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, OUT, ROOT, describe, load, machine

from mnist_core.train.cluster import local_workers, worker_environ


def train(home: Path, recipe: list[str], workers: int) -> dict:
    base = [sys.executable, "-m", "mnist_core", "train", "--data", str(DATA), *recipe, "--json", "--quiet"]
    if workers == 1:
        cmds = [base]
    else:
        addresses = local_workers(workers)
        cmds = [base + ["--workers", addresses, "--worker-index", str(i)] for i in range(workers)]
    t = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=ROOT, env=worker_environ(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in cmds]
    outs = [p.communicate(timeout=3600) for p in procs]
    wall = time.perf_counter() - t
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise SystemExit(f"a trainer failed ({p.returncode}): {err[-2000:]}")
    summary = json.loads(outs[0][0].strip().splitlines()[-1])
    card = json.loads((home / "models" / summary["version"] / "card.json").read_text())
    return {"workers": workers, "wall_s": round(wall, 1), "train_s": summary["train_seconds"],
            "setup_s": summary["setup_seconds"], "accuracy": summary["test_accuracy"],
            "batch": card["batch_size_used"], "train_size": card["data"]["train_size"], "load": load()}


def write_pngs(folder: Path, n: int) -> None:
    import cv2  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    folder.mkdir(parents=True)
    with np.load(DATA) as f:
        x = f["x_test"][:n]
    for i, img in enumerate(x):
        cv2.imwrite(str(folder / f"d{i:05d}.png"), cv2.resize(255 - img, (112, 112), interpolation=cv2.INTER_CUBIC))


def predict(home: Path, folder: Path, jobs: int) -> tuple[dict, str]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "predict", "--json", "--jobs", str(jobs), str(folder)],
                          cwd=ROOT, env=worker_environ(home), capture_output=True, text=True, timeout=3600, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"predict failed: {proc.stderr[-2000:]}")
    n = len(proc.stdout.splitlines())
    return {"jobs": jobs, "wall_s": round(wall, 2), "files_per_s": round(n / wall, 1), "load": load()}, proc.stdout


def med(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows]
    return f"{statistics.median(values):g} ({min(values):g}-{max(values):g})" if len(values) > 1 else f"{values[0]:g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--predict-runs", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-predict", action="store_true")
    a = ap.parse_args()
    info = machine()
    print(f"machine: {describe(info)}", flush=True)
    result = {"machine": info, "args": vars(a), "train": [], "predict": []}
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        home = Path(tmp) / "home"
        if not a.skip_train:
            sys.path.insert(0, str(ROOT))
            from mnist_core.train import pen  # noqa: PLC0415
            from mnist_core.config import TrainSettings  # noqa: PLC0415

            s = TrainSettings()  # draw the pen digits once, as every run will find them in the cache
            pen.training_set(s.pen_renders, a.seed, max(10, a.limit * 2 // 9), home / "cache", crops=s.pen_crops)
            recipe = ["--limit", str(a.limit), "--epochs", str(a.epochs), "--seed", str(a.seed)]
            for r in range(a.runs):
                for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                    row = train(home, recipe, workers)
                    result["train"].append(row)
                    print(json.dumps(row), flush=True)
        if not a.skip_predict:
            folder = Path(tmp) / "pngs"
            write_pngs(folder, a.files)
            outputs = {}
            for r in range(a.predict_runs):
                for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
                    row, out = predict(home, folder, jobs)
                    outputs.setdefault(jobs, out)
                    result["predict"].append(row)
                    print(json.dumps(row), flush=True)
            result["same_output"] = outputs[1] == outputs[2]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"workers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"\nmachine: {describe(info)}; at the end {load()}")
    if result["train"]:
        print(f"\ntrain --limit {a.limit} --epochs {a.epochs} --seed {a.seed}: median (min-max) over {a.runs} runs\n")
        print("| set-up | wall s | train s | MNIST test accuracy | global batch |")
        print("|---|---|---|---|---|")
        for w in (1, 2):
            rows = [r for r in result["train"] if r["workers"] == w]
            name = "1 process" if w == 1 else f"{w} workers (loopback)"
            print(f"| {name} | {med(rows, 'wall_s')} | {med(rows, 'train_s')} | {med(rows, 'accuracy')} | "
                  f"{med(rows, 'batch')} |")
    if result["predict"]:
        print(f"\npredict --json on {a.files} PNGs: median (min-max) over {a.predict_runs} runs; "
              f"same output: {result['same_output']}\n")
        print("| --jobs | wall s | files/s |")
        print("|---|---|---|")
        for j in (1, 2):
            rows = [r for r in result["predict"] if r["jobs"] == j]
            print(f"| {j} | {med(rows, 'wall_s')} | {med(rows, 'files_per_s')} |")
    print(f"\nraw: {path}")


if __name__ == "__main__":
    main()
