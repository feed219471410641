"""In a real browser: from releasing the mouse to the Draw tab's answer, and how long drawing a stroke takes.

    python benchmarks/bench_browser.py [--digits 12] [--step 8] [--height 220] [--warmup 2] [--seed 0]
        [--url http://127.0.0.1:7860] [--trace trace.json] [--chromium /usr/bin/chromium]

Starts `python app.py --port P` (MNIST_STUDIO_HOME in a temp dir) unless --url names a running app, opens it in
headless Debian Chromium through Playwright (as tests/test_browser.py does; software rendering, no GPU), and
draws real pen digits (the shipped pen data, `mnist_core.train.pen`, labels 0-9 in turn) on the Sketchpad with
page.mouse down / move / up, one move every --step screen pixels along each stroke, each digit --height px
tall. Before each digit the app's Clear button empties the canvas. After every stroke it waits for the answer:

- answer: from the stroke's pointerup to the moment the Draw tab's digits strip (#draw-digits) shows its last
  new answer (the strip then stays unchanged for --settle s: an answer to an earlier state of the canvas that
  arrives late is not taken for this stroke's), both read in the page (performance.now(), a
  MutationObserver), so no polling delay is counted;
- drawing: the seconds page.mouse took for the stroke (down, the moves, up: each returns once the page has
  handled the event, so a busy page makes drawing slow), per stroke and per move, and the longest main-thread
  task (PerformanceObserver "longtask") from pointerdown to the answer;
- requests: the HTTP requests the page started from pointerup to the answer (Resource Timing: which, when
  after pointerup, how long), and the first of them: the time the page spent before sending anything.

--warmup strokes are drawn first and not counted. Prints a Markdown table (p50 / p90 / min / max) with the
machine's load averages before and after, and writes the raw numbers to benchmarks/out/browser-<time>.json.
--trace writes a Chrome trace of the measured strokes (open it in the Performance panel). Timings are never
asserted; about 2-4 minutes here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# Installed once per page: pointer times, the strip's answers and long tasks, all in the page's own clock.
WATCH = """
() => {
  if (window.__bench) return;
  const b = window.__bench = {down: null, up: null, answers: [], last: null, tasks: []};
  const strip = () => document.querySelector('#draw-digits');
  addEventListener('pointerdown', () => { b.down = performance.now(); }, true);
  addEventListener('pointerup', () => {
    b.up = performance.now(); b.answers = []; b.last = strip() ? strip().innerHTML : '';
  }, true);
  new MutationObserver(() => {  // every new answer the strip shows after pointerup
    const s = strip();
    if (b.up === null || !s || !s.querySelector('img') || s.innerHTML === b.last) return;
    b.last = s.innerHTML;
    b.answers.push(performance.now());
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  performance.setResourceTimingBufferSize(100000);
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) b.tasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* no long-task timing in this browser */ }
}
"""


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", type=int, default=12, help="pen digits drawn and timed (default 12)")
    p.add_argument("--step", type=float, default=8.0, help="screen pixels between mouse moves (default 8)")
    p.add_argument("--height", type=float, default=220.0, help="a digit's height on screen in px (default 220)")
    p.add_argument("--warmup", type=int, default=2, help="digits drawn first and not counted (default 2)")
    p.add_argument("--seed", type=int, default=0, help="which pen digits (default 0)")
    p.add_argument("--settle", type=float, default=1.5,
                   help="seconds the strip must stay unchanged after an answer to count as the last (default 1.5)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one answer (default 60)")
    p.add_argument("--url", default=None, help="use this running app instead of starting one")
    p.add_argument("--trace", default=None, help="write a Chrome trace of the measured digits to this path")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    return p.parse_args(argv)


def pen_digits(n: int, seed: int) -> list[tuple[int, list[np.ndarray]]]:
    """n pen digits (labels 0-9 in turn) as unit-height strokes, chosen at random from the shipped pen data."""
    from mnist_core.train import pen  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    digits = pen.load_shipped()
    by_label = {k: [d for d in digits if d.label == k] for k in range(10)}
    out = []
    for i in range(n):
        pool = by_label[i % 10]
        d = pool[int(rng.integers(len(pool)))]
        out.append((d.label, pen.distort(d.strokes, rng, strength=0.0)))  # strength 0: as written, unit height
    return out


def resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` units along a polyline (its ends kept): the mouse moves of a hand drawing it."""
    if len(stroke) < 2:
        return stroke
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    if at[-1] <= 0:
        return stroke[:1]
    t = np.append(np.arange(0.0, at[-1], step), at[-1])
    return np.stack([np.interp(t, at, stroke[:, 0]), np.interp(t, at, stroke[:, 1])], axis=1)


