"""The HTTP API of a launched app, through gradio_client and raw HTTP: predictions, bad input, training."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

import app
from studio import server, services
from studio.launch import AppProcess
from mnist_core.config import PROJECT_ROOT, Paths
from mnist_core.store.registry import Registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory, mnist_path):
    """One app for the module, on loopback, over a fresh data directory."""
    home = tmp_path_factory.mktemp("home")
    config = app.StudioConfig(paths=Paths(home=home), data=mnist_path)
    demo = app.build_app(config)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(config))
    app.services().warm()
    try:
        yield SimpleNamespace(url=url, client=Client(url, verbose=False), studio=app.services(), demo=demo)
    finally:
        app.services().jobs.cancel()
        app.services().jobs.wait(30)
        demo.close()


def sketch(path=None, composite=None) -> dict:
    return {
        "background": None,
        "layers": [handle_file(str(path))] if path else [],
        "composite": handle_file(str(composite)) if composite else None,
    }


def top(label: dict) -> str:
    """The label gradio_client returns for a gr.Label: {"label": ..., "confidences": [...]}."""
    return label.get("label") if label else None


@pytest.mark.parametrize("name, number", [("layer_7.png", "7"), ("layer_42.png", "42")])
def test_predict_drawing(served, images, name, number):
    label, read, html = served.client.predict(sketch(images[name]), api_name="/predict_drawing")
    assert read == number and top(label) == (number if len(number) > 1 else top(label)) and top(label) in number
    assert len(label["confidences"]) == (3 if len(number) == 1 else 1)  # several digits: the number is the answer
    assert html.count("<img") == len(number)


def test_calls_without_a_session_keep_bounded_state(served):
    """Every curl-style call is a new Gradio session; the server keeps at most STATE_SESSIONS_KEPT of them
    (Gradio's default of 10,000 grew memory by ~185 KiB per call, about 1 GB over 5,000 predictions)."""
    holder = served.demo.state_holder
    assert holder.capacity == server.STATE_SESSIONS_KEPT
    empty = {"background": None, "layers": [], "composite": None}
    with httpx.Client(base_url=served.url.rstrip("/"), timeout=60) as http:
        for _ in range(server.STATE_SESSIONS_KEPT + 30):
            event = http.post("/gradio_api/call/noop_drawing", json={"data": [empty]}).json()["event_id"]
            assert "event: complete" in http.get(f"/gradio_api/call/noop_drawing/{event}").text
    assert len(holder.session_data) <= server.STATE_SESSIONS_KEPT
    # Gradio's per-event timings for its /monitoring page are capped as well (its default keeps 10,000).
    queue = served.demo._queue
    assert 0 < len(queue.event_analytics) <= int(os.environ["GRADIO_ANALYTICS_MAX_EVENTS"]) == 256
    assert isinstance(queue.pending_event_ids_session, server.PendingEventIds)


def test_noop_twin_on_the_same_sketchpad(served, images):
    label, read, html = served.client.predict(sketch(images["layer_7.png"]), api_name="/noop_drawing")
    assert top(label) == "0" and read == "" and html == ""


def test_predict_drawing_over_raw_http_upload_then_call(served, images):
    """The path of issue 5's benchmark: upload, POST /gradio_api/call/<api_name>, read the event stream."""
    with httpx.Client(base_url=served.url.rstrip("/"), timeout=60) as http:
        files = [("files", ("layer.png", images["layer_3.png"].read_bytes(), "image/png"))]
        paths = http.post("/gradio_api/upload", files=files).json()
        value = {"background": None, "layers": [{"path": paths[0], "meta": {"_type": "gradio.FileData"}}], "composite": None}
        event = http.post("/gradio_api/call/predict_drawing", json={"data": [value]}).json()["event_id"]
        body = http.get(f"/gradio_api/call/predict_drawing/{event}").text
    assert "event: complete" in body
    data = json.loads(body.split("event: complete\ndata:", 1)[1].strip().splitlines()[0])
    assert data[0]["label"] == "3" and data[1] == "3"


def test_photo_and_number(served, images):
    label, number, boxed, html = served.client.predict(handle_file(str(images["photo_2024.jpg"])), api_name="/predict_photo")
    assert number == "2024" and top(label) in "2024" and Path(boxed).is_file()
    assert served.client.predict(handle_file(str(images["photo_2024.jpg"])), api_name="/read_number") == "2024"
    assert served.client.predict(handle_file(str(images["photo_blank.jpg"])), api_name="/read_number") == ""


def test_why_endpoints(served, images):
    """/explain_drawing and /explain_photo: a heat map per digit; /show_model_card: the whole card and the .tflite."""
    html = served.client.predict(sketch(images["layer_42.png"]), api_name="/explain_drawing")
    assert html.count('class="studio-why"') == 2 and html.count("data:image/png;base64,") == 2
    html = served.client.predict(handle_file(str(images["photo_2024.jpg"])), api_name="/explain_photo")
    assert [int(g) for g in re.findall(r'class="studio-why" data-guess="(\d)"', html)] == [2, 0, 2, 4]
    _, _, digits_html = served.client.predict(sketch(images["layer_7.png"]), api_name="/predict_drawing")
    assert digits_html.count('class="studio-bar"') == 10
    card, tflite = served.client.predict("default", api_name="/show_model_card")
    assert card["id"] == "default" and "metrics" in card
    path = tflite["value"] if isinstance(tflite, dict) else tflite  # a DownloadButton update: its file's path
    assert path.endswith(".tflite") and Path(path).read_bytes() == (PROJECT_ROOT / "models" / "default.tflite").read_bytes()
    assert len(served.client.predict("default", api_name="/show_model")) == 4  # unchanged


def test_empty_canvas_gets_a_visible_message(served):
    label, read, html = served.client.predict(sketch(), api_name="/predict_drawing")
    assert read == "" and "Nothing drawn" in html


@pytest.mark.parametrize("name, message", [
    ("not_an_image.png", "not an image"),
    ("empty.png", "0 bytes"),
    ("truncated.png", "truncated"),
    ("truncated.jpg", "truncated|damaged"),
    ("bomb.png", "too large"),
    ("one_pixel.png", "too small"),
])
def test_bad_uploads_get_a_clear_message_and_the_server_keeps_serving(served, images, name, message):
    for api_name in ("/read_number", "/predict_photo"):
        with pytest.raises(AppError, match=f"(?i){message}"):
            served.client.predict(handle_file(str(images[name])), api_name=api_name)
    with pytest.raises(AppError, match=f"(?i){message}"):
        served.client.predict(sketch(images[name]), api_name="/predict_drawing")
    assert served.client.predict(handle_file(str(images["photo_2024.jpg"])), api_name="/read_number") == "2024"


@pytest.mark.parametrize("name, number", [("photo_16bit.png", "58"), ("photo_cmyk.jpg", "58"), ("anim.gif", "58")])
def test_unusual_formats_are_read(served, images, name, number):
    assert served.client.predict(handle_file(str(images[name])), api_name="/read_number") == number


def test_upload_over_the_cap_is_refused(served):
    too_big = b"\0" * (app.services().config.limits.max_upload_bytes + 1024)
    r = httpx.post(served.url + "gradio_api/upload", files=[("files", ("big.png", too_big, "image/png"))], timeout=60)
    assert r.status_code == 413 and "maximum allowed size" in r.text


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd"])
def test_server_files_cannot_be_read_through_file_data(served, path):
    r = httpx.post(served.url + "gradio_api/call/read_number",
                   json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]})
    body = httpx.get(served.url + f"gradio_api/call/read_number/{r.json()['event_id']}", timeout=60).text
    assert "event: error" in body and "root:" not in body


