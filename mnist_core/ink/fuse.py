"""The image model's and the ink model's answers combined; strokes handed to the digits the segmenter finds.

Fusion reads the two models' log-probabilities, x = [log p_image, log p_ink] (20 numbers a digit):
- log-linear: fused ∝ p_image^w_image · p_ink^w_ink, the softmax of w_image·log p_image + w_ink·log p_ink
  (each weight one over a temperature; `calibrate`: the least NLL over a grid);
- learned (`Fusion.matrix`): the softmax of M·x + b, M (10, 20) started at and shrunk towards the log-linear
  weights (`calibrate_matrix`). It can learn what one weight pair cannot: that an image model sure of a 7 while
  the ink says 1 is the image model never having seen a continental 1, and not the other way round.
`choose_fusion` fits both on a calibration group (training writers the ink net never trained on, see
`fit.is_calibration`), scores them by cross-validation over whole writers, and keeps the one with the lower
held-out NLL: their digits drawn on the canvas as written and, in their shares and beyond, in the conventions of
`synth.CONVENTIONS`. Held-out writers, whose figures are reported, never take part.

`assign_strokes`: for several digits on one canvas, each stroke goes with the box that holds most of its points
(a box grown by `margin` of its size, so a stroke's end just outside still counts); a stroke in no box goes with
the box whose centre is nearest to its own. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6  # floor on probabilities before the log (an answer of exactly 0 must not veto)


@dataclass(frozen=True)
class Fusion:
    """How the two models' log-probabilities combine: weights (1.0, 1.0 is the plain product of their answers),
    and where calibrated, a learned (10, 20) matrix and (10,) bias that replace them."""

    w_image: float = 1.0  # weight of log p_image (1 / its temperature)
    w_ink: float = 1.0  # weight of log p_ink
    matrix: tuple | None = None  # 10 rows of 20: logits = matrix @ [log p_image, log p_ink] + bias; None: weights
    bias: tuple | None = None  # 10 numbers

    @classmethod
    def from_dict(cls, d: dict | None) -> "Fusion":
        """From a card's "fusion" (missing keys: the plain product; a malformed matrix is ignored)."""
        d = d or {}
        m, b = d.get("matrix"), d.get("bias")
        ok = (m is not None and b is not None and np.shape(m) == (10, 20) and np.shape(b) == (10,)
              and np.isfinite(m).all() and np.isfinite(b).all())
        return cls(float(d.get("w_image", 1.0)), float(d.get("w_ink", 1.0)),
                   tuple(tuple(float(v) for v in r) for r in m) if ok else None,
                   tuple(float(v) for v in b) if ok else None)

    def logits(self, li: np.ndarray, lk: np.ndarray) -> np.ndarray:
        """(N, 10) fused logits from (N, 10) log-probabilities of the image and the ink model."""
        if self.matrix is None:
            return self.w_image * li + self.w_ink * lk
        return np.concatenate([li, lk], axis=1) @ np.asarray(self.matrix).T + np.asarray(self.bias)

    def as_dict(self) -> dict:
        """JSON-ready: weights, and the matrix and bias as lists where learned."""
        d = {"w_image": self.w_image, "w_ink": self.w_ink}
        if self.matrix is not None:
            d.update(matrix=[list(r) for r in self.matrix], bias=list(self.bias))
        return d


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _logs(p_image: np.ndarray, p_ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.log(np.clip(np.asarray(p_image, np.float64), EPS, 1.0)),
            np.log(np.clip(np.asarray(p_ink, np.float64), EPS, 1.0)))


def fuse(p_image: np.ndarray, p_ink: np.ndarray | None, fusion: Fusion = Fusion()) -> np.ndarray:
    """(N, 10) probabilities of both models -> (N, 10) fused probabilities; p_ink None: the image's alone.
    Rows of p_ink that are NaN (a digit without ink) also keep the image model's answer."""
    p_image = np.asarray(p_image, np.float64)
    if p_ink is None:
        return p_image.astype(np.float32)
    p_ink = np.asarray(p_ink, np.float64)
    p = _softmax(fusion.logits(*_logs(p_image, np.nan_to_num(p_ink, nan=0.1))))
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
    li, lk = _logs(p_image, p_ink)
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


def calibrate_matrix(p_image: np.ndarray, p_ink: np.ndarray, labels: np.ndarray, start: Fusion,
                     shrink: float = 0.03, steps: int = 1500, lr: float = 0.05) -> Fusion:
    """A learned fusion: M (10, 20) and b (10,) minimising NLL + shrink·(|M - M0|² + |b|²), M0 the log-linear
    weights of `start` (a direction the calibration digits do not inform stays at the weights, and the bias, which
    would learn the calibration set's own mix of digits, stays near 0); full-batch Adam."""
    li, lk = _logs(p_image, p_ink)
    x, y = np.concatenate([li, lk], axis=1), np.eye(10)[np.asarray(labels)]  # (N, 20), (N, 10) one-hot
    m0 = np.concatenate([start.w_image * np.eye(10), start.w_ink * np.eye(10)], axis=1)
    theta = [m0.copy(), np.zeros(10)]
    moments = [[np.zeros_like(t), np.zeros_like(t)] for t in theta]
    for step in range(1, steps + 1):
        g = (_softmax(x @ theta[0].T + theta[1]) - y) / len(y)  # d NLL / d logits
        grads = [g.T @ x + 2 * shrink * (theta[0] - m0), g.sum(axis=0) + 2 * shrink * theta[1]]
        for t, gr, mv in zip(theta, grads, moments):
            mv[0] = 0.9 * mv[0] + 0.1 * gr
            mv[1] = 0.999 * mv[1] + 0.001 * gr * gr
            t -= lr * (mv[0] / (1 - 0.9 ** step)) / (np.sqrt(mv[1] / (1 - 0.999 ** step)) + 1e-8)
    return Fusion(start.w_image, start.w_ink, tuple(tuple(float(v) for v in r) for r in theta[0]),
                  tuple(float(v) for v in theta[1]))