def on_screen(strokes: list[np.ndarray], box: dict, height: float, step: float) -> list[np.ndarray]:
    """Unit-height strokes placed `height` px tall in the middle of the canvas box, resampled every `step` px."""
    width = max(float(np.concatenate(strokes)[:, 0].max()), 0.0) * height
    x0 = box["x"] + (box["width"] - width) / 2
    y0 = box["y"] + (box["height"] - height) / 2
    return [resample(s * height + np.array([x0, y0]), step) for s in strokes]


BRUSH_CHOSEN = ('#sketch button[aria-label="Brush"].highlight, '
                '#sketch button[aria-label="Brush"][aria-pressed="true"]')


def clear(page, timeout: float) -> None:
    """Empty the canvas and the answer: the canvas's own trash button, then the app's Clear button; wait until
    the strip is empty again and the brush is chosen."""
    trash = page.locator('#sketch button[aria-label="Clear canvas"]')
    if trash.count():
        trash.first.click()
    page.click("#clear-drawing")
    page.wait_for_function("() => { const s = document.querySelector('#draw-digits');"
                           " return s && !s.querySelector('img'); }", timeout=timeout * 1000)
    page.wait_for_selector(BRUSH_CHOSEN, state="attached", timeout=timeout * 1000)


def canvas_box(page) -> dict:
    return page.locator("#sketch canvas").first.bounding_box()


def stroke(page, points: np.ndarray, timeout: float, settle: float) -> dict:
    """One stroke with the mouse; waits for its (last) answer. Returns its timings."""
    page.evaluate("() => { window.__bench.up = null; window.__bench.answers = []; performance.clearResourceTimings(); }")
    t0 = time.perf_counter()
    page.mouse.move(float(points[0][0]), float(points[0][1]))
    page.mouse.down()
    t_moves = time.perf_counter()
    for x, y in points[1:]:
        page.mouse.move(float(x), float(y))
    moves_s = time.perf_counter() - t_moves
    page.mouse.up()
    drawing_s = time.perf_counter() - t0
    page.wait_for_function("(settle) => { const a = window.__bench.answers;"
                           " return a.length > 0 && performance.now() - a[a.length - 1] >= settle; }",
                           arg=settle * 1000, timeout=timeout * 1000, polling=50)
    b = page.evaluate("""() => { const b = window.__bench, end = b.answers[b.answers.length - 1];
      return {down: b.down, up: b.up, answers: b.answers, tasks: b.tasks.filter(t => t[0] + t[1] >= b.down),
              requests: performance.getEntriesByType('resource')
                .filter(e => e.startTime >= b.up && e.startTime <= end)
                .map(e => [new URL(e.name).pathname, e.startTime - b.up, e.duration])}; }""")
    answer = b["answers"][-1]
    tasks = [d for s, d in b["tasks"] if s <= answer]
    return {"answer_ms": answer - b["up"], "answers": len(b["answers"]),
            "first_answer_ms": b["answers"][0] - b["up"], "drawing_s": drawing_s, "moves": len(points) - 1,
            "per_move_ms": 1000 * moves_s / max(1, len(points) - 1),
            "longest_task_ms": max(tasks, default=0.0), "long_tasks_ms": sum(tasks),
            "requests": b["requests"]}


