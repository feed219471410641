"""The Photo tab's wiring (issue 23, item 9): removing a photo clears its results, even while it is being read.

Gradio's default trigger mode drops an input event that comes while the previous one still runs, so a photo removed
mid-read left the read's answer on the page (in the browser: tests/studio/test_browser_layout.py)."""

from __future__ import annotations

import pytest

import app
from mnist_core.config import Paths
from studio import photo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home"))))


def test_a_change_made_during_a_read_runs_after_it(demo):
    (event,) = [d for d in demo.config["dependencies"] if d.get("api_name") == "predict_photo"]
    assert event["trigger_mode"] == "always_last"
    assert [kind for _, kind in event["targets"]] == ["input"]  # an upload, a shot, a paste or the photo removed


def test_a_removed_photo_answers_with_empty_results(demo):
    label, read, boxed, strip = photo.predict_photo(None)
    assert label == {} and read == "" and boxed is None and "studio-empty" in strip
