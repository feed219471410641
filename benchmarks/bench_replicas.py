"""Replicas over one data directory: 16 clients on one `python app.py` beside the same clients split across two.

    python benchmarks/bench_replicas.py [--clients 16] [--per-client 25] [--rounds 3] [--canvas 400]
        [--switches 10] [--db postgresql://...]

Starts two `python app.py` on loopback ports over one fresh MNIST_STUDIO_HOME (samples in SQLite, or in
PostgreSQL with --db), waits until both answer /healthz with the model loaded, then, in rounds (the order of the
two set-ups swapped every round):

- 1 replica: --clients threads, each with its own keep-alive session, all on the first replica;
- 2 replicas: the same clients, client i on replica i % 2 (what a proxy with session affinity does);

each client making --per-client /predict_drawing calls (upload + call + event stream, as bench_http.py) of drawn
digits: throughput (calls/s over the burst's wall time), p50/p90 latency, errors. The second replica idles through
the 1-replica bursts (it only looks at the active pointer twice a second).

Then --switches activations through the registry (a copy of the shipped version registered beside it, activated
and rolled back in turn): the seconds from the pointer's replacement until both replicas' /healthz report the new
version. Last, in this process, --store-writes samples saved one by one (each call its own connection and
transaction, as the app does) and a listing of them, in SQLite and, with --db, in PostgreSQL. Timings are never
asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PREDICT = "predict_drawing"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--per-client", type=int, default=25, help="calls per client per burst (default 25)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, each one burst per set-up (default 3)")
    p.add_argument("--canvas", type=int, default=400, help="canvas side in pixels (default 400, the app's)")
    p.add_argument("--distinct", type=int, default=30, help="different drawn digits cycled through")
    p.add_argument("--switches", type=int, default=10, help="activations timed across the replicas (0: skip)")
    p.add_argument("--db", default=None, help="a postgresql:// URL: the replicas keep samples there")
    p.add_argument("--store-writes", type=int, default=300, help="samples saved to time each store (0: skip)")
    return p.parse_args(argv)


def replica(home: Path, db: str | None) -> c.AppProcess:
    """`python app.py --port P` over a shared data directory (samples in ``db`` when given), its log beside it."""
    return c.AppProcess(home, env={"MNIST_STUDIO_DB": db} if db else None)


def time_store(location, n: int) -> dict:
    """ms per add() of a drawn digit with a 2 KB original, one call at a time; ms for list() of the last 120."""
    import numpy as np  # noqa: PLC0415

    sys.path.insert(0, str(c.ROOT))
    from mnist_core.store.samples import open_store  # noqa: PLC0415

    store = open_store(location)
    store.prepare()
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = 1.0
    adds, lists = [], []
    for k in range(n):
        t1 = time.perf_counter()
        store.add(k % 10, image, original_png=bytes(2048), profile="bench")
        adds.append((time.perf_counter() - t1) * 1000)
    for _ in range(20):
        t1 = time.perf_counter()
        store.list(limit=120, profile="bench")
        lists.append((time.perf_counter() - t1) * 1000)
    return {"kind": store.kind, "add_ms": c.summary(adds), "list120_ms": c.summary(lists)}


def main(argv=None) -> int:
    args = parse(argv)
    info = c.machine()
    print(f"# machine: {c.describe(info)}", flush=True)
    cs = c.canvases(args.distinct, side=args.canvas)
    pngs = [(label, c.png_bytes(layer), c.png_bytes(comp)) for label, layer, comp in cs]

    tmp = tempfile.TemporaryDirectory(prefix="mnist-bench-replicas-")
    home = Path(tmp.name) / "home"
    home.mkdir()
    replicas = [replica(home, args.db) for _ in range(2)]
    try:
        for r in replicas:
            r.wait("/healthz", 180)
        print(f"# two replicas ready: {', '.join(r.url for r in replicas)} over {home}"
              f" (samples: {replicas[0].health()['samples']})", flush=True)

        def one(cl: c.GradioHttp, k: int) -> float:
            _, layer, comp = pngs[k % len(pngs)]
            t1 = time.perf_counter()
            cl.call(PREDICT, cl.sketch_value(layer, comp))
            return time.perf_counter() - t1

        for r in replicas:  # warm both
            warm = c.GradioHttp(r.url)
            for k in range(10):
                one(warm, k)
            warm.close()

        def burst(n: int) -> dict:
            """--clients clients, client i on replica i % n."""
            clients = [c.GradioHttp(replicas[i % n].url) for i in range(args.clients)]
            return c.concurrent_calls(clients, one, args.per_client)

        results = {1: [], 2: []}
        load_start = c.load()
        for rnd in range(args.rounds):
            for n in ((1, 2) if rnd % 2 == 0 else (2, 1)):
                res = burst(n)
                results[n].append(res)
                print(f"round {rnd + 1}, {n} replica(s): {res['calls_per_s']:.1f} calls/s, p50 "
                      f"{res['latency_ms']['median']:.0f} ms, p90 {res['latency_ms']['p90']:.0f} ms, "
                      f"{res['errors']} errors [{c.load()}]", flush=True)
        load_end = c.load()

        switches = []
        if args.switches:
            sys.path.insert(0, str(c.ROOT))
            from mnist_core.config import Paths  # noqa: PLC0415
            from mnist_core.store.registry import DEFAULT_ID, Registry, new_version_id  # noqa: PLC0415

            paths = Paths(home=home)
            registry = Registry(paths)
            vid = new_version_id()  # a copy of the shipped version, registered as a version of its own
            staging = paths.models / f".tmp-{vid}"
            staging.mkdir(parents=True)
            shutil.copy(paths.default_model, staging / "model.keras")
            shutil.copy(paths.default_model.with_suffix(".tflite"), staging / "model.tflite")
            shutil.copy(paths.default_card, staging / "card.json")
            staging.rename(paths.models / vid)
            registry.activate(DEFAULT_ID)  # the load check imports Keras once, before any timing
            for k in range(args.switches):
                target = vid if k % 2 == 0 else DEFAULT_ID
                registry.activate(target)
                t1 = time.perf_counter()
                pending = set(range(len(replicas)))
                while pending and time.perf_counter() - t1 < 30:
                    pending = {i for i in pending if replicas[i].health()["active_version"] != target}
                    time.sleep(0.01)
                switches.append(time.perf_counter() - t1 if not pending else float("nan"))
                print(f"switch {k + 1} to {target}: both replicas serve it after {switches[-1]:.2f} s", flush=True)

        stores = []
        if args.store_writes:
            for location in [home / "bench.sqlite3"] + ([args.db] if args.db else []):
                stores.append(time_store(location, args.store_writes))
                print(f"store {stores[-1]['kind']}: add p50 {stores[-1]['add_ms']['median']:.2f} ms, list of 120 "
                      f"p50 {stores[-1]['list120_ms']['median']:.2f} ms [{c.load()}]", flush=True)
    finally:
        for r in replicas:
            r.stop()
        tmp.cleanup()

    t1, t2 = c.summary([r["calls_per_s"] for r in results[1]]), c.summary([r["calls_per_s"] for r in results[2]])
    l1 = c.summary([r["latency_ms"]["median"] for r in results[1]])
    l2 = c.summary([r["latency_ms"]["median"] for r in results[2]])
    p1 = c.summary([r["latency_ms"]["p90"] for r in results[1]])
    p2 = c.summary([r["latency_ms"]["p90"] for r in results[2]])
    e1, e2 = sum(r["errors"] for r in results[1]), sum(r["errors"] for r in results[2])
    calls = args.clients * args.per_client
    print(f"\n# {c.describe(info)}; load {load_start} -> {load_end}")
    print(f"# plain HTTP, {args.canvas}x{args.canvas} canvas, {args.clients} clients x {args.per_client} "
          f"/predict_drawing calls a burst, {args.rounds} bursts per set-up; samples: "
          f"{'PostgreSQL' if args.db else 'SQLite'}")
    table = [
        "| figure | 1 replica | 2 replicas | ratio |",
        "|---|---|---|---|",
        f"| calls/s, median (min-max) of {args.rounds} bursts of {calls} | {c.mmm(t1)} | {c.mmm(t2)} | "
        f"{t2['median'] / t1['median']:.2f}x |",
        f"| latency p50 ms (median of bursts) | {l1['median']:.0f} | {l2['median']:.0f} | |",
        f"| latency p90 ms (median of bursts) | {p1['median']:.0f} | {p2['median']:.0f} | |",
        f"| errors | {e1} of {calls * args.rounds} | {e2} of {calls * args.rounds} | |",
    ]
    if switches:
        s = c.summary([x for x in switches if x == x])
        table.append(f"| activation served by both replicas, s: median (max) of {len(switches)} | | "
                     f"{s['median']:.2f} ({max(switches):.2f}) | |")
    if stores:
        table += ["", f"| samples kept in | save one sample, ms p50 (p90) of {args.store_writes} | "
                      "list 120 samples, ms p50 (p90) of 20 |", "|---|---|---|"]
        for st in stores:
            table.append(f"| {st['kind']} | {st['add_ms']['median']:.2f} ({st['add_ms']['p90']:.2f}) | "
                         f"{st['list120_ms']['median']:.2f} ({st['list120_ms']['p90']:.2f}) |")
    for line in table:
        print(line)
    path = c.save("replicas", {"machine": info, "args": {**vars(args), "db": bool(args.db)}, "results": results,
                               "switches_s": switches, "stores": stores, "table": table, "load_start": load_start,
                               "load_end": load_end})
    print(f"raw numbers: {os.path.relpath(path)}")
    return 0 if e1 == e2 == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
