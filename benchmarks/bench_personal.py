"""Teach it one person's handwriting: held-out pen writers, 5 samples a digit, fine-tuned as the app does it.

    python benchmarks/bench_personal.py [--writers 6] [--per-digit 5] [--recipe '{"epochs": 3}']
                                     [--subprocess | --app [--no-spare]]
                                     [--out docs/PERSONALIZE.md]

For each writer held out of training (`mnist_core.train.pen.split_writers`: a fixed hash of the writer) with at least
`--min-digits` digits, every digit is drawn on the studio's 400x400 canvas as written (`pen.draw_layer`) and read
through `canvas_to_mnist`, the path a drawing takes. The `--writers` writers the base model reads worst are kept.
Of each, `--per-digit` digits per class (the first ones they wrote) are saved as that writer's samples through
`SampleStore` (one profile per writer), and the studio's own fine-tune runs on them: `python -m mnist_core train
--finetune <base> --samples DB --profile <writer> --activate-if-helps`, in this process through the CLI's `main`
(TensorFlow imported once), in a process of its own started for it with `--subprocess` (a cold start: the
interpreter and TensorFlow's import count), or with `--app` as `python app.py` runs it: through the studio's job
manager, in the spare trainer it keeps waiting with TensorFlow imported (jobs.JobOptions.spare; `--no-spare`: a
trainer started for each job, as `python app.py --no-spare-trainer`), timed from the start until the job's status
shows its result, as the page sees it.
Reported per writer: the writer's other digits read before and after, the error cut, MNIST's test accuracy before
and after, whether the app would activate it (and why), the fine-tune's seconds (fit) and the job's wall seconds.
Then the medians against the targets. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import statistics
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
from robustness import write_between  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BEGIN, END = "<!-- personalize table: begin -->", "<!-- personalize table: end -->"


def log(message: str) -> None:
    """A progress line on stderr with the load average (the machine is shared)."""
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {message}", file=sys.stderr, flush=True)


def writers(min_digits: int) -> dict[str, list[pen.PenDigit]]:
    """Held-out writers with at least `min_digits` digits and a few of every class: {writer: digits as written}."""
    out: dict[str, list[pen.PenDigit]] = {}
    for file in ("pendigits_dev.json.gz", "unipen_dev.json.gz"):
        path = DATA / "pen" / file
        if not path.is_file():
            continue
        for d in pen.split_writers(pen.load_pen(path))[1]:
            out.setdefault(d.writer, []).append(d)
    return {w: ds for w, ds in out.items()
            if len(ds) >= min_digits and min(sum(d.label == c for d in ds) for c in range(10)) >= 8}


def on_canvas(digits: list[pen.PenDigit], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each digit drawn on the 400x400 sketchpad layer and read through canvas_to_mnist: x (N, 28, 28), y (N,)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for d in digits:
        found = pp.canvas_to_mnist([pen.draw_layer(d.strokes, rng)], None)
        i = pp.most_prominent(found)
        xs.append(found[i].image if i is not None else np.zeros((28, 28), np.float32))
        ys.append(d.label)
    return np.stack(xs).astype(np.float32), np.asarray(ys, np.int64)


def split(y: np.ndarray, per_digit: int) -> np.ndarray:
    """(N,) bool: the first `per_digit` digits of each class (the ones saved as samples)."""
    keep = np.zeros(len(y), bool)
    for c in range(10):
        keep[np.flatnonzero(y == c)[:per_digit]] = True
    return keep


def run_train(argv: list[str], home: Path, subprocess_mode: bool) -> tuple[dict, float]:
    """The studio's `train` with `argv`, in this process or as the app spawns it; (its JSON summary, wall s)."""
    t = time.perf_counter()
    if subprocess_mode:
        env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", *argv], capture_output=True, text=True,
                              env=env, cwd=ROOT)
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        out = proc.stdout
    else:
        from mnist_core.cli.main import main  # noqa: PLC0415

        os.environ["MNIST_STUDIO_HOME"] = str(home)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["train", *argv])
        if code:
            raise RuntimeError(f"train exited {code}")
        out = buf.getvalue()
    return json.loads(out.strip().splitlines()[-1]), time.perf_counter() - t


