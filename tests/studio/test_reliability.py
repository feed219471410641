"""Issue 6: reliability and security, end to end.

Bad input over the HTTP API (the handlers alone are in test_app / tests/digits), kill -9 of the app,
of a trainer and of a process saving models, divergence and disk-full through the CLI, racing training
starts, predictions during activation and training, admin access off loopback, path traversal, uploads
not kept, no secrets in logs. Every server here listens on loopback (one subprocess binds 0.0.0.0 to test
the admin policy). No timed assertions: deadlines only bound hangs.

docs/RELIABILITY.md lists each case, what happens, and which test shows it.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from _shared import ROOT, data_arg, wait_until

keras = pytest.importorskip("keras")
gr = pytest.importorskip("gradio")

import app  # noqa: E402
from mnist_core.digits import most_prominent  # noqa: E402
from studio import draw, models_tab, services, views  # noqa: E402
from studio.launch import AppProcess, free_port  # noqa: E402
from mnist_core.config import Paths, TrainSettings  # noqa: E402
from mnist_core.ops.jobs import JobManager, JobOptions, JobRequest  # noqa: E402
from mnist_core.train.nets import build_cnn, build_mlp  # noqa: E402
from mnist_core.store.registry import DEFAULT_ID, Registry  # noqa: E402
from mnist_core.store.samples import SampleStore  # noqa: E402

# ----------------------------------------------------------------------------------------------------------
# Helpers: a loopback server, a plain-HTTP client of Gradio's API
# ----------------------------------------------------------------------------------------------------------

FILE = {"_type": "gradio.FileData"}


def file_data(path) -> dict:
    """A FileData payload naming a file already on the server (uploaded, or a hostile path)."""
    return {"path": str(path), "meta": FILE}


class Http:
    """Gradio's HTTP API over one keep-alive connection: upload, call(api, *inputs), get."""

    def __init__(self, port: int, timeout: float = 120):
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def _request(self, method, path, body=None, headers=None) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body, headers or {})
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: one retry on a fresh one
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        return self._request("GET", path)

    def upload(self, data: bytes, name: str) -> tuple[int, object]:
        """POST /gradio_api/upload; (200, server path) or (status, message)."""
        b = uuid.uuid4().hex
        body = (f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
        status, out = self._request("POST", "/gradio_api/upload", body,
                                    {"Content-Type": f"multipart/form-data; boundary={b}"})
        return (status, json.loads(out)[0]) if status == 200 else (status, out.decode(errors="replace"))

    def call(self, api: str, *inputs) -> tuple[str, object]:
        """Run an API event: ("complete", outputs) or ("error", {"error": message, "title": ...})."""
        status, body = self._request("POST", f"/gradio_api/call/{api}", json.dumps({"data": list(inputs)}),
                                     {"Content-Type": "application/json"})
        if status != 200:
            return "http", {"status": status, "error": body.decode(errors="replace")}
        event_id = json.loads(body)["event_id"]
        status, body = self._request("GET", f"/gradio_api/call/{api}/{event_id}")
        events = re.findall(r"event: (\w+)\ndata: (.*)\n", body.decode())
        final = [(e, d) for e, d in events if e in ("complete", "error")]
        assert final, f"no result for {api}: {body[:500]!r}"
        kind, data = final[-1]
        return kind, json.loads(data)

    def ok(self, api: str, *inputs):
        kind, out = self.call(api, *inputs)
        assert kind == "complete", (api, out)
        return out

    def refused(self, api: str, *inputs) -> str:
        """The error message of a call that must fail; never an unexplained error."""
        kind, out = self.call(api, *inputs)
        assert kind == "error", (api, out)
        assert out and out.get("error"), f"{api}: an error without a message: {out}"
        return out["error"]

    def close(self):
        self.conn.close()


@dataclass
class Server:
    demo: object
    port: int
    studio: object

    def http(self) -> Http:
        return Http(self.port)


@contextmanager
def serving(config: app.StudioConfig, remove_cache: bool = True):
    """The app built for ``config``, served in this process on a free loopback port; restores services._current.

    Its uploads go to a cache folder of its own: in the shared one, Gradio names an upload by the hash of its
    bytes, and any studio process that stops deletes every upload it received, so identical test images sent
    to other studio processes on the machine would vanish from under this one.
    """
    import shutil
    import tempfile

    previous, previous_cache = services._current, os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = cache = tempfile.mkdtemp(prefix="mnist-studio-test-")
    demo = app.build_app(config)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_options(config))
    try:
        yield Server(demo, port, app.services())
    finally:
        demo.close(verbose=False)
        services._current = previous
        if previous_cache is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = previous_cache
        if remove_cache:
            shutil.rmtree(cache, ignore_errors=True)


def listening_address(port: int) -> str | None:
    """The address a local TCP socket listens on for ``port`` (from /proc/net/tcp), e.g. "127.0.0.1"."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:  # 0A: LISTEN
                if len(addr) == 8:
                    return socket.inet_ntoa(bytes.fromhex(addr)[::-1])
                return "::" if set(addr) == {"0"} else addr
    return None


def samples_intact(db: Path, ids) -> None:
    """Every id is in the SQLite file and the file passes SQLite's integrity check."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        have = {row[0] for row in conn.execute("SELECT id FROM samples")}
    finally:
        conn.close()
    missing = set(ids) - have
    assert not missing, f"samples lost: {sorted(missing)}"


