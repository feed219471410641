"""Training across workers (train --workers/--worker-index, TF_CONFIG) and reading in processes (predict --jobs).

The workers are real separate processes on loopback ports: one run saves exactly one version (the chief's, its card
naming both workers); a worker killed mid-run fails the run cleanly, in bounded time, with no version saved and the
job lock released; a worker that never joins ends the wait. predict --jobs 2 prints what --jobs 1 prints, in order.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _shared import HAVE_MNIST, ROOT, SHARED_MNIST, data_arg
from mnist_core.train.cluster import (Cluster, ClusterError, from_args, local_workers, parse_workers, peer_failure,
                                worker_environ)
from mnist_core.config import Paths, TrainSettings
from mnist_core.ops.jobs import JobManager, JobRequest
from mnist_core.ops.protocol import Request, write_request

DEFAULT = ROOT / "models" / "default.keras"


def worker(index: int, workers: str, home: Path, *extra: str, job_dir: Path | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "mnist_core", "train", *data_arg(), "--workers", workers, "--worker-index", str(index),
            "--quiet", "--json", *extra]
    if job_dir is not None:
        args += ["--job-dir", str(job_dir)]
    return subprocess.Popen(args, cwd=ROOT, env=worker_environ(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def wait_for_progress(log: Path, procs, timeout: float = 240.0) -> None:
    """Until the chief's job log shows training steps (training has started on every worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.is_file() and '"event": "progress"' in log.read_text():
            return
        for p in procs:
            assert p.poll() is None, f"a worker ended before training: {p.communicate()[1][-2000:]}"
        time.sleep(0.2)
    pytest.fail("training did not start")


def versions(home: Path) -> list[str]:
    models = home / "models"
    return sorted(p.name for p in models.iterdir() if p.is_dir()) if models.is_dir() else []


# --------------------------------------------------------------------------- the workers, checked before TF
def test_workers_from_flags_and_from_tf_config():
    c = from_args("10.0.0.1:2222,10.0.0.2:2222", 1, {})
    assert c == Cluster(("10.0.0.1:2222", "10.0.0.2:2222"), 1) and not c.chief and c.address == "10.0.0.2:2222"
    assert json.loads(c.tf_config()) == {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
                                         "task": {"type": "worker", "index": 1}}
    # TensorFlow's own TF_CONFIG is read when no flag is given; nothing at all is one process.
    assert from_args(None, None, {"TF_CONFIG": c.tf_config()}) == c
    assert from_args(None, None, {}) is None


@pytest.mark.parametrize("workers,index,env,words", [
    ("localhost:1", 0, {}, "at least two"),
    ("localhost:1,localhost", 0, {}, "not HOST:PORT"),
    ("localhost:1,localhost:70000", 0, {}, "not HOST:PORT"),
    ("localhost:1,localhost:1", 0, {}, "twice"),
    ("localhost:1,localhost:2", None, {}, "--worker-index"),
    ("localhost:1,localhost:2", 2, {}, "from 0 to 1"),
    (None, 1, {}, "goes with --workers"),
    (None, None, {"TF_CONFIG": "{not json"}, "TF_CONFIG"),
    (None, None, {"TF_CONFIG": json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:1"]},
                                           "task": {"type": "chief", "index": 0}})}, "only 'worker'"),
])
def test_bad_workers_are_refused(workers, index, env, words):
    with pytest.raises(ClusterError, match=words):
        from_args(workers, index, env)


def test_local_workers_are_distinct_free_loopback_addresses_that_parse():
    spec = local_workers(3)
    workers = parse_workers(spec)  # the CLI's own check accepts them
    assert len(workers) == 3 and all(w.startswith("127.0.0.1:") for w in workers)
    for w in workers:  # released: each can be bound again
        with socket.socket() as s:
            s.bind(("127.0.0.1", int(w.rsplit(":", 1)[1])))


