"""Replicas: two `python app.py` processes on loopback over one data directory (samples in SQLite, or in
PostgreSQL when MNIST_STUDIO_TEST_PG gives a server): an Activate on one is served by the other within 2 s, one
training across both, samples written through one read through the other, a replica killed mid-write loses
nothing it acknowledged, GET /healthz."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from conftest import TEST_PG_ENV
from mnist_core.config import PROJECT_ROOT, Paths
from mnist_core.store.registry import Registry
from mnist_core.store.samples import open_store
from studio.launch import AppProcess

pytestmark = pytest.mark.slow

# The bound: an Activate anywhere is served everywhere within this.
SWITCH_S = 2.0

# A second version that is cheap to tell apart: the shipped model with its last bias pushed towards 3, so it
# answers 3 to everything; saved through the registry with its checked TF Lite copy (what replicas serve).
MAKE_VERSION = """
import sys
from pathlib import Path
from mnist_core.config import Paths
from mnist_core.digits.recognize import checked_lite
from mnist_core.store.registry import Registry
registry = Registry(Paths(home=Path(sys.argv[1])))
model = registry.load("default")
last = next(layer for layer in reversed(model.layers) if getattr(layer, "bias", None) is not None)
weights = last.get_weights()
weights[-1][3] += 50.0
last.set_weights(weights)
lite = checked_lite(model)
assert lite is not None
card = {"arch": "cnn", "note": "test: answers 3", "metrics": {"accuracy": 0.1135}}
print(registry.save(model, card, {"model.tflite": lite}))
"""


@pytest.fixture(scope="session")
def answers_three(tmp_path_factory) -> Path:
    """The folder of a registered version that reads every digit as a 3 (made once, copied into each home)."""
    home = tmp_path_factory.mktemp("threes")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", MAKE_VERSION, str(home)], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    vid = out.stdout.strip().splitlines()[-1]
    return Paths(home=home).models / vid


def health(url: str) -> dict:
    return httpx.get(url + "/healthz", timeout=5).json()


class Replica(AppProcess):
    """One `python app.py` on a loopback port of its own, given in MNIST_STUDIO_PORT as an orchestrator would."""

    def __init__(self, home: Path, env: dict, data: str | None):
        super().__init__(home, *(["--data", data] if data else []), env=env, port_by_env=True)
        self.client: Client | None = None

    def ready(self, timeout: float = 180) -> "Replica":
        """Wait until /healthz says the model is loaded; then a Gradio client."""
        self.wait("/healthz", timeout, every=0.3)
        self.client = Client(self.url, verbose=False)
        return self

    def stop(self) -> None:
        super().stop(kill=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(request, tmp_path_factory, mnist_path):
    """Two replicas over one fresh data directory, samples in SQLite or in a fresh PostgreSQL schema."""
    env, schema, base = {}, None, os.environ.get(TEST_PG_ENV)
    if request.param == "postgresql":
        if not base:
            pytest.skip(f"no PostgreSQL server for the tests: set {TEST_PG_ENV}=postgresql://... (.ci/run starts one)")
        import psycopg

        schema = f"test_{secrets.token_hex(6)}"
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        env["MNIST_STUDIO_DB"] = base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    home = tmp_path_factory.mktemp("replicas") / "home"
    home.mkdir()
    replicas = [Replica(home, env, mnist_path) for _ in range(2)]  # started together, as an orchestrator would
    try:
        a, b = (r.ready() for r in replicas)
        paths = Paths(home=home, database=env.get("MNIST_STUDIO_DB"))
        yield SimpleNamespace(a=a, b=b, home=home, paths=paths, kind=request.param)
    finally:
        for r in replicas:
            r.stop()
        if schema is not None:
            with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


def sketch(path) -> dict:
    return {"background": None, "layers": [handle_file(str(path))], "composite": None}


def read(replica: Replica, image) -> str:
    return replica.client.predict(sketch(image), api_name="/predict_drawing")[1]


def add_version(pair, folder: Path) -> str:
    """Register a copy of ``folder`` in the pair's data directory (a temp name renamed into place, as saves are)."""
    tmp = pair.paths.models / f".tmp-{folder.name}"
    shutil.copytree(folder, tmp)
    tmp.rename(pair.paths.models / folder.name)
    return folder.name


