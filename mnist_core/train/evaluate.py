"""Accuracy, per-class precision and recall, confusion matrix and the worst mistakes, as data, each figure with the
name of the test set it was measured on; an accuracy's interval over writers (`writer_interval`); and the same
drawn to PNG on request (matplotlib, imported only then)."""

from __future__ import annotations

import io
from typing import Callable

import numpy as np


def metrics_from_probs(probs: np.ndarray, labels: np.ndarray, worst: int = 16) -> dict:
    """Metrics of (N, 10) probabilities against (N,) labels, JSON-ready."""
    labels = np.asarray(labels, dtype=np.int64)
    pred = probs.argmax(1)
    confusion = np.zeros((10, 10), np.int64)  # rows: true digit, columns: predicted
    np.add.at(confusion, (labels, pred), 1)
    per_class = []
    for d in range(10):
        tp = int(confusion[d, d])
        support, predicted = int(confusion[d].sum()), int(confusion[:, d].sum())
        per_class.append({
            "digit": d,
            "precision": tp / predicted if predicted else 0.0,
            "recall": tp / support if support else 0.0,
            "support": support,
        })
    wrong = np.flatnonzero(pred != labels)
    # Worst: wrong answers given with the most confidence.
    order = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:worst]
    eps = 1e-7
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else 0.0,
        "loss": float(-np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1.0)).mean()) if len(labels) else 0.0,
        "count": int(len(labels)),
        "errors": int(len(wrong)),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "worst": [{"index": int(i), "label": int(labels[i]), "predicted": int(pred[i]),
                   "confidence": float(probs[i, pred[i]])} for i in order],
    }


def writer_interval(scores: np.ndarray, writers, level: float = 0.95, draws: int = 2000,
                    seed: int = 0) -> tuple[float, float]:
    """The interval over writers of a mean per-digit score: a bootstrap that resamples whole writers, not digits.

    A writer's digits succeed or fail together (one writer's flagged 1s can be a third of a set's misreads), so
    an interval that treats digits as independent is too narrow. ``scores`` (N,): bool for an accuracy, or the
    difference of two readers' bool arrays (in [-1, 1]) for a paired change; ``writers`` (N,) names. Returns the
    (1 - level) / 2 and (1 + level) / 2 quantiles of the resampled means."""
    scores = np.asarray(scores, np.float64)
    if not len(scores):
        return float("nan"), float("nan")
    _, who = np.unique(np.asarray(writers), return_inverse=True)
    total = np.bincount(who, weights=scores)  # (W,) each writer's summed score
    count = np.bincount(who).astype(np.float64)  # (W,) each writer's digits
    picks = np.random.default_rng(seed).integers(0, len(count), (draws, len(count)))
    mean = total[picks].sum(axis=1) / count[picks].sum(axis=1)  # (draws,) a resampled set's mean each
    return float(np.quantile(mean, (1 - level) / 2)), float(np.quantile(mean, (1 + level) / 2))


def evaluate(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray,
             batch: int = 2000, worst: int = 16, test_set: dict | None = None) -> dict:
    """Run `predict` ((N, 28, 28, 1) float32 -> (N, 10)) over `images` in batches and return metrics; ``test_set``
    (MnistData.test_card(): key, name, count) is kept in them as "test_set", so the figure names its digits."""
    from mnist_core.train.data import to_model_input  # noqa: PLC0415

    x = to_model_input(images)
    probs = np.concatenate([predict(x[i:i + batch]) for i in range(0, len(x), batch)]) if len(x) else np.zeros((0, 10))
    metrics = metrics_from_probs(probs, labels, worst)
    if test_set is not None:
        metrics["test_set"] = dict(test_set)
    return metrics


def evaluate_data(predict: Callable[[np.ndarray], np.ndarray], data) -> dict:
    """Metrics of `predict` on ``data``'s (MnistData) test set, which they name."""
    return evaluate(predict, data.x_test, data.y_test, test_set=data.test_card())