def test_worker_environ_sets_the_home_and_drops_an_inherited_tf_config(tmp_path):
    env = worker_environ(tmp_path, {"TF_CONFIG": '{"task": {}}', "PATH": "/bin"})
    assert env == {"PATH": "/bin", "MNIST_STUDIO_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_a_lost_worker_is_named_in_one_line():
    c = Cluster(("h0:1", "h1:2"), 0)

    class UnavailableError(Exception):
        pass

    lost = UnavailableError("Collective ops is aborted by: The following tasks are unhealthy (stopped sending "
                            "heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have crashed.")
    assert peer_failure(lost, c) == ("training across workers failed on worker 0: worker 1 (h1:2) stopped or cannot be "
                                     "reached (UnavailableError); no version saved")
    assert peer_failure(ValueError("bad input"), c) is None


@pytest.mark.parametrize("args,words", [
    (["--workers", "localhost:1,localhost:2", "--worker-index", "5"], "from 0 to 1"),
    (["--workers", "localhost:1,localhost:2", "--worker-index", "0", "--finetune", "default"], "not with --finetune"),
])
def test_cli_refuses_bad_workers_at_once(tmp_path, args, words):
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", *args], cwd=ROOT, env=worker_environ(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert last_line(proc.stderr).startswith("error: ") and words in proc.stderr
    assert "tensorflow" not in proc.stderr.lower() and time.monotonic() - t < 30  # before TensorFlow loads


# --------------------------------------------------------------------------- real workers on loopback
@pytest.mark.slow
def test_two_workers_save_exactly_one_version_naming_both(tmp_path):
    home = tmp_path / "home"
    workers = local_workers(2)
    jobs = [tmp_path / "job0", tmp_path / "job1"]
    procs = [worker(i, workers, home, "--limit", "600", "--epochs", "1", job_dir=jobs[i]) for i in range(2)]
    outs = [p.communicate(timeout=420) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    chief, other = (json.loads(last_line(out)) for out, _ in outs)
    assert versions(home) == [chief["version"]]  # exactly one version: the chief's
    assert chief["workers"] == workers.split(",") and other == {**other, "worker": 1, "saved_by": workers.split(",")[0]}
    card = json.loads((home / "models" / chief["version"] / "card.json").read_text())
    assert card["workers"]["addresses"] == workers.split(",") and card["workers"]["count"] == 2
    assert card["workers"]["strategy"] == "MultiWorkerMirroredStrategy"
    assert card["epochs_done"] == 1 and 0.0 <= card["metrics"]["accuracy"] <= 1.0
    # The global batch is kept and split evenly; the digits were shared out whole (an even count).
    assert card["batch_size_used"] % 2 == 0 and card["data"]["train_size"] % 2 == 0
    # Only the chief reports progress: its job log has the run, the other worker wrote none.
    events = [json.loads(line)["event"] for line in (jobs[0] / "log.jsonl").read_text().splitlines()]
    assert events[0] == "start" and "progress" in events and events[-1] == "done"
    assert not (jobs[1] / "log.jsonl").exists()


def _chief_by_the_job_manager_and_other_worker(tmp_path: Path, home: Path):
    """Worker 0 as the app runs a training (a JobManager, not started yet: the lock, the job log, cancel) and worker 1
    already started as a plain process: (manager, the request to start, worker 1's Popen)."""
    workers = local_workers(2)
    paths = Paths(home=home)
    command = [sys.executable, "-m", "mnist_core", "train", "--workers", workers, "--worker-index", "0"]
    manager = JobManager(paths, command=command)
    request = JobRequest(settings=TrainSettings(epochs=4, limit=3000), data=str(SHARED_MNIST) if HAVE_MNIST else None)
    # Worker 1 is handed the same job as a request file (no job folder: only the chief logs), its place by flag.
    handed = write_request(tmp_path / "request-1.json", Request(request.train_job(paths.samples_db)))
    other = subprocess.Popen(command[:-1] + ["1", "--request", str(handed)], cwd=ROOT,
                             env=worker_environ(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return manager, request, other


@pytest.mark.slow
def test_a_killed_worker_fails_the_run_cleanly_and_frees_the_lock(tmp_path):
    """The chief runs as the app runs a training (JobManager: the lock, the job log); worker 1 is killed mid-run."""
    home = tmp_path / "home"
    manager, request, other = _chief_by_the_job_manager_and_other_worker(tmp_path, home)
    try:
        status = manager.start(request)
        assert manager.lock_path.exists()
        wait_for_progress(manager.job_dir(status.id) / "log.jsonl", [other])
        other.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        status = manager.wait(120)
        took = time.monotonic() - killed
    finally:
        other.kill()
        other.communicate()
    assert status.status == "failed" and took < 60, (status, took)
    assert "worker 1" in status.message and "no version saved" in status.message
    assert versions(home) == [] and not manager.lock_path.exists()


@pytest.mark.slow
def test_cancelling_a_run_across_workers_stops_both_and_saves_nothing(tmp_path):
    """The app's Cancel on a run across two workers: the chief (run as the app runs it) stops as cancelled, the other
    worker stops in bounded time, no version is saved and the lock is freed."""
    home = tmp_path / "home"
    manager, request, other = _chief_by_the_job_manager_and_other_worker(tmp_path, home)
    try:
        status = manager.start(request)
        wait_for_progress(manager.job_dir(status.id) / "log.jsonl", [other])
        assert manager.cancel()
        asked = time.monotonic()
        status = manager.wait(120)
        chief_took = time.monotonic() - asked
        _, err = other.communicate(timeout=120)
        other_took = time.monotonic() - asked
    finally:
        other.kill()
        other.communicate()
    assert status.status == "cancelled" and chief_took < 60, (status, chief_took)
    # The other worker cannot finish the run alone: it ends in bounded time with its one-line error naming the chief.
    assert other.returncode == 1 and other_took < 90, (other.returncode, other_took, err[-2000:])
    assert last_line(err).startswith("error: training across workers failed on worker 1: worker 0 (")
    assert versions(home) == [] and not manager.lock_path.exists()


@pytest.mark.slow
def test_a_killed_chief_makes_the_other_worker_exit_with_an_error(tmp_path):
    home = tmp_path / "home"
    workers = local_workers(2)
    job = tmp_path / "job0"
    procs = [worker(i, workers, home, "--limit", "3000", "--epochs", "4", job_dir=job if i == 0 else None)
             for i in range(2)]
    try:
        wait_for_progress(job / "log.jsonl", procs)
        procs[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        _, err = procs[1].communicate(timeout=120)
        took = time.monotonic() - killed
    finally:
        for p in procs:
            p.kill()
            p.communicate()
    assert procs[1].returncode == 1 and took < 60, took
    assert last_line(err).startswith("error: training across workers failed on worker 1: worker 0 (")
    assert "no version saved" in err and versions(home) == []


@pytest.mark.slow
def test_a_worker_that_never_joins_ends_the_wait(tmp_path):
    home = tmp_path / "home"
    workers = local_workers(2)
    job = tmp_path / "job0"
    t = time.monotonic()
    proc = worker(0, workers, home, "--limit", "600", "--epochs", "1", "--join-timeout", "8", job_dir=job)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode != 0 and time.monotonic() - t < 120  # killed by its watchdog: TF's wait holds the GIL
    assert last_line(err).startswith("error: the workers did not all join within 8 s") and "worker 1 (" in err
    assert json.loads((job / "log.jsonl").read_text().splitlines()[-1])["event"] == "failed"
    assert versions(home) == []


# --------------------------------------------------------------------------- predict --jobs
def _digit_pngs(folder: Path, n: int) -> list[Path]:
    """n real test digits (full MNIST, else the offline subset) as dark ink on white paper, and one broken file."""
    import cv2

    from _shared import small_mnist

    folder.mkdir()
    data = small_mnist()
    for i in range(n):
        cv2.imwrite(str(folder / f"d{i:02d}.png"), cv2.resize(255 - data.x_test[i], (84, 84)))
    (folder / "d05-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return sorted(folder.iterdir())


@pytest.mark.skipif(not DEFAULT.exists(), reason="models/default.keras not built yet")
@pytest.mark.parametrize("flags", [["--json"], [], ["--number", "--json"]], ids=["json", "text", "number"])
def test_predict_in_two_processes_prints_what_one_prints_in_order(tmp_path, flags):
    files = _digit_pngs(tmp_path / "imgs", 12)
    # Files and a folder mixed, in an order that is not sorted: the output follows the arguments.
    args = [str(files[7]), str(files[3]), str(tmp_path / "imgs"), str(files[0])]
    runs = {}
    for jobs in (1, 2):
        proc = subprocess.run([sys.executable, "-m", "mnist_core", "predict", "--jobs", str(jobs), *flags, *args],
                              cwd=ROOT, env=worker_environ(tmp_path / "home"), capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 1, proc.stderr[-2000:]  # the broken file: reported, the rest read
        runs[jobs] = proc
    one, two = runs[1].stdout.splitlines(), runs[2].stdout.splitlines()
    assert len(one) == 2 + 13 + 1 and one == two
    paths = [json.loads(line)["path"] if "--json" in flags else line.split("\t")[0] for line in one]
    assert paths == args[:2] + [str(f) for f in files] + [str(files[0])]
    broken = [line for line in one if "d05-broken" in line]
    assert len(broken) == 1 and ("error" in broken[0])
    assert [ln for ln in runs[2].stderr.splitlines() if ln.startswith("error: ")] == \
        [ln for ln in runs[1].stderr.splitlines() if ln.startswith("error: ")]
    if flags == ["--json"]:  # the digits are read, not just listed
        digits = [json.loads(line)["digit"] for line in one if "d05-broken" not in line]
        assert all(d in range(10) for d in digits)


def test_parts_keep_the_input_order():
    from mnist_core.ops.parallel import MAX_PART, parts_of

    files = list(range(2000))
    parts = parts_of(files, 2)
    assert [f for p in parts for f in p] == files and max(map(len, parts)) <= MAX_PART and len(parts) >= 8
    assert parts_of([1, 2, 3], 4) == [[1], [2], [3]]
