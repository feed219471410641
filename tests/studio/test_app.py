"""The app's handlers called directly, without a server: prediction, corrections, admin, bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pandas as pd
import pytest

import app
from studio import draw, models_tab, personalize, photo, retrain, samples, server, services
from studio.requests import require_admin
from studio.views import UI
from test_i18n import as_shown
from mnist_core.config import Paths
from mnist_core.numbers.reader import SHIPPED as NUMBER_READER
from mnist_core.ops.jobs import JobManager, JobOptions


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    """The app's services over a fresh data directory (the shipped default model serving)."""
    home = tmp_path_factory.mktemp("home")
    app.build_app(app.StudioConfig(paths=Paths(home=home), data=mnist_path))
    return app.services()


def canvas(path, composite=None) -> dict:
    """A Sketchpad value as Gradio passes it with preprocessing off: FileData dicts."""
    return {
        "background": None,
        "layers": [{"path": str(path)}] if path else [],
        "composite": {"path": str(composite)} if composite else None,
    }


@pytest.mark.parametrize("name, number", [("layer_3.png", "3"), ("layer_7.png", "7"), ("layer_42.png", "42"), ("layer_305.png", "305")])
def test_predict_drawing_reads_digits_and_numbers(studio, images, name, number):
    label, read, html = draw.predict_drawing(canvas(images[name]))
    assert read == number
    if len(number) == 1:  # one digit: its top 3; several: the number (tests/studio/test_draw.py)
        assert len(label) == 3 and max(label, key=label.get) == number
        assert abs(sum(label.values()) - 1) < 0.05 or max(label.values()) > 0.5
    else:
        assert list(label) == [number] and 0.5 < label[number] <= 1
    assert html.count("<img") == len(number) and "image-rendering:pixelated" in html


def test_composite_only_canvas_is_read(studio, images):
    label, read, _ = draw.predict_drawing(canvas(None, composite=images["composite_7.png"]))
    assert read == "7" and max(label, key=label.get) == "7"


def test_canvas_blobs_never_pile_up(studio, images):
    """Gradio stores each stroke's canvas by id and frees it only when an event reads that id."""
    for i in range(3 * UI.canvas_blobs):
        studio.canvas_blobs[f"stale-{i}"] = object()
    assert draw.predict_drawing(canvas(images["layer_7.png"]))[1] == "7"
    assert len(studio.canvas_blobs) <= UI.canvas_blobs
    studio.canvas_blobs.clear()


def test_pending_event_ids_drop_only_finished_sessions():
    """Gradio's session -> undelivered event ids map: one entry per curl-style call, pruned in rounds."""
    live = {"browser": object()}  # sessions Gradio still holds a message queue for
    ids = server.PendingEventIds(live)
    ids["browser"] = set()
    ids["waiting"] = {"event-1"}  # an event not yet delivered: kept even without a message queue
    for i in range(1000):
        ids[f"curl-{i}"] = set()
    assert len(ids) < 260  # pruned every 256 new sessions, not 1,002
    assert "browser" in ids and ids["waiting"] == {"event-1"} and "curl-999" in ids


def test_canvas_sent_as_blobs_is_read_and_freed(studio, images):
    blobs = studio.canvas_blobs
    blobs["abc"] = type("Blobs", (), {"layers": [images["layer_7.png"].read_bytes()], "composite": None})()
    _, read, _ = draw.predict_drawing({"background": None, "layers": [], "composite": None, "id": "abc"})
    assert read == "7" and "abc" not in blobs
    assert draw.predict_drawing({"layers": [], "id": "gone"})[1] == ""  # consumed already: empty, no error


@pytest.mark.parametrize("value", [None, {}, canvas(None), canvas("layer_empty.png")])
def test_empty_canvas_says_so(studio, images, value):
    if value and value["layers"]:
        value = canvas(images["layer_empty.png"])
    label, read, html = draw.predict_drawing(value)
    assert label == {} and read == "" and "Nothing drawn" in html


