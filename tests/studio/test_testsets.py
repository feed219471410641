"""Every accuracy the page shows names its test set (issue 23): the Retrain tab's result and data note, the Models
tab's table and cards, the fine-tune panel; offline, the shipped model's figure on the held-out pen writers; and
the fine-tune panel's first line about its own job."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import app
from mnist_core.config import Paths
from mnist_core.ops.jobs import JobManager, JobOptions, JobStatus
from studio import models_tab, personalize, retrain, testsets
from studio.i18n import STRINGS, use_language

SHIPPED_FIGURES = ("99.64% on MNIST test (10,000 digits); 98.73% on held-out pen writers (5,963 digits, never "
                   "trained on)")


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    """The app's services over a fresh data directory (the shipped default model serving)."""
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path))
    return app.services()


@pytest.fixture(autouse=True)
def english():
    use_language(None)
    yield
    use_language(None)


def test_the_shipped_models_card_names_both_test_sets(studio):
    card = studio.registry.card("default")
    assert testsets.card_accuracies(card) == SHIPPED_FIGURES
    assert SHIPPED_FIGURES in models_tab.show_model("default")[0]
    table = models_tab.list_models()[1]
    assert table.loc[table["version"] == "default", "accuracy"].tolist() == ["99.64% (MNIST test)"]
    use_language(SimpleNamespace(headers={"accept-language": "zh-CN"}, cookies={}))
    assert "MNIST 测试集（10,000 个数字）上 99.64%" in testsets.card_accuracies(card)


@pytest.mark.parametrize("likely, note_key", [("mnist_test", "testset_note_mnist"), (None, "testset_note_either")])
def test_the_retrain_tab_says_which_test_set_and_the_shipped_models_figure_on_it(studio, monkeypatch, likely,
                                                                                  note_key):
    monkeypatch.setattr(testsets, "likely_test_set", lambda: likely)
    note = retrain.data_note(SimpleNamespace(data=None, paths=studio.config.paths))
    assert STRINGS[note_key][0] in note and STRINGS["testset_note_shipped"][0] in note  # worded on the server
    # The shipped model's figure on each set its card holds: offline, the held-out pen writers'.
    assert "(10,000): 99.64%" in note and "(5,963): 98.73%" in note


def _done(card: dict, active_accuracy=0.9873, **extra) -> JobStatus:
    return JobStatus(status="done", result={"version": "20990101-000000-abcd", "card": card,
                                            "active_before": "default", "active_accuracy": active_accuracy, **extra})


PEN = {"key": "pen_held_out", "name": "held-out pen writers (5,963 digits, never trained on)", "count": 5963}


def test_a_trainings_result_names_its_test_set_and_compares_on_it(studio):
    md = retrain._result(_done({"metrics": {"accuracy": 0.97, "test_set": PEN}}, test_set=PEN))[0]
    assert "Test accuracy **97.00%** on held-out pen writers (5,963 digits, never trained on)." in md
    assert "`default` scores 98.73% on the same test set" in md and "(-1.73 points)" in md


def test_an_old_offline_result_is_not_compared_with_the_shipped_model(studio):
    """Before issue 23 an offline run was scored on the subset's own digits, MNIST training digits that the shipped
    model learned: named as such, and no comparison."""
    old = {"metrics": {"accuracy": 0.9860, "count": 1000}, "data": {"subset": True, "test_size": 1000}}
    md = retrain._result(_done(old, active_accuracy=0.9970))[0]
    assert "the offline subset's own 1,000 digits (MNIST training digits: not a fair test)" in md
    assert "scores" not in md and "was not measured on this test set" in md


def test_the_panels_first_line_about_its_own_fine_tune_is_not_another_training(studio, fake_trainer, monkeypatch,
                                                                               tmp_path):
    """Right after the button, before the trainer has written a line, the job is known to be this profile's."""
    jobs = JobManager(studio.config.paths, command=fake_trainer, options=JobOptions(nice=0))
    monkeypatch.setattr(studio, "jobs", jobs)
    import numpy as np

    for i in range(personalize.RECIPE.min_samples):
        studio.samples.add(i % 10, np.zeros((28, 28), np.float32), profile="ida")
    try:
        _, text, timer = personalize.personalize("ida")
        assert timer.active is True
        assert "Fine-tuning on **ida**'s samples" in text and "Another training is running" not in text
    finally:
        jobs.wait(30)


def test_a_fine_tunes_result_says_what_its_check_can_show_and_counts_samples(studio, monkeypatch):
    info = {"profile": "jo", "samples": 7, "held_out": 7, "folds": 2,
            "before": {"correct": 0, "count": 7, "mean_p": 0.3}, "after": {"correct": 1, "count": 7, "mean_p": 0.4},
            "evidence": {"judged": 7, "fixed": 1, "broken": 0, "surer": 4, "less_sure": 3, "chance": 0.5},
            "test_set": PEN, "mnist_before": 0.9873, "mnist_after": 0.9870,
            "verdict": {"activate": False, "reason": "too_few", "mnist_cost": 0.0003}}
    result = {"version": "20990101-000000-abcd", "card": {}, "activated": False, "personal": info}
    text = personalize._result("jo", result)
    assert "on your 7 samples" in text and "112" not in text
    assert "read right **0/7** before, **1/7** after; the right digit surer on 4, less sure on 3" in text
    assert "held-out pen writers (5,963 digits, never trained on): 98.73% → 98.70%" in text
    assert "What this check can show:" in text and "What it cannot:" in text
    assert ("Not activated: it read 4 of your samples surer and 3 less sure, but a model no better than the shared one "
            "would look this good 50% of the time") in text
    assert "It is now" not in text
    json.dumps(text)  # plain text