def test_data_directory_is_not_served(served):
    served.studio.samples.counts()  # creates the database
    for target in (served.studio.config.paths.samples_db, Path("/etc/passwd")):
        r = httpx.get(served.url + f"gradio_api/file={target}")
        assert r.status_code in (403, 404)


def test_save_sample_and_bad_ids(served, images):
    before = len(served.studio.samples)
    message = served.client.predict(sketch(images["layer_7.png"]), 0, "1", api_name="/save_sample")
    assert "Saved as a sample labelled **1**" in message and len(served.studio.samples) == before + 1
    with pytest.raises(AppError, match="label must be a digit"):
        served.client.predict(sketch(images["layer_7.png"]), 0, "11", api_name="/save_sample")
    for bad in ("../1", "-1"):
        with pytest.raises(AppError, match="sample id"):
            served.client.predict(bad, "2", api_name="/relabel_sample")
    with pytest.raises(AppError, match="invalid version id"):
        served.client.predict("../../models", api_name="/activate_model")


@pytest.mark.parametrize("change, message", [
    ({"epochs": -1}, "epochs"),
    ({"batch_size": 0}, "batch size"),
    ({"lr": 1e9}, "learning rate"),
    ({"sample_weight": -1}, "sample weight"),
])
def test_bad_training_parameters(served, change, message):
    params = dict(data="MNIST", sample_weight=5, arch="mlp", epochs=1, batch_size=64, lr=0.003, augment=False,
                  limit=1000, auto_activate=False)
    with pytest.raises(AppError, match=message):
        served.client.predict(**{**params, **change}, api_name="/train")


