"""A dot is not a digit (issue 23, item 9): a single click on the canvas was read as "0" at 83%.

The rule is the core's (mnist_core.digits.marks, measured there); studio.actions.real_digits applies it to what the
canvas path found. The Draw tab's answer to a lone dot waits on studio/draw.py calling it (marked below)."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import gradio as gr
import numpy as np
import pytest
from PIL import Image

import app
from mnist_core.config import Paths
from mnist_core.digits import canvas_ink
from studio import actions, draw
from studio.i18n import STRINGS, say

from conftest import ink_layer


def dot_layer(brush: int = 12) -> np.ndarray:
    """The page's 400x400 stroke layer after one click with a ``brush`` px brush."""
    alpha = np.zeros((400, 400), np.uint8)
    cv2.circle(alpha, (180, 220), brush // 2, 255, -1, cv2.LINE_AA)
    layer = np.zeros((400, 400, 4), np.uint8)
    layer[..., 3] = alpha
    return layer


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path))
    return app.services()


@pytest.mark.parametrize("brush", [6, 12, 20])
def test_a_dot_is_no_digit_to_read(brush):
    digits, ink = canvas_ink([dot_layer(brush)])
    assert len(digits) == 1  # the canvas path cuts it as a digit (and the model called it a "0")
    assert actions.real_digits(digits, ink) == [] and actions.real_digits(digits, ink.image) == []


@pytest.mark.parametrize("text", ["1", "7", "42", "305"])
def test_drawn_digits_are_all_kept(text):
    digits, ink = canvas_ink([ink_layer(text)])
    assert len(digits) == len(text) and actions.real_digits(digits, ink) == digits


def test_the_message_is_worded_in_both_languages():
    en, zh = STRINGS["not_a_digit"]
    assert "Not a digit" in en and "不是数字" in zh


def test_the_draw_tab_answers_a_dot_with_not_a_digit(studio, tmp_path):
    path = tmp_path / "dot.png"
    Image.fromarray(dot_layer(12)).save(path)
    value = {"background": None, "layers": [{"path": str(path)}], "composite": None}
    request = SimpleNamespace(headers={"accept-language": "en"}, cookies={}, session_hash=None)
    try:
        label, read, html = draw.predict_drawing(value, request)
    except gr.Error as e:  # a refusal saying so is an answer too
        assert say("not_a_digit") in str(e.message)
    else:
        assert read == "" and not label and say("not_a_digit") in html
