"""Start and memory: `python app.py` to its first answer, and its resident memory over 5,000 predictions.

    python benchmarks/bench_startup.py [--starts 3] [--predictions 5000] [--clients 4] [--every 500]
        [--max-seconds 600] [--canvas 800]

- start: --starts times, spawn `python app.py --port P` (MNIST_STUDIO_HOME in a fresh temp dir) and time until
  the HTTP server answers and until the first successful /predict_drawing answer (upload + call + event stream,
  plain HTTP from this process); beside it, the tutorial's way to a first answer: a script that imports
  TensorFlow, loads the same model and calls model.predict on one digit (spawn to exit, and its peak RSS);
  the two alternate.
- memory: in the last app started, VmRSS after 200 warm-up predictions, then every --every predictions up to
  --predictions (--clients threads of plain-HTTP callers, 800x800 canvases), and VmHWM (peak) at the end; growth
  is the last sample minus the warm one. Stops early (and says so) after --max-seconds. By default the callers send
  no session_hash (as curl does), so Gradio keeps a session's state for every call (up to its
  state_session_capacity, 10,000 by default); --session-per-client sends one per client, as a browser page.
About 13 minutes at load 6-10 here (the memory check is bounded by --max-seconds). Timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PREDICT = "predict_drawing"
TUTORIAL_SCRIPT = """
import sys
import numpy as np
import tensorflow as tf
model = tf.keras.models.load_model(sys.argv[1])
x = np.zeros((1, 28, 28, 1), np.float32); x[0, 8:20, 13:15] = 1.0
print(int(model.predict(x, verbose=0).argmax()))
"""


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--starts", type=int, default=3, help="app starts timed (default 3)")
    p.add_argument("--predictions", type=int, default=5000, help="predictions for the memory check (default 5000)")
    p.add_argument("--clients", type=int, default=4, help="concurrent callers in the memory check (default 4)")
    p.add_argument("--every", type=int, default=500, help="RSS sample every this many predictions")
    p.add_argument("--max-seconds", type=float, default=600, help="stop the memory check after this long")
    p.add_argument("--canvas", type=int, default=800)
    p.add_argument("--session-per-client", action="store_true",
                   help="each memory-check client sends one session_hash with all its calls, as a browser page "
                        "does (default: none, as curl: Gradio keeps state for a new session per call)")
    p.add_argument("--model", default=str(c.MODEL), help="model for the tutorial-style script (the app's own)")
    return p.parse_args(argv)


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def tutorial_start(model: str) -> tuple[float, float]:
    """(seconds from spawn to exit with an answer, peak RSS MiB) of the tutorial-style script."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", TUTORIAL_SCRIPT, model], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0 or not out.strip().isdigit():
        raise RuntimeError(f"the tutorial-style script failed ({proc.returncode}): {out!r}")
    return elapsed, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    args = parse(argv)
    info = c.machine()
    print(f"# machine: {c.describe(info)}", flush=True)
    if not Path(args.model).exists():
        print(f"no model at {args.model}", file=sys.stderr)
        return 2
    cs = c.canvases(20, side=args.canvas)
    pngs = [(label, c.png_bytes(layer), c.png_bytes(comp)) for label, layer, comp in cs]

    def first_answer(app: c.AppProcess, timeout: float = 180) -> float:
        client = c.GradioHttp(app.url)
        value = None
        while True:
            if app.proc.poll() is not None:
                raise RuntimeError(f"app.py exited:\n{app.log_tail()}")
            try:
                value = value or client.sketch_value(pngs[0][1], pngs[0][2])
                out = client.call(PREDICT, value)
                if out and isinstance(out[0], dict) and out[0].get("label") is not None:
                    client.close()
                    return time.perf_counter() - app.started
                value = None
            except Exception:
                value = None
            if time.perf_counter() - app.started > timeout:
                raise TimeoutError(f"no answer within {timeout:.0f} s:\n{app.log_tail()}")
            time.sleep(0.05)

    # ---------------------------------------------------------------- start
    starts, tutorial = [], []
    app = None
    for k in range(args.starts):
        t_s, rss = tutorial_start(args.model)
        tutorial.append({"answer_s": t_s, "peak_rss_mb": rss})
        before = c.load()
        app = c.AppProcess()
        try:
            http_s = app.wait("/gradio_api/info", 120, every=0.05)
            answer_s = first_answer(app)
        except BaseException:
            app.stop()
            raise
        starts.append({"http_s": http_s, "answer_s": answer_s, "rss_mb": app.rss_mb(), "load": before})
        print(f"start {k + 1}: HTTP {http_s:.1f} s, first answer {answer_s:.1f} s, RSS {starts[-1]['rss_mb']:.0f} MiB; "
              f"tutorial-style script {t_s:.1f} s, peak {rss:.0f} MiB [{before}]", flush=True)
        if k < args.starts - 1:
            app.stop()

    # ---------------------------------------------------------------- memory over many predictions
    samples, errors, done = [], [], [0]
    lock = threading.Lock()
    try:
        warm_client = c.GradioHttp(app.url)
        for i in range(200):
            _, layer, comp = pngs[i % len(pngs)]
            warm_client.call(PREDICT, warm_client.sketch_value(layer, comp))
        warm_client.close()
        t0 = time.perf_counter()
        samples.append((0, app.rss_mb(), 0.0))
        print(f"warm (200 predictions): RSS {samples[0][1]:.0f} MiB [{c.load()}]", flush=True)
        stop = threading.Event()

        def worker(n: int):
            cl = c.GradioHttp(app.url, session_hash=f"bench-client-{n}" if args.session_per_client else None)
            i = n
            while not stop.is_set():
                _, layer, comp = pngs[i % len(pngs)]
                i += args.clients
                try:
                    cl.call(PREDICT, cl.sketch_value(layer, comp))
                except Exception as e:
                    with lock:
                        errors.append(f"{type(e).__name__}: {str(e)[:200]}")
                with lock:
                    done[0] += 1
                    count = done[0]
                    if count % args.every == 0:
                        samples.append((count, app.rss_mb(), time.perf_counter() - t0))
                        print(f"  {count} predictions: RSS {samples[-1][1]:.0f} MiB, {samples[-1][2]:.0f} s "
                              f"[{c.load()}]", flush=True)
                    if count >= args.predictions or time.perf_counter() - t0 > args.max_seconds:
                        stop.set()
            cl.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t0
        end_rss = app.rss_mb()
        hwm = status_kb(app.proc.pid, "VmHWM") / 1024
    finally:
        app.stop()

    # ---------------------------------------------------------------- report
    sa, st = c.summary([s["answer_s"] for s in starts]), c.summary([t["answer_s"] for t in tutorial])
    sh = c.summary([s["http_s"] for s in starts])
    warm_rss = samples[0][1]
    growth = end_rss - warm_rss
    later = [s for s in samples if s[0] >= args.every]  # growth after the first interval (caches filling)
    slope = ((later[-1][1] - later[0][1]) / max(1, later[-1][0] - later[0][0]) * 1000) if len(later) > 1 else float("nan")
    print(f"\n# {c.describe(info)}; load at end {c.load()}")
    table = [
        "| figure | app.py | tutorial-style script | ratio |",
        "|---|---|---|---|",
        f"| spawn to first answer s, median (min-max) of {args.starts} | {c.mmm(sa)} | {c.mmm(st)} | "
        f"{sa['median'] / st['median']:.2f}x |",
        f"| spawn to HTTP up s | {c.mmm(sh)} | | |",
        f"| RSS MiB after the first answer (app) / peak (script) | "
        f"{c.mmm(c.summary([s['rss_mb'] for s in starts]), '{:.0f}')} | "
        f"{c.mmm(c.summary([t['peak_rss_mb'] for t in tutorial]), '{:.0f}')} | |",
        f"| steady RSS MiB after 200 predictions | {warm_rss:.0f} | | |",
        f"| RSS MiB after {done[0]:,} more predictions ({elapsed:.0f} s, {args.clients} clients"
        f"{', one session each' if args.session_per_client else ', a new session per call (curl)'}) | {end_rss:.0f} "
        f"(growth {growth:+.0f}; {slope:+.1f} per 1,000 after the first {args.every}) | | |",
        f"| peak RSS (VmHWM) MiB | {hwm:.0f} | | |",
        f"| errors during the {done[0]:,} predictions | {len(errors)} | | |",
    ]
    for line in table:
        print(line)
    if done[0] < args.predictions:
        print(f"stopped after {done[0]} predictions (--max-seconds {args.max_seconds:.0f})")
    path = c.save("startup", {"machine": info, "args": vars(args), "starts": starts, "tutorial": tutorial,
                              "rss_samples": samples, "end_rss_mb": end_rss, "hwm_mb": hwm, "errors": errors[:20],
                              "n_errors": len(errors), "predictions": done[0], "elapsed_s": elapsed, "table": table,
                              "load_at_end": c.load()})
    print(f"raw numbers: {os.path.relpath(path)}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