def test_tiny_training_end_to_end(served, images):
    """Train 1 epoch of the MLP on 1,000 digits, see progress, refuse a second start, activate the result."""
    c = served.client
    params = dict(data="MNIST", sample_weight=5, arch="mlp", epochs=2, batch_size=64, lr=0.003, augment=False,
                  limit=1000, auto_activate=False)
    first = c.predict(**params, api_name="/train")
    assert "Training" in first[0]
    with pytest.raises(AppError, match="already running"):
        c.predict(**params, api_name="/train")
    # Prediction keeps answering while the trainer works.
    assert c.predict(sketch(images["layer_7.png"]), api_name="/predict_drawing")[1] == "7"
    deadline = time.monotonic() + 240
    status = c.predict(api_name="/training_status")
    while "finished" not in status[0] and "failed" not in status[0] and time.monotonic() < deadline:
        time.sleep(1)
        status = c.predict(api_name="/training_status")
    summary, progress, loss, acc, result, confusion, mistakes, version = status[:8]
    assert "finished" in summary, summary
    assert 'data-status="done"' in progress and "Test accuracy" in result
    assert confusion and mistakes  # the CLI's plots, shown on the tab
    points = loss["data"] if isinstance(loss, dict) else loss
    assert points  # the curves came along
    message, table, pick = c.predict(version, "", True, api_name="/activate_model")  # worse than the default: confirmed
    assert version in message and Registry(served.studio.config.paths).active() == version
    assert served.studio.model.recognizer().version == version
    assert len(c.predict(sketch(images["layer_42.png"]), api_name="/predict_drawing")[1]) == 2
    assert c.predict(api_name="/cancel_training") == "No training is running."
    # A new process over the same data directory finds it all: active version, samples.
    again = services.Services(served.studio.config)
    assert again.registry.active() == version and again.samples.counts() == served.studio.samples.counts()


def test_app_py_serves_from_env_and_a_kill_loses_nothing(tmp_path, images):
    """`python app.py` (port from the env, loopback by default), a saved sample, kill -9: the sample stays."""
    launched = AppProcess(tmp_path, env={"MNIST_STUDIO_ADMIN_PASSWORD": "s3cret-pw"}, port_by_env=True)
    try:  # saving needs no model: the test does not wait for TensorFlow
        launched.wait("/config", 120, every=0.3)
        client = Client(launched.url, verbose=False)
        client.predict(sketch(images["layer_3.png"]), 0, "3", api_name="/save_sample")
        assert client.predict(api_name="/list_models")[2]["value"] == "default"
    finally:
        launched.stop(kill=True)
    out = launched.log_tail(None)
    assert f"http://127.0.0.1:{launched.port}" in out and "gradio.live" not in out and "s3cret-pw" not in out
    # The next start reads the same files: the sample (SQLite, WAL) and the active version are there.
    restarted = services.Services(app.StudioConfig(paths=Paths(home=tmp_path)))
    assert restarted.samples.counts()[3] == 1 and restarted.registry.active() == "default"


def test_profiles_over_the_api_by_header(served, images):
    """API clients speak for a profile with X-Studio-Profile: its samples apart, its fine-tune panel, its model."""
    anna = Client(served.url, verbose=False, headers={"X-Studio-Profile": "anna"})
    message = anna.predict(sketch(images["layer_7.png"]), 0, 1, api_name="/save_sample")
    sid = int(re.search(r"#(\d+)", message).group(1))
    assert served.studio.samples.get(sid)["profile"] == "anna"
    gallery, counts = anna.predict("all", api_name="/list_samples")
    assert any(f"#{sid}:" in (item.get("caption") or "") for item in gallery)
    gallery, _ = served.client.predict("all", api_name="/list_samples")  # no header: "me", who has none of anna's
    assert not any(f"#{sid}:" in (item.get("caption") or "") for item in gallery)
    with pytest.raises(AppError, match="no sample"):
        served.client.predict(sid, api_name="/delete_sample")
    text, timer = anna.predict("", api_name="/personal_status")  # (the button is not an API output)
    assert timer["active"] is False
    assert "**anna** has 1 sample(s)" in text and f"shared model, `{served.studio.registry.active()}`" in text
    read = anna.predict(sketch(images["layer_42.png"]), api_name="/predict_drawing")[1]
    assert read == served.client.predict(sketch(images["layer_42.png"]), api_name="/predict_drawing")[1]  # shared
    with pytest.raises(AppError, match="profile"):
        Client(served.url, verbose=False, headers={"X-Studio-Profile": "../x"}).predict(
            sketch(images["layer_7.png"]), api_name="/predict_drawing")


