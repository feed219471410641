"""Start ``python app.py`` in a process of its own and know when it answers: the one launcher that the tests and
the benchmarks share (replicas, kill -9, startup time, HTTP load, the browser).

It lives beside the app it starts, so tests and benchmarks both import it (``from studio.launch import
AppProcess``) without tests importing benchmarks; nothing in the studio or the core imports it. Stdlib only
(urllib for the polling), so a benchmark that times Gradio's or TensorFlow's import pays for neither here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free on loopback now (the OS picks it; another process could still take it before the app)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """``python app.py *flags`` over the data directory ``home`` on a loopback port of its own; a context manager.

    ``home`` None: a fresh temporary folder, removed at ``stop()``. The port goes on the command line
    (``--port``), or in MNIST_STUDIO_PORT with ``port_by_env`` (as an orchestrator gives it). ``environ`` is the
    base environment (default os.environ), ``env`` is laid over it; MNIST_STUDIO_HOME is always ``home``. The
    app's output goes to ``log`` (default: ``app-<port>.log`` beside ``home``, or inside a temporary home).
    """

    def __init__(self, home: str | Path | None = None, *flags: str, env: Mapping[str, str] | None = None,
                 environ: Mapping[str, str] | None = None, port: int | None = None, port_by_env: bool = False,
                 log: str | Path | None = None):
        self._tmp = None if home is not None else tempfile.TemporaryDirectory(prefix="mnist-studio-home-")
        self.home = Path(home if home is not None else self._tmp.name)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"  # no trailing slash: url + "/healthz"
        self.log_path = Path(log) if log else (self.home / "app.log" if self._tmp else
                                               self.home.parent / f"app-{self.port}.log")
        variables = {**(os.environ if environ is None else environ), "GRADIO_ANALYTICS_ENABLED": "False",
                     "PYTHONUNBUFFERED": "1", **(env or {}), "MNIST_STUDIO_HOME": str(self.home)}
        argv = [sys.executable, "app.py", *flags]
        if port_by_env:
            variables["MNIST_STUDIO_PORT"] = str(self.port)
        else:
            argv += ["--port", str(self.port)]
        self._log = open(self.log_path, "w+b")  # noqa: SIM115 (closed by stop())
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=variables, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def answers(self, path: str = "/healthz") -> bool:
        """Whether GET ``path`` answers 200 now (/healthz: only once the model is loaded)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def wait(self, path: str = "/healthz", timeout: float = 180.0, every: float = 0.1) -> float:
        """Seconds from the spawn until GET ``path`` answers 200; RuntimeError (with the log) if the app exits
        first, TimeoutError after ``timeout`` s (a bound on hangs, never a timed assertion)."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.answers(path):
                return time.perf_counter() - self.started
            time.sleep(every)
        raise TimeoutError(f"{self.url}{path} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def health(self) -> dict:
        """GET /healthz's JSON (status, active_version, samples, training, ...)."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # 503 while starting still carries the JSON
            return json.loads(exc.read())

    def log_tail(self, n: int | None = 3000) -> str:
        """The last ``n`` characters of the app's output so far (all of it for None)."""
        text = self.log_path.read_bytes().decode(errors="replace")
        return text if n is None else text[-n:]

    def rss_mb(self) -> float:
        """Resident memory of the app process (VmRSS), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self, kill: bool = False) -> None:
        """End the app: SIGTERM, then SIGKILL after 20 s; ``kill``: SIGKILL at once (kill -9, no goodbye)."""
        if self.proc.poll() is None:
            if kill:
                self.proc.send_signal(signal.SIGKILL)
            else:
                self.proc.terminate()
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        self.proc.wait(30)
        self._log.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