@pytest.mark.parametrize("name, message", [
    ("not_an_image.png", "not an image"),
    ("empty.png", "0 bytes"),
    ("truncated.png", "truncated"),
    ("bomb.png", "too large"),
])
def test_bad_canvas_uploads_get_clear_errors(studio, images, name, message):
    with pytest.raises(gr.Error, match=f"(?i)cannot read this image.*{message}"):
        draw.predict_drawing(canvas(images[name]))


def test_noop_twin_returns_a_constant(studio, images):
    assert draw.noop_drawing(canvas(images["layer_7.png"])) == draw.noop_drawing(None)


def test_save_drawing_sample_stores_input_and_strokes(studio, images):
    before = len(studio.samples)
    message = draw.save_drawing_sample(canvas(images["layer_42.png"]), 2, "3")
    assert "Saved as a sample labelled **3**" in message
    saved = studio.samples.list(limit=1)[0]
    assert saved["label"] == 3 and saved["source"] == "draw" and len(studio.samples) == before + 1
    original = studio.samples.get(saved["id"])["original"]
    assert original.startswith(b"\x89PNG")
    # the 28x28 saved is exactly what the model saw for the second digit
    np.testing.assert_array_equal(saved["image"], draw.drawing_digits(canvas(images["layer_42.png"]))[0][1].image)


@pytest.mark.parametrize("which, label, message", [
    (3, 1, "pick 1 to 2"),
    (1, 10, "label must be a digit"),
    (1, None, "label must be a digit"),
    ("x", 1, "Which digit"),
])
def test_save_sample_refuses_bad_choices(studio, images, which, label, message):
    before = len(studio.samples)
    with pytest.raises(gr.Error, match=message):
        draw.save_drawing_sample(canvas(images["layer_42.png"]), which, label)
    assert len(studio.samples) == before


def test_save_sample_needs_a_drawing(studio):
    with pytest.raises(gr.Error, match="draw a digit first"):
        draw.save_drawing_sample(None, 0, 1)


def test_clear_empties_everything(studio):
    sketch, label, read, html, saved = draw.clear_drawing()
    assert sketch is None and label == {} and read == "" and "Nothing drawn" in html


# --- photos --------------------------------------------------------------------------------------------


def test_photo_is_read_boxed_and_previewed(studio, images):
    label, number, boxed, html = photo.predict_photo({"path": str(images["photo_2024.jpg"])})
    assert number == "2024"
    assert list(label) == ["2024"]  # several digits: the answer is the number, not its most prominent digit
    assert boxed.ndim == 3 and boxed.shape[2] == 3 and max(boxed.shape[:2]) <= UI.photo_px
    assert html.count("<img") == 4
    assert photo.read_number(str(images["photo_2024.jpg"])) == "2024"


@pytest.mark.parametrize("name", ["photo_16bit.png", "photo_cmyk.jpg", "anim.gif"])
def test_odd_but_valid_photos_are_read(studio, images, name):
    assert photo.read_number({"path": str(images[name])}) == "58"  # the GIF's first frame


def test_blank_photo_says_no_digits(studio, images):
    label, number, boxed, html = photo.predict_photo(str(images["photo_blank.jpg"]))
    assert label == {} and number == "" and "No digits found" in html and boxed is not None
    assert photo.read_number(str(images["photo_blank.jpg"])) == ""
    assert photo.read_number_details(str(images["photo_blank.jpg"])) == {"number": "", "digits": []}


def test_number_details_give_each_digit_its_confidence_and_box(studio, images):
    got = photo.read_number_details(str(images["photo_2024.jpg"]))
    assert got["number"] == "2024" and [d["digit"] for d in got["digits"]] == [2, 0, 2, 4]
    xs = [d["box"][0] for d in got["digits"]]
    assert xs == sorted(xs) and all(0 < d["confidence"] <= 1 and d["box"][0] < d["box"][2] for d in got["digits"])