def run_in_app(jobs, profile: str, data: str) -> tuple[dict, float]:
    """The fine-tune as `python app.py` runs it: the studio's JobManager hands the job to its spare trainer, waiting
    with TensorFlow imported as it would while the person draws; (the job's result, seconds from the start until
    the job's status shows its result)."""
    from mnist_core.ops.jobs import JobRequest  # noqa: PLC0415

    jobs.keep_spare()
    spare = jobs._spare  # noqa: SLF001 (the benchmark waits until it is ready, as a person drawing would)
    if spare is not None:
        settle(spare.pid)
    t = time.perf_counter()
    jobs.start(JobRequest(data=data, finetune="default", activate="if_helps", profile=profile))
    status = jobs.status()
    while status.running and time.perf_counter() - t < 600:  # as the page polls it: the result shown at once
        time.sleep(0.05)
        status = jobs.status()
    shown = time.perf_counter() - t
    jobs.wait(60)  # (the trainer's own exit, which nobody waits for, before the next job)
    if status.status != "done":
        raise RuntimeError(f"the fine-tune ended {status.status}: {status.message}")
    return status.result, shown


def settle(pid: int, quiet_s: float = 1.0, timeout: float = 120.0) -> None:
    """Wait until process `pid` has used no CPU for `quiet_s` (a spare trainer done importing, waiting on stdin)."""
    def cpu() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    deadline = time.monotonic() + timeout
    try:
        last = cpu()
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = cpu()
            if now == last:
                return
            last = now
    except (OSError, IndexError, ValueError):  # gone, or no /proc: nothing to wait for
        return


