"""Tests of mnist_core.digits.bitmap: small bitmaps (MNIST, USPS, icons) and tight crops from paper."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digit_inputs import assert_mnist_like, DIGIT, layer_with, mnist_test, needs_mnist, needs_usps, USPS
from mnist_core import digits as pp
from mnist_core.digits import ImageError


# ------------------------------------------------------------------------------------------------------------
# Bitmaps and MNIST itself
# ------------------------------------------------------------------------------------------------------------


@needs_mnist
def test_real_mnist_digits_pass_through_nearly_unchanged(mnist_test):
    x, _ = mnist_test
    diffs = np.array([np.abs(pp.photo_to_mnist(d)[0].image - d / 255.0).mean() for d in x])
    # Measured over these 1,000 test digits: mean 0.0006, 99th percentile 0.0018, worst 0.058 (a digit whose ink
    # box is 19 or 21 px is rescaled to 20). A digit shifted by one pixel would differ by about 0.1, one redrawn
    # at another size by more; the bounds leave ~3x headroom over what we measured.
    assert diffs.mean() < 0.002
    assert np.percentile(diffs, 99) < 0.006
    assert diffs.max() < 0.1


@needs_mnist
def test_inverted_mnist_bitmaps_are_read_as_dark_ink(mnist_test):
    x, _ = mnist_test
    for d in x[:100]:
        got = pp.photo_to_mnist(255 - d)  # dark ink on white paper
        assert len(got) == 1 and np.abs(got[0].image - d / 255.0).mean() < 0.01


@needs_mnist
@pytest.mark.parametrize("side", [16, 32, 64])
def test_small_bitmaps_come_out_as_mnist_made_them(mnist_test, side):
    x, _ = mnist_test
    diffs = []
    for d in x[:200]:
        small = cv2.resize(d, (side, side), interpolation=cv2.INTER_AREA if side < 28 else cv2.INTER_LINEAR)
        (digit,) = pp.photo_to_mnist(small)
        assert_mnist_like(digit.image)
        diffs.append(np.abs(digit.image - d / 255.0).mean())
    # Resampling twice (28 -> side -> 20-px box) blurs the edges: measured over 1,000 digits the mean difference
    # is 0.062 (16 px), 0.043 (32 px), 0.037 (64 px); a digit misplaced by one pixel or wrongly scaled would
    # differ by 0.1 or more.
    assert np.mean(diffs) < {16: 0.075, 32: 0.055, 64: 0.05}[side]


@needs_usps
def test_usps_bitmaps_are_normalised(mnist_test):
    u = np.load(USPS)
    for d in u["images"][:50]:
        (digit,) = pp.photo_to_mnist(d)
        assert_mnist_like(digit.image)
        assert digit.box[2] <= 16 and digit.box[3] <= 16


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a,
        lambda a: a.astype(np.uint16) * 257,
        lambda a: a.astype(np.float32) / 255,
        lambda a: a.astype(np.float64),
        lambda a: np.repeat(a[..., None], 3, axis=2),
        lambda a: np.concatenate([np.repeat(a[..., None], 3, axis=2), np.full(a.shape + (1,), 255, np.uint8)], 2),
    ],
    ids=["uint8", "uint16", "float-0-1", "float-0-255", "rgb", "rgba-opaque"],
)
def test_any_dtype_and_channels_give_the_same_digit(convert):
    ref = pp.photo_to_mnist(DIGIT)[0].image
    got = pp.photo_to_mnist(convert(DIGIT))
    assert len(got) == 1 and np.abs(got[0].image - ref).mean() < 0.005


@pytest.mark.parametrize("scale", [1.0, 1 / 255], ids=["float-0-255", "float-0-1"])
def test_float_canvas_layers_read_like_uint8(scale):
    layer = layer_with("6")
    ref = pp.canvas_to_mnist([layer])[0].image
    got = pp.canvas_to_mnist([layer.astype(np.float32) * np.float32(scale)])
    assert len(got) == 1 and np.abs(got[0].image - ref).mean() < 0.01


def test_transparent_png_digit_uses_its_alpha():
    rgba = np.zeros((40, 40, 4), np.uint8)  # black strokes on transparent: the RGB alone is all black
    rgba[..., 3] = DIGIT
    got = pp.photo_to_mnist(rgba)
    assert len(got) == 1 and np.abs(got[0].image - pp.photo_to_mnist(DIGIT)[0].image).mean() < 0.01




# ------------------------------------------------------------------------------------------------------------
# Tight crops from forms and cheques: the small-image path on paper
# ------------------------------------------------------------------------------------------------------------


def _line_of(text: str, gap: int, pattern: bool, ruled: bool, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """Dark digits written close together on grey paper (pattern, ruled line, noise) -> (grey uint8, the x
    boundaries of each digit's ink)."""
    rng = np.random.default_rng(seed)
    ink = np.zeros((90, 40 + 45 * len(text)), np.uint8)
    bounds, x = [], 20
    for ch in text:
        glyph = np.zeros((90, 60), np.uint8)
        cv2.putText(glyph, ch, (5, 70), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 255, 6, cv2.LINE_AA)
        xs = np.nonzero(glyph.any(axis=0))[0]
        glyph = glyph[:, xs.min():xs.max() + 1]
        w = glyph.shape[1]
        np.maximum(ink[:, x:x + w], glyph, out=ink[:, x:x + w])
        bounds.append((x, x + w))
        x += w + gap
    yy, xx = np.mgrid[0:ink.shape[0], 0:ink.shape[1]].astype(np.float32)
    paper = np.full(ink.shape, 205.0, np.float32)
    if pattern:
        paper -= 22 * (0.5 + 0.5 * np.sin(0.35 * xx + 2 * np.sin(0.07 * yy)))
    if ruled:
        cv2.line(paper, (0, 74), (ink.shape[1] - 1, 74), 110.0, 1)
    img = paper * (1 - ink / 255.0) + 40.0 * (ink / 255.0) + rng.normal(0, 4, ink.shape)
    return np.clip(img, 0, 255).astype(np.uint8), bounds


def _clean(ch: str) -> np.ndarray:
    """The same glyph alone, white on black, as MNIST normalises it."""
    glyph = np.zeros((90, 60), np.uint8)
    cv2.putText(glyph, ch, (5, 70), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 255, 6, cv2.LINE_AA)
    return pp.normalize_digit(glyph, adjust_stroke=True)


@pytest.mark.parametrize("text,target,gap,pattern,ruled,floor", [
    ("385", 1, 2, False, False, 0.8),    # apart, plain paper: the fragments go
    ("385", 1, 3, True, True, 0.8),      # apart, patterned paper, a ruled line through the digits
    ("702", 1, 4, True, False, 0.8),
    ("146", 1, 3, False, True, 0.8),
    # Touching neighbours stay joined to the digit (no cut at a joint yet): never worse than before, and the
    # model is trained on such crops (TrainSettings.pen_crops).
    ("385", 1, -4, True, True, None),
])
def test_a_tight_crop_keeps_its_digit_and_drops_the_neighbours(text, target, gap, pattern, ruled, floor):
    img, bounds = _line_of(text, gap, pattern, ruled)
    x0, x1 = bounds[target]
    crop = img[8:84, max(0, x0 - 9):x1 + 9]  # the form box: a little of each neighbour comes in
    crop = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)  # ~38 px tall, as scanned
    got = pp.photo_to_mnist(crop)
    assert len(got) == 1
    ref = _clean(text[target])
    ours = np.corrcoef(got[0].image.ravel(), ref.ravel())[0, 1]
    # The bitmap path without the crop's paper and neighbour handling, for comparison.
    plain = pp.photo_to_mnist(crop, pp.PreprocessSettings(bitmap_clean_share=0.0))[0].image
    before = np.corrcoef(plain.ravel(), ref.ravel())[0, 1]
    assert ours > before - 0.02, (ours, before)
    if floor is not None:
        assert ours > floor and ours > before + 0.1, (ours, before)