@pytest.mark.skipif(not NUMBER_READER.is_file(), reason="no shipped number reader")
def test_touching_digits_on_the_canvas_are_read_as_one_number(studio, tmp_path):
    # "00" drawn as two overlapping rings: the number reader reads two zeros where the segmenter sees one blob.
    import cv2

    layer = np.zeros((400, 400, 4), np.uint8)
    for cx in (150, 235):
        cv2.ellipse(layer, (cx, 200), (48, 70), 0, 0, 360, (0, 0, 0, 255), 14, cv2.LINE_AA)
    path = tmp_path / "rings.png"
    cv2.imwrite(str(path), layer)
    assert draw.predict_drawing({"layers": [{"path": str(path)}], "composite": None})[1] == "00"


@pytest.mark.parametrize("name, message", [
    ("not_an_image.png", "not an image"),
    ("empty.png", "0 bytes"),
    ("truncated.png", "truncated"),
    ("truncated.jpg", "(truncated|damaged)"),
    ("bomb.png", "too large"),
    ("one_pixel.png", "too small"),
])
def test_bad_photos_get_clear_errors(studio, images, name, message):
    for handler in (photo.predict_photo, photo.read_number):
        with pytest.raises(gr.Error, match=f"(?i){message}"):
            handler({"path": str(images[name])})


def test_no_photo_says_so(studio):
    label, number, boxed, html = photo.predict_photo(None)
    assert label == {} and number == "" and boxed is None and "Upload a photo" in html
    for needs_a_photo in (photo.read_number, lambda p: photo.save_photo_sample(p, 0, 1)):
        with pytest.raises(gr.Error, match="Upload a photo"):
            needs_a_photo(None)


def test_save_photo_sample_keeps_the_crop(studio, images):
    message = photo.save_photo_sample(str(images["photo_2024.jpg"]), 4, 4)
    assert "Saved as a sample labelled **4**" in message
    saved = studio.samples.list(limit=1)[0]
    assert saved["source"] == "photo" and saved["label"] == 4
    from PIL import Image
    import io

    crop = Image.open(io.BytesIO(studio.samples.get(saved["id"])["original"]))
    assert crop.width < 900 and crop.height < 600  # the digit's box, not the whole photo


# --- retraining (a fake trainer: the real one runs in test_api and test_browser) ---------------------


SETTINGS = dict(data="MNIST", sample_weight=5, arch="cnn", epochs=2, batch_size=64, lr=0.003, augment=True,
                limit=1000, auto_activate=False)


@pytest.fixture
def fake_jobs(studio, fake_trainer, monkeypatch):
    jobs = JobManager(studio.config.paths, command=fake_trainer, options=JobOptions(nice=0))
    monkeypatch.setattr(studio, "jobs", jobs)
    return jobs


def test_train_reports_progress_curves_and_result(studio, fake_jobs):
    out = retrain.train(**SETTINGS)
    summary, progress, loss, acc, md, confusion, mistakes, vid, activate, timer = out
    assert "Training" in summary and 'data-status="running"' in progress
    assert timer.active is True
    fake_jobs.wait(30)
    summary, progress, loss, acc, md, confusion, mistakes, vid, activate, timer = retrain.training_status()
    assert 'data-status="done"' in progress and 'data-fraction="1.0000"' in progress
    assert isinstance(loss, pd.DataFrame) and set(loss["split"]) == {"train", "validation"}
    assert acc["value"].between(0, 1).all() and len(acc) > 2
    assert vid == "20990101-000000-abcd" and "Press *Activate*" in md and activate.interactive is True
    assert timer.active is False
    job = json.loads(next(fake_jobs.paths.jobs.glob("*/argv.json")).read_text())["request"]["job"]  # its request file
    assert job["settings"]["limit"] == 1000 and job["samples"] is None
    assert job["settings"]["data"] == "mnist+pen"  # the default recipe's data


@pytest.mark.parametrize("pen_data, expected", [(True, "mnist+pen"), (False, "mnist"), ("false", "mnist")])
def test_the_tab_says_and_chooses_the_data(studio, fake_jobs, pen_data, expected):
    assert "pen digits by" in retrain.data_note(studio.config) and "260 writers" in retrain.data_note(studio.config)
    retrain.train(**SETTINGS, pen_data=pen_data)
    job = fake_jobs.wait(30)
    request = json.loads((fake_jobs.job_dir(job.id) / "argv.json").read_text())["request"]
    assert request["job"]["settings"]["data"] == expected


