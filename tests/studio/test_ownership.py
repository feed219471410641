"""Whose versions and jobs a page sees, what an activation may do, and undoing a delete (issue 23, items 2-3).

Handlers are called directly, as two profiles' pages (their cookie); the launched app's API does the same in
test_api.test_two_profiles_over_the_api. Versions here are copies of the shipped model with hand-written cards;
``Registry.load`` (the check that a model loads, TensorFlow's job: tests/store/test_registry.py) is stubbed, so
these tests stay in the quick tier.
"""

from __future__ import annotations

import json
import shutil
import time
from types import SimpleNamespace

import gradio as gr
import pytest

import app
from studio import draw, models_tab, retrain, samples, services
from mnist_core.config import Paths
from mnist_core.ops.jobs import JobManager, JobOptions, JobRequest
from mnist_core.store.registry import Registry

ANNA, BEN, CARA = "anna", "ben", "cara"
PERSONAL, SHARED, WORSE, OTHER_SET, TRAINED = ("20990101-000000-a001", "20990101-000000-a002", "20990101-000000-a003",
                                               "20990101-000000-a004", "20990101-000000-abcd")
# What the shipped default's card records: 99.64% on MNIST's 10,000 test digits.
SAME_SET = {"data": {"source": "MNIST", "subset": False, "test_size": 10000}}


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    home = tmp_path_factory.mktemp("home")
    app.build_app(app.StudioConfig(paths=Paths(home=home), data=mnist_path))
    return app.services()


@pytest.fixture
def versions(studio, monkeypatch):
    """Adds versions (``add(vid, card)``); stubs the load check; afterwards removes them, every pointer and sample."""
    monkeypatch.setattr(Registry, "load", lambda self, vid: None)
    paths = studio.config.paths

    def add(vid: str, card: dict) -> str:
        folder = paths.models / vid
        folder.mkdir(parents=True)
        shutil.copyfile(studio.registry.model_path("default"), folder / "model.keras")
        (folder / "card.json").write_text(json.dumps({"id": vid, "arch": "cnn", **card}))
        return vid

    yield add
    shutil.rmtree(paths.models, ignore_errors=True)
    shutil.rmtree(paths.home / "profiles", ignore_errors=True)
    paths.active.unlink(missing_ok=True)
    for s in studio.samples.list(limit=1000):
        studio.samples.delete(s["id"])


def page(profile: str) -> SimpleNamespace:
    """A request from a page whose profile box says ``profile``, in English."""
    return SimpleNamespace(headers={"accept-language": "en"}, cookies={"studio-profile": profile}, session_hash=None)


def personal_card(profile: str, trained: int = 6, repeat: int = 16) -> dict:
    """A personal fine-tune's card as train.run writes it: the data counts the augmented copies."""
    return {"profile": profile, "metrics": {"accuracy": 0.9966, "count": 10000},
            "data": {**SAME_SET["data"], "user_samples": trained * repeat},
            "personal": {"profile": profile, "samples_trained": trained, "held_out": 2}}


def listed(profile: str) -> dict[str, list]:
    """The Models table a profile's page gets: {version: its row}."""
    _, table, _ = models_tab.list_models(page(profile))
    return {row["version"]: row for row in table.to_dict("records")}


# --- each person's versions are theirs -----------------------------------------------------------------------


def test_a_profiles_versions_are_listed_for_it_alone_and_as_its_own(studio, versions):
    versions(PERSONAL, personal_card(ANNA))
    versions(SHARED, {"metrics": {"accuracy": 0.9970, "count": 10000}, **SAME_SET})
    mine, theirs = listed(ANNA), listed(BEN)
    assert PERSONAL in mine and PERSONAL not in theirs
    assert SHARED in mine and SHARED in theirs and "default" in theirs
    assert mine[PERSONAL]["owner"] == ANNA and mine[SHARED]["owner"] == "" and theirs[SHARED]["owner"] == ""
    # The distinct samples it learnt from (6), not the 96 augmented copies the card's data counts.
    assert "+ 6 of yours" in mine[PERSONAL]["data"] and "96" not in mine[PERSONAL]["data"]
    assert "of yours" not in mine[SHARED]["data"]


@pytest.mark.parametrize("action", ["show_model", "show_model_card", "activate_model", "share_model", "delete_model"])
def test_another_profiles_version_is_unknown_to_every_action(studio, versions, action):
    versions(PERSONAL, personal_card(ANNA))
    call = getattr(models_tab, action)
    with pytest.raises(gr.Error, match="no model version"):  # the very answer an unknown id gets
        call(PERSONAL, request=page(BEN))
    assert studio.registry.active() == "default" and studio.registry.personal(BEN) is None
    assert (studio.config.paths.models / PERSONAL).is_dir()


