"""mnist_core.train.pen: the shipped pen digits, whole-writer hold-out, drawing as the canvas does, training renders."""

import gzip
import json

import numpy as np
import pytest

from mnist_core.train import pen
from mnist_core import digits as pp

from _shared import ROOT

SHARED_PEN = ROOT.parent / "shared" / "data" / "pen"


@pytest.fixture(scope="module")
def shipped():
    return pen.load_shipped()


def test_shipped_digits_are_the_training_writers_of_both_sets(shipped):
    assert len(shipped) > 12_000
    writers = {d.writer for d in shipped}
    assert not any(pen.is_held_out(w) for w in writers)  # no held-out writer ships
    assert {d.source for d in shipped} >= {"pendigits"} and len({d.source for d in shipped}) > 5
    counts = np.bincount([d.label for d in shipped], minlength=10)
    assert counts.min() > 0.07 * len(shipped)  # every digit is there, roughly balanced
    assert all(len(d.strokes) >= 1 and all(s.ndim == 2 and s.shape[1] == 2 for s in d.strokes) for d in shipped)


@pytest.mark.parametrize("writer", ["pendigits-1", "pendigits-17", "data/1a/syn/syn1/rkt-dig19.dat", "x"])
def test_hold_out_is_by_writer_and_fixed(writer):
    assert pen.is_held_out(writer) == pen.is_held_out(writer)
    fake = [pen.PenDigit(i % 10, (np.zeros((2, 2), np.float32),), writer, "t") for i in range(20)]
    train, test = pen.split_writers(fake)
    assert (train, test) in ((fake, []), ([], fake))  # a writer's digits never straddle the split


def test_hold_out_takes_about_a_third_of_writers():
    names = [f"w{i}" for i in range(3000)]
    share = np.mean([pen.is_held_out(n) for n in names])
    assert 0.30 < share < 0.37


def _json_digit(tmp_path, strokes, label=7):
    path = tmp_path / "one.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump([{"label": label, "strokes": strokes, "writer": "pendigits-99"}], f)
    return path


def test_json_y_points_up_and_compact_round_trip(tmp_path):
    # A 7 as written on a tablet (y up): the bar at the top, then down to the bottom left.
    d = pen.load_pen(_json_digit(tmp_path, [[[0, 100], [60, 100], [20, 0]]]))[0]
    assert d.label == 7 and d.source == "pendigits"
    s = d.strokes[0]
    assert s[0, 1] < s[2, 1]  # the bar's y is above (smaller row) the foot's
    pen.save_compact([d], tmp_path / "c.npz")
    back = pen.load_pen(tmp_path / "c.npz")[0]
    assert back.label == 7 and back.writer == "pendigits-99"
    # the same shape, scaled into a 0-255 box
    a, b = pen.distort(d.strokes, None, 0.0), pen.distort(back.strokes, None, 0.0)
    np.testing.assert_allclose(np.concatenate(a), np.concatenate(b), atol=0.01)


@pytest.mark.skipif(not SHARED_PEN.is_dir(), reason="the pen data is only in ../shared on development machines")
def test_shipped_file_matches_the_shared_training_writers(shipped):
    full = pen.load_pen(SHARED_PEN / "pendigits_dev.json.gz")
    train, test = pen.split_writers(full)
    ours = [d for d in shipped if d.source == "pendigits"]
    assert len(ours) == len(train) and [d.label for d in ours] == [d.label for d in train]
    assert {d.writer for d in test}.isdisjoint({d.writer for d in ours})


@pytest.mark.parametrize("side,height,brush", [(400, 90, 6), (400, 340, 20), (800, 300, 12)])
def test_a_drawn_layer_reads_as_one_digit_like_its_training_render(shipped, side, height, brush):
    rng = np.random.default_rng(0)
    d = next(d for d in shipped if d.label == 3)
    layer = pen.draw_layer(d.strokes, rng, side=side, height=height, brush=brush)
    assert layer.shape == (side, side, 4) and layer.dtype == np.uint8
    ys, xs = np.nonzero(layer[..., 3] > 64)
    assert height - 2 <= ys.max() - ys.min() <= height + brush + 4  # anti-aliased round caps
    digits = pp.canvas_to_mnist([layer])
    assert len(digits) == 1
    # the canvas path's 28x28 and the training render without distortion agree closely
    # (the render's pen is random, so the match is close, not exact), far closer than another digit's
    def corr(other):
        img = pen.canvas_sample(other, np.random.default_rng(1), strength=0.0).astype(np.float32) / 255
        return np.corrcoef(digits[0].image.ravel(), img.ravel())[0, 1]
    same, other = corr(d), corr(next(e for e in shipped if e.label == 1))
    assert same > 0.7 and same > other + 0.3, (same, other)