def other_tests(predict: Callable[[np.ndarray], np.ndarray], data) -> dict[str, dict]:
    """Figures on the fair test sets other than ``data``'s own (the shipped held-out pen writers, when the test set
    is MNIST's), {key: {"name", "count", "accuracy", "errors"}}: so that cards can be compared offline too."""
    from mnist_core.train.data import PEN_HELD_OUT, name_of_test_set  # noqa: PLC0415
    from mnist_core.train.heldout import load_pen_test  # noqa: PLC0415

    pen = load_pen_test() if data.test_set != PEN_HELD_OUT else None
    if pen is None:
        return {}
    m = evaluate(predict, *pen, worst=0)
    return {PEN_HELD_OUT: {"name": name_of_test_set(PEN_HELD_OUT, m["count"]), "count": m["count"],
                           "accuracy": m["accuracy"], "errors": m["errors"]}}


def card_tests(card: dict) -> dict[str, dict]:
    """Every figure a model card holds, by test set: {key: {"name", "count", "accuracy"}}.

    New cards name their test set (metrics["test_set"]) and keep figures on other sets ("tests"). An older card's
    test set is told from its data: MNIST's test split, or with the offline subset ("subset": true) 1,000 of the
    subset's own digits, MNIST training digits that the shipped model learned: key "offline_subset", never a fair
    comparison with it.
    """
    from mnist_core.train.data import MNIST_TEST  # noqa: PLC0415

    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}
    out = {}
    acc = metrics.get("accuracy")
    if isinstance(acc, (int, float)):
        named = metrics.get("test_set") if isinstance(metrics.get("test_set"), dict) else None
        data = card.get("data") if isinstance(card.get("data"), dict) else {}
        count = int(metrics.get("count") or data.get("test_size") or 0)
        if named and named.get("key"):
            key, name = str(named["key"]), str(named.get("name") or named["key"])
        elif data.get("subset"):
            key, name = "offline_subset", (f"the offline MNIST subset's own {count:,} digits (MNIST training digits: "
                                           "not a fair test)")
        else:
            key, name = MNIST_TEST, f"MNIST test ({count:,} digits)"
        out[key] = {"name": name, "count": count, "accuracy": float(acc)}
    for key, t in (card.get("tests") or {}).items():
        if isinstance(t, dict) and isinstance(t.get("accuracy"), (int, float)) and key not in out:
            out[str(key)] = {"name": str(t.get("name") or key), "count": int(t.get("count") or 0),
                             "accuracy": float(t["accuracy"])}
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    plt.close(fig)
    return buf.getvalue()


def _pyplot():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # no screen on a server
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def plot_curves(history: dict[str, list[float]]) -> bytes:
    """Loss and accuracy per epoch, training and validation, as PNG bytes."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, title in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            ys = history.get(prefix + key) or []
            if ys:
                ax.plot(range(1, len(ys) + 1), ys, style, label=("validation " if prefix else "training ") + key)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    return _png(fig)


def plot_confusion(confusion: list[list[int]]) -> bytes:
    """The 10x10 confusion matrix (rows true, columns predicted) as PNG bytes."""
    plt = _pyplot()
    cm = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    # Log scale so a handful of errors shows beside a thousand correct answers.
    ax.imshow(np.log1p(cm), cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if i == j else ("crimson" if v else "black"))
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix")
    return _png(fig)


def plot_mistakes(images: np.ndarray, worst: list[dict], columns: int = 8) -> bytes:
    """The worst mistakes as a grid of digits titled 'true→predicted (confidence)', PNG bytes."""
    plt = _pyplot()
    n = max(1, len(worst))
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, w in zip(axes.flat, worst):
        ax.imshow(np.asarray(images[w["index"]]).reshape(28, 28), cmap="gray", interpolation="nearest")
        ax.set_title(f"{w['label']}→{w['predicted']} ({w['confidence']:.0%})", fontsize=8)
    if not worst:
        axes.flat[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    return _png(fig)