def test_second_start_is_told_how_far_the_first_is(studio, fake_jobs, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "slow")
    retrain.train(**SETTINGS)
    with pytest.raises(gr.Error, match="already running.*(starting|epoch)"):
        retrain.train(**SETTINGS)
    assert "Cancelling" in retrain.cancel_training()
    assert fake_jobs.wait(15).status == "cancelled"
    assert retrain.cancel_training() == "No training is running."


@pytest.mark.parametrize("change, message", [
    ({"epochs": -1}, "epochs"),
    ({"batch_size": 0}, "batch size"),
    ({"lr": 1e9}, "learning rate"),
    ({"sample_weight": -1}, "sample weight"),
    ({"epochs": 2.5}, "whole number"),
    ({"epochs": None}, "missing"),
    ({"arch": "resnet"}, "arch"),
    ({"data": "my disk"}, "Data must be"),
    ({"limit": 5}, "limit must be at least 100"),
    ({"data": retrain.DATA_CHOICES[1]}, "your samples needs saved samples"),
    ({"data": retrain.DATA_CHOICES[2]}, "Fine-tuning needs saved samples"),
])
def test_bad_training_settings_are_refused(studio, fake_jobs, change, message):
    if change.get("data") in retrain.DATA_CHOICES[1:]:
        for s in studio.samples.list():
            studio.samples.delete(s["id"])
    with pytest.raises(gr.Error, match=message):
        retrain.train(**{**SETTINGS, **change})
    assert not fake_jobs.status().running


# --- models and samples --------------------------------------------------------------------------------


def test_models_listing_shows_the_active_default(studio):
    message, table, pick = models_tab.list_models()
    assert list(table.columns) == models_tab.MODEL_COLUMNS
    assert "default" in table["version"].tolist() and pick.value == "default"
    card, curves, confusion, download = models_tab.show_model("default")
    assert curves.visible is False  # the shipped model has no plots beside it
    assert "`default` (active)" in card and "mnist-default.keras" in json.dumps(download.value)


@pytest.mark.parametrize("version", ["../../etc/passwd", "default/../x", "", "20991231-000000-zzzz", 7])
def test_bad_version_ids_are_refused(studio, version):
    for handler in (models_tab.activate_model, models_tab.delete_model, models_tab.show_model):
        if handler is models_tab.show_model and not version:
            continue
        with pytest.raises(gr.Error, match="(?i)invalid version id|no model version|no version chosen"):
            handler(version)


def test_default_and_active_versions_cannot_be_deleted(studio):
    with pytest.raises(gr.Error, match="cannot be deleted"):
        models_tab.delete_model("default")


def test_samples_relabel_delete_and_list(studio, images):
    draw.save_drawing_sample(canvas(images["layer_7.png"]), 0, 7)
    sid = studio.samples.list(limit=1)[0]["id"]
    assert samples.relabel_sample(sid, 1) == f"Sample #{sid} is now labelled **1**."
    gallery, summary = samples.list_samples("1")
    assert any(caption.startswith(f"#{sid}: 1") for _, caption in gallery)
    assert gallery[0][0].shape == (112, 112)  # 28x28 enlarged 4x with crisp pixels
    assert "1: " in summary
    assert samples.delete_sample(sid) == f"Deleted sample #{sid}."
    with pytest.raises(gr.Error, match="no sample"):
        samples.delete_sample(sid)


@pytest.mark.parametrize("sample_id", ["../1", -1, 0, "1 OR 1=1", None, 1.5])
def test_bad_sample_ids_are_refused(studio, sample_id):
    for call in (lambda: samples.relabel_sample(sample_id, 1), lambda: samples.delete_sample(sample_id)):
        with pytest.raises(gr.Error, match="sample id"):
            call()


# --- who may change things -------------------------------------------------------------------------------


