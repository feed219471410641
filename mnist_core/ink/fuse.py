"""The image model's and the ink model's answers combined; strokes handed to the digits the segmenter finds.

Fusion is log-linear: fused ∝ p_image^w_image · p_ink^w_ink (each weight is one over a temperature), i.e. the
softmax of w_image·log p_image + w_ink·log p_ink. The two weights are fitted on a calibration group (training
writers the ink net never trained on, see `fit.is_calibration`) by the least negative log-likelihood over a
grid (`calibrate`), their digits drawn on the canvas as written and, in their shares, in the conventions of
`synth.CONVENTIONS`. Held-out writers, whose figures are reported, never take part.

`assign_strokes`: for several digits on one canvas, each stroke goes with the box that holds most of its points
(a box grown by `margin` of its size, so a stroke's end just outside still counts); a stroke in no box goes with
the box whose centre is nearest to its own. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

EPS = 1e-6  # floor on probabilities before the log (an answer of exactly 0 must not veto)


@dataclass(frozen=True)
class Fusion:
    """Weights of the two models' log-probabilities (1.0, 1.0 is the plain product of their answers)."""

    w_image: float = 1.0  # weight of log p_image (1 / its temperature)
    w_ink: float = 1.0  # weight of log p_ink


def fuse(p_image: np.ndarray, p_ink: np.ndarray | None, fusion: Fusion = Fusion()) -> np.ndarray:
    """(N, 10) probabilities of both models -> (N, 10) fused probabilities; p_ink None: the image's alone.
    Rows of p_ink that are NaN (a digit without ink) also keep the image model's answer."""
    p_image = np.asarray(p_image, np.float64)
    if p_ink is None:
        return p_image.astype(np.float32)
    p_ink = np.asarray(p_ink, np.float64)
    ink = np.nan_to_num(p_ink, nan=0.1)
    z = fusion.w_image * np.log(np.clip(p_image, EPS, 1.0)) + fusion.w_ink * np.log(np.clip(ink, EPS, 1.0))
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    missing = np.isnan(p_ink).any(axis=1)
    p[missing] = p_image[missing]
    return p.astype(np.float32)