def main() -> int:
    """Run the benchmark; print the table (and write it into --out between its markers)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--writers", type=int, default=6, help="the N writers the base model reads worst (0: all)")
    p.add_argument("--min-digits", type=int, default=200, help="writers with at least this many digits")
    p.add_argument("--per-digit", type=int, default=5, help="samples saved per digit")
    p.add_argument("--recipe", default="", help="JSON of mnist_core.train.personal.Recipe fields to change")
    p.add_argument("--data", default=str(DATA / "mnist.npz"))
    p.add_argument("--subprocess", action="store_true", help="run each fine-tune in its own process (a cold start)")
    p.add_argument("--app", action="store_true", help="run each fine-tune as `python app.py` does: through the "
                                                      "studio's job manager, in the trainer it keeps waiting")
    p.add_argument("--no-spare", action="store_true", help="with --app: as `python app.py --no-spare-trainer` does "
                                                           "(a trainer started for each job)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="a Markdown file whose table between the markers is replaced")
    p.add_argument("--mistakes", action="store_true", help="also write each writer's misread digits, before and "
                                                            "after, as PNG sheets to benchmarks/out/personalize-*/")
    args = p.parse_args()
    if args.app and (args.recipe or args.subprocess):
        p.error("--app runs the studio's own recipe in its own way: not with --recipe or --subprocess")
    if args.no_spare and not args.app:
        p.error("--no-spare goes with --app")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415 (no TensorFlow: the TF Lite copies)
    from mnist_core.store.registry import Registry  # noqa: PLC0415
    from mnist_core.store.samples import SampleStore  # noqa: PLC0415
    from mnist_core.config import Paths  # noqa: PLC0415
    from mnist_core.ops.jobs import JobManager, JobOptions  # noqa: PLC0415

    log(f"load avg {os.getloadavg()}; drawing the held-out writers' digits on the canvas")
    everyone = writers(args.min_digits)
    lite = ROOT / "models" / "default.tflite"  # the shipped model: the shared model the studio fine-tunes
    base = Recognizer.from_lite(lite.read_bytes(), "base")
    from mnist_core.ink.reader import InkReader  # noqa: PLC0415

    ink = InkReader.shipped()  # the same digits' strokes, fused as a drawing with its strokes is served
    drawn = {w: on_canvas(ds, args.seed + i) for i, (w, ds) in enumerate(sorted(everyone.items()))}
    ranked = sorted(drawn, key=lambda w: (base.predict(drawn[w][0]).argmax(1) == drawn[w][1]).mean())
    chosen = ranked[: args.writers] if args.writers else ranked
    log(f"{len(everyone)} held-out writers with >= {args.min_digits} digits; the {len(chosen)} read worst")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        paths = Paths(home=home)
        store = SampleStore(paths.samples_db)
        jobs = JobManager(paths, options=JobOptions(nice=0, spare=not args.no_spare)) if args.app else None
        for w in chosen:
            x, y = drawn[w]
            saved = split(y, args.per_digit)
            profile = re.sub(r"[^\w-]", "-", w)[-32:].lstrip("-") or "writer"
            for image, label in zip(x[saved], y[saved]):
                store.add(int(label), image, source="pen", profile=profile)
            if jobs is not None:  # the job manager writes the trainer's arguments itself
                summary, wall = run_in_app(jobs, profile, args.data)
            else:
                argv = ["--data", args.data, "--finetune", "default", "--samples", str(store.path), "--profile",
                        profile, "--activate-if-helps", "--json", "--quiet"]
                if args.recipe:
                    argv += ["--recipe", args.recipe]
                summary, wall = run_train(argv, home, args.subprocess)
            registry = Registry(paths)
            mine = Recognizer.from_registry(registry, summary["version"])
            other_x, other_y = x[~saved], y[~saved]
            before = float((base.predict(other_x).argmax(1) == other_y).mean())
            after = float((mine.predict(other_x).argmax(1) == other_y).mean())
            info = summary["personal"]
            p_ink = ink.predict([d.strokes for d in everyone[w]])[~saved]
            fused = [int((ink.fuse(m.predict(other_x), p_ink).argmax(1) != other_y).sum()) for m in (base, mine)]
            errors = (int(round((1 - before) * len(other_y))), int(round((1 - after) * len(other_y))))
            cut = 1 - errors[1] / errors[0] if errors[0] else None  # nothing to cut when none was wrong
            rows.append({"writer": w, "other": int(len(other_y)), "before": before, "after": after, "cut": cut,
                         "errors_before": errors[0], "errors_after": errors[1],
                         "fused_errors_before": fused[0], "fused_errors_after": fused[1],
                         "mnist_before": info["mnist_before"], "mnist_after": info["mnist_after"],
                         "verdict": info["verdict"]["reason"], "activated": summary["activated"],
                         "held_before": info["before"]["accuracy"], "held_after": info["after"]["accuracy"],
                         "fit_s": info["finetune_seconds"], "wall_s": round(wall, 1),
                         "job_wall_s": info["wall_seconds"]})
            if args.mistakes:
                sheet = mistakes_sheet(other_x, other_y, base.predict(other_x), mine.predict(other_x))
                folder = ROOT / "benchmarks" / "out" / f"personalize-{time.strftime('%Y%m%d')}"
                folder.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(folder / f"{profile}.png"), sheet)
            log(f"{w}: {before:.1%} -> {after:.1%} (errors {errors[0]} -> {errors[1]}; fused with the ink "
                f"{fused[0]} -> {fused[1]}); MNIST {info['mnist_before']:.2%} -> "
                f"{info['mnist_after']:.2%}; {info['verdict']['reason']}; fit {info['finetune_seconds']} s, "
                f"wall {wall:.1f} s")
    if jobs is not None:
        jobs.close()
    table = render(rows, args)
    print(table)
    (ROOT / "benchmarks" / "out").mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (ROOT / "benchmarks" / "out" / f"personalize-{stamp}.json").write_text(
        json.dumps({"args": vars(args), "rows": rows}, indent=2))
    if args.out:
        write_between(Path(args.out), BEGIN, END, table)
    return 0


def mistakes_sheet(x: np.ndarray, y: np.ndarray, p_before: np.ndarray, p_after: np.ndarray) -> np.ndarray:
    """A uint8 sheet of every digit misread before or after: 3x-scaled 28x28 tiles, each captioned
    "true before>after" (a dot where that model read it right)."""
    a, b = p_before.argmax(1), p_after.argmax(1)
    tiles = []
    for i in np.flatnonzero((a != y) | (b != y)):
        t = np.zeros((100, 84), np.uint8)
        t[:84] = cv2.resize((x[i] * 255).astype(np.uint8), (84, 84), interpolation=cv2.INTER_NEAREST)
        caption = f"{y[i]} {a[i] if a[i] != y[i] else '.'}>{b[i] if b[i] != y[i] else '.'}"
        cv2.putText(t, caption, (2, 97), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 200, 1)
        tiles.append(t)
    tiles += [np.zeros((100, 84), np.uint8)] * (-len(tiles) % 10)
    rows = [np.hstack(tiles[k:k + 10]) for k in range(0, len(tiles), 10)]
    return np.vstack(rows) if rows else np.zeros((100, 840), np.uint8)


def how_run(args) -> str:
    """How the fine-tunes were run, for the table's first line."""
    if args.app and args.no_spare:
        return ("each fine-tune run as `python app.py --no-spare-trainer` runs it, in a trainer started for it "
                "(`--app --no-spare`)")
    if args.app:
        return ("each fine-tune run as `python app.py` runs it, in the spare trainer the studio keeps waiting with "
                "TensorFlow imported (`--app`)")
    if args.subprocess:
        return "each fine-tune in a process of its own started for it, a cold start (`--subprocess`)"
    return "in process"