@pytest.mark.parametrize("host, password, given, allowed", [
    ("127.0.0.1", None, "", True),
    ("localhost", None, "", True),
    ("::1", None, "", True),
    ("0.0.0.0", None, "anything", False),
    ("192.168.1.5", "s3cret", "", False),
    ("192.168.1.5", "s3cret", "wrong", False),
    ("192.168.1.5", "s3cret", "s3cret", True),
])
def test_admin_actions_by_address_and_password(tmp_path, monkeypatch, host, password, given, allowed):
    s = services.Services(app.StudioConfig(paths=Paths(home=tmp_path), host=host, admin_password=password))
    monkeypatch.setattr(services, "_current", s)
    if allowed:
        require_admin(given)
    else:
        with pytest.raises(gr.Error, match="disabled|password"):
            require_admin(given)


def test_admin_handlers_are_refused_off_loopback_without_password(studio, monkeypatch):
    off = services.Services(app.StudioConfig(paths=studio.config.paths, host="0.0.0.0", admin_password=None))
    monkeypatch.setattr(services, "_current", off)
    for call in (lambda: retrain.train(**SETTINGS), retrain.cancel_training, lambda: models_tab.activate_model("default"),
                 lambda: models_tab.delete_model("default"), lambda: samples.relabel_sample(1, 2), lambda: samples.delete_sample(1)):
        with pytest.raises(gr.Error, match="disabled"):
            call()
    assert "s3cret" not in repr(app.StudioConfig(admin_password="s3cret"))


def test_page_disables_admin_buttons_with_a_message(studio, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "_current", studio)  # restored after build_app replaces it
    demo = app.build_app(app.StudioConfig(paths=Paths(home=tmp_path), host="0.0.0.0", admin_password=None))
    try:
        config = as_shown(demo.get_config_file(), "en")  # the page as an English browser shows it
        texts = json.dumps(config["components"])
        assert "no admin password is set" in texts
        buttons = {c["props"].get("value"): c["props"].get("interactive") for c in config["components"]
                   if c["type"] == "button"}
        assert buttons["Start training"] is False and buttons["Relabel"] is False
    finally:
        demo.close()


def test_api_names_are_stable(studio, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "_current", studio)
    demo = app.build_app(app.StudioConfig(paths=Paths(home=tmp_path)))
    assert demo.delete_cache == (120, 900)  # uploads leave Gradio's cache within 15 minutes (and at exit)
    names = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    # Exactly these: README's HTTP API lists them; every other event is the page's own (api_name=False).
    assert names == {"predict_drawing", "predict_ink", "noop_drawing", "explain_drawing", "save_sample", "clear_drawing",
                     "predict_photo", "read_number", "read_number_details", "explain_photo", "save_photo_sample",
                     "train", "cancel_training", "training_status", "list_models", "show_model", "show_model_card",
                     "activate_model", "share_model", "delete_model", "list_ink_models", "activate_ink_model", "list_samples", "relabel_sample", "delete_sample",
                     "undo_delete_sample", "personalize", "personal_status", "reset_profile_model"}


def test_samples_live_in_sqlite_wal_in_the_data_directory(studio):
    conn = sqlite3.connect(studio.config.paths.samples_db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_launch_defaults_cap_uploads_and_share_nothing(studio):
    options = app.launch_options(studio.config)
    assert options["share"] is False and options["max_file_size"] == studio.config.limits.max_upload_bytes
    assert app.StudioConfig().host == "127.0.0.1"
    assert os.environ["GRADIO_TEMP_DIR"].endswith(f"mnist-studio-{os.getuid()}")  # uploads in a folder of ours


def test_an_expired_upload_says_so(studio, tmp_path):
    with pytest.raises(gr.Error, match="upload has expired"):
        photo.read_number({"path": str(tmp_path / "gone.png")})


def test_uploads_left_by_a_killed_server_are_swept(tmp_path):
    old, new = tmp_path / "a" / "old.png", tmp_path / "b" / "new.png"
    for f in (old, new):
        f.parent.mkdir()
        f.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * app.UPLOADS_KEPT_S,) * 2)
    assert app.sweep_uploads(tmp_path) == 1
    assert not old.parent.exists() and new.exists()