def nll(p: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    return float(-np.log(np.clip(p[np.arange(len(labels)), labels], EPS, 1.0)).mean())


def calibrate(p_image: np.ndarray, p_ink: np.ndarray, labels: np.ndarray,
              grid: np.ndarray = np.round(np.arange(0.1, 2.01, 0.1), 2)) -> Fusion:
    """The weights on `grid` x `grid` with the least NLL on the calibration digits (ties: the first found)."""
    labels = np.asarray(labels)
    li, lk = np.log(np.clip(p_image, EPS, 1)), np.log(np.clip(p_ink, EPS, 1))
    best, arg = np.inf, (1.0, 1.0)
    for a in grid:
        for b in grid:
            z = a * li + b * lk
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            v = float(-logp[np.arange(len(labels)), labels].mean())
            if v < best - 1e-9:
                best, arg = v, (float(a), float(b))
    return Fusion(*arg)


def _canvas_path():
    """(canvas_to_mnist, most_prominent) from the digits package (or its older single preprocess module)."""
    try:
        from mnist_core.digits import canvas_to_mnist, most_prominent
    except ImportError:
        from mnist_core.digits.preprocess import canvas_to_mnist, most_prominent
    return canvas_to_mnist, most_prominent


def image_probs_on_canvas(strokes_list, rng: np.random.Generator, predict) -> np.ndarray:
    """Each digit's strokes drawn on the 400x400 canvas (pen.draw_layer) and read through the canvas path by
    `predict` ((N, 28, 28, 1) -> (N, 10)); a canvas where no digit is found gets a uniform answer."""
    from mnist_core import digits as pp
    from mnist_core.train import pen

    images, found = [], []
    for s in strokes_list:
        digits = pp.canvas_to_mnist([pen.draw_layer(s, rng)])
        i = pp.most_prominent(digits)
        found.append(i is not None)
        images.append(digits[i].image if i is not None else np.zeros((28, 28), np.float32))
    p = np.full((len(images), 10), 0.1, np.float32)
    ok = np.array(found, bool)
    if ok.any():
        p[ok] = predict(np.stack([im for im, f in zip(images, found) if f]).astype(np.float32)[..., None])
    return p


def default_image_predict():
    """The shipped image model (models/default.tflite) through LiteRT: (N, 28, 28, 1) -> (N, 10)."""
    from mnist_core.config import PROJECT_ROOT
    from mnist_core.digits.recognize import LiteFunction

    return LiteFunction(content=(PROJECT_ROOT / "models" / "default.tflite").read_bytes())


def calibrate_on_writers(ink_predict, digits, feature_settings=None, seed: int = 7, image_predict=None,
                         per_convention: int = 100) -> dict:
    """Fit the fusion on calibration writers' digits: each as written and, in their shares, in a convention
    (`synth.with_conventions`), plus `per_convention` more of each convention (populations that use one write
    it far more often than the shares); `ink_predict` maps (N, points, C) features to (N, 10). Returns the
    weights and the calibration group's accuracies (image, ink, fused)."""
    from mnist_core.ink import features as F
    from mnist_core.train import synth

    fs = feature_settings or F.FeatureSettings()
    rng = np.random.default_rng(seed)
    strokes = [synth.with_conventions(d.strokes, d.label, rng) for d in digits]
    labels = [d.label for d in digits]
    for c in synth.CONVENTIONS:
        pool = [d for d in digits if d.label == c.label]
        for i in rng.integers(0, len(pool), per_convention if pool else 0):
            strokes.append(c.make(pool[int(i)].strokes, rng))
            labels.append(c.label)
    labels = np.array(labels)
    p_img = image_probs_on_canvas(strokes, rng, image_predict or default_image_predict())
    p_ink = np.asarray(ink_predict(F.batch_features(strokes, fs)))
    f = calibrate(p_img, p_ink, labels)
    acc = lambda p: float((p.argmax(1) == labels).mean())  # noqa: E731
    return dict(asdict(f), calibration_digits=len(labels), per_convention=per_convention,
                image_accuracy=acc(p_img), ink_accuracy=acc(p_ink),
                fused_accuracy=acc(fuse(p_img, p_ink, f)), fused_nll=nll(fuse(p_img, p_ink, f), labels),
                seed=seed)


# ----------------------------------------------------------------------------------------------------------
# Several digits on one canvas
# ----------------------------------------------------------------------------------------------------------


def assign_strokes(strokes, boxes, margin: float = 0.15) -> list[list[int]]:
    """For each box (x0, y0, x1, y1, in the strokes' pixel units), the indices of the strokes that go with it:
    a stroke goes with the box holding most of its points (boxes grown by `margin` of their size; ties to the
    earlier box), else with the box whose centre is nearest to the stroke's."""
    out: list[list[int]] = [[] for _ in boxes]
    if not len(boxes):
        return out
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    size = np.maximum(b[:, 2:] - b[:, :2], 1.0)
    lo, hi = b[:, :2] - margin * size, b[:, 2:] + margin * size
    centres = (b[:, :2] + b[:, 2:]) / 2
    for i, s in enumerate(strokes):
        p = np.asarray(s, np.float64)[:, :2]
        inside = ((p[:, None, :] >= lo[None]) & (p[:, None, :] <= hi[None])).all(axis=2).sum(axis=0)  # (boxes,)
        if inside.max() > 0:
            k = int(np.argmax(inside))
        else:
            k = int(np.argmin(((centres - p.mean(axis=0)) ** 2).sum(axis=1)))
        out[k].append(i)
    return out


def inks_for_boxes(ink, boxes, margin: float = 0.15) -> list:
    """Each box's own `Ink` (its strokes in drawing order), or None for a box no stroke went with."""
    from mnist_core.ink.format import Ink

    groups = assign_strokes(ink.strokes, boxes, margin)
    return [Ink(tuple(ink.strokes[i] for i in g), ink.timed) if g else None for g in groups]


def read_digits(digits, ink, image_probs: np.ndarray, reader) -> tuple[np.ndarray, np.ndarray]:
    """(fused, ink) (N, 10) for digits the image model read as ``image_probs``, their strokes taken from ``ink`` by
    box (`inks_for_boxes`) and read by ``reader`` (an InkReader); a digit no stroke went with keeps the image
    model's answer and gets a NaN ink row."""
    inks = inks_for_boxes(ink, [d.box for d in digits])
    p_ink = np.full((len(digits), 10), np.nan, np.float32)
    have = [i for i, k in enumerate(inks) if k is not None]
    if have:
        p_ink[have] = reader.predict([inks[i] for i in have])
    return reader.fuse(image_probs, p_ink), p_ink
