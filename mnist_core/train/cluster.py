"""Training across workers: who the workers are, TensorFlow's TF_CONFIG for them, and what a failure means.

``python -m mnist_core train --workers HOST:PORT,HOST:PORT --worker-index I`` (or TensorFlow's standard
``TF_CONFIG`` in the environment) makes each process one worker of a ``tf.distribute.MultiWorkerMirroredStrategy``:
the same program on every worker, each reading its own shard of the digits, gradients summed over all of them
every step. Worker 0 is the chief: it alone reports progress, writes the job log and saves the version.

No TensorFlow at import: the CLI parses and checks the workers before TensorFlow loads.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass

# HOST:PORT, HOST a name, an IPv4 address or an [IPv6] address.
_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})$")


class ClusterError(ValueError):
    """Workers given wrongly (an address, an index, TF_CONFIG); the message is for the person at the terminal."""


@dataclass(frozen=True)
class Cluster:
    """The workers of one training run, and which of them this process is."""

    workers: tuple[str, ...]
    index: int

    @property
    def chief(self) -> bool:
        """Worker 0 reports progress and saves the version; the others only train."""
        return self.index == 0

    @property
    def address(self) -> str:
        return self.workers[self.index]

    def tf_config(self) -> str:
        """TensorFlow's TF_CONFIG for this worker."""
        return json.dumps({"cluster": {"worker": list(self.workers)}, "task": {"type": "worker", "index": self.index}})

    def to_dict(self) -> dict:
        """What the card keeps of the run's workers."""
        return {"count": len(self.workers), "addresses": list(self.workers), "chief": self.workers[0],
                "strategy": "MultiWorkerMirroredStrategy"}


def parse_workers(spec: str) -> tuple[str, ...]:
    """'HOST:PORT,HOST:PORT' -> the addresses; ClusterError for a bad or repeated one."""
    workers = tuple(w.strip() for w in spec.split(",") if w.strip())
    if len(workers) < 2:
        raise ClusterError(f"--workers needs at least two HOST:PORT addresses, comma-separated, not {spec!r}")
    for w in workers:
        m = _ADDRESS.match(w)
        if not m or not 1 <= int(m.group(3)) <= 65535:
            raise ClusterError(f"--workers: {w!r} is not HOST:PORT (a port from 1 to 65535)")
    if len(set(workers)) != len(workers):
        raise ClusterError(f"--workers: an address is given twice in {spec!r}")
    return workers