def test_activate_makes_a_personal_version_its_owners_model_never_everyones(studio, versions):
    versions(PERSONAL, personal_card(ANNA))
    message, table, pick = models_tab.activate_model(PERSONAL, request=page(ANNA))
    assert studio.registry.personal(ANNA) == PERSONAL and studio.registry.active() == "default"
    assert f"`{PERSONAL}` is now **anna**'s model" in message and pick.value == PERSONAL
    assert table.set_index("version").loc[PERSONAL, "active"] == "●"  # live for its owner
    assert table.set_index("version").loc["default", "active"] == "●"  # and the shared one unchanged
    assert studio.registry.active(BEN) == "default"


def test_sharing_is_the_one_way_a_personal_version_becomes_everyones(studio, versions):
    versions(PERSONAL, personal_card(ANNA))
    message, _, _ = models_tab.share_model(PERSONAL, request=page(ANNA))
    assert studio.registry.active() == PERSONAL and "is now shared" in message
    assert listed(BEN)[PERSONAL]["owner"] == "" and listed(BEN)[PERSONAL]["active"] == "●"
    assert "shared** by an admin" in models_tab.show_model(PERSONAL, page(BEN))[0]
    with pytest.raises(gr.Error, match="shared already"):
        models_tab.share_model(PERSONAL, request=page(ANNA))


@pytest.mark.parametrize("host, password, given, refusal", [
    ("0.0.0.0", None, "", "disabled"),
    ("192.168.1.5", "s3cret", "wrong", "password"),
])
def test_sharing_is_for_admins_only(studio, versions, monkeypatch, host, password, given, refusal):
    versions(PERSONAL, personal_card(ANNA))
    off = services.Services(app.StudioConfig(paths=studio.config.paths, host=host, admin_password=password))
    monkeypatch.setattr(services, "_current", off)
    with pytest.raises(gr.Error, match=refusal):
        models_tab.share_model(PERSONAL, given, request=page(ANNA))
    assert off.registry.active() == "default"


# --- a worse model asks first; every panel shows the state after -----------------------------------------


@pytest.mark.parametrize("card, asks", [
    ({"metrics": {"accuracy": 0.815, "count": 10000}, **SAME_SET}, True),  # the issue's MLP: 18 points under
    ({"metrics": {"accuracy": 0.9963, "count": 10000}, **SAME_SET}, True),  # worse is worse, by any margin
    ({"metrics": {"accuracy": 0.9970, "count": 10000}, **SAME_SET}, False),
    ({"metrics": {"accuracy": 0.815, "count": 1000}, "data": {"subset": True}}, False),  # another test set
    ({"arch": "mlp"}, False),  # no figure recorded
])
def test_a_worse_version_is_activated_only_when_confirmed(studio, versions, card, asks):
    versions(WORSE, card)
    message, table, _ = models_tab.activate_model(WORSE, request=page(BEN))
    assert (studio.registry.active() == "default") is asks
    if asks:
        assert "Not activated" in message and "tick *Yes, I'm sure*" in message and "`default` (99.64%)" in message
        message, table, _ = models_tab.activate_model(WORSE, "", "true", request=page(BEN))  # as the API may send it
        assert studio.registry.active() == WORSE
    assert message == f"`{WORSE}` is now the active model." and table.set_index("version").loc[WORSE, "active"] == "●"


def test_the_issues_mlp_is_refused_with_its_figures(studio, versions):
    versions(WORSE, {"metrics": {"accuracy": 0.815, "count": 10000}, **SAME_SET})
    message = models_tab.activate_model(WORSE, "", False, request=page(BEN))[0]
    assert f"`{WORSE}` reads MNIST test (10,000 digits) at 81.50%, 18.14 points under `default`" in message
    with pytest.raises(gr.Error, match="no model version"):  # nor can sharing route around it for a shared one
        models_tab.share_model("20990101-000000-ffff", request=page(BEN))
    assert studio.registry.active() == "default"


@pytest.fixture
def fake_jobs(studio, fake_trainer, monkeypatch):
    jobs = JobManager(studio.config.paths, command=fake_trainer, options=JobOptions(nice=0))
    monkeypatch.setattr(studio, "jobs", jobs)
    yield jobs
    jobs.wait(30)
    shutil.rmtree(studio.config.paths.jobs, ignore_errors=True)


SETTINGS = dict(data="MNIST", sample_weight=5, arch="mlp", epochs=2, batch_size=64, lr=0.003, augment=False,
                limit=1000, auto_activate=False)