def choose_fusion(p_image: np.ndarray, p_ink: np.ndarray, labels: np.ndarray, groups, folds: int = 5,
                  shrinks: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)) -> tuple[Fusion, dict]:
    """The log-linear weights or a learned matrix (at one of `shrinks`), whichever has the lower NLL when each
    fold of whole writers (`groups`, (N,) writer names) is read by a fusion fitted on the others; then refitted on
    all. Returns the fusion and the cross-validated NLL of every candidate."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    writers = np.unique(groups)
    fold_of = dict(zip(writers[np.random.default_rng(0).permutation(len(writers))], np.arange(len(writers)) % folds))
    fold = np.array([fold_of[g] for g in groups])
    candidates = ["weights"] + [f"matrix, shrink {k:g}" for k in shrinks]
    p = {name: np.zeros((len(labels), 10)) for name in candidates}
    for f in range(folds):
        out = fold == f
        if not (out.any() and (~out).any()):
            continue
        a, b, y = p_image[~out], p_ink[~out], labels[~out]
        w = calibrate(a, b, y)  # the fold's weights: a candidate, and where each matrix starts
        for name, fitted in zip(candidates, [w] + [calibrate_matrix(a, b, y, w, k) for k in shrinks]):
            p[name][out] = fuse(p_image[out], p_ink[out], fitted)
    scores = {name: nll(p[name], labels) for name in candidates}
    best = min(scores, key=scores.get)
    fusion = calibrate(p_image, p_ink, labels)
    if best != "weights":
        fusion = calibrate_matrix(p_image, p_ink, labels, fusion, shrinks[candidates.index(best) - 1])
    return fusion, {"method": best, "cv_nll": scores, "folds": folds}


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
                         per_convention: int = 300, draws: int = 2) -> dict:
    """Fit the fusion on calibration writers' digits (`choose_fusion`): each drawn `draws` times, as written or,
    in their shares, in a convention (`synth.with_conventions`), plus `per_convention` more of each convention
    (populations that use one write it far more often than the shares); `ink_predict` maps (N, points, C)
    features to (N, 10). Returns the fusion (`Fusion.as_dict`), how it was chosen, and the calibration group's
    accuracies (image, ink, fused)."""
    from mnist_core.ink import features as F
    from mnist_core.train import synth

    fs = feature_settings or F.FeatureSettings()
    rng = np.random.default_rng(seed)
    strokes, labels, writers = [], [], []
    for _ in range(draws):
        strokes += [synth.with_conventions(d.strokes, d.label, rng) for d in digits]
        labels += [d.label for d in digits]
        writers += [d.writer for d in digits]
    for c in synth.CONVENTIONS:
        if c.share == 0:  # a convention read, not taught (the reader's own doing): not calibrated on
            continue
        pool = [d for d in digits if d.label == c.label]
        for i in rng.integers(0, len(pool), per_convention if pool else 0):
            strokes.append(c.make(pool[int(i)].strokes, rng))
            labels.append(c.label)
            writers.append(pool[int(i)].writer)
    labels = np.array(labels)
    p_img = image_probs_on_canvas(strokes, rng, image_predict or default_image_predict())
    p_ink = np.asarray(ink_predict(F.batch_features(strokes, fs)))
    f, how = choose_fusion(p_img, p_ink, labels, writers)
    acc = lambda p: float((p.argmax(1) == labels).mean())  # noqa: E731
    return dict(f.as_dict(), **how, calibration_digits=len(labels), per_convention=per_convention, draws=draws,
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
    p_ink = ink_of_boxes(ink, [d.box for d in digits], reader)
    return reader.fuse(image_probs, p_ink), p_ink


def ink_of_boxes(ink, boxes, reader) -> np.ndarray:
    """(N, 10) the ink model's reading of the strokes in each box (`inks_for_boxes`); NaN rows for a box no stroke
    went with."""
    inks = inks_for_boxes(ink, boxes)
    p_ink = np.full((len(boxes), 10), np.nan, np.float32)
    have = [i for i, k in enumerate(inks) if k is not None]
    if have:
        p_ink[have] = reader.predict([inks[i] for i in have])
    return p_ink


def ink_for_reader(ink, reader):
    """For the number reader's digits where its count stands (`numbers.reader.read_numbers`' ``with_ink``): a
    function of (boxes, (n, 10) reader odds) -> the odds fused with the ink model's reading of the strokes in each
    box (by the ink card's fusion, the reader's odds in the image model's place); a box no stroke went with keeps
    the reader's odds."""

    def with_ink(boxes, odds: np.ndarray) -> np.ndarray:
        return reader.fuse(odds, ink_of_boxes(ink, boxes, reader))

    return with_ink
