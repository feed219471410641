"""Tests of mnist_core.digits.marks: a dot, a speck or a blob on the canvas is not a digit; real digits all are.

Issue 23, item 9: a single dot drawn on the canvas was read as "0" at 83%. The thresholds (MarkSettings) were measured
on the held-out pen writers' digits drawn as the page draws them and on MNIST's test digits (see MarkSettings); here
the shipped training writers' pen digits stand in for them (they are in the repository), and the held-out ones are
checked in full where ../shared has them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from digit_inputs import layer_with
from mnist_core.digits import canvas_ink
from mnist_core.digits.marks import DEFAULT_MARKS, digit_marks, is_digit_mark, mark_stats
from mnist_core.train import pen

SIDE = 400  # the page's canvas
HELD_OUT = Path(__file__).resolve().parents[3] / "shared" / "data" / "pen"


def canvas(alpha: np.ndarray) -> np.ndarray:
    """A sketchpad layer with ``alpha`` as its strokes."""
    layer = np.zeros((*alpha.shape, 4), np.uint8)
    layer[..., 3] = alpha
    return layer


def dot(brush: int, moved: float = 0.0, at=(200.0, 150.0)) -> np.ndarray:
    """A tap (or a click) with a round brush ``brush`` px wide, the pointer moved ``moved`` px while down."""
    alpha = np.zeros((SIDE, SIDE), np.uint8)
    a = np.array(at)
    pts = np.round(np.array([a, a + (moved * 0.8, moved * 0.6)]) * 16).astype(np.int32)
    cv2.polylines(alpha, [pts], False, 255, brush, cv2.LINE_AA, shift=4)
    cv2.circle(alpha, tuple(int(v) for v in pts[0]), 8 * brush, 255, -1, cv2.LINE_AA, shift=4)
    return canvas(alpha)


def blob(radius: int) -> np.ndarray:
    """A filled disc: ink scribbled over one spot."""
    alpha = np.zeros((SIDE, SIDE), np.uint8)
    cv2.circle(alpha, (200, 200), radius, 255, -1, cv2.LINE_AA)
    return canvas(alpha)


def read_marks(layer: np.ndarray) -> tuple[int, int]:
    """(marks the canvas path finds, marks kept as digits)."""
    digits, ink = canvas_ink([layer])
    return len(digits), len(digit_marks(digits, ink.image))


@pytest.mark.parametrize("brush", [6, 12, 20])  # the page's thin, medium and thick brushes
@pytest.mark.parametrize("moved", [0, 3, 6])
def test_a_dot_is_found_but_is_not_a_digit(brush, moved):
    found, kept = read_marks(dot(brush, moved))
    assert found == 1 and kept == 0  # the canvas path cuts it as a digit; the rule says it is none


@pytest.mark.parametrize("radius", [8, 20, 40, 60])
def test_a_blob_is_not_a_digit(radius):
    assert read_marks(blob(radius)) == (1, 0)


def test_a_short_speck_is_not_a_digit():
    alpha = np.zeros((SIDE, SIDE), np.uint8)
    cv2.line(alpha, (100, 100), (114, 108), 255, 4, cv2.LINE_AA)  # 16 px: a slip of the pen
    assert read_marks(canvas(alpha)) == (1, 0)


def test_stats_of_a_dot_and_of_a_one():
    """A disc spans about 2 of its stroke widths (2 * area / perimeter is half its diameter); a "1" many."""
    layer = dot(20)
    extent, elongation = mark_stats(layer[..., 3], (0, 0, SIDE, SIDE))
    assert 20 / SIDE <= extent <= 24 / SIDE and 1.6 < elongation < 2.5  # the brush and its fringe
    alpha = np.zeros((SIDE, SIDE), np.uint8)
    cv2.line(alpha, (200, 100), (200, 300), 255, 20, cv2.LINE_AA)
    extent, elongation = mark_stats(alpha, (0, 0, SIDE, SIDE))
    assert extent > 0.5 and elongation > 8
    assert mark_stats(alpha, (0, 0, 50, 50)) == (0.0, 0.0)  # no ink in the box


@pytest.mark.parametrize(
    "text, org, scale, thickness",
    [("3", (300, 550), 10.0, 20), ("3", (20, 140), 3.0, 6), ("1", (680, 790), 3.0, 6), ("1", (300, 550), 10.0, 60),
     ("0", (300, 550), 10.0, 3), ("7", (20, 140), 3.0, 20)],
    ids=["big", "small-top-left", "small-one", "thick-one", "thin-zero", "small-thick-seven"],
)
def test_drawn_digits_are_digits(text, org, scale, thickness):
    found, kept = read_marks(layer_with(text, org, scale, thickness))
    assert found == kept == 1


def test_several_digits_with_a_stray_dot_keep_the_digits():
    alpha = layer_with("42", (40, 500), 10.0, 20)[..., 3].copy()
    digits, ink = canvas_ink([canvas(alpha)])
    kept = digit_marks(digits, ink.image)
    assert len(kept) == len(digits) == 2 and kept == digits  # the same digits, in their order


def test_without_ink_every_digit_is_kept():
    """A photo's digits (no canvas alpha to judge by) are never filtered here."""
    digits, _ = canvas_ink([dot(12)])
    assert digit_marks(digits, None) == digits


def test_a_float_ink_map_is_judged_like_its_bytes():
    layer = dot(12)
    digits, ink = canvas_ink([layer])
    assert digit_marks(digits, ink.image.astype(np.float32) / 255) == []


def test_shipped_pen_digits_drawn_as_on_the_page_are_all_digits():
    """Real handwriting: 150 training writers' pen digits drawn on the 400x400 canvas as the page draws them
    (90-340 px tall, brush 6/12/20), and at the smallest height with the thickest brush: none refused."""
    digits = pen.load_shipped()
    rng = np.random.default_rng(7)
    chosen = [digits[i] for i in rng.choice(len(digits), 150, replace=False)]
    refused = []
    for i, d in enumerate(chosen):
        small = i % 2 == 0
        layer = pen.draw_layer(d.strokes, rng, height=90 if small else None, brush=20 if small else None)
        found, kept = read_marks(layer)
        if found and not kept:
            refused.append((d.label, d.writer))
    assert refused == []


@pytest.mark.slow
@pytest.mark.skipif(not HELD_OUT.is_dir(), reason=f"the held-out pen writers are not at {HELD_OUT}")
def test_no_held_out_pen_digit_is_refused():
    """Every held-out writer's digit (5,963), drawn as the page draws them: 0 refused (measured: MarkSettings)."""
    held = []
    for name in ("pendigits_dev.json.gz", "unipen_dev.json.gz"):
        if (HELD_OUT / name).is_file():
            held += pen.split_writers(pen.load_pen(HELD_OUT / name))[1]
    rng = np.random.default_rng(0)
    refused = sum(1 for d in held if read_marks(pen.draw_layer(d.strokes, rng))[1] == 0)
    assert held and refused == 0


def test_settings_are_what_the_measurements_chose():
    """The thresholds sit between the dots' and the digits' measured ranges (MarkSettings' comments)."""
    assert 20 / SIDE < DEFAULT_MARKS.min_extent <= 40 / SIDE
    assert 2.4 < DEFAULT_MARKS.min_elongation < 3.3
    assert is_digit_mark(dot(12)[..., 3], (0, 0, SIDE, SIDE)) is False