def local_workers(n: int, host: str = "127.0.0.1") -> str:
    """n loopback addresses free right now, as --workers takes them ("127.0.0.1:P1,127.0.0.1:P2"): a cluster tried
    on one machine (the benchmark, the tests). The ports are bound together, so they differ, then released."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind((host, 0))
        return ",".join(f"{host}:{s.getsockname()[1]}" for s in socks)
    finally:
        for s in socks:
            s.close()


def worker_environ(home: str | os.PathLike, environ=os.environ) -> dict:
    """The environment for a training process started from here: the studio home set, TensorFlow's C++ logging
    quiet, and no inherited TF_CONFIG (a worker's place in a cluster comes from its own arguments)."""
    env = {k: v for k, v in environ.items() if k != "TF_CONFIG"}
    return {**env, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}


def from_args(workers: str | None, index: int | None, environ=os.environ) -> Cluster | None:
    """The cluster from --workers/--worker-index, else from TF_CONFIG, else None (training in one process)."""
    if workers is not None:
        addresses = parse_workers(workers)
        if index is None:
            raise ClusterError("--workers needs --worker-index: this process's place in the list (0 is the chief)")
        if not 0 <= index < len(addresses):
            raise ClusterError(f"--worker-index must be from 0 to {len(addresses) - 1}, not {index}")
        return Cluster(addresses, index)
    if index is not None:
        raise ClusterError("--worker-index goes with --workers")
    raw = environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        kinds = set(cluster) - {"worker"}
        if kinds:
            raise ClusterError(f"TF_CONFIG: only 'worker' tasks are used here (worker 0 is the chief), not {sorted(kinds)}")
        if task.get("type") != "worker":
            raise ClusterError(f"TF_CONFIG: this task's type must be 'worker', not {task.get('type')!r}")
        addresses = parse_workers(",".join(cluster["worker"]))
        return from_args(",".join(addresses), int(task["index"]), {})
    except ClusterError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ClusterError(f"TF_CONFIG is not TensorFlow's cluster description: {e}") from None


def make_strategy(cluster: Cluster):
    """Set TF_CONFIG and create the MultiWorkerMirroredStrategy; call before any other TensorFlow op.

    Blocks until every worker has started its own; `join_watchdog` bounds that wait.
    """
    os.environ["TF_CONFIG"] = cluster.tf_config()
    import tensorflow as tf  # noqa: PLC0415

    # Ring all-reduce over gRPC: the CPU implementation (NCCL is for GPUs).
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def barrier(strategy) -> None:
    """Wait until every worker has reached this call (one all-reduce of a scalar)."""
    import tensorflow as tf  # noqa: PLC0415

    ones = strategy.run(tf.function(lambda: tf.ones(())))
    strategy.reduce("SUM", ones, axis=None).numpy()


# The watchdog, a separate small process: the wait for the other workers is a C++ call that holds Python's lock
# (TFE_EnableCollectiveOps -> WaitForAllTasks), so no thread of the trainer, nor its signal handlers, runs meanwhile.
_WATCHDOG = r"""
import json, os, select, signal, sys, time
parent, timeout_s, message, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
ready, _, _ = select.select([sys.stdin], [], [], timeout_s)
if ready:  # "joined" or the end of the pipe (the trainer has gone): nothing to do
    sys.exit(0)
if log:
    with open(log, "a") as f:
        f.write(json.dumps({"event": "failed", "time": time.time(), "message": message}) + "\n")
print("error: " + message, file=sys.stderr, flush=True)
os.kill(parent, signal.SIGKILL)
"""


class JoinWatchdog:
    """Ends the trainer when the workers have not all joined in time (a worker never started, a wrong address,
    a firewall): TensorFlow itself would wait an hour.

    A small process watches this one: unless told within `timeout_s` that the workers joined, it writes a "failed"
    event to the job log `log` (when given), prints the error on this process's stderr and kills this process.
    """

    def __init__(self, cluster: Cluster, timeout_s: float, log: os.PathLike | None = None):
        self.cluster, self.timeout_s, self.log = cluster, timeout_s, log
        self._proc: subprocess.Popen | None = None

    def message(self) -> str:
        others = ", ".join(f"{i} ({w})" for i, w in enumerate(self.cluster.workers) if i != self.cluster.index)
        return (f"the workers did not all join within {self.timeout_s:.0f} s (this is worker {self.cluster.index} at "
                f"{self.cluster.address}; waiting for worker {others}): start every worker, check the addresses and "
                f"that the ports are open; no version saved")

    def __enter__(self):
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.timeout_s), self.message(),
             str(self.log) if self.log else ""],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=False)
        return self

    def __exit__(self, *exc):
        try:
            self._proc.stdin.write(b"joined\n")
            self._proc.stdin.close()
        except OSError:
            pass
        self._proc.wait()
        return False


_PEER_ERRORS = ("UnavailableError", "DeadlineExceededError", "AbortedError", "CancelledError", "InternalError")


def peer_failure(exc: BaseException, cluster: Cluster) -> str | None:
    """A one-line message when `exc` is TensorFlow reporting a lost worker, else None."""
    if type(exc).__name__ not in _PEER_ERRORS:
        return None
    text = str(exc)
    # TensorFlow names the task it lost ("/job:worker/replica:0/task:1" in a heartbeat or an RPC report).
    tasks = sorted({int(t) for t in re.findall(r"/job:worker/(?:replica:\d+/)?task:(\d+)", text)} - {cluster.index})
    lost = ", ".join(f"worker {t} ({cluster.workers[t]})" for t in tasks if t < len(cluster.workers))
    return (f"training across workers failed on worker {cluster.index}: {lost or 'another worker'} stopped or cannot "
            f"be reached ({type(exc).__name__}); no version saved")
