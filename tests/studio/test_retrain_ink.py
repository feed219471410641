"""The ink model in the studio: trained from the Retrain tab (a fake ink trainer keeps it fast), its result, its
versions listed and activated in the Models tab."""

from __future__ import annotations

import json
import shutil

import gradio as gr
import pytest

import app
from mnist_core.config import Paths
from mnist_core.ops.jobs import JobManager, JobOptions
from mnist_core.store.registry import DEFAULT_ID, Registry
from studio import ink_versions, retrain

from _shared import ROOT, fake_ink_trainer

SETTINGS = dict(data="MNIST", sample_weight=5, arch="cnn", epochs=2, batch_size=64, lr=0.003, augment=True,
                limit=300, auto_activate=True)
SHIPPED = ROOT / "models" / "ink"
VID = "20261205-120000-beef"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The app's services over a fresh data directory."""
    home = tmp_path_factory.mktemp("home")
    app.build_app(app.StudioConfig(paths=Paths(home=home)))
    return app.services()


@pytest.fixture
def ink_jobs(studio, tmp_path, fake_trainer, monkeypatch):
    jobs = JobManager(studio.config.paths, command=fake_trainer, ink_command=fake_ink_trainer(tmp_path),
                      options=JobOptions(nice=0))
    monkeypatch.setattr(studio, "jobs", jobs)
    return jobs


def test_the_tab_trains_the_ink_model_and_shows_its_result(studio, ink_jobs):
    summary, progress, *_ = retrain.train(**SETTINGS, kind="ink")
    assert "Training" in summary and 'data-status="running"' in progress
    assert ink_jobs.wait(30).status == "done"
    summary, progress, loss, acc, md, confusion, mistakes, vid, activate, timer = retrain.training_status()
    assert 'data-status="done"' in progress and set(acc["split"]) == {"train", "validation"}
    assert vid == "20990101-000000-1234" and "New ink version `20990101-000000-1234`" in md
    assert "**97.00%** on 100 digits of fake writers" in md and "0.7 (image) and 1.3 (ink)" in md
    assert "`default` scores 98.00%" in md and "Press *Activate*" in md and activate.interactive is True
    assert confusion is None and mistakes is None  # an ink version has no confusion plots
    request = json.loads(next(ink_jobs.paths.jobs.glob("*/argv.json")).read_text())["request"]
    assert request["kind"] == "ink" and request["job"]["activate"] == "if_better"
    assert request["job"]["settings"]["epochs"] == 2 and request["job"]["settings"]["limit"] == 300


@pytest.mark.parametrize("method, said", [("matrix, shrink 1", True), ("weights", False), (None, False)])
def test_the_result_says_when_a_learned_correction_goes_with_the_weights(studio, method, said):
    fusion = {"w_image": 0.7, "w_ink": 1.3, **({"method": method} if method else {})}
    md = retrain._ink_result({"version": VID, "card": {"fusion": fusion}})
    assert "0.7 (image) and 1.3 (ink)" in md
    assert ("learned correction" in md) == said


@pytest.mark.parametrize("change, message", [
    ({"epochs": 0}, "epochs"),
    ({"epochs": 2.5}, "whole number"),
    ({"limit": 5}, "limit"),
    ({"kind": "audio"}, "image, ink"),
])
def test_bad_ink_settings_are_refused(studio, ink_jobs, change, message):
    with pytest.raises(gr.Error, match=message):
        retrain.train(**{**SETTINGS, "kind": "ink", **change})
    assert not ink_jobs.status().running


@pytest.mark.parametrize("kind, image_shown, epochs", [("ink", False, 40), ("image", True, 6)])
def test_the_form_shows_what_applies_to_the_model_chosen(kind, image_shown, epochs):
    *image_controls, epochs_box, note = retrain.show_kind(kind)
    assert len(image_controls) == 7 and all(c.visible is image_shown for c in image_controls)
    assert epochs_box.value == epochs and note.visible is (not image_shown)


def test_the_models_tab_lists_the_ink_versions(studio):
    table, pick = ink_versions.list_ink_models()
    assert list(table.columns) == ink_versions.INK_COLUMNS
    if SHIPPED.with_suffix(".keras").is_file():
        row = table[table["version"] == DEFAULT_ID].iloc[0]
        assert row["active"] == "●" and row["accuracy"].endswith("%") and pick.value == DEFAULT_ID
        learned = bool(json.loads(SHIPPED.with_suffix(".json").read_text())["fusion"].get("matrix"))
        assert row["fusion"].startswith("0.") and row["fusion"].endswith(" + learned") == learned
    with pytest.raises(gr.Error, match="invalid version id"):
        ink_versions.activate_ink_model("../etc")


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED.with_suffix(".keras").is_file(), reason="models/ink.keras not built")
def test_an_ink_version_is_activated_from_either_tab(studio):
    ink = Registry(studio.config.paths, kind="ink")
    d = ink.root / VID
    d.mkdir(parents=True)
    shutil.copyfile(SHIPPED.with_suffix(".keras"), d / "model.keras")
    (d / "card.json").write_text(json.dumps({"kind": "ink", "arch": "cnn", "metrics": {"accuracy": 0.9}}))
    image_before = studio.registry.active()
    assert "active ink model" in retrain.activate_new(VID)
    assert ink.active() == VID and studio.registry.active() == image_before
    message, table, pick = ink_versions.activate_ink_model(DEFAULT_ID)
    assert ink.active() == DEFAULT_ID and "active ink model" in message and pick.value == DEFAULT_ID
    assert table[table["version"] == VID]["active"].tolist() == [""]
