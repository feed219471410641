"""Tests of mnist_core.digits.normalise and results: the 20-px box, centre of mass, batches."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core import digits as pp
from mnist_core.digits import Digit


# ------------------------------------------------------------------------------------------------------------
# Small pieces
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(200, 50), (50, 200), (7, 7), (300, 300)], ids=str)
def test_normalize_digit_fits_20_box_and_centres_mass(shape):
    ink = np.zeros((shape[0] + 20, shape[1] + 20), np.float32)
    ink[10 : 10 + shape[0], 10 : 10 + shape[1]] = 1.0
    img = pp.normalize_digit(ink)
    assert img.shape == (28, 28) and img.dtype == np.float32
    ys, xs = np.nonzero(img > 0.01)
    assert max(np.ptp(ys), np.ptp(xs)) + 1 == 20
    m = img.sum()
    assert abs((img.sum(1) * np.arange(28)).sum() / m - 14) <= 0.5
    assert abs((img.sum(0) * np.arange(28)).sum() / m - 14) <= 0.5


def test_normalize_digit_of_nothing_is_blank():
    assert not pp.normalize_digit(np.zeros((50, 50), np.float32)).any()


def test_most_prominent_and_batch():
    a = Digit(np.zeros((28, 28), np.float32), (0, 0, 10, 40))
    b = Digit(np.ones((28, 28), np.float32), (20, 0, 60, 100))
    assert pp.most_prominent([]) is None
    assert pp.most_prominent([a, b]) == 1 and pp.most_prominent([b, a]) == 0
    batch = pp.to_model_batch([a, b])
    assert batch.shape == (2, 28, 28, 1) and batch.dtype == np.float32 and batch[1].min() == 1.0
    empty = pp.to_model_batch([])
    assert empty.shape == (0, 28, 28, 1) and empty.dtype == np.float32
