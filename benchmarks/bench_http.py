"""Through the app's HTTP API, from a separate process: /predict_drawing beside its do-nothing twin /noop_drawing.

    python benchmarks/bench_http.py [--calls 200] [--clients 16] [--per-client 25] [--rounds 3] [--canvas 800]
        [--no-composite] [--gradio-client-calls 20] [--url http://127.0.0.1:7860]

Starts `python app.py --port P` (MNIST_STUDIO_HOME in a temp dir) unless --url names a running app, waits until
/predict_drawing answers, then uses plain HTTP (requests, one keep-alive session per client, as a browser) the way
curl and the browser do: upload the canvas (the 800x800 RGBA stroke layer and the composite PNGs, one multipart
POST /gradio_api/upload), POST /gradio_api/call/<api_name> with the Sketchpad value
{"background": null, "layers": [FileData], "composite": FileData}, and read the answer from the event stream
GET /gradio_api/call/<api_name>/<event_id>. Every timed call includes its upload.

- latency: --calls calls of each, the two endpoints alternating (order swapped every call), p50/p90;
- concurrency: --clients threads each making --per-client calls at once, for each endpoint in turn, --rounds
  rounds (order swapped each round): throughput (calls/s), p50 latency, errors;
- gradio_client: --gradio-client-calls calls of each through gradio_client's Client.predict, for reference.
/noop_drawing is wired to the same Sketchpad with the same preprocess (off) and concurrency as /predict_drawing
and returns a constant: the difference is the model's and the preprocessing's cost. About 5-7 minutes at load
5-10 here. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PREDICT, NOOP = "predict_drawing", "noop_drawing"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=200, help="sequential calls per endpoint (default 200)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--per-client", type=int, default=25, help="calls per client per round (default 25)")
    p.add_argument("--rounds", type=int, default=3, help="concurrency rounds per endpoint (default 3)")
    p.add_argument("--canvas", type=int, default=800, help="canvas side in pixels (default 800)")
    p.add_argument("--distinct", type=int, default=30, help="different drawn digits cycled through")
    p.add_argument("--no-composite", action="store_true", help="upload only the stroke layer")
    p.add_argument("--gradio-client-calls", type=int, default=20, help="calls through gradio_client (0: skip)")
    p.add_argument("--url", default=None, help="use this running app instead of starting one")
    return p.parse_args(argv)


def label_of(output) -> str | None:
    """The predicted digit in /predict_drawing's first output (a gr.Label value)."""
    first = output[0] if output else None
    if isinstance(first, dict):
        return None if first.get("label") is None else str(first["label"])
    return None


