"""The Draw tab's answer for several digits: the number is the answer, one tile per digit read (touching digits
too), and a correction is made on a tile and cleared once saved."""

from __future__ import annotations

import base64
import io
import re
from types import SimpleNamespace

import cv2
import gradio as gr
import numpy as np
import pytest
from PIL import Image

import app
from conftest import ink_layer
from mnist_core.config import Paths
from studio import draw


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    """The app's services over a fresh data directory (the shipped models serving)."""
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path))
    return app.services()


@pytest.fixture
def value(tmp_path):
    """A layer as a Sketchpad value (the API's input), saved under tmp_path."""
    def make(layer: np.ndarray) -> dict:
        path = tmp_path / f"layer{len(list(tmp_path.iterdir()))}.png"
        Image.fromarray(layer).save(path)
        return {"background": None, "layers": [{"path": str(path)}], "composite": None}
    return make


def touching(left: str, right: str, overlap: int = 45) -> np.ndarray:
    """Two digits written so close that their strokes touch: one piece of ink for the segmenter."""
    alpha = np.zeros((400, 400), np.uint8)
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 7, 26
    (w, _), _ = cv2.getTextSize(left, font, scale, thick)
    cv2.putText(alpha, left, (60, 290), font, scale, 255, thick, cv2.LINE_AA)
    cv2.putText(alpha, right, (60 + w - overlap, 290), font, scale, 255, thick, cv2.LINE_AA)
    layer = np.zeros((400, 400, 4), np.uint8)
    layer[..., 3] = alpha
    return layer


def page(session: str):
    return SimpleNamespace(session_hash=session, headers={}, cookies={}, query_params={}, client=None)


@pytest.mark.parametrize("text", ["2026", "42", "305"])
def test_several_digits_answer_with_the_number(studio, value, text):
    """The headline is the number read (as sure as its least sure digit), never one digit of it."""
    label, number, html = draw.predict_drawing(value(ink_layer(text)))
    assert number == text and list(label) == [text]
    assert label[text] == pytest.approx(min(float(p) for p in _confidences(html)), abs=0.006)
    assert html.count("<img") == len(text) and html.count('role="button"') == len(text)


def _confidences(html: str) -> list[float]:
    return [int(m) / 100 for m in re.findall(r"</b> \((\d+)%\)</figcaption>", html)]


def test_one_digit_answers_with_its_top_three(studio, value):
    label, number, html = draw.predict_drawing(value(ink_layer("7")))
    assert number == "7" and len(label) == 3 and max(label, key=label.get) == "7"
    assert 'role="button"' not in html  # nothing to pick: the correction is for the only digit


@pytest.mark.parametrize("left, right", [("3", "8"), ("2", "5")])
def test_touching_digits_get_a_tile_each_and_each_is_saved_apart(studio, value, left, right):
    sketch = value(touching(left, right))
    label, number, html = draw.predict_drawing(sketch)
    assert number == left + right and list(label) == [number]
    assert html.count("<img") == 2  # not one merged tile
    before = len(studio.samples)
    draw.save_drawing_sample(value(touching(left, right)), 2, right)
    saved = studio.samples.list(limit=1)[0]
    assert saved["label"] == int(right) and len(studio.samples) == before + 1
    # The tile saved is the right-hand digit alone: the image model reads it as that digit.
    guess = studio.model.recognizer_for(None).predict(saved["image"][None, ..., None].astype(np.float32))
    assert int(np.argmax(guess[0])) == int(right)


def test_a_click_on_a_tile_picks_it_and_a_save_clears_the_choice(studio, value):
    me = page("tiles-page")
    draw.predict_drawing(value(ink_layer("42")), request=me)
    which, box = draw.pick_tile(gr.EventData(None, {"tile": 2}), request=me)
    assert which == 2 and "#2" in box.label and "read as 2" in box.label
    which, box = draw.pick_tile(gr.EventData(None, {"tile": 9}), request=me)  # not a tile: nothing picked
    assert which == 0
    # A new drawing's answer unpicks the tile (its tiles are not the old ones).
    canvas_value = {"layer": "data:image/png;base64," + _b64_png(ink_layer("42"))}
    *_, which, box = draw.predict_canvas(canvas_value, request=me)
    assert which == 0 and box.info is not None  # several digits: the choice says to click a tile first
    message, which, box = draw.save_ink_sample(canvas_value, 2, "7", request=me)
    assert "**7**" in message and which == 0 and box.value is None  # the next drawing is not saved as a 7


def _b64_png(layer: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(layer).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()