def fmt(values, unit: str, scale: float = 1.0, digits: int = 0) -> list[str]:
    s = c.summary([v * scale for v in values])
    f = lambda x: f"{x:.{digits}f} {unit}".strip()  # noqa: E731
    return [f(s["median"]), f(s["p90"]), f(s["min"]), f(s["max"])]


def main(argv=None) -> int:
    args = parse(argv)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    info = c.machine()
    print(f"# machine: {c.describe(info)}", flush=True)
    digits = pen_digits(args.warmup + args.digits, args.seed)
    app = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        app = c.AppProcess()
        url = app.url
        print(f"# app up in {app.wait('/gradio_api/info', 120, every=0.05):.1f} s at {url}", flush=True)
    strokes_out, digits_out = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(args.timeout * 1000)
            page.goto(url)
            page.wait_for_selector("#sketch canvas")
            page.evaluate(WATCH)
            print(f"# {c.load()} before drawing", flush=True)
            tracing = False
            for i, (label, unit) in enumerate(digits):
                if i == args.warmup and args.trace:
                    browser.start_tracing(page=page, path=args.trace, screenshots=False)
                    tracing = True
                clear(page, args.timeout)
                points = on_screen(unit, canvas_box(page), args.height, args.step)
                rows = [stroke(page, pts, args.timeout, args.settle) for pts in points]
                read = page.locator("#draw-number textarea").input_value()  # the strip may show first
                measured = i >= args.warmup
                digits_out.append({"label": label, "read": read, "strokes": len(rows), "measured": measured})
                if measured:
                    strokes_out.extend(rows)
                print(f"# {'digit' if measured else 'warm-up'} {label}: read {read!r}; "
                      + ", ".join(f"{r['answer_ms']:.0f} ms ({r['moves']} moves in {r['drawing_s']:.2f} s)"
                                  for r in rows), flush=True)
            if tracing:
                browser.stop_tracing()
                print(f"# trace: {args.trace}", flush=True)
            browser.close()
    finally:
        if app is not None:
            app.stop()
    after = c.load()
    right = sum(d["read"] == str(d["label"]) for d in digits_out if d["measured"])
    print(f"\n{len(strokes_out)} strokes of {args.digits} pen digits ({right} read right), {args.height:.0f} px "
          f"tall, a move every {args.step:g} px; {info['load_at_start']} at start, {after} after\n")
    print("| measure | p50 | p90 | min | max |")
    print("|---|---|---|---|---|")
    rows = [("mouse-up to answer", fmt([r["answer_ms"] for r in strokes_out], "ms")),
            ("drawing a stroke (down, moves, up)", fmt([r["drawing_s"] for r in strokes_out], "s", digits=2)),
            ("one mouse move", fmt([r["per_move_ms"] for r in strokes_out], "ms", digits=1)),
            ("moves per stroke", fmt([r["moves"] for r in strokes_out], "")),
            ("longest main-thread task, pointerdown to answer", fmt([r["longest_task_ms"] for r in strokes_out], "ms")),
            ("answers shown per stroke", fmt([r["answers"] for r in strokes_out], "")),
            ("requests from mouse-up to answer", fmt([len(r["requests"]) for r in strokes_out], "")),
            ("mouse-up to the first request", fmt([min((q[1] for q in r["requests"]), default=float("nan"))
                                                   for r in strokes_out], "ms"))]
    by_path: dict[str, list] = {}
    for r in strokes_out:
        for path, _, took in r["requests"]:
            by_path.setdefault(path, []).append(took)
    for path, took in sorted(by_path.items()):
        rows.append((f"request {path} ({len(took)} in all)", fmt(took, "ms")))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(cells) + " |")
    path = c.save("browser", {"machine": info, "args": vars(args), "load_after": after, "strokes": strokes_out,
                              "digits": digits_out})
    print(f"raw: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