def test_a_folder_another_replica_sweeps_away_mid_walk_is_skipped(tmp_path, monkeypatch):
    # Two replicas start over one upload folder: one removes a folder the other's walk is about to enter (CI saw
    # FileNotFoundError from Path.rglob kill app.py at start).
    gone, old = tmp_path / "gone", tmp_path / "c" / "old.png"
    gone.mkdir()
    old.parent.mkdir()
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * app.UPLOADS_KEPT_S,) * 2)
    real = os.scandir

    def scandir(path="."):
        if str(path) == str(gone):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert app.sweep_uploads(tmp_path) == 1
    assert not old.exists()


# --- profiles: each person's samples and model ------------------------------------------------------------


def as_profile(name: str | None, lang: str = "") -> SimpleNamespace:
    """A request from a page whose profile box says ``name`` (its cookie), in English unless told."""
    return SimpleNamespace(headers={"accept-language": lang}, cookies={"studio-profile": name} if name else {},
                           session_hash=None)


def test_each_profile_saves_and_sees_only_its_own_samples(studio, images):
    start = {p: studio.samples.count(p) for p in ("me", "anna", "ben")}
    draw.save_drawing_sample(canvas(images["layer_7.png"]), 0, 1, as_profile("anna"))
    draw.save_drawing_sample(canvas(images["layer_3.png"]), 0, 3, as_profile("ben"))
    photo.save_photo_sample({"path": str(images["photo_2024.jpg"])}, 1, 2, as_profile("ben"))
    assert studio.samples.count("anna") == start["anna"] + 1 and studio.samples.count("ben") == start["ben"] + 2
    assert studio.samples.count("me") == start["me"]  # nobody else's handwriting lands in "me"
    items, summary = samples.list_samples("all", as_profile("ben"))
    assert {caption.split(": ")[1] for _, caption in items} == {"3 (draw)", "2 (photo)"}
    ben_sample = int(items[0][1][1:].split(":")[0])
    with pytest.raises(gr.Error, match="no sample"):  # anna's page cannot delete ben's digits
        samples.delete_sample(ben_sample, request=as_profile("anna"))
    assert samples.delete_sample(ben_sample, request=as_profile("ben"))
    # API clients choose a profile with a header instead of the cookie.
    header = SimpleNamespace(headers={"x-studio-profile": "anna"}, cookies={})
    assert all("(draw)" in c for _, c in samples.list_samples("all", header)[0])
    with pytest.raises(gr.Error, match="profile"):
        samples.list_samples("all", as_profile("../etc"))


def _personal_version(studio, profile: str) -> str:
    """A personal version for ``profile``: a copy of the shipped model (its TF Lite copy served through LiteRT)."""
    import shutil

    from mnist_core.store.registry import file_sha256

    vid = "20990101-000000-beef"
    folder = studio.config.paths.models / vid
    folder.mkdir(parents=True, exist_ok=True)
    default = studio.registry.model_path("default")
    shutil.copyfile(default, folder / "model.keras")
    shutil.copyfile(default.with_suffix(".tflite"), folder / "model.tflite")
    (folder / "card.json").write_text(json.dumps({"lite_of": file_sha256(default), "profile": profile}))
    pointer = studio.config.paths.home / "profiles" / profile / "active"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(vid + "\n")  # what Registry.activate(vid, profile) writes (it loads the model first)
    return vid


def test_draw_and_photo_answer_with_the_profiles_own_model(studio, images):
    vid = _personal_version(studio, "carol")
    try:
        assert studio.model.recognizer_for("carol").version == vid
        assert studio.model.recognizer_for("dave").version == studio.model.recognizer().version == "default"
        assert draw.predict_drawing(canvas(images["layer_42.png"]), request=as_profile("carol"))[1] == "42"
        assert photo.read_number({"path": str(images["photo_2024.jpg"])}, as_profile("carol")) == "2024"
        assert vid in studio.model._personal  # loaded once, kept for carol's next strokes
        button, text, timer = personalize.personal_status("carol")
        assert f"personal model, `{vid}`" in text
        assert "shared model, `default`" in personalize.personal_status("dave")[1]
        personalize.reset_profile_model("carol")
        assert studio.model.recognizer_for("carol").version == "default"
    finally:
        (studio.config.paths.home / "profiles" / "carol" / "active").unlink(missing_ok=True)