def test_the_retrain_result_and_button_follow_an_activation(studio, versions, fake_jobs):
    versions(TRAINED, {"metrics": {"accuracy": 0.815, "count": 10000}, **SAME_SET})  # what the fake trainer names
    retrain.train(**SETTINGS)
    fake_jobs.wait(30)
    out = retrain.training_status(page(BEN))
    assert "Press *Activate*" in out[4] and out[8].interactive is True
    assert "Not activated" in retrain.activate_new(TRAINED, request=page(BEN))
    assert studio.registry.active() == "default" and "Press *Activate*" in retrain.training_status(page(BEN))[4]
    assert "is now the active model" in retrain.activate_new(TRAINED, "", True, request=page(BEN))
    out = retrain.training_status(page(BEN))  # what the page asks right after (activate.click(...).then(...))
    assert "It is **now active**" in out[4] and "Press *Activate*" not in out[4] and out[8].interactive is False


def test_the_retrain_tab_shows_a_page_only_its_profiles_jobs(studio, versions, fake_jobs, images, monkeypatch):
    retrain.train(**SETTINGS)  # a training for everyone
    fake_jobs.wait(30)
    shared_summary = retrain.training_status(page(BEN))[0]
    for _ in range(5):
        draw.save_drawing_sample({"background": None, "layers": [{"path": str(images["layer_7.png"])}],
                                  "composite": None}, 0, 1, page(ANNA))
    monkeypatch.setenv("FAKE_MODE", "slow")
    fake_jobs.start(JobRequest(finetune="default", profile=ANNA, activate="if_helps"))
    deadline = time.monotonic() + 10
    while fake_jobs.status().profile != ANNA and time.monotonic() < deadline:  # its start is logged
        time.sleep(0.05)
    running = retrain.training_status(page(BEN))  # anna's fine-tune runs: ben sees that a training runs, no more
    assert 'data-status="running"' in running[1] and running[2].empty and running[4] == "" and running[7] == ""
    monkeypatch.setenv("FAKE_MODE", "ok")
    fake_jobs.cancel()
    fake_jobs.wait(30)
    monkeypatch.delenv("FAKE_MODE")
    fake_jobs.start(JobRequest(finetune="default", profile=ANNA, activate="if_helps"))
    assert fake_jobs.wait(30).status == "done"
    ben, anna = retrain.training_status(page(BEN)), retrain.training_status(page(ANNA))
    assert ben[0] == shared_summary and "anna" not in ben[4] and "now active" not in ben[4]
    assert "**anna**" in anna[4] and anna[8].interactive is True  # hers, and not live (the fake saves nothing)
    assert "It is **now active**" not in anna[4]


# --- deletes: a sample comes back, a version asks first --------------------------------------------------


def test_a_deleted_sample_can_be_brought_back_by_its_profile(studio, versions, images):
    # (a profile of its own: the other tests' samples went to anna's trash when they were cleared)
    value = {"background": None, "layers": [{"path": str(images["layer_7.png"])}], "composite": None}
    draw.save_drawing_sample(value, 0, 7, page(CARA))
    sid = studio.samples.list(limit=1, profile=CARA)[0]["id"]
    assert samples.undo_button(page(CARA)).interactive is False
    assert samples.delete_sample(sid, request=page(CARA)) == f"Deleted sample #{sid}."
    assert not samples.list_samples("all", page(CARA))[0] and samples.undo_button(page(CARA)).interactive is True
    with pytest.raises(gr.Error, match=r"Nothing to undo: \*\*ben\*\*"):  # ben's undo never brings back anna's
        samples.undo_delete_sample(request=page(BEN))
    assert samples.undo_delete_sample(request=page(CARA)) == f"Sample #{sid} is back."
    gallery, summary = samples.list_samples("all", page(CARA))
    assert [caption for _, caption in gallery] == [f"#{sid}: 7 (draw)"] and "7: 1" in summary
    assert samples.undo_button(page(CARA)).interactive is False
    with pytest.raises(gr.Error, match="Nothing to undo"):
        samples.undo_delete_sample(request=page(CARA))


def test_deleting_a_version_asks_first_and_never_touches_a_live_one(studio, versions):
    versions(SHARED, {"metrics": {"accuracy": 0.9970, "count": 10000}, **SAME_SET})
    message, table, _ = models_tab.delete_model(SHARED, request=page(BEN))
    assert "Not deleted yet" in message and SHARED in table["version"].tolist()
    message, table, _ = models_tab.delete_model(SHARED, "", True, request=page(BEN))
    assert message == f"Deleted `{SHARED}`." and SHARED not in table["version"].tolist()
    with pytest.raises(gr.Error, match="cannot be deleted"):  # refused at once, confirmed or not
        models_tab.delete_model("default", request=page(BEN))