def registry_consistent(home: Path, expect_active: str | None = None, load_all: bool = True) -> Registry:
    """The active version loads as a digit model (safe mode); every listed version is whole and loads.

    ``load_all=False`` loads only the active one and checks the others are whole zip files with a card.
    """
    import zipfile

    reg = Registry(Paths(home=home))
    active = reg.active()
    if expect_active is not None:
        assert active == expect_active
    model = reg.load(active)
    assert tuple(model.outputs[0].shape[1:]) == (10,)
    for card in reg.versions():
        assert "broken" not in card, card
        if load_all:
            reg.load(card["id"])
        elif card["id"] != DEFAULT_ID:
            with zipfile.ZipFile(reg.model_path(card["id"])) as z:
                assert z.testzip() is None
    return reg


def two_models(home: Path) -> tuple[str, str]:
    """Register two differently initialised MLPs in ``home``; the first is made active."""
    reg = Registry(Paths(home=home))
    keras.utils.set_random_seed(11)
    a = reg.save(build_mlp(), {"arch": "mlp", "note": "reliability A"})
    reg.activate(a)
    b = reg.save(build_mlp(), {"arch": "mlp", "note": "reliability B"})
    return a, b


def png_bytes(array: np.ndarray, **kw) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    (array if isinstance(array, Image.Image) else Image.fromarray(array)).save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def sketch(path=None) -> dict:
    """A Sketchpad value as the browser sends it: the drawn layer as an uploaded file."""
    return {"background": None, "layers": [file_data(path)] if path else [], "composite": None}


@pytest.fixture(scope="module")
def served(tmp_path_factory, mnist_path):
    """The app on loopback over a fresh data directory with two registered models, A active."""
    home = tmp_path_factory.mktemp("served")
    a, b = two_models(home)
    with serving(app.StudioConfig(paths=Paths(home=home), data=mnist_path)) as server:
        server.home, server.a, server.b = home, a, b
        yield server


@pytest.fixture(scope="module")
def client(served):
    c = served.http()
    yield c
    c.close()


@pytest.fixture(scope="module")
def uploaded(client, images) -> dict[str, str]:
    """Every test image uploaded once: name -> server path."""
    out = {}
    for name, path in images.items():
        status, where = client.upload(path.read_bytes(), name)
        assert status == 200, (name, where)
        out[name] = where
    return out


def assert_still_serving(client: Http, uploaded: dict) -> None:
    label, number, html = client.ok("predict_drawing", sketch(uploaded["layer_42.png"]))
    assert len(number) == 2 and label["label"] == number  # several digits: the answer is the number and html.count("<img") == 2


# ----------------------------------------------------------------------------------------------------------
# 1. Bad input over HTTP: a clear message, and the server goes on serving. test_api covers the bad files
# (0 bytes, not an image, truncated PNG/JPEG, bomb, 1x1), 16-bit/CMYK/GIF, the upload cap and bad settings.
# ----------------------------------------------------------------------------------------------------------


def test_nan_and_infinite_values_through_the_api(client, uploaded):
    """Numbers as JSON NaN/Infinity in every numeric input, and a float TIFF whose pixels are NaN/inf."""
    from PIL import Image

    settings = ["MNIST", 5, "mlp", 2, 64, 0.003, False, 1000, False, "", True, "image"]
    for index, value, message in [(3, float("nan"), "Epochs must be a whole number"),
                                  (3, float("inf"), "Epochs must be a whole number"),
                                  (4, float("-inf"), "Batch size must be a whole number"),
                                  (5, float("nan"), "(the )?learning rate must be (between|from)"),
                                  (5, float("inf"), "(the )?learning rate must be (between|from)"),
                                  (1, float("nan"), "(the )?sample weight must be (between|from)"),
                                  (7, float("inf"), "The digit limit must be a whole number"),
                                  (3, 10**400, "Epochs must be a number")]:  # float() of it overflows
        bad = list(settings)
        bad[index] = value
        text = client.refused("train", *bad)
        assert re.match(f"(?i){message}", text), text  # the message itself, not a quoted repr of it
    for which in (float("nan"), float("inf"), float("-inf")):
        assert "Which digit? Give its number from 1 to 2" in client.refused(
            "save_sample", sketch(uploaded["layer_42.png"]), which, "3")
    assert "label must be a digit" in client.refused("save_sample", sketch(uploaded["layer_7.png"]), 0, float("nan"))
    for sid in (float("nan"), float("inf")):
        assert "is not a sample id" in client.refused("relabel_sample", sid, "3", "")
        assert "is not a sample id" in client.refused("delete_sample", sid, "")
    pixels = np.full((120, 120), np.nan, np.float32)
    pixels[20:100, 56:64] = np.inf  # a "1" drawn in infinities on NaN paper
    status, path = client.upload(png_bytes(Image.fromarray(pixels, mode="F"), format="TIFF"), "nan.tiff")
    assert status == 200
    assert re.fullmatch(r"\d", client.ok("read_number", file_data(path))[0])  # read, NaN as 0: one digit
    assert_still_serving(client, uploaded)