def test_the_draw_tab_offers_a_finetune_after_enough_corrections(studio, images, fake_jobs):
    need = personalize.RECIPE.min_samples
    button, text, _ = personalize.personal_status("erin")
    assert button.visible is False and f"Correct {need} more" in text
    with pytest.raises(gr.Error, match=f"at least {need} samples"):
        personalize.personalize("erin")
    for _ in range(need):
        draw.save_drawing_sample(canvas(images["layer_7.png"]), 0, 1, as_profile("erin"))
    button, text, _ = personalize.personal_status("erin")
    assert button.visible is True and button.interactive is True and button.value == f"Fine-tune on my {need} samples (~40 s)"
    assert "at most 0.2 point" in text


@pytest.mark.parametrize("verdict, words", [
    ("helps", "It is now **fay**'s model"),
    ("no_help", "Not activated: it did not read your samples better"),
    ("mnist_cost", "Not activated: MNIST test lost 0.29 point (at most 0.2 allowed)"),
])
def test_a_finetune_shows_before_and_after_and_the_verdict(studio, images, fake_jobs, monkeypatch, verdict, words):
    monkeypatch.setenv("FAKE_VERDICT", verdict)
    for _ in range(personalize.RECIPE.min_samples - studio.samples.count("fay")):
        draw.save_drawing_sample(canvas(images["layer_7.png"]), 0, 1, as_profile("fay"))
    button, text, timer = personalize.personalize("fay")
    assert timer.active is True and button.interactive is False
    fake_jobs.wait(30)
    job = json.loads(next(iter(sorted(fake_jobs.paths.jobs.glob("*/argv.json"), key=os.path.getmtime)[-1:])).read_text())["request"]["job"]
    assert job["profile"] == "fay" and job["activate"] == "if_helps"
    assert job["finetune"] == studio.registry.active()  # the shared model is the base
    _, text, timer = personalize.personal_status("fay")
    assert timer.active is False
    assert "read right **1/2** before, **2/2** after" in text and "MNIST test: 99.54%" in text and words in text
    # Another person's panel does not show fay's result.
    assert "Fine-tuned for" not in personalize.personal_status("gus")[1]


def test_the_models_tab_says_whose_personal_model_a_version_is(studio):
    vid = _personal_version(studio, "hana")
    try:
        card = json.loads((studio.config.paths.models / vid / "card.json").read_text())
        card["personal"] = {"before": {"correct": 7, "count": 10}, "after": {"correct": 10, "count": 10},
                            "mnist_before": 0.9964, "mnist_after": 0.9963}
        (studio.config.paths.models / vid / "card.json").write_text(json.dumps(card))
        md = models_tab.show_model(vid, as_profile("hana"))[0]  # only hana sees her versions
        assert ("personal model of** hana (serving it): its 10 samples, each read by a fine-tune trained without it, "
                "7/10 → 10/10; MNIST test 99.64% → 99.63%") in md
        assert "personal model" not in models_tab.show_model("default")[0]
    finally:
        (studio.config.paths.home / "profiles" / "hana" / "active").unlink(missing_ok=True)


@pytest.mark.parametrize("take, stopped", [(True, True), (False, False)],
                         ids=["the studio takes Ctrl+C back", "without it a background start ignores it"])
def test_ctrl_c_stops_a_studio_started_with_sigint_ignored(take, stopped):
    import signal
    import subprocess
    import sys

    code = ("import os, signal, time, app\n"
            + ("app.stop_on_ctrl_c()\n" if take else "")
            + "os.kill(os.getpid(), signal.SIGINT)\ntime.sleep(3)\nprint('still running', flush=True)\n")
    # as a shell starts a script's background job: SIGINT ignored, which a new Python keeps
    proc = subprocess.run([sys.executable, "-c", code], cwd=app.__file__.rsplit("/", 1)[0], capture_output=True,
                          text=True, timeout=120, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert ("KeyboardInterrupt" in proc.stderr and "still running" not in proc.stdout) == stopped, proc.stderr[-500:]