def wait_for(predicate, timeout: float, every: float = 0.05):
    """Poll ``predicate`` until it returns something true; that value, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def test_healthz_says_what_each_replica_serves(pair):
    for replica in (pair.a, pair.b):
        response = httpx.get(replica.url + "/healthz", timeout=5)
        body = response.json()
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        assert body["status"] == "ok" and body["active_version"] == "default"
        assert body["test_accuracy"] == json.loads((PROJECT_ROOT / "models" / "default.json").read_text())["metrics"]["accuracy"]
        assert body["uptime_s"] > 0 and body["training"] is False and body["samples"] == pair.kind
        assert body["pid"] == replica.proc.pid
    # A plain route, not an event of the queue: the API lists no such endpoint.
    info = httpx.get(pair.a.url + "/gradio_api/info", timeout=10).json()
    assert not any("health" in name for name in info["named_endpoints"])


def test_an_activation_on_one_replica_is_served_by_the_other_within_2_s(pair, answers_three, images):
    vid = add_version(pair, answers_three)
    assert read(pair.b, images["layer_7.png"]) == "7"
    pair.a.client.predict(vid, "", api_name="/activate_model")
    activated = time.monotonic()
    assert Registry(pair.paths).active() == vid
    seen = wait_for(lambda: health(pair.b.url)["active_version"] == vid, SWITCH_S)
    took = time.monotonic() - activated
    assert seen, f"replica B still serves {health(pair.b.url)['active_version']} {took:.1f} s after the activation"
    assert read(pair.b, images["layer_7.png"]) == "3"  # B's answers come from the new version
    assert health(pair.b.url)["test_accuracy"] == 0.1135
    # A roll-back on B reaches A the same way.
    pair.b.client.predict("default", "", api_name="/activate_model")
    rolled = time.monotonic()
    assert wait_for(lambda: health(pair.a.url)["active_version"] == "default", SWITCH_S)
    assert time.monotonic() - rolled <= SWITCH_S + 0.5
    assert read(pair.a, images["layer_7.png"]) == "7" and read(pair.b, images["layer_7.png"]) == "7"


def test_one_training_across_replicas(pair):
    """A training started on A: B refuses a second one, shows it, and may cancel it."""
    params = dict(data="MNIST", sample_weight=5, arch="mlp", epochs=1, batch_size=64, lr=0.003, augment=False,
                  limit=1000, auto_activate=False)
    assert "Training" in pair.a.client.predict(**params, api_name="/train")[0]
    with pytest.raises(AppError, match="already running"):
        pair.b.client.predict(**params, api_name="/train")
    with pytest.raises(AppError, match="already running"):
        pair.a.client.predict(**params, api_name="/train")
    assert health(pair.b.url)["training"] is True and health(pair.a.url)["training"] is True
    pair.b.client.predict("", api_name="/cancel_training")
    assert wait_for(lambda: not health(pair.a.url)["training"], 60, every=0.5), "the training did not stop"
    # Stopped: by its cancel file, or, while it was still importing TensorFlow on a busy machine, by the SIGTERM
    # and SIGKILL that follow it (the job then reads "failed: killed by signal"); either way no longer running.
    progress = pair.a.client.predict(api_name="/training_status")[1]
    assert re.search(r'data-status="(cancelled|failed|done)"', progress), progress


def _saved_id(message: str) -> int:
    return int(re.search(r"#(\d+)", message).group(1))


def test_samples_written_through_one_replica_are_read_through_the_other(pair, images):
    anna = {"X-Studio-Profile": "anna"}
    sid = _saved_id(Client(pair.a.url, verbose=False, headers=anna).predict(
        sketch(images["layer_7.png"]), 0, 7, api_name="/save_sample"))
    gallery, counts = Client(pair.b.url, verbose=False, headers=anna).predict("all", api_name="/list_samples")
    assert any(f"#{sid}:" in (item.get("caption") or "") for item in gallery)
    sample = open_store(pair.paths.samples_location).get(sid)
    assert sample["label"] == 7 and sample["profile"] == "anna"
    with pytest.raises(AppError, match="no sample"):  # through B too, "me" may not touch anna's
        pair.b.client.predict(sid, 1, "", api_name="/relabel_sample")
    assert open_store(pair.paths.samples_location).get(sid)["label"] == 7


def test_a_replica_killed_mid_write_loses_nothing_it_acknowledged(pair, images):
    """A stream of saves through A, SIGKILL while they fly: every save A answered is in the store, through B."""
    acknowledged: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def writer(label: int) -> None:
        client = Client(pair.a.url, verbose=False)
        while not stop.is_set():
            try:
                acknowledged.append(_saved_id(client.predict(sketch(images["layer_7.png"]), 0, label,
                                                              api_name="/save_sample")))
            except Exception as e:  # the kill: calls in flight fail, and are not acknowledged
                errors.append(type(e).__name__)
                return

    threads = [threading.Thread(target=writer, args=(label,)) for label in (4, 5, 6)]
    for t in threads:
        t.start()
    assert wait_for(lambda: len(acknowledged) >= 12, 120, every=0.01), "the saves did not flow"
    pair.a.proc.send_signal(signal.SIGKILL)
    pair.a.proc.wait(30)
    stop.set()
    for t in threads:
        t.join(60)
    assert errors, "no save was in flight when the replica died"
    store = open_store(pair.paths.samples_location)
    stored = {s["id"] for s in store.list(limit=10_000)}
    assert set(acknowledged) <= stored
    # B serves on, and reads every one of them.
    gallery, _ = pair.b.client.predict("all", api_name="/list_samples")
    captions = " ".join(item.get("caption") or "" for item in gallery)
    assert all(f"#{sid}:" in captions for sid in acknowledged)
    assert health(pair.b.url)["status"] == "ok"
