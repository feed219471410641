"""Shared pieces of the benchmarks: the machine's description, load averages, statistics, test canvases, and
the app launcher (studio.launch, shared with the tests). No TensorFlow import here (the scripts time that
themselves)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"          # git-ignored: raw JSON of every run
DATA = ROOT.parent / "shared" / "data" / "mnist.npz"
MODEL = ROOT / "models" / "default.keras"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The app launcher the tests use too (one helper: port, home, log, waiting until it answers).
from studio.launch import AppProcess, free_port  # noqa: E402, F401


# ------------------------------------------------------------------------------------------------------------
# The machine and its load
# ------------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    """The SIMD features that matter to TensorFlow's kernels."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        return "?"
    return ",".join(f for f in ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16") if f in flags)


def load() -> str:
    """The 1/5/15-minute load averages, as `uptime` prints them."""
    return "load %.2f %.2f %.2f" % os.getloadavg()


def machine(**versions: str) -> dict:
    """What the run ran on: CPU, cores, Python and library versions (pass the ones imported)."""
    import gradio  # noqa: PLC0415 (versions only; cheap next to TensorFlow)

    info = {
        "cpu": cpu_model(),
        "simd": cpu_flags(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gradio": gradio.__version__,
        "load_at_start": load(),
    }
    info.update(versions)
    return info


def describe(info: dict) -> str:
    parts = [f"{info['cpu']} ({info['simd']}), {info['nproc']} cores, Python {info['python']}"]
    for key in ("tensorflow", "keras", "gradio", "numpy"):
        if key in info:
            parts.append(f"{key} {info[key]}")
    return ", ".join(parts) + f"; {info['load_at_start']}"


# ------------------------------------------------------------------------------------------------------------
# Statistics
# ------------------------------------------------------------------------------------------------------------


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def summary(values) -> dict:
    """Median, min, max (and p90, n) of a list of numbers."""
    v = [float(x) for x in values]
    if not v:
        return {"n": 0}
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "p90": pct(v, 90), "n": len(v)}


def mmm(s: dict, fmt: str = "{:.1f}", unit: str = "") -> str:
    """'median (min-max)' of a summary()."""
    if not s or not s.get("n"):
        return "-"
    f = lambda x: fmt.format(x) + unit  # noqa: E731
    if s["n"] == 1:
        return f(s["median"])
    return f"{f(s['median'])} ({f(s['min'])}-{f(s['max'])})"


def save(name: str, result: dict) -> Path:
    """Write the run's raw numbers to benchmarks/out/<name>-<time>.json; returns the path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    return path


# ------------------------------------------------------------------------------------------------------------
# Canvases: MNIST test digits redrawn with a brush on an RGBA stroke layer, as the sketchpad sends them
# ------------------------------------------------------------------------------------------------------------


def load_test_digits(n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first n MNIST test digits from offset (uint8 (n, 28, 28), labels)."""
    with np.load(DATA) as f:
        return f["x_test"][offset:offset + n], f["y_test"][offset:offset + n].astype(np.int64)


def canvases(n: int, side: int = 800, seed: int = 0) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """n drawn digits: (label, RGBA layer (side, side, 4) uint8, light-theme composite (side, side, 3) uint8).

    Each MNIST test digit's skeleton is redrawn with a round brush at a random place, size and pen width
    (the generator of benchmarks/robustness.py, "typical" kind).
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import robustness  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x, y = load_test_digits(n)
    out = []
    for digit, label in zip(x, y):
        item = robustness.Item(int(label), robustness.skeleton_segments(digit))
        layer, composite = robustness.make_canvas(item, rng, "typical", side=side)
        out.append((int(label), layer, composite))
    return out


def tutorial_input(composite: np.ndarray) -> np.ndarray:
    """The tutorial's way from a picture to the model: grey, resized to 28x28, / 255 -> (1, 28, 28, 1)."""
    import cv2  # noqa: PLC0415

    grey = cv2.cvtColor(np.ascontiguousarray(composite[..., :3]), cv2.COLOR_RGB2GRAY)
    return (cv2.resize(grey, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0).reshape(1, 28, 28, 1)


def png_bytes(image: np.ndarray) -> bytes:
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------------------
# The app as a subprocess
# ------------------------------------------------------------------------------------------------------------


def concurrent_calls(clients: list, call, per_client: int) -> dict:
    """Each client (a thread each, all released together) makes `per_client` calls; `call(client, k)` returns the
    call's seconds (k numbers the calls 0..). Errors are counted, not raised. The clients are closed at the end."""
    import threading  # noqa: PLC0415

    lat, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def worker(n: int):
        start.wait()
        for j in range(per_client):
            try:
                t = call(clients[n], n * per_client + j)
                with lock:
                    lat.append(t * 1000)
            except Exception as e:  # counted, not raised: zero is the target
                with lock:
                    errors.append(f"{type(e).__name__}: {str(e)[:200]}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(clients))]
    for th in threads:
        th.start()
    start.wait()
    t1 = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t1
    for cl in clients:
        cl.close()
    return {"calls_per_s": len(lat) / wall, "wall_s": wall, "ok": len(lat), "errors": len(errors),
            "error_samples": errors[:5], "latency_ms": summary(lat)}


class GradioHttp:
    """Plain-HTTP use of the app's API, as curl or the browser do it: upload files, then
    POST /gradio_api/call/<api_name> and read GET /gradio_api/call/<api_name>/<event_id>'s event stream."""

    def __init__(self, url: str, session_hash: str | None = None):
        """`session_hash`: sent with every call, as one browser page does; None (curl's way): Gradio makes a
        new session for each call."""
        import requests  # noqa: PLC0415

        self.url = url
        self.session_hash = session_hash
        self.session = requests.Session()  # keep-alive, as a browser

    def upload(self, files: list[tuple[str, bytes]]) -> list[str]:
        """Upload (name, bytes) pairs in one request -> their server paths."""
        r = self.session.post(self.url + "/gradio_api/upload",
                              files=[("files", (name, data, "image/png")) for name, data in files], timeout=60)
        r.raise_for_status()
        return r.json()

    @staticmethod
    def file(path: str) -> dict:
        return {"path": path, "meta": {"_type": "gradio.FileData"}}

    def sketch_value(self, layer_png: bytes, composite_png: bytes | None) -> dict:
        """Upload a canvas and return the Sketchpad value that refers to it."""
        files = [("layer.png", layer_png)] + ([("composite.png", composite_png)] if composite_png else [])
        paths = self.upload(files)
        return {"background": None, "layers": [self.file(paths[0])],
                "composite": self.file(paths[1]) if composite_png else None}

    def call(self, api_name: str, *data) -> list:
        """Run one event and return its output list; raises RuntimeError on an error event."""
        body = {"data": list(data)}
        if self.session_hash:
            body["session_hash"] = self.session_hash
        r = self.session.post(f"{self.url}/gradio_api/call/{api_name}", json=body, timeout=60)
        r.raise_for_status()
        event_id = r.json()["event_id"]
        with self.session.get(f"{self.url}/gradio_api/call/{api_name}/{event_id}", stream=True, timeout=60) as s:
            s.raise_for_status()
            event = None
            for raw in s.iter_lines(decode_unicode=True):
                if not raw:
                    continue
                if raw.startswith("event:"):
                    event = raw[6:].strip()
                elif raw.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(raw[5:].strip())
                    if event == "error":
                        raise RuntimeError(f"{api_name}: error event: {payload}")
                    return payload
        raise RuntimeError(f"{api_name}: the event stream ended without a result")

    def close(self) -> None:
        self.session.close()