def _unsafe_model(marker: Path):
    """A digit-shaped model whose Lambda layer would create ``marker`` if its code ever ran."""
    inputs = keras.Input((28, 28, 1))
    code = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")  # the path as a literal, no closure
    x = keras.layers.Lambda(code)(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_corrupt_foreign_and_unsafe_model_files_in_the_registry(served, client, uploaded, tmp_path):
    reg = served.studio.registry
    active = reg.active()
    marker = tmp_path / "lambda-code-ran"
    model = _unsafe_model(marker)
    marker.unlink()  # building it ran the lambda once; loading must not
    unsafe = reg.save(model, {"arch": "lambda"})
    inputs = keras.Input((5,))
    foreign = reg.save(keras.Model(inputs, keras.layers.Dense(3)(inputs)), {"arch": "?"})
    truncated, garbage = reg.save(build_mlp(), {"arch": "mlp"}), reg.save(build_mlp(), {"arch": "mlp"})
    data = reg.model_path(truncated).read_bytes()
    reg.model_path(truncated).write_bytes(data[: len(data) // 2])
    reg.model_path(garbage).write_bytes(b"this is not a keras file" * 100)
    try:
        for vid, message in [(unsafe, "corrupt or not a Keras model"), (foreign, "not a digit model"),
                             (truncated, "corrupt or not a Keras model"), (garbage, "corrupt or not a Keras model")]:
            assert message in client.refused("activate_model", vid, "", False)
            assert reg.active() == active
            card = client.ok("show_model", vid)[0]  # the card is still shown; the model is never loaded
            assert vid in card
        table = client.ok("list_models")[1]
        assert {unsafe, foreign, truncated, garbage} <= {row[1] for row in table["data"]}
        assert not marker.exists(), "safe mode let a Lambda layer's code run"
        assert_still_serving(client, uploaded)
        assert served.studio.model.recognizer().version == active
    finally:
        for vid in (unsafe, foreign, truncated, garbage):
            reg.delete(vid)


def test_an_unloadable_active_model_is_reported_and_another_can_be_activated(tmp_path, images):
    """The active version's file damaged on disk (our writes are atomic: only something else can do this)."""
    home = tmp_path / "home"
    a, b = two_models(home)
    reg = Registry(Paths(home=home))
    reg.model_path(a).write_bytes(b"PK\x03\x04 damaged")
    previous = services._current
    try:
        app.build_app(app.StudioConfig(paths=Paths(home=home)))
        value = {"background": None, "layers": [{"path": str(images["layer_7.png"])}], "composite": None}
        with pytest.raises(gr.Error, match=f"model could not be loaded.*{a}.*corrupt or not a Keras model"):
            draw.predict_drawing(value)
        models_tab.activate_model(b)  # the admin rolls forward (or back) to a version that loads
        assert draw.predict_drawing(value)[1] == "7" or len(draw.predict_drawing(value)[1]) == 1
        assert app.services().model.recognizer().version == b
    finally:
        services._current = previous


# ----------------------------------------------------------------------------------------------------------
# 2. Faults: kill -9 mid-training and mid-save, divergence, disk full
# ----------------------------------------------------------------------------------------------------------

# Saves and activates models and adds samples in a loop, printing each step once it is done; the test kills
# it at random moments. It keeps the 3 newest versions (deleting older ones: a kill mid-delete too).
# argv: home, then "keras" (model.save by Keras; first TensorFlow is loaded from two threads at once) or the
# path of a .keras file whose bytes a stand-in model writes through the same Registry.save (no TensorFlow to
# start: a round costs a fraction of a second instead of seconds; activation's load check is then a zip
# check, and the test loads everything itself). argv[3]: a .keras file for the two-thread load.
SAVER = r"""
import os, sys, zipfile
import numpy as np
from pathlib import Path
from mnist_core.config import Paths
from mnist_core.store.registry import Registry, RegistryError
from mnist_core.store.samples import SampleStore
paths = Paths(home=Path(sys.argv[1]))
registry, store = Registry(paths), SampleStore(paths.samples_db)
if sys.argv[2] == "keras":
    # TensorFlow's first import from two threads at once, as the app's warm-up and an Activate request do
    import threading
    errors, go = [], threading.Barrier(2)
    def first(f):
        go.wait()
        try:
            f()
        except BaseException as e:
            errors.append(repr(e)[:300])
    def recognizer():
        from mnist_core.digits.recognize import Recognizer
    def load():
        from mnist_core.store.registry import load_model_file
        load_model_file(sys.argv[3])
    threads = [threading.Thread(target=first, args=(f,)) for f in (recognizer, load)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print("imports", "ok" if not errors else errors, flush=True)
    from mnist_core.train.nets import build_cnn
    model = build_cnn()
else:
    class FileModel:
        data = Path(sys.argv[2]).read_bytes()
        def save(self, path):
            with open(path, "wb") as f:
                for i in range(0, len(self.data), 1 << 16):
                    f.write(self.data[i:i + (1 << 16)])
    def load(vid):
        if zipfile.ZipFile(registry.model_path(vid)).testzip() is not None:
            raise RegistryError("bad zip")
    model, registry.load = FileModel(), load
image = np.zeros((28, 28), np.float32)
image[4:24, 12:16] = 1.0
while True:
    print("sample", store.add(7, image, original_png=os.urandom(2000), source="kill-test"), flush=True)
    vid = registry.save(model, {"arch": "cnn"}, {"curves.png": os.urandom(50_000)})
    print("saved", vid, flush=True)
    registry.activate(vid)
    print("active", vid, flush=True)
    for card in registry.versions()[3:]:
        if card["id"] not in ("default", vid):
            registry.delete(card["id"])
"""


def _env(home: Path, **extra) -> dict:
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3",
           "GRADIO_TEMP_DIR": str(home.parent / "gradio-cache"), **extra}  # see serving()
    env.pop("MNIST_STUDIO_HOST", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.slow
def test_kill_9_while_saving_models_and_samples_never_loses_either(tmp_path):
    """Kill -9 a process saving/activating/deleting model versions and adding samples, at random moments.

    Rounds: env MNIST_KILL_ROUNDS (default 9): the first with Keras writing the model, the others with the
    stand-in writer (see SAVER). After every kill: the active version loads in Keras' safe mode, every listed
    version loads, the active one never goes back to an older version, every sample reported saved is there,
    and SQLite's integrity check passes.

    The Keras round also loads TensorFlow from two threads at once first: without the lock around its lazy
    imports (registry.TF_IMPORT_LOCK) that failed every time here (a _DeadlockError in one thread, a
    "partially initialized module" in the other, TensorFlow unusable in the process from then on).
    """
    home = tmp_path / "home"
    model_file = tmp_path / "cnn.keras"
    build_cnn().save(model_file)
    rng = random.Random(int(os.environ.get("MNIST_KILL_SEED", "6")))
    rounds = int(os.environ.get("MNIST_KILL_ROUNDS", "9"))
    activated: list[str] = []
    samples: list[int] = []
    for round_ in range(rounds):
        writer = "keras" if round_ == 0 else str(model_file)
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(home), writer, str(model_file)], cwd=ROOT, env=_env(home),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
        reader.start()
        try:
            wait_until(lambda: any(line.startswith("active") for line in lines) or proc.poll() is not None,
                       240, "the saver's first activation")
            assert proc.poll() is None, "the saver died by itself"
            time.sleep(rng.uniform(0.0, 0.6))  # then kill it wherever it is: mid-save, mid-activate, mid-delete
        finally:
            proc.kill()
            proc.wait(30)
        reader.join(10)
        if round_ == 0:
            assert "imports ok\n" in lines, lines[:3]
        done = [line.split() for line in lines if line.endswith("\n") and len(line.split()) == 2]  # whole lines
        round_active = [v for kind, v in done if kind == "active"]
        samples += [int(v) for kind, v in done if kind == "sample"]
        reg = registry_consistent(home, load_all=round_ == rounds - 1)
        active = reg.active()
        # the pointer names the last version reported active, or a newer one activated just before the kill
        assert active == round_active[-1] or active not in activated + round_active[:-1], (round_, active)
        activated += round_active
        samples_intact(Paths(home=home).samples_db, samples)
    leftovers = [p.name for p in Paths(home=home).models.iterdir() if p.name.startswith(".")]
    print(f"{rounds} kills: {len(activated)} activations and {len(samples)} samples reported before them, all "
          f"there; {len(leftovers)} leftover .tmp-/.del- folders (ignored by the registry)")


@pytest.mark.slow
def test_tf_lite_builders_at_once_leave_stdout_alone(capsys):
    """The server builds a TF Lite copy in a thread after each model switch. Redirecting sys.stdout around the
    converter swallowed other threads' output meanwhile, and two builds at once left it on a StringIO for good
    (seen as a load test whose report never printed)."""
    from mnist_core.digits.recognize import LiteFunction

    model, stdout, stop, ticks = build_mlp(), sys.stdout, threading.Event(), []

    def printer():
        while not stop.is_set():
            ticks.append(f"tick {len(ticks)}")
            print(ticks[-1], flush=True)
            time.sleep(0.02)

    threads = [threading.Thread(target=printer)] + [threading.Thread(target=LiteFunction, args=(model,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join(300)
    stop.set()
    threads[0].join(10)
    assert sys.stdout is stdout
    out = capsys.readouterr().out
    assert out.split() == " ".join(ticks).split() and "Saved artifact" not in out


def _events(job_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (job_dir / "log.jsonl").read_text().splitlines()]


@contextmanager
def _cli_in_process():
    """Run the CLI's main() here (TensorFlow is already loaded): restores the SIGTERM handler it installs."""
    from mnist_core.cli.main import main

    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield main
    finally:
        signal.signal(signal.SIGTERM, handler)


@pytest.mark.slow
def test_diverging_finetune_fails_is_logged_and_activates_nothing(tmp_home, tmp_path, capsys):
    """`train --finetune <a version with infinite weights> --activate-if-better`: the loss is NaN at once."""
    reg = Registry(Paths(home=tmp_home))
    model = build_mlp()
    model.set_weights([np.full_like(w, np.inf) for w in model.get_weights()])
    inf_version = reg.save(model, {"arch": "mlp"})
    store = SampleStore(Paths(home=tmp_home).samples_db)
    for label in range(3):
        store.add(label, np.eye(28, dtype=np.float32))
    before_active, before_versions = reg.active(), {c["id"] for c in reg.versions()}
    job = tmp_path / "job"
    with _cli_in_process() as main:
        code = main(["train", *data_arg(), "--arch", "mlp", "--epochs", "2", "--limit", "1000", "--validation", "100",
                     "--finetune", inf_version, "--samples", str(store.path), "--activate-if-better",
                     "--job-dir", str(job), "--quiet"])
    (job / "cancel").touch()  # lets the job log's watcher thread end
    err = capsys.readouterr().err
    assert code == 1 and "error: training diverged" in err and "Traceback" not in err
    events = _events(job)
    assert [e["event"] for e in events if e["event"] in ("done", "failed", "cancelled")] == ["failed"]
    assert "diverged" in events[-1]["message"]
    assert reg.active() == before_active and {c["id"] for c in reg.versions()} == before_versions


@pytest.mark.slow
def test_disk_full_while_saving_through_the_cli_reports_and_activates_nothing(tmp_home, tmp_path, capsys, monkeypatch):
    """`train --activate` on a disk that fills up as the version is written (fsync fails with ENOSPC)."""
    import errno

    reg = Registry(Paths(home=tmp_home))
    reg.activate(reg.save(build_mlp(), {"arch": "mlp"}))  # (an MLP is quicker to evaluate than the shipped CNN)
    before_active, before_files = reg.active(), sorted(p.name for p in reg.paths.models.iterdir())
    models_dir = str(Paths(home=tmp_home).models)
    real_fsync = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(models_dir):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    job = tmp_path / "job"
    with _cli_in_process() as main:
        code = main(["train", *data_arg(), "--arch", "mlp", "--epochs", "1", "--limit", "1000", "--validation", "100",
                     "--activate", "--job-dir", str(job), "--quiet"])
    (job / "cancel").touch()
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1 and "could not save the model" in err and "No space left on device" in err
    assert "Traceback" not in err
    events = _events(job)
    assert [e["event"] for e in events if e["event"] in ("done", "failed", "cancelled")] == ["failed"]
    assert "No space left on device" in events[-1]["message"]
    assert reg.active() == before_active
    assert sorted(p.name for p in reg.paths.models.iterdir()) == before_files  # no half version left behind
    registry_consistent(tmp_home, expect_active=before_active)


@contextmanager
def app_process(home: Path, log: Path, *flags: str, **env):
    """`python app.py` over ``home`` on a free port (TF_CPP quiet); yields (process, port); kill -9 at the end."""
    launched = AppProcess(home, *data_arg(), *flags, environ=_env(home, **env), log=log)
    try:
        launched.wait("/config", 180, every=0.3)
        yield launched.proc, launched.port
    finally:
        launched.stop(kill=True)


def _kill_trainer(home: Path) -> int | None:
    """SIGKILL the trainer named by the job lock (its own process group); its pid, or None."""
    from mnist_core.ops.jobs import _pid_alive

    try:
        pid = json.loads((Paths(home=home).jobs / "lock").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None
    if _pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_until(lambda: not _pid_alive(pid), 30, "the trainer to die")
    return pid


@pytest.mark.slow
def test_kill_9_of_the_app_then_of_its_trainer_mid_training(tmp_path, images, fake_trainer):
    """`python app.py` (default address), samples saved and a training started through its API; predictions
    while it trains come from the whole active model; kill -9 of the app mid-training (the trainer runs on,
    apart), then kill -9 of the trainer mid-training: the active model loads, no half version appears, every
    sample is there, and a new training can start."""
    from mnist_core.ops.jobs import _pid_alive

    home = tmp_path / "home"
    a, b = two_models(home)
    registry = SimpleNamespace(studio=SimpleNamespace(registry=Registry(Paths(home=home))))
    expected = _expected_answers(registry, images, [a])
    ids = []
    try:
        with app_process(home, tmp_path / "app.log") as (proc, port):
            assert listening_address(port) == "127.0.0.1"  # loopback unless told otherwise
            client = Http(port)
            for name in ("layer_3.png", "layer_7.png", "layer_42.png", "layer_305.png"):
                status, path = client.upload(images[name].read_bytes(), name)
                message = client.ok("save_sample", sketch(path), 1, "5")[0]
                ids.append(int(re.search(r"#(\d+)\)", message).group(1)))
            # 50 epochs: certainly still training when killed; activate-if-better would swap the model at the end
            client.ok("train", "MNIST + my samples", 5, "mlp", 50, 64, 0.003, False, 2000, True, "", True, "image")
            wait_until(lambda: any('"progress"' in p.read_text() for p in Paths(home=home).jobs.glob("*/log.jsonl")),
                       300, "the first progress event", every=0.3)
            for name in list(expected) * 3:  # the app serves on while its trainer trains
                path = client.upload(images[name].read_bytes(), name)[1]
                assert _which_model(client.ok("predict_drawing", sketch(path)), expected[name]) == a
            proc.kill()  # kill -9 of the app, mid-training
            proc.wait(30)
            pid = json.loads((Paths(home=home).jobs / "lock").read_text())["pid"]
            assert _pid_alive(pid), "the trainer died with the app"
            samples_intact(Paths(home=home).samples_db, ids)
            assert _kill_trainer(home) == pid  # kill -9 of the trainer, mid-training
    finally:
        _kill_trainer(home)
    registry_consistent(home, expect_active=a)
    assert {c["id"] for c in Registry(Paths(home=home)).versions()} == {a, b, DEFAULT_ID}
    samples_intact(Paths(home=home).samples_db, ids)
    jobs = JobManager(Paths(home=home), command=fake_trainer, options=JobOptions(nice=0))
    assert not jobs.status().running  # the dead trainer's lock is stale, not a training forever "running"
    jobs.start(JobRequest(TrainSettings(epochs=1, limit=1000)))
    assert jobs.wait(60).status == "done"


def _spares_of(home: Path) -> list[int]:
    """Pids of the spare trainers (`python -m mnist_core spare`) serving the data directory ``home``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if (proc.name.isdigit() and b"mnist_core\x00spare" in (proc / "cmdline").read_bytes()
                    and f"MNIST_STUDIO_HOME={home.resolve()}\x00".encode() in (proc / "environ").read_bytes()):
                pids.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return pids


@pytest.mark.slow
def test_the_apps_spare_trainer_starts_with_it_and_goes_when_it_is_killed(tmp_path):
    """`python app.py` keeps one trainer waiting once its model is loaded; kill -9 of the app (no goodbye) closes
    that trainer's stdin, and it exits instead of holding its memory for nobody."""
    home = tmp_path / "home"
    with app_process(home, tmp_path / "app.log") as (proc, port):
        spares = wait_until(lambda: _spares_of(home), 120, "the spare trainer")
        assert len(spares) == 1
        proc.kill()
        proc.wait(30)
    wait_until(lambda: not _spares_of(home), 120, "the spare trainer to exit with the app")


# ----------------------------------------------------------------------------------------------------------
# 3. Concurrency: racing training starts, predictions while models change
# ----------------------------------------------------------------------------------------------------------

# One "app process" trying to start a training the moment a go-file appears; prints started or busy.
STARTER = r"""
import sys, time
from pathlib import Path
from mnist_core.config import Paths, TrainSettings
from mnist_core.ops.jobs import JobBusy, JobManager, JobOptions, JobRequest
import mnist_core.ops.lock as jobs_module  # the lock file's JSON writes (ops/lock.py)
home, go, fake = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
jobs = JobManager(Paths(home=home), command=[sys.executable, fake], options=JobOptions(nice=0))
# A starter descheduled while it writes the lock (as on a busy machine): every JSON write takes 50 ms.
real_dump, real_dumps = jobs_module.json.dump, jobs_module.json.dumps
jobs_module.json.dump = lambda *a, **k: (time.sleep(0.05), real_dump(*a, **k))[1]
jobs_module.json.dumps = lambda *a, **k: (time.sleep(0.05), real_dumps(*a, **k))[1]
print("ready", flush=True)
while not go.exists():
    time.sleep(0.0005)
try:
    jobs.start(JobRequest(TrainSettings(epochs=1, limit=1000)))
    print("started", flush=True)
except JobBusy:
    print("busy", flush=True)
"""


@pytest.mark.slow
def test_training_starts_racing_from_several_processes_exactly_one_runs(tmp_path, fake_trainer):
    """4 processes (as 4 app instances over one data directory) start a training at the same moment, twice.
    Each writes the lock slowly (50 ms a JSON write): before the lock's flock mutex, more than one of them
    started a training in every round tried (5 of 5): a lock read between another's create and write looked
    stale."""
    home = tmp_path / "home"
    env = _env(home, FAKE_MODE="slow")  # the winner's job runs for seconds: the others must see it
    for round_ in range(2):
        go = tmp_path / f"go-{round_}"
        procs = [subprocess.Popen([sys.executable, "-c", STARTER, str(home), str(go), fake_trainer[1]], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        go.touch()
        answers = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
        assert answers == ["busy", "busy", "busy", "started"], answers
        jobs = JobManager(Paths(home=home), options=JobOptions(nice=0))
        assert jobs.status().running and jobs.cancel()
        assert jobs.wait(30).status == "cancelled"


def test_two_train_calls_at_once_over_http_one_runs(served, fake_trainer, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "slow")
    jobs = JobManager(served.studio.config.paths, command=fake_trainer, options=JobOptions(nice=0))
    monkeypatch.setattr(served.studio, "jobs", jobs)
    settings = ["MNIST", 5, "mlp", 1, 64, 0.003, False, 1000, False, "", True, "image"]
    results = [None, None]
    barrier = threading.Barrier(2)

    def start(i):
        c = served.http()
        barrier.wait()
        results[i] = c.call("train", *settings)
        c.close()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["complete", "error"], results
    assert "already running" in next(out["error"] for kind, out in results if kind == "error")
    assert jobs.cancel() and jobs.wait(30).status == "cancelled"


def _expected_answers(served, images, versions) -> dict:
    """For each test canvas: version -> (the answer's label and confidences, number) as that whole model answers."""
    from mnist_core.numbers import reader as nr, tiles as nt
    from mnist_core.digits.recognize import Recognizer

    reg = served.studio.registry
    reader = nr.NumberReader.load()  # the shipped one: these apps' homes have none of their own
    out = {}
    for name in ("layer_3.png", "layer_42.png", "layer_305.png"):
        digits, ink = draw.drawing_ink({"layers": [{"path": str(images[name])}], "composite": None})
        x = np.stack([d.image for d in digits])
        out[name] = {}
        for vid in versions:
            probs = Recognizer(reg.load(vid), vid, lite=False).predict(x)
            # The number as served: the number reader's reading combined with this model's odds.
            read = nr.read_numbers(digits, probs, ink, reader)
            number = nr.as_json(read)["number"]
            tiles = nt.tiles_of(read, digits, ink) or nt.segment_tiles(digits, probs)
            out[name][vid] = (views.headline(tiles), number)
    return out


def _which_model(answer, expected: dict) -> str | None:
    """The version whose whole-model answer this HTTP answer is (None: none of them, a mixed answer)."""
    label, number = answer[0], answer[1]
    got = {c["label"]: c["confidence"] for c in label["confidences"]}
    for vid, (top3, num) in expected.items():
        if num == number and got.keys() == top3.keys() and all(abs(got[k] - top3[k]) < 1e-4 for k in got):
            return vid
    return None


def _hammer(served, uploaded, names, stop: threading.Event, n_clients: int) -> tuple[list, list]:
    """Clients predicting the canvases ``names`` until ``stop``; returns (threads, answers: (name, kind, out))."""
    answers = []

    def client_loop(k):
        c = served.http()
        i = k
        try:
            while not stop.is_set():
                name = names[i % len(names)]
                i += 1
                answers.append((name, *c.call("predict_drawing", sketch(uploaded[name]))))
        except Exception as e:  # noqa: BLE001 (reported as a failed answer)
            answers.append(("exception", "error", repr(e)))
        finally:
            c.close()

    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(n_clients)]
    for t in threads:
        t.start()
    return threads, answers


def _classify(answers, expected) -> tuple[list, list]:
    """(versions that gave each answer, answers that no whole model gives: errors or mixtures)."""
    seen, bad = [], []
    for name, kind, out in answers:
        vid = _which_model(out, expected[name]) if kind == "complete" else None
        (seen if vid else bad).append(vid or (name, kind, out))
    return seen, bad


@pytest.mark.slow
def test_predictions_during_activations_come_from_one_whole_model(served, client, uploaded, images):
    """4 clients predict while the live model is switched 4 times (2 through the API, 2 by another process's
    pointer, picked up within a second): every answer is one whole model's answer."""
    a, b = served.a, served.b
    client.ok("activate_model", a, "", False)
    expected = _expected_answers(served, images, [a, b])
    stop = threading.Event()
    threads, answers = _hammer(served, uploaded, list(expected), stop, 4)
    try:
        for i in range(4):
            target = b if i % 2 == 0 else a
            if i < 2:
                client.ok("activate_model", target, "", False)  # this app: swapped at once
            else:
                Registry(served.studio.config.paths).activate(target)  # e.g. a trainer's --activate
                wait_until(lambda: served.studio.model.recognizer().version == target,  # the clients' requests
                           60, "the app to pick up the new active version", every=0.3)   # trigger the check
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    seen, bad = _classify(answers, expected)
    assert not bad, bad[:5]
    assert set(seen) == {a, b}, "both models answered"
    print(f"{len(seen)} answers during 4 switches, each from one whole model")
    client.ok("activate_model", a, "", False)


# ----------------------------------------------------------------------------------------------------------
# 4. Security: admin off loopback, secrets, path traversal, uploads not kept, safe mode (section 1), address
# ----------------------------------------------------------------------------------------------------------


def _admin_calls(version: str, sample_id: int, password: str) -> list[tuple[str, list]]:
    return [
        ("train", ["MNIST", 5, "mlp", 1, 64, 0.003, False, 1000, False, password, True, "image"]),
        ("cancel_training", [password]),
        ("activate_model", [version, password, False]),
        ("delete_model", [version, password, False]),
        ("relabel_sample", [sample_id, "4", password]),
        ("delete_sample", [sample_id, password]),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("password", [None, "correct horse battery staple"])
def test_admin_actions_off_loopback_over_http(tmp_path, images, fake_trainer, monkeypatch, password):
    """Served as on a network address (host 0.0.0.0 in the config; the socket here stays on loopback):
    without a password every admin event is refused as disabled; with one, a missing or wrong password is
    refused and the right one works. Predicting and saving samples need no password."""
    home = tmp_path / "home"
    a, b = two_models(home)
    sample = SampleStore(Paths(home=home).samples_db).add(3, np.eye(28, dtype=np.float32))
    config = app.StudioConfig(paths=Paths(home=home), host="0.0.0.0", admin_password=password)
    with serving(config) as server:
        monkeypatch.setattr(server.studio, "jobs", JobManager(config.paths, command=fake_trainer,
                                                              options=JobOptions(nice=0)))
        monkeypatch.setenv("FAKE_MODE", "slow")
        c = server.http()
        status, path = c.upload(images["layer_7.png"].read_bytes(), "seven.png")
        assert len(c.ok("predict_drawing", sketch(path))[1]) == 1
        assert "labelled **7**" in c.ok("save_sample", sketch(path), 0, "7")[0]
        tries = ["", "wrong", "correct horse battery stapl", "correct horse battery staple "] if password else ["", "x"]
        for given in tries:
            for api, inputs in _admin_calls(b, sample, given):
                message = c.refused(api, *inputs)
                assert ("disabled" in message and "MNIST_STUDIO_ADMIN_PASSWORD" in message) if password is None \
                    else message.startswith("Wrong or missing admin password:"), (api, message)
        reg = Registry(config.paths)
        assert reg.active() == a and reg.exists(b) and not server.studio.jobs.status().running
        assert SampleStore(config.paths.samples_db).get(sample)["label"] == 3
        if password:
            calls = dict(_admin_calls(b, sample, password))
            assert "Training" in c.ok("train", *calls["train"])[0]
            assert "Cancelling" in c.ok("cancel_training", *calls["cancel_training"])[0]
            assert server.studio.jobs.wait(30).status == "cancelled"
            assert "is now the active model" in c.ok("activate_model", *calls["activate_model"])[0]
            assert "Deleted" in c.ok("delete_model", a, password, True)[0] and not reg.exists(a)
            assert "is now labelled **4**" in c.ok("relabel_sample", *calls["relabel_sample"])[0]
            assert "Deleted sample" in c.ok("delete_sample", *calls["delete_sample"])[0]
        c.close()


@pytest.mark.slow
def test_app_on_all_interfaces_keeps_the_password_out_of_logs_files_and_the_trainer(tmp_path, images):
    """`python app.py --host 0.0.0.0` with MNIST_STUDIO_ADMIN_PASSWORD: bound to all interfaces, admin events
    need the password, and neither it nor a wrong one shows up in the app's output, the data directory's
    files, or the trainer's environment and command line."""
    home = tmp_path / "home"
    a, b = two_models(home)
    password, wrong = f"pw-{secrets.token_hex(8)}", f"wrong-{secrets.token_hex(8)}"
    log = tmp_path / "app.log"
    try:
        with app_process(home, log, "--host", "0.0.0.0", MNIST_STUDIO_ADMIN_PASSWORD=password) as (proc, port):
            assert listening_address(port) == "0.0.0.0"
            c = Http(port)  # (reached through loopback, as a network client would through the address)
            status, path = c.upload(images["layer_3.png"].read_bytes(), "three.png")
            sid = int(re.search(r"#(\d+)\)", c.ok("save_sample", sketch(path), 0, "3")[0]).group(1))
            for given in ("", wrong):
                assert c.refused("relabel_sample", sid, "8", given).startswith("Wrong or missing admin password:")
                assert c.refused("delete_model", b, given, False).startswith("Wrong or missing admin password:")
            assert "is now labelled **8**" in c.ok("relabel_sample", sid, "8", password)[0]
            assert "Deleted" in c.ok("delete_model", b, password, True)[0]
            assert "Training" in c.ok("train", "MNIST", 5, "mlp", 50, 64, 0.003, False, 1000, False, password, True, "image")[0]
            pid = json.loads((Paths(home=home).jobs / "lock").read_text())["pid"]
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"MNIST_STUDIO_HOME=" in environ and b"MNIST_STUDIO_ADMIN_PASSWORD" not in environ
            assert password.encode() not in environ + cmdline
            assert "Cancelling" in c.ok("cancel_training", password)[0]
            _kill_trainer(home)  # (no need to wait for it to load TensorFlow and stop by itself)
            c.close()
            proc.send_signal(signal.SIGINT)  # a normal stop: whatever it would log is written
            proc.wait(60)
    finally:
        _kill_trainer(home)
    output = log.read_bytes()
    assert b"Running on local URL" in output
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "output.log" for p in files)  # the trainer's output, as the app keeps it
    for blob, where in [(output, "the app's output")] + [(p.read_bytes(), str(p)) for p in files]:
        assert password.encode() not in blob and wrong.encode() not in blob, f"a password in {where}"


@pytest.mark.parametrize("vid", ["../../etc/passwd", "..", "default/../../x", "/etc/passwd", "models/default",
                                 "20261128-093012-a1b2/../../x", "%2e%2e%2fetc", "20261128-093012-a1b2\x00",
                                 "20261128-093012-a1b2\n", " default"])
def test_no_path_traversal_through_version_ids(served, client, vid):
    for api, inputs in [("activate_model", (vid, "", False)), ("delete_model", (vid, "", False)), ("show_model", (vid,))]:
        assert "invalid version id" in client.refused(api, *inputs)
    registry_consistent(served.home, load_all=False)


@pytest.mark.parametrize("sid", ["../1", "1/../2", "1; DROP TABLE samples", "0x10", "1e3", -1, 0, 2**64, [1], {"id": 1}])
def test_no_path_or_sql_tricks_through_sample_ids(served, client, sid):
    store = served.studio.samples
    before = store.counts()
    for api, inputs in [("relabel_sample", (sid, "4", "")), ("delete_sample", (sid, ""))]:
        assert re.search("is not a sample id|No sample chosen", client.refused(api, *inputs))
    assert store.counts() == before


@pytest.mark.slow
def test_no_path_traversal_through_file_names_and_paths(served, client, uploaded, tmp_path):
    cache = Path(os.environ["GRADIO_TEMP_DIR"]).resolve()
    target = tmp_path / "escaped.png"
    for name in (f"../../../../../..{target}", str(target), "..\\..\\escaped.png", "../..", ".."):
        status, where = client.upload(b"\x89PNG not really", name)
        assert (status == 200 and Path(where).resolve().is_relative_to(cache)) or \
            (status == 400 and "Invalid file name" in where), (name, status, where)
    assert not target.exists()
    paths = served.studio.config.paths
    secret_files = [paths.samples_db, Registry(paths).model_path(served.a), Registry(paths).model_path(served.a).parent / "card.json",
                    paths.active, ROOT / "app.py", Path("/etc/passwd")]
    for f in secret_files:
        for hostile in (str(f), f"{cache}/../../../../../..{f}", os.path.relpath(f, ROOT)):
            for api, inputs in [("predict_photo", (file_data(hostile),)), ("predict_drawing", (sketch(hostile),)),
                                ("save_photo_sample", (file_data(hostile), 0, "1"))]:
                kind, out = client.call(api, *inputs)
                assert kind == "error" and "root:" not in json.dumps(out) and "SQLite" not in json.dumps(out), (api, out)
            for url in (f"/gradio_api/file={hostile}", f"/gradio_api/file={hostile.replace('/', '%2F')}",
                        f"/gradio_api/file/{hostile}"):
                status, body = client.get(url)
                assert status in (403, 404) and b"root:" not in body and b"SQLite" not in body, (url, status)
    assert_still_serving(client, uploaded)


def test_uploads_are_not_kept_only_saved_samples_are(tmp_path, images):
    """Uploads live in the app's own cache folder, never in the data directory; the cache is emptied at
    shutdown (and, while serving, of files older than 15 min every 2 min: delete_cache=(120, 900)). A sample
    the user saves keeps its crop in the database."""
    import shutil

    home = tmp_path / "home"
    two_models(home)
    with serving(app.StudioConfig(paths=Paths(home=home)), remove_cache=False) as server:
        cache = Path(os.environ["GRADIO_TEMP_DIR"]).resolve()
        c = server.http()
        kept = []
        for name in ("photo_2024.jpg", "layer_42.png", "not_an_image.png"):
            status, path = c.upload(images[name].read_bytes(), name)
            kept.append(Path(path))
        c.call("predict_photo", file_data(kept[0]))
        c.call("predict_drawing", sketch(kept[1]))
        c.call("read_number", file_data(kept[2]))
        message = c.ok("save_photo_sample", file_data(kept[0]), 1, "2")[0]
        sid = int(re.search(r"#(\d+)\)", message).group(1))
        c.close()
        assert all(p.is_file() and p.resolve().is_relative_to(cache) for p in kept)
        stray = [p for p in home.rglob("*") if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif")
                 and p.parent.parent != Paths(home=home).models]
        assert not stray, stray
    assert not any(p.exists() for p in kept), "uploads left in the cache after shutdown"
    shutil.rmtree(cache, ignore_errors=True)
    sample = SampleStore(Paths(home=home).samples_db).get(sid)
    assert sample["label"] == 2 and sample["original"].startswith(b"\x89PNG")