def render(rows: list[dict], args) -> str:
    """The Markdown table of every writer, then the medians against the targets."""
    lines = [f"Recipe: `{args.recipe or 'the default (mnist_core.train.personal.Recipe)'}`; {args.per_digit} samples per "
             f"digit; {how_run(args)}"
             f"; load average {os.getloadavg()[0]:.2f} at the end.",
             "",
             "| writer | other digits | before | after | errors | cut | errors fused with the ink | held-out before → after "
             "| MNIST before → after | the app would | fit s | job s | start → done s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cut = "—" if r["cut"] is None else f"{r['cut']:.0%}"
        lines.append(
            f"| {r['writer']} | {r['other']} | {r['before']:.1%} | {r['after']:.1%} | "
            f"{r['errors_before']} → {r['errors_after']} | {cut} | "
            f"{r.get('fused_errors_before', '-')} → {r.get('fused_errors_after', '-')} | "
            f"{r['held_before']:.0%} → {r['held_after']:.0%} | {r['mnist_before']:.2%} → {r['mnist_after']:.2%} | "
            f"{'activate' if r['activated'] else 'keep the shared model'} ({r['verdict']}) | {r['fit_s']:.1f} | "
            f"{r['job_wall_s']:.1f} | {r['wall_s']:.1f} |")
    if rows:
        med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
        cuts = [r["cut"] for r in rows if r["cut"] is not None]
        before, after = sum(r["errors_before"] for r in rows), sum(r["errors_after"] for r in rows)
        lines += ["",
                  f"Median over the {len(cuts)} writers with an error before: errors on their other digits cut by "
                  f"**{statistics.median(cuts):.0%}** (target ≥ 90%); all writers together {before} → {after} errors "
                  f"(cut {1 - after / max(before, 1):.0%}); read with their strokes too (image x ink, as a drawing "
                  f"is served): {sum(r['fused_errors_before'] for r in rows)} errors with the shared model, "
                  f"{sum(r['fused_errors_after'] for r in rows)} with the personal one; MNIST test after "
                  f"**{med('mnist_after'):.2%}** (worst {min(r['mnist_after'] for r in rows):.2%}; target ≥ 99.5%); "
                  f"fit {med('fit_s'):.1f} s, the whole job {med('job_wall_s'):.1f} s (target ≤ 30 s); activated for "
                  f"{sum(r['activated'] for r in rows)} of {len(rows)} writers."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
