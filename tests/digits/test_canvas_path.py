"""Tests of mnist_core.digits.canvas: the sketchpad path (layers, composite, pieces of one digit)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digit_inputs import assert_mnist_like, flatten, ink_box, layer_with, number_layer
from mnist_core import digits as pp


# ------------------------------------------------------------------------------------------------------------
# Canvas
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "org, scale, thickness",
    [
        ((300, 550), 10.0, 20),  # big, centred
        ((20, 140), 3.0, 6),  # small, top-left corner
        ((680, 790), 3.0, 6),  # small, bottom-right corner
        ((300, 550), 10.0, 3),  # thin brush
        ((300, 550), 10.0, 60),  # thick marker
    ],
    ids=["centred", "top-left-small", "bottom-right-small", "thin", "thick"],
)
def test_canvas_digit_anywhere_any_size_any_stroke_is_mnist_normalised(org, scale, thickness):
    layer = layer_with("3", org, scale, thickness)
    (digit,) = pp.canvas_to_mnist([layer])
    assert_mnist_like(digit.image)
    box = ink_box(layer[..., 3])
    assert all(abs(a - b) <= 2 for a, b in zip(digit.box, box)), (digit.box, box)
    # Strokes end up MNIST-wide whatever the brush: 2 * area / perimeter at 28 px within MNIST's 5-95% range.
    m = (digit.image > 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    width = 2 * m.sum() / sum(cv2.arcLength(c, True) for c in contours)
    assert 1.2 <= width <= 3.6, width


def test_same_digit_at_two_sizes_gives_nearly_the_same_image():
    big = pp.canvas_to_mnist([layer_with("5", (250, 600), 12.0, 30)])[0].image
    small = pp.canvas_to_mnist([layer_with("5", (500, 300), 4.0, 10)])[0].image
    assert np.abs(big - small).mean() < 0.04


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (200, 30, 30), (250, 240, 10)], ids=str)
def test_brush_colour_does_not_matter_on_layers(colour):
    ref = pp.canvas_to_mnist([layer_with("2")])[0].image
    got = pp.canvas_to_mnist([layer_with("2", colour=colour)])[0].image
    assert np.array_equal(ref, got)


@pytest.mark.parametrize(
    "background, colour",
    [((255, 255, 255), (0, 0, 0)), ((39, 39, 42), (255, 255, 255)), ((255, 255, 255), (250, 200, 0))],
    ids=["light-theme", "dark-theme", "yellow-on-white"],
)
def test_composite_fallback_matches_the_layers(background, colour):
    layer = layer_with("2", colour=colour)
    ref = pp.canvas_to_mnist([layer])[0].image
    (got,) = pp.canvas_to_mnist(None, flatten(layer, background))
    assert np.abs(got.image - ref).mean() < 0.02


def test_several_layers_are_one_drawing():
    a = layer_with("1", org=(100, 500), scale=8.0)
    b = layer_with("7", org=(450, 500), scale=8.0)
    got = pp.canvas_to_mnist([a, b])
    assert len(got) == 2 and got[0].box[0] < got[1].box[0]


def test_digit_drawn_in_several_strokes_is_one_digit():
    alpha = np.zeros((800, 800), np.uint8)
    cv2.line(alpha, (400, 150), (400, 650), 255, 24, cv2.LINE_AA)  # a 4's upright
    cv2.polylines(alpha, [np.array([[330, 200], [200, 480], [370, 480]])], False, 255, 24, cv2.LINE_AA)  # apart
    layer = np.zeros((800, 800, 4), np.uint8)
    layer[..., 3] = alpha
    got = pp.canvas_to_mnist([layer])
    assert len(got) == 1 and got[0].box == ink_box(alpha)


def test_broken_five_is_one_digit():
    alpha = np.zeros((800, 800), np.uint8)
    cv2.line(alpha, (330, 200), (520, 200), 255, 22, cv2.LINE_AA)  # the flag, drawn apart
    cv2.line(alpha, (320, 240), (310, 380), 255, 22, cv2.LINE_AA)
    cv2.ellipse(alpha, (400, 480), (110, 110), 0, -150, 150, 255, 22, cv2.LINE_AA)
    layer = np.zeros((800, 800, 4), np.uint8)
    layer[..., 3] = alpha
    assert len(pp.canvas_to_mnist([layer])) == 1


def _alpha_layer(alpha: np.ndarray) -> np.ndarray:
    layer = np.zeros((*alpha.shape, 4), np.uint8)
    layer[..., 3] = alpha
    return layer


@pytest.mark.parametrize("gap", [0.0, 0.12], ids=["closed", "ends-apart"])
@pytest.mark.parametrize("aspect", [1.4, 2.0, 2.6])
def test_a_flat_zero_is_one_digit(aspect, gap):
    """Real writers' 0s come flat (a held-out UNIPEN writer's are 2.6x as wide as tall) and with their ends not
    meeting; the cut that parts touching digits must not go through the one loop."""
    alpha = np.zeros((800, 800), np.uint8)
    ry = 100
    rx = int(ry * aspect)
    half = np.degrees(np.arcsin(gap * ry / rx))  # ends apart by `gap` of the height, across the top
    cv2.ellipse(alpha, (400, 400), (rx, ry), 0, -90 + half, 270 - half, 255, 14, cv2.LINE_AA)
    got = pp.canvas_to_mnist([_alpha_layer(alpha)])
    assert len(got) == 1 and got[0].box == ink_box(alpha)


@pytest.mark.parametrize("l_stroke, stem", [
    ([[250, 200], [230, 520], [430, 520]], [[480, 240], [470, 640]]),   # a tall L whose bar stops short of the stem
    ([[60, 180], [50, 470], [640, 470]], [[560, 200], [550, 560]]),     # a wide 4, its bar across the stem
], ids=["bar-short-of-stem", "bar-across-stem"])
def test_a_four_in_two_strokes_is_one_digit(l_stroke, stem):
    """Held-out writers' 4s: an L nearly as tall as the stem and apart from it, or a bar crossing the stem that
    makes one piece of ink wider than tall. One 4 either way: the L ends well above the stem's foot."""
    alpha = np.zeros((800, 800), np.uint8)
    cv2.polylines(alpha, [np.array(l_stroke)], False, 255, 18, cv2.LINE_AA)
    cv2.line(alpha, tuple(stem[0]), tuple(stem[1]), 255, 18, cv2.LINE_AA)
    got = pp.canvas_to_mnist([_alpha_layer(alpha)])
    assert len(got) == 1 and got[0].box == ink_box(alpha)


@pytest.mark.parametrize("text", ["41", "71", "00"])
def test_neighbours_on_one_baseline_stay_two_digits(text):
    """The rules above are for one digit: two digits written side by side on one baseline stay two."""
    layer, truth = number_layer([text], size=(500, 900), gap=25)
    assert len(pp.canvas_to_mnist([layer])) == len(truth) == 2