def test_distortion_changes_shape_but_keeps_unit_height(shipped):
    rng = np.random.default_rng(3)
    d = shipped[0]
    a = np.concatenate(pen.distort(d.strokes, rng, 1.0))
    b = np.concatenate(pen.distort(d.strokes, rng, 0.0))
    assert a.min(axis=0) == pytest.approx([0, 0], abs=1e-5) and a[:, 1].max() == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(a, b, atol=0.02)


def test_training_digits_look_like_mnist(shipped):
    x, y = pen.training_digits(shipped[:200], renders=2, seed=0)
    assert x.shape == (400, 28, 28) and x.dtype == np.uint8 and y.shape == (400,)
    assert list(y[:200]) == [d.label for d in shipped[:200]] == list(y[200:])
    # MNIST's normalisation: ink within the 20x20 box around the centre, border empty, mass near (14, 14)
    assert x[:, :3].max() == 0 or (x[:, :3] > 0).mean() < 0.01
    mass = x.astype(np.float32).sum(axis=(1, 2))
    cy = (x.astype(np.float32).sum(axis=2) * np.arange(28)).sum(axis=1) / mass
    assert abs(float(np.median(cy)) - 14.0) < 0.6
    assert not np.array_equal(x[:200], x[200:])  # each render is a different drawing


def test_training_set_is_cached(tmp_path):
    x1, y1, desc = pen.training_set(renders=1, seed=0, limit=50, cache=tmp_path)
    assert len(x1) == 50 and "pen digits" in desc
    cached = list(tmp_path.glob("pen-*.npz"))
    assert len(cached) == 1
    x2, y2, _ = pen.training_set(renders=1, seed=0, limit=50, cache=tmp_path)
    np.testing.assert_array_equal(x1, x2)
    cached[0].write_bytes(b"broken")  # a broken cache is drawn again, not an error
    x3, _, _ = pen.training_set(renders=1, seed=0, limit=50, cache=tmp_path)
    np.testing.assert_array_equal(x1, x3)


@pytest.mark.parametrize("label, scale, extra_stroke_share", [
    (7, 4.0, 1.0),    # 0.25 share x 4: every 7 crossed, the bar a stroke of its own
    (0, 0.0, 0.0),    # no conventions: as written
])
def test_written_redraws_in_a_convention_by_its_share(shipped, label, scale, extra_stroke_share):
    src = [d for d in shipped if d.label == label][:40]
    rng = np.random.default_rng(0)
    more = [len(pen.written(d, rng, scale)) > len(d.strokes) for d in src]
    assert np.mean(more) == pytest.approx(extra_stroke_share)


def test_conventions_off_leave_the_drawings_as_they_were(shipped):
    ones = [d for d in shipped if d.label == 1][:100]
    plain, _ = pen.training_digits(ones, renders=1, seed=3)
    again, _ = pen.training_digits(ones, renders=1, seed=3, conventions=0.0)
    np.testing.assert_array_equal(plain, again)  # 0 leaves the generator and the drawings untouched
    conv, _ = pen.training_digits(ones, renders=1, seed=3, conventions=1.0)
    assert not np.array_equal(plain, conv)


def test_the_cache_keeps_runs_with_and_without_conventions_apart(tmp_path):
    x0, _, d0 = pen.training_set(renders=1, seed=0, limit=60, cache=tmp_path)
    x1, _, d1 = pen.training_set(renders=1, seed=0, limit=60, cache=tmp_path, conventions=1.0)
    assert len(list(tmp_path.glob("pen-*.npz"))) == 2
    assert "conventions" in d1 and "conventions" not in d0
    assert not np.array_equal(x0, x1)
