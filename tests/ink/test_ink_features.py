"""Trajectory features: normalisation, arc-length resampling across strokes, directions, turns, pen marks."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.ink import features as F
from mnist_core.ink.format import parse_json

C = {name: i for i, name in enumerate(F.CHANNELS)}
VERTICAL = [np.array([[5.0, 0.0], [5.0, 100.0]])]  # a 1 drawn top to bottom
SEVEN = [np.array([[0.0, 0.0], [60.0, 0.0], [20.0, 100.0]])]
CROSSED = SEVEN + [np.array([[30.0, 50.0], [60.0, 50.0]])]


@pytest.mark.parametrize("points", [32, 64, 96])
@pytest.mark.parametrize("strokes", [VERTICAL, SEVEN, CROSSED, [np.array([[3.0, 3.0]])]])
def test_shape_dtype_and_range(points, strokes):
    f = F.ink_features(strokes, F.FeatureSettings(points=points))
    assert f.shape == (points, len(F.CHANNELS)) and f.dtype == np.float32
    assert np.isfinite(f).all()
    assert np.abs(f[:, :2]).max() <= 0.5 + 1e-6


@pytest.mark.parametrize("points, expected", [
    ([[0, 0], [3, 4]], [0, 5]),                      # one 3-4-5 segment
    ([[0, 0], [0, 2], [2, 2], [2, 2]], [0, 2, 4, 4]),  # a corner, then a repeated point adds nothing
    ([[1, 1]], [0]),                                 # a dot
])
def test_arc_length_runs_from_the_first_point(points, expected):
    np.testing.assert_allclose(F.arc_length(np.array(points, float)), expected)
    assert F.stroke_length(np.array(points, float)) == pytest.approx(expected[-1])  # the arc length's end


def test_scale_and_shift_do_not_matter_but_aspect_does():
    a = F.ink_features(SEVEN)
    b = F.ink_features([s * 3.7 + np.array([120.0, -40.0]) for s in SEVEN])
    np.testing.assert_allclose(a, b, atol=1e-5)
    wide = F.ink_features([s * np.array([2.0, 1.0]) for s in SEVEN])
    assert np.ptp(wide[:, C["x"]]) > np.ptp(a[:, C["x"]]) + 0.2


def test_resampling_is_even_along_the_path_whatever_the_sampling():
    sparse = [np.array([[0.0, 0.0], [0.0, 100.0]])]
    dense = [np.stack([np.zeros(300), np.sort(np.random.default_rng(0).uniform(0, 100, 300))], 1)]
    dense[0][0, 1], dense[0][-1, 1] = 0.0, 100.0
    np.testing.assert_allclose(F.ink_features(sparse), F.ink_features(dense), atol=1e-4)
    pts, _ = F.resample(sparse)
    gaps = np.diff(pts[:, 1])
    assert np.allclose(gaps, gaps[0])


def test_direction_tells_a_stroke_from_its_reverse():
    down = F.ink_features(VERTICAL)
    up = F.ink_features([VERTICAL[0][::-1]])
    assert (down[:, C["dy"]] > 0.99).all() and (up[:, C["dy"]] < -0.99).all()


def test_pen_marks_and_jump():
    f = F.ink_features(CROSSED, F.FeatureSettings(points=64))
    starts = np.flatnonzero(f[:, C["start"]])
    assert list(starts[:1]) == [0] and len(starts) == 2
    ups = np.flatnonzero(f[:, C["pen_down"]] == 0)
    assert len(ups) == 2 and ups[-1] == 63 and ups[0] == starts[1] - 1
    j = f[starts[1], [C["jump_x"], C["jump_y"]]]
    assert j[0] > 0 and j[1] < 0  # from the 7's foot (bottom-left) up and right to the bar's start
    assert (f[f[:, C["start"]] == 0][:, [C["jump_x"], C["jump_y"]]] == 0).all()


def test_points_are_shared_by_length_with_two_at_least():
    pts, ids = F.resample([np.array([[0.0, 0.0], [0.0, 100.0]]), np.array([[50.0, 50.0], [50.0, 50.5]])],
                          F.FeatureSettings(points=64))
    counts = np.bincount(ids)
    assert counts.sum() == 64 and counts[1] == 2 and counts[0] == 62


def test_turning_angle_at_the_seven_corner():
    f = F.ink_features(SEVEN)
    turn = np.arctan2(f[:, C["sin_turn"]], f[:, C["cos_turn"]])
    # right, then down-left to the foot: about 112 degrees, clockwise on screen (y down: positive), shared by
    # the samples either side of the corner
    expected = np.arctan2(100, -40)
    assert abs(turn.sum() - expected) < 0.05
    assert (turn > 0.3).sum() in (1, 2) and (np.abs(turn) > 1e-3).sum() <= 2
    straight = F.ink_features(VERTICAL)
    np.testing.assert_allclose(straight[:, C["cos_turn"]], 1.0, atol=1e-6)


def test_too_many_strokes_keeps_the_longest():
    many = [np.array([[i, 0.0], [i, 1.0]]) for i in range(30)] + [np.array([[0.0, 5.0], [0.0, 200.0]])]
    pts, ids = F.resample(many, F.FeatureSettings(points=64, max_strokes=16))
    assert ids.max() == 15
    assert np.ptp(pts[ids == 15][:, 1]) > 0.9  # the long stroke is kept (the last one)


def test_accepts_an_ink_value_and_batches():
    ink = parse_json([[[0, 0, 0], [10, 10, 5]], [[0, 10, 50], [10, 0, 60]]])
    x = F.batch_features([ink, ink.xy(), SEVEN])
    assert x.shape == (3, F.FeatureSettings().points, len(F.CHANNELS))
    np.testing.assert_allclose(x[0], x[1])


def test_settings_refuse_too_few_points():
    with pytest.raises(ValueError):
        F.FeatureSettings(points=16, max_strokes=16)
