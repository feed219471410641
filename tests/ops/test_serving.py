"""The model server alone (mnist_core.ops.serving): loading on first use, following the active pointer, each
profile's model, the pages remembered for "Why?", no Gradio or TensorFlow at import."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from _shared import ROOT, wait_until
from mnist_core.config import Paths
from mnist_core.digits import Digit
from mnist_core.ops.serving import ModelServer, ModelUnavailable, ServingSettings
from mnist_core.store.registry import Registry, RegistryError, file_sha256


def copy_of_default(paths: Paths, vid: str) -> str:
    """A version ``vid`` that is a copy of the shipped model with its TF Lite copy (served through LiteRT)."""
    registry = Registry(paths)
    default = registry.model_path("default")
    folder = paths.models / vid
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default, folder / "model.keras")
    shutil.copyfile(default.with_suffix(".tflite"), folder / "model.tflite")
    (folder / "card.json").write_text(json.dumps({"lite_of": file_sha256(default)}))
    return vid


def point(pointer, vid: str) -> None:
    """What Registry.activate writes (it loads the Keras model first, which these tests need not)."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(vid + "\n")


@pytest.fixture
def home(tmp_path):
    return Paths(home=tmp_path)


def test_importing_the_server_loads_no_gradio_tensorflow_or_studio():
    code = ("import sys, mnist_core.ops.serving; "
            "print(sorted(m for m in ('gradio', 'tensorflow', 'keras', 'studio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_active_version_is_loaded_on_first_use_and_followed(home):
    server = ModelServer(Registry(home), home.home, ServingSettings(watch_every_s=0.05))
    assert server.loaded_version is None  # nothing loaded by constructing it
    assert server.recognizer().version == "default" == server.loaded_version
    point(home.active, copy_of_default(home, "20990101-000000-aaaa"))
    # The one way a version activated elsewhere (another replica, a trainer) is picked up: the watcher.
    wait_until(lambda: server.loaded_version == "20990101-000000-aaaa", 5, "the watcher to swap")
    point(home.active, "default")
    server.refresh_now()  # an Activate made here: served at once
    assert server.loaded_version == "default"


def test_a_dropped_server_ends_its_watcher(home):
    server = ModelServer(Registry(home), home.home, ServingSettings(watch_every_s=0.02))
    server.recognizer()
    watcher = server._watcher
    assert watcher is not None and watcher.is_alive()
    del server
    gc.collect()
    watcher.join(2)
    assert not watcher.is_alive()


@pytest.mark.parametrize("kept", [1, 2])
def test_each_profile_is_served_its_own_model_and_few_are_kept(home, kept):
    server = ModelServer(Registry(home), home.home, ServingSettings(personal_models=kept))
    digit = Digit(np.zeros((28, 28), np.float32), (0, 0, 28, 28))
    for i, name in enumerate(["ann", "bob", "cy"]):
        point(home.home / "profiles" / name / "active", copy_of_default(home, f"20990101-00000{i}-beef"))
        assert server.recognizer_for(name).version == f"20990101-00000{i}-beef"
        assert server.predict([digit], name).shape == (1, 10)
    assert len(server._personal) == kept
    assert server.recognizer_for("dee").version == server.recognizer_for(None).version == "default"


def test_a_model_that_cannot_load_says_why(home, monkeypatch):
    from mnist_core.digits.recognize import Recognizer

    def broken(*args, **kwargs):
        raise RegistryError("model file damaged")

    monkeypatch.setattr(Recognizer, "from_registry", broken)
    server = ModelServer(Registry(home), home.home)
    with pytest.raises(ModelUnavailable, match="damaged") as caught:
        server.recognizer()
    assert isinstance(caught.value.reason, RegistryError) and server.loaded_version is None


@pytest.mark.parametrize("session, kept", [("page", True), (None, False), ("", False)])
def test_pages_are_remembered_for_why_only_with_a_session(home, session, kept):
    server = ModelServer(Registry(home), home.home, ServingSettings(recent_pages=4))
    digits, probs = [Digit(np.zeros((28, 28), np.float32), (0, 0, 1, 1))], np.eye(10, dtype=np.float32)[:1]
    server.remember("draw", session, digits, probs)
    shown, p = server.recalled("draw", session)
    assert (len(shown), p.shape) == ((1, (1, 10)) if kept else (0, (0, 10)))
    for i in range(10):
        server.remember("photo", f"crowd-{i}", digits, probs)
    assert len(server.recent) <= 4 and ("photo", "crowd-9") in server.recent
