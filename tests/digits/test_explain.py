"""Occlusion maps: the right shape and range, zero over blank background, and they find the strokes that matter,
for a stand-in model whose answer is known and for the shipped model on real MNIST digits."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.digits.explain import heat_image, log_odds, occlusion_map, occlusion_maps
from mnist_core.digits.recognize import Recognizer
from _shared import ROOT


class StandIn:
    """A linear 'model' on purpose: class 1's evidence is the ink in the top half of the image, class 2's the
    ink in the bottom-left quarter; every other class has none. Counts the copies it is asked about."""

    def __init__(self):
        self.calls, self.seen = 0, 0
        self.weights = np.zeros((10, 28, 28), np.float64)
        self.weights[1, :14, :] = 0.2
        self.weights[2, 14:, :14] = 0.2

    def __call__(self, x: np.ndarray) -> np.ndarray:
        assert x.shape[1:] == (28, 28, 1) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
        self.calls += 1
        self.seen += len(x)
        logits = np.einsum("nhw,khw->nk", x[..., 0].astype(np.float64), self.weights)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def bar(rows: slice, cols: slice) -> np.ndarray:
    img = np.zeros((28, 28), np.float32)
    img[rows, cols] = 1.0
    return img


def near(img: np.ndarray, reach: int) -> np.ndarray:
    """Pixels within ``reach`` (Chebyshev) of any ink."""
    ink = img > 0
    out = np.zeros_like(ink)
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            out |= np.roll(np.roll(ink, dr, 0), dc, 1)
    return out


def test_a_map_has_the_input_shape_is_finite_and_scaled_to_one():
    digit = bar(slice(4, 24), slice(12, 16))  # a "1": a vertical bar through both halves
    m = occlusion_map(digit, StandIn())
    assert m.shape == (28, 28) and m.dtype == np.float32 and np.isfinite(m).all()
    assert -1 <= m.min() and m.max() <= 1 and np.isclose(np.abs(m).max(), 1.0)


def test_blank_background_gets_exactly_zero_and_only_the_decisive_strokes_count():
    model = StandIn()
    digit = bar(slice(4, 24), slice(15, 19))  # right of the bottom-left quarter: no vote for a rival
    m = occlusion_map(digit, model)
    assert np.argmax(model(digit[None, ..., None])) == 1  # the top half decides
    # A 4x4 square over a pixel 4+ pixels from any ink covers no ink: erasing it changes nothing.
    assert np.all(m[~near(digit, 3)] == 0)
    # The bar's top half carries the answer; its bottom half (out of the squares' reach of the top) none.
    assert m[4:12, 15:19].min() > 0.3
    assert np.all(m[16:24, 15:19] == 0)


def test_ink_that_argues_for_a_rival_is_negative():
    # The top bar votes for 1 (the answer), the bottom-left blob for 2: erasing the blob helps the answer.
    digit = bar(slice(3, 12), slice(10, 18)) + bar(slice(20, 24), slice(3, 7))
    m = occlusion_map(digit, StandIn())
    assert m[4:11, 11:17].mean() > 0.5 and m[20:24, 3:7].max() < 0 and m[20:24, 3:7].min() < -0.05


def test_another_target_gets_its_own_map():
    digit = bar(slice(3, 12), slice(10, 18)) + bar(slice(20, 24), slice(3, 7))
    m = occlusion_map(digit, StandIn(), target=2)
    assert m[20:24, 3:7].min() > 0.2 and m[4:11, 11:17].max() < 0


def test_blank_input_is_all_zero_and_not_run():
    model = StandIn()
    m = occlusion_maps(np.zeros((2, 28, 28), np.float32), model)
    assert m.shape == (2, 28, 28) and not m.any()
    assert model.calls == 1 and model.seen == 2  # only the originals: no square changes a blank input
    assert occlusion_maps(np.zeros((0, 28, 28)), model).shape == (0, 28, 28)


def test_one_batch_per_call_and_only_squares_over_ink():
    model = StandIn()
    digits = np.stack([bar(slice(4, 24), slice(12, 16)), bar(slice(3, 12), slice(10, 18))])
    maps = occlusion_maps(digits, model)
    assert model.calls == 1
    assert 2 < model.seen < 2 + 2 * 13 * 13  # 13x13 square positions of 4 px at stride 2; blank ones skipped
    for digit, m in zip(digits, maps):  # a batch is the digits one by one
        np.testing.assert_allclose(m, occlusion_map(digit, StandIn()), atol=1e-6)


def test_log_odds_keeps_precision_for_confident_answers():
    probs = np.array([[1.0] + [1e-9] * 9, [0.5, 0.5] + [0.0] * 8], np.float32)
    lo = log_odds(probs, np.array([0, 0]))
    assert lo[0] > 15 and abs(lo[1]) < 1e-6  # 1 - p from the rivals, where float32's 1.0 says nothing


def test_heat_image_is_the_enlarged_digit_coloured_by_its_map():
    digit = bar(slice(4, 24), slice(12, 16))
    heat = np.zeros((28, 28), np.float32)
    heat[5, 13], heat[20, 13] = 1.0, -1.0
    img = heat_image(digit, heat, scale=4)
    assert img.shape == (112, 112, 3) and img.dtype == np.uint8
    red, blue, plain_ink, background = img[5 * 4, 13 * 4], img[20 * 4, 13 * 4], img[10 * 4, 13 * 4], img[0, 0]
    assert red[0] > red[2] + 100 and blue[2] > blue[0] + 100
    assert plain_ink[0] == plain_ink[1] == plain_ink[2] > background[0]  # grey where the map is 0, ink brighter


# --- the shipped model, through LiteRT -----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    path = ROOT / "models" / "default.tflite"
    return Recognizer.from_lite(path.read_bytes()).predict


def _erase(img: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = img.copy().ravel()
    out[order] = 0.0
    return out.reshape(28, 28)


def test_erasing_what_the_map_ranks_first_hurts_the_shipped_model_most(shipped):
    """On real MNIST digits: erasing the 20 ink pixels the map ranks highest lowers the answer's probability
    far more than erasing the 20 it ranks lowest (a deletion test)."""
    from mnist_core.train.data import load_subset

    x = load_subset().x_test[:30].astype(np.float32) / 255.0
    probs = shipped(x)
    answers = probs.argmax(axis=1)
    maps = occlusion_maps(x, shipped)
    assert maps.shape == (30, 28, 28) and np.isfinite(maps).all() and np.abs(maps).max() <= 1
    assert np.all(maps[~near_all(x)] == 0)  # 4+ pixels from any ink: nothing
    top, bottom = [], []
    for img, m in zip(x, maps):
        ink = np.flatnonzero(img.ravel() > 0.3)
        ranked = ink[np.argsort(m.ravel()[ink])]
        top.append(_erase(img, ranked[-20:]))
        bottom.append(_erase(img, ranked[:20]))
    rows = np.arange(len(x))
    p_top, p_bottom = shipped(np.stack(top)), shipped(np.stack(bottom))
    assert np.all(log_odds(p_top, answers) < log_odds(p_bottom, answers))
    assert np.median(p_top[rows, answers]) < np.median(probs[rows, answers]) - 0.2
    assert np.median(p_bottom[rows, answers]) > np.median(probs[rows, answers]) - 0.05


def near_all(x: np.ndarray) -> np.ndarray:
    """near() of each digit in a batch."""
    return np.stack([near(img, 3) for img in x])
