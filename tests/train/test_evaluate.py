"""mnist_core.train.evaluate: metrics against hand-computed references, and PNG plots."""

import numpy as np
import pytest

from mnist_core.train.evaluate import metrics_from_probs, plot_confusion, plot_curves, plot_mistakes


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