@pytest.mark.parametrize("h,w", [(16, 3), (24, 5), (40, 7)])
def test_a_tight_crop_of_a_one_is_read_not_refused(h, w):
    crop = np.full((h, w), 220, np.uint8)
    crop[1:-1, w // 2 - (1 if w > 4 else 0): w // 2 + 1] = 30
    crop += np.random.default_rng(0).integers(0, 6, crop.shape, dtype=np.uint8)
    got = pp.photo_to_mnist(crop)
    assert len(got) == 1
    img = got[0].image
    ys, xs = np.nonzero(img > 0.3)
    assert ys.max() - ys.min() >= 18 and xs.max() - xs.min() <= 6  # a tall, thin stroke: a 1


@pytest.mark.parametrize("shape", [(5, 100), (7, 7), (20, 2)])
def test_too_small_for_any_digit(shape):
    with pytest.raises(ImageError, match="too small"):
        pp.photo_to_mnist(np.zeros(shape, np.uint8))


@needs_mnist
@pytest.mark.parametrize("first_clear", [False, True])
def test_a_tight_crop_of_a_number_keeps_the_digits_touching_its_edges(mnist_test, first_clear):
    # A cheque's amount cut tightly: grey paper, digits spanning its height, the first and last on its edges.
    x, y = mnist_test
    digits = [x[i][3:25] for i in range(5)]  # 22 rows: the digits' ink reaches the strip's top and bottom
    strip = np.concatenate([np.pad(d, ((0, 0), (1, 1))) for d in digits], axis=1)[:, 3:-3]
    if first_clear:  # one digit clear of the frame: the others, touching it, must stay too
        strip[:, :20] = 0
        strip[2:20, 2:18] = x[1][6:24, 6:22]  # the middle of a 2: clear of the strip's edges
    paper = (200 - 0.7 * strip.astype(np.float32)).clip(0, 255).astype(np.uint8)
    paper = cv2.resize(paper, None, fx=1.6, fy=1.6, interpolation=cv2.INTER_LINEAR)  # ~35 x 170 px
    got = pp.photo_to_mnist(paper)
    assert len(got) >= 4, [d.box for d in got]
    assert min(d.box[0] for d in got) < 12 and max(d.box[2] for d in got) > paper.shape[1] - 12
