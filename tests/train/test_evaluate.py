"""mnist_core.train.evaluate: metrics against hand-computed references, and PNG plots."""

import numpy as np
import pytest

from mnist_core.train.evaluate import (metrics_from_probs, plot_confusion, plot_curves, plot_mistakes,
                                      writer_interval)


def _onehot(pred, conf=0.9):
    p = np.full((len(pred), 10), (1 - conf) / 9, np.float32)
    p[np.arange(len(pred)), pred] = conf
    return p


def test_metrics_reference():
    labels = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    probs = _onehot(pred)
    probs[5] = _onehot([0], 0.99)[0]  # the most confident mistake
    m = metrics_from_probs(probs, labels)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["errors"] == 2 and m["count"] == 6
    assert m["confusion"][0] == [1, 1] + [0] * 8 and m["confusion"][2][0] == 1
    pc = {c["digit"]: c for c in m["per_class"]}
    assert pc[1]["precision"] == pytest.approx(2 / 3) and pc[1]["recall"] == 1.0
    assert pc[0]["precision"] == pytest.approx(1 / 2) and pc[0]["recall"] == pytest.approx(1 / 2)
    assert [w["index"] for w in m["worst"]] == [5, 1]
    assert m["worst"][0] == {"index": 5, "label": 2, "predicted": 0, "confidence": pytest.approx(0.99)}


@pytest.mark.parametrize("draw", [
    lambda: plot_curves({"loss": [1.0, 0.5], "accuracy": [0.7, 0.9], "val_loss": [0.8, 0.4], "val_accuracy": [0.8, 0.95]}),
    lambda: plot_confusion(np.eye(10, dtype=int).tolist()),
    lambda: plot_mistakes(np.zeros((3, 28, 28)), [{"index": 1, "label": 3, "predicted": 5, "confidence": 0.8}]),
    lambda: plot_mistakes(np.zeros((3, 28, 28)), []),
])
def test_plots_are_png(draw):
    png = draw()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


# --- every figure names its test set ---------------------------------------------------------------------------


def test_evaluate_names_the_test_set_it_measured():
    from mnist_core.train.evaluate import evaluate_data
    from mnist_core.train.data import PEN_HELD_OUT, MnistData

    x = np.zeros((4, 28, 28), np.uint8)
    y = np.array([3, 3, 1, 3], np.uint8)
    data = MnistData(x, y, x, y, "fake", subset=True, test_set=PEN_HELD_OUT)
    m = evaluate_data(lambda b: _onehot(np.full(len(b), 3)), data)
    assert m["accuracy"] == pytest.approx(0.75)
    name = "held-out pen writers (4 digits, never trained on)"
    assert m["test_set"] == {"key": PEN_HELD_OUT, "name": name, "count": 4}


def test_other_tests_add_the_held_out_pen_writers_to_an_mnist_run_only():
    from mnist_core.train.data import MNIST_TEST, PEN_HELD_OUT, MnistData
    from mnist_core.train.evaluate import other_tests

    x = np.zeros((2, 28, 28), np.uint8)
    y = np.zeros(2, np.uint8)
    always_0 = lambda b: _onehot(np.zeros(len(b), int))  # noqa: E731
    extra = other_tests(always_0, MnistData(x, y, x, y, "fake", test_set=MNIST_TEST))
    assert list(extra) == [PEN_HELD_OUT] and extra[PEN_HELD_OUT]["count"] == 5963
    assert 0.05 < extra[PEN_HELD_OUT]["accuracy"] < 0.15  # the zeros among all ten digits
    assert other_tests(always_0, MnistData(x, y, x, y, "fake", test_set=PEN_HELD_OUT)) == {}


MNIST_NAMED = {"key": "mnist_test", "name": "MNIST test (10,000 digits)", "count": 10000}


@pytest.mark.parametrize("card, expected", [
    # A new card: its own figure's set named, the held-out pen writers beside it.
    ({"metrics": {"accuracy": 0.99, "count": 10000, "test_set": MNIST_NAMED},
      "tests": {"pen_held_out": {"name": "held-out pen writers (5,963 digits, never trained on)", "count": 5963,
                                 "accuracy": 0.98}}},
     {"mnist_test": ("MNIST test (10,000 digits)", 0.99), "pen_held_out": ("held-out pen writers (5,963 digits, "
                                                                           "never trained on)", 0.98)}),
    # An older card trained on the full MNIST: MNIST's test set.
    ({"metrics": {"accuracy": 0.9964, "count": 10000}, "data": {"subset": False, "test_size": 10000}},
     {"mnist_test": ("MNIST test (10,000 digits)", 0.9964)}),
    # An older offline card: its figure was on the subset's own MNIST training digits: named as unfair.
    ({"metrics": {"accuracy": 0.989, "count": 1000}, "data": {"subset": True, "test_size": 1000}},
     {"offline_subset": ("the offline MNIST subset's own 1,000 digits (MNIST training digits: not a fair test)",
                         0.989)}),
    ({}, {}),
    ({"metrics": {"accuracy": None}}, {}),
])
def test_card_tests_name_every_figure(card, expected):
    from mnist_core.train.evaluate import card_tests

    got = card_tests(card)
    assert {k: (v["name"], v["accuracy"]) for k, v in got.items()} == expected
    assert list(got) == list(expected)  # the card's own test set first


def _writers(n_writers: int, per: int) -> np.ndarray:
    return np.repeat([f"w{i}" for i in range(n_writers)], per)


@pytest.mark.parametrize("correct, writers, expected", [
    (np.ones(40, bool), _writers(4, 10), (1.0, 1.0)),                  # nothing wrong: no doubt
    (np.zeros(40, bool), _writers(4, 10), (0.0, 0.0)),
    (np.tile([True] * 19 + [False], 20), _writers(20, 20), (0.95, 0.95)),  # one miss per writer: every resample 95%
    (np.repeat([True, False], 10), _writers(2, 10), (0.0, 1.0)),      # two writers, one all wrong: 0, 50 or 100%
])
def test_writer_interval_references(correct, writers, expected):
    assert writer_interval(correct, writers) == pytest.approx(expected)


def test_misses_of_one_writer_widen_the_interval_around_the_same_accuracy():
    writers = _writers(20, 20)
    clustered = np.ones(400, bool)
    clustered[:20] = False  # one writer's 20 digits all wrong: 95%, like one miss in each writer's 20
    lo, hi = writer_interval(clustered, writers)
    assert lo < 0.93 < 0.95 < hi <= 1.0
    assert writer_interval(clustered, writers, seed=3) == writer_interval(clustered, writers, seed=3)
    assert writer_interval(clustered, writers, level=0.5)[0] > lo  # a lower level, a narrower interval


def test_a_paired_change_is_the_interval_of_the_differences():
    writers = _writers(10, 10)
    a = np.ones(100, bool)
    b = a.copy()
    b[:10] = False  # the second reader loses one writer's ten digits, gains nothing
    lo, hi = writer_interval(b.astype(float) - a, writers)
    assert lo < -0.05 and hi == pytest.approx(0.0)  # a loss, but one writer's: the interval reaches no change
    assert writer_interval(a.astype(float) - a, writers) == pytest.approx((0.0, 0.0))
