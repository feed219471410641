"""The ink net: a small 1-D convolutional network over the resampled trajectory (see `features`).

Input (N, points, channels) float32 from `features.batch_features`; output (N, 10) probabilities. Two
architectures:

- ``"cnn"`` (the default): three blocks of 1-D convolutions with batch norm (kernel 5, 5 then 3, 3 then 3;
  w -> 2w -> 3w filters, w = `width`, 96 shipped; max-pooled by 2 between blocks), global average and max
  pooling, dropout, a dense layer to 10 logits and a softmax;
- ``"cnn_gru"``: the same two first blocks and a bidirectional GRU in place of the third (slower to serve, and
  TF Lite needs its loop unrolled).
"""

from __future__ import annotations

import keras
from keras import layers

from mnist_core.ink.features import CHANNELS, FeatureSettings


def _block(x, filters: int, kernel: int, n: int):
    for _ in range(n):
        x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return x


def build_ink_net(points: int = FeatureSettings().points, channels: int = len(CHANNELS), width: int = 64,
                  arch: str = "cnn", dropout: float = 0.3) -> keras.Model:
    """The ink net: (N, points, channels) -> (N, 10) probabilities; `width` is the first block's filters."""
    inp = keras.Input((points, channels), name="ink")
    x = _block(inp, width, 5, 2)
    x = layers.MaxPooling1D(2)(x)
    x = _block(x, width * 2, 3, 2)
    x = layers.MaxPooling1D(2)(x)
    if arch == "cnn":
        x = _block(x, width * 3, 3, 1)
        x = layers.Concatenate()([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    elif arch == "cnn_gru":
        x = layers.Bidirectional(layers.GRU(width, unroll=True))(x)
    else:
        raise ValueError(f"unknown ink net architecture {arch!r} (cnn or cnn_gru)")
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(10, name="logits")(x)
    out = layers.Softmax(name="probabilities")(x)
    return keras.Model(inp, out, name=f"ink_{arch}")
