"""Cheap batched augmentation as TensorFlow ops: small rotations, shifts, zoom, shear
and stroke thickness, one random transform per digit, applied to whole batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentSettings:
    """Ranges of the random distortions; MNIST digits are centred by mass, so keep them small."""

    # Maximum rotation either way, in degrees (handwriting slants about this much).
    rotation_deg: float = 12.0
    # Maximum shift either way, in pixels of the 28x28 image.
    shift_px: float = 2.0
    # Zoom factor range around 1 (MNIST's 20x20 box varies about this much).
    zoom: float = 0.12
    # Maximum shear (slant) either way, as a fraction.
    shear: float = 0.15
    # Aspect squeeze or stretch: the width scaled by exp(+-aspect) beside the zoom. Other populations write
    # narrower or wider than MNIST's writers, and scans stretched to fill their frame (USPS) are wider.
    aspect: float = 0.25
    # Share of digits made bolder (2x2 max filter) and thinner (2x2 min filter).
    thicken: float = 0.2
    thin: float = 0.15


def _transforms(n, settings: AugmentSettings, seed) -> tf.Tensor:
    """(n, 8) projective transforms mapping output to input pixels, about the image centre."""
    seeds = tf.random.experimental.stateless_split(seed, 6)
    u = lambda i, lo, hi: tf.random.stateless_uniform([n], seeds[i], lo, hi)  # noqa: E731
    angle = u(0, -1.0, 1.0) * (settings.rotation_deg * math.pi / 180.0)
    scale = 1.0 + u(1, -settings.zoom, settings.zoom)
    shear = u(2, -settings.shear, settings.shear)
    tx = u(3, -settings.shift_px, settings.shift_px)
    ty = u(4, -settings.shift_px, settings.shift_px)
    sx = tf.exp(u(5, -settings.aspect, settings.aspect))  # the width's own scale
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # Inverse map: input = A @ (output - c) + c - t, with A = rotation * shear / zoom, columns for x over sx.
    a0, a1 = cos / sx, -sin + cos * shear
    b0, b1 = sin / sx, cos + sin * shear
    c = 13.5
    a2 = c - a0 * c - a1 * c - tx
    b2 = c - b0 * c - b1 * c - ty
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def augment_batch(images: tf.Tensor, seed: tf.Tensor, settings: AugmentSettings = AugmentSettings()) -> tf.Tensor:
    """Distort a batch: (N, 28, 28, 1) float32 in [0, 1] -> same shape; `seed` is a stateless (2,) int seed."""
    n = tf.shape(images)[0]
    s_geo, s_pick = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=_transforms(n, settings, s_geo),
        output_shape=tf.constant([28, 28]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    # Stroke thickness: a 2x2 max (bolder) or min (thinner) filter on a random share, written as
    # elementwise max/min of four shifted views: tf.nn.max_pool2d with stride 1 costs ~5x the warp itself.
    pick = tf.random.stateless_uniform([n, 1, 1, 1], s_pick)
    padded = tf.pad(warped, [[0, 0], [0, 1], [0, 1], [0, 0]])  # (N, 29, 29, 1); zeros match the background
    views = (padded[:, :-1, :-1], padded[:, 1:, :-1], padded[:, :-1, 1:], padded[:, 1:, 1:])
    bold = tf.maximum(tf.maximum(views[0], views[1]), tf.maximum(views[2], views[3]))
    thin = tf.minimum(tf.minimum(views[0], views[1]), tf.minimum(views[2], views[3]))
    out = tf.where(pick < settings.thicken, bold, warped)
    out = tf.where(pick > 1.0 - settings.thin, thin, out)
    return tf.clip_by_value(out, 0.0, 1.0)
