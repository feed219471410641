"""The Draw tab's light canvas on the server's side: its value (the stroke layer as a PNG data URL) read like a
Sketchpad's, and refused with a message when it is anything else. The drawing itself is in test_browser.py."""

from __future__ import annotations

import base64

import gradio as gr
import numpy as np
import pytest

import app
from mnist_core.config import Paths
from mnist_core.digits import ImageError, load_image
from studio import draw
from studio.canvas import PREFIX, sketch_value


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home"))))
    return app.services()


def ink(path) -> dict:
    """The canvas's value for a PNG file, as the page sends it."""
    return {"layer": PREFIX + base64.b64encode(path.read_bytes()).decode()}


def test_the_value_becomes_a_sketchpad_value_with_the_same_layer(images):
    value = sketch_value(ink(images["layer_7.png"]), max_bytes=1 << 20)
    assert value["background"] is None and value["composite"] is None and len(value["layers"]) == 1
    assert np.array_equal(load_image(value["layers"][0], exif=False), load_image(images["layer_7.png"], exif=False))
    assert sketch_value(None, 1 << 20) is None and sketch_value("", 1 << 20) is None  # empty canvas (Clear: "")


@pytest.mark.parametrize("bad", [{"layer": "data:image/jpeg;base64,AAAA"}, {"layer": PREFIX + "not base64!"},
                                 {"layers": []}, "a string", ["a list"]])
def test_anything_else_is_refused(bad):
    with pytest.raises(ImageError):
        sketch_value(bad, 1 << 20)


def test_a_layer_over_the_cap_is_refused_before_decoding():
    with pytest.raises(ImageError, match="over"):
        sketch_value({"layer": PREFIX + "A" * 4096}, max_bytes=1024)


@pytest.mark.parametrize("name, number", [("layer_7.png", "7"), ("layer_42.png", "42")])
def test_the_page_canvas_is_read_like_the_api(studio, images, name, number):
    label, read, html, which, _ = draw.predict_canvas(ink(images[name]))
    assert (label, read, html) == draw.predict_drawing(
        {"background": None, "layers": [{"path": str(images[name])}], "composite": None})
    assert read == number and which == 0  # a new answer: no tile picked


def test_an_empty_canvas_reads_nothing_and_a_bad_one_says_why(studio):
    assert draw.predict_canvas(None)[1] == "" and draw.predict_canvas("")[1] == ""
    with pytest.raises(gr.Error):
        draw.predict_canvas({"layer": PREFIX + base64.b64encode(b"not a png").decode()})
    with pytest.raises(gr.Error):
        draw.predict_canvas({"layer": "javascript:alert(1)"})


def test_saving_from_the_page_canvas(studio, images):
    before = studio.samples.counts().get(1, 0)
    draw.save_ink_sample(ink(images["layer_7.png"]), 0, "1")
    assert studio.samples.counts().get(1, 0) == before + 1
    with pytest.raises(gr.Error):  # nothing drawn: nothing saved
        draw.save_ink_sample(None, 0, "1")