def _copy_of_default(served, vid: str, card: dict) -> str:
    """Register a copy of the shipped model (and its checked TF Lite copy) as ``vid`` with ``card``."""
    from mnist_core.store.registry import file_sha256

    folder = served.studio.config.paths.models / vid
    folder.mkdir(parents=True)
    for suffix in (".keras", ".tflite"):
        (folder / f"model{suffix}").write_bytes((PROJECT_ROOT / "models" / f"default{suffix}").read_bytes())
    lite_of = file_sha256(folder / "model.keras")
    (folder / "card.json").write_text(json.dumps({"id": vid, "arch": "cnn", "lite_of": lite_of, **card}))
    return vid


def test_two_profiles_over_the_api(served, images):
    """Issue 23: a person's versions are theirs (listed, shown, activated for them alone); an admin's share is the
    one way one becomes everyone's; a worse version goes live only with confirm=True; a deleted sample comes back."""
    registry = Registry(served.studio.config.paths)
    before = registry.active()
    anna = Client(served.url, verbose=False, headers={"X-Studio-Profile": "anna"})
    ben = Client(served.url, verbose=False, headers={"X-Studio-Profile": "ben"})
    test_set = {"data": {"source": "MNIST", "subset": False, "test_size": 10000}}
    mine = _copy_of_default(served, "20990102-000000-a001", {"profile": "anna", **test_set,
                                                            "metrics": {"accuracy": 0.9990, "count": 10000}})
    worse = _copy_of_default(served, "20990102-000000-a002", {**test_set, "metrics": {"accuracy": 0.815, "count": 10000}})

    def listed(client) -> list[str]:
        table = client.predict(api_name="/list_models")[1]
        return [row[1] for row in (table["data"] if isinstance(table, dict) else table)]

    def serving() -> str:
        return httpx.get(served.url.rstrip("/") + "/healthz", timeout=10).json()["active_version"]

    try:
        assert mine in listed(anna) and mine not in listed(ben)
        for api, args in [("/show_model", (mine,)), ("/show_model_card", (mine,)), ("/activate_model", (mine, "", True)),
                          ("/share_model", (mine, "", True)), ("/delete_model", (mine, "", True))]:
            with pytest.raises(AppError, match="no model version"):
                ben.predict(*args, api_name=api)
        assert "**anna**'s model" in anna.predict(mine, api_name="/activate_model")[0]
        assert registry.personal("anna") == mine and registry.active() == before == serving()
        assert "is now shared" in anna.predict(mine, api_name="/share_model")[0]
        assert registry.active() == mine and mine in listed(ben)
        deadline = time.monotonic() + 10
        while serving() != mine and time.monotonic() < deadline:
            time.sleep(0.2)
        assert serving() == mine
        message = ben.predict(worse, api_name="/activate_model")[0]
        assert "Not activated" in message and "18.40 points" in message and registry.active() == mine
        assert "is now the active model" in ben.predict(worse, "", True, api_name="/activate_model")[0]
        assert registry.active() == worse
        # A deleted sample: anna's undo brings it back with its id; ben's finds nothing of hers.
        sid = int(re.search(r"#(\d+)", anna.predict(sketch(images["layer_7.png"]), 0, 1, api_name="/save_sample")).group(1))
        assert anna.predict(sid, api_name="/delete_sample") == f"Deleted sample #{sid}."
        with pytest.raises(AppError, match="Nothing to undo"):
            ben.predict(api_name="/undo_delete_sample")
        assert anna.predict(api_name="/undo_delete_sample") == f"Sample #{sid} is back."
        assert served.studio.samples.get(sid)["profile"] == "anna"
    finally:
        served.client.predict(before, "", True, api_name="/activate_model")
        registry.forget_personal("anna")
        for vid in (mine, worse):
            registry.delete(vid)