def main(argv=None) -> int:
    args = parse(argv)
    info = c.machine()
    print(f"# machine: {c.describe(info)}", flush=True)
    cs = c.canvases(args.distinct, side=args.canvas)
    pngs = [(label, c.png_bytes(layer), None if args.no_composite else c.png_bytes(comp)) for label, layer, comp in cs]
    print(f"# {len(pngs)} canvases {args.canvas}x{args.canvas}: layer PNG ~{len(pngs[0][1]) // 1024} KiB"
          + ("" if args.no_composite else f", composite ~{len(pngs[0][2]) // 1024} KiB"), flush=True)

    app = None
    startup = {}
    if args.url:
        url = args.url.rstrip("/")
    else:
        app = c.AppProcess()
        url = app.url
        startup["http_s"] = app.wait("/gradio_api/info", 120, every=0.05)
    try:
        client = c.GradioHttp(url)
        deadline = time.perf_counter() + 180
        while True:  # the model loads in the background after launch
            try:
                client.call(PREDICT, client.sketch_value(pngs[0][1], pngs[0][2]))
                break
            except Exception:
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.2)
        if app:
            startup["first_answer_s"] = time.perf_counter() - app.started
            startup["rss_mb"] = app.rss_mb()
            print(f"# app: HTTP up {startup['http_s']:.1f} s, first /predict_drawing answer "
                  f"{startup['first_answer_s']:.1f} s after spawn, RSS {startup['rss_mb']:.0f} MiB", flush=True)

        def one(cl: c.GradioHttp, api: str, k: int):
            label, layer, comp = pngs[k % len(pngs)]
            t1 = time.perf_counter()
            value = cl.sketch_value(layer, comp)
            t2 = time.perf_counter()
            out = cl.call(api, value)
            t3 = time.perf_counter()
            return t3 - t1, t2 - t1, t3 - t2, (label_of(out) == str(label)) if api == PREDICT else None

        for k in range(10):  # warm both paths
            one(client, PREDICT, k)
            one(client, NOOP, k)

        # ------------------------------------------------------------ sequential, alternating
        seq = {PREDICT: ([], [], []), NOOP: ([], [], [])}
        right = 0
        load_seq = c.load()
        for i in range(args.calls):
            for api in ((PREDICT, NOOP) if i % 2 == 0 else (NOOP, PREDICT)):
                total, up, call, ok = one(client, api, i)
                for acc, v in zip(seq[api], (total, up, call)):
                    acc.append(v * 1000)
                right += bool(ok)
        print(f"sequential done [{load_seq} -> {c.load()}]; /predict_drawing read {right}/{args.calls} digits right",
              flush=True)

        # ------------------------------------------------------------ concurrent clients
        def burst(api: str) -> dict:
            clients = [c.GradioHttp(url) for _ in range(args.clients)]
            return c.concurrent_calls(clients, lambda cl, k: one(cl, api, k)[0], args.per_client)

        conc = {PREDICT: [], NOOP: []}
        load_conc = c.load()
        for r in range(args.rounds):
            for api in ((NOOP, PREDICT) if r % 2 == 0 else (PREDICT, NOOP)):
                res = burst(api)
                conc[api].append(res)
                print(f"round {r + 1} /{api}: {res['calls_per_s']:.1f} calls/s, p50 {res['latency_ms']['median']:.0f} ms, "
                      f"{res['errors']} errors {res['error_samples'][:1]} [{c.load()}]", flush=True)
        print(f"concurrency done [{load_conc} -> {c.load()}]", flush=True)

        # ------------------------------------------------------------ gradio_client, for reference
        gc = {}
        if args.gradio_client_calls:
            from gradio_client import Client, handle_file  # noqa: PLC0415

            with tempfile.TemporaryDirectory() as tmp:
                files = []
                for k, (_, layer, comp) in enumerate(pngs[: min(len(pngs), args.gradio_client_calls)]):
                    pl, pc = Path(tmp, f"layer{k}.png"), Path(tmp, f"comp{k}.png")
                    pl.write_bytes(layer)
                    if comp:
                        pc.write_bytes(comp)
                    files.append((str(pl), str(pc) if comp else None))
                t1 = time.perf_counter()
                gclient = Client(url, verbose=False)
                gc["client_init_ms"] = (time.perf_counter() - t1) * 1000
                times = {PREDICT: [], NOOP: []}

                def value(k):
                    pl, pc = files[k % len(files)]
                    return {"background": None, "layers": [handle_file(pl)],
                            "composite": handle_file(pc) if pc else None}

                for api in (PREDICT, NOOP):  # warm
                    gclient.predict(value(0), api_name="/" + api)
                for i in range(args.gradio_client_calls):
                    for api in ((PREDICT, NOOP) if i % 2 == 0 else (NOOP, PREDICT)):
                        t1 = time.perf_counter()
                        gclient.predict(value(i), api_name="/" + api)
                        times[api].append((time.perf_counter() - t1) * 1000)
                gclient.close() if hasattr(gclient, "close") else None
                gc.update({api: c.summary(v) for api, v in times.items()})
        rss_end = app.rss_mb() if app else None
    finally:
        if app:
            app.stop()

    # ---------------------------------------------------------------- report
    sp, sn = c.summary(seq[PREDICT][0]), c.summary(seq[NOOP][0])
    tp = c.summary([r["calls_per_s"] for r in conc[PREDICT]])
    tn = c.summary([r["calls_per_s"] for r in conc[NOOP]])
    err_p = sum(r["errors"] for r in conc[PREDICT])
    err_n = sum(r["errors"] for r in conc[NOOP])
    print(f"\n# {c.describe(info)}; load at end {c.load()}")
    print(f"# plain HTTP (requests), {args.canvas}x{args.canvas} canvas, upload "
          f"{'layer only' if args.no_composite else 'layer + composite'} + call + event stream per call")
    table = [
        "| figure | /predict_drawing | /noop_drawing (floor) | ratio |",
        "|---|---|---|---|",
        f"| sequential latency p50 ms, {args.calls} calls each | {sp['median']:.1f} | {sn['median']:.1f} | "
        f"{sp['median'] / sn['median']:.2f}x |",
        f"| sequential latency p90 ms | {sp['p90']:.1f} | {sn['p90']:.1f} | {sp['p90'] / sn['p90']:.2f}x |",
        f"| of which upload p50 ms | {c.summary(seq[PREDICT][1])['median']:.1f} | "
        f"{c.summary(seq[NOOP][1])['median']:.1f} | |",
        f"| of which call + stream p50 ms | {c.summary(seq[PREDICT][2])['median']:.1f} | "
        f"{c.summary(seq[NOOP][2])['median']:.1f} | |",
        f"| {args.clients} clients: calls/s, median (min-max) of {args.rounds} rounds x {args.clients * args.per_client} "
        f"calls | {c.mmm(tp)} | {c.mmm(tn)} | {tp['median'] / tn['median']:.2f}x |",
        f"| {args.clients} clients: latency p50 ms (median of rounds) | "
        f"{c.summary([r['latency_ms']['median'] for r in conc[PREDICT]])['median']:.0f} | "
        f"{c.summary([r['latency_ms']['median'] for r in conc[NOOP]])['median']:.0f} | |",
        f"| {args.clients} clients: errors | {err_p} of {sum(r['ok'] + r['errors'] for r in conc[PREDICT])} | "
        f"{err_n} of {sum(r['ok'] + r['errors'] for r in conc[NOOP])} | |",
    ]
    if gc:
        table.append(f"| gradio_client Client.predict p50 ms (p90), {args.gradio_client_calls} calls each | "
                     f"{gc[PREDICT]['median']:.1f} ({gc[PREDICT]['p90']:.1f}) | {gc[NOOP]['median']:.1f} "
                     f"({gc[NOOP]['p90']:.1f}) | +{gc[PREDICT]['median'] - sp['median']:.0f} ms over plain HTTP |")
    for line in table:
        print(line)
    if app:
        print(f"app RSS at start {startup['rss_mb']:.0f} MiB, at end {rss_end:.0f} MiB")
    path = c.save("http", {"machine": info, "args": vars(args), "startup": startup, "right": right,
                           "sequential_ms": {api: {"total": c.summary(v[0]), "upload": c.summary(v[1]),
                                                   "call": c.summary(v[2])} for api, v in seq.items()},
                           "concurrent": conc, "gradio_client_ms": gc, "rss_end_mb": rss_end, "table": table,
                           "load_seq": load_seq, "load_conc": load_conc, "load_at_end": c.load()})
    print(f"raw numbers: {os.path.relpath(path)}")
    return 0 if err_p == err_n == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
