"""Model factories. Every model takes (N, 28, 28, 1) float32 in [0, 1], ink bright,
and returns (N, 10) softmax probabilities."""

from __future__ import annotations

import keras
from keras import layers

from .config import TrainSettings

INPUT_SHAPE = (28, 28, 1)
ARCHITECTURES = ("cnn", "mlp")


def build_mlp() -> keras.Model:
    """The tutorial's model, exactly: Flatten, Dense 16, Dense 16, Dropout 0.2, Dense 10 (13,002 params)."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="digits")
    x = layers.Flatten()(inputs)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mlp")


def _conv_bn(x, filters: int, kernel: int = 3, strides: int = 1):
    # No bias: batch norm's beta does that job.
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.Activation("relu")(x)


def build_cnn(width: int = TrainSettings.width, dropout: float = 0.2) -> keras.Model:
    """The default: a small all-convolutional net built for accuracy per FLOP on a CPU.

    Downsamples at once with a strided 5x5 stem (no full-resolution feature maps to
    pay for), batch norm after every convolution, strided convolutions instead of
    pooling, global pooling and one dense layer: about 2.3 M multiply-adds and
    56 k parameters per digit at width 20 (TrainSettings' default); 5.8 M and 142 k at 32; 1.5 M and 36 k at 16.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digits")
    x = _conv_bn(inputs, width, 5, strides=2)           # (14, 14, w)
    x = _conv_bn(x, width, 3)                           # (14, 14, w)
    x = _conv_bn(x, width * 2, 3, strides=2)            # (7, 7, 2w)
    x = _conv_bn(x, width * 2, 3)                       # (7, 7, 2w)
    x = _conv_bn(x, width * 4, 3, strides=2)            # (4, 4, 4w)
    x = layers.GlobalAveragePooling2D()(x)              # (4w,)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_model(arch: str, width: int = TrainSettings.width) -> keras.Model:
    """Build a fresh model by architecture name ('cnn' at `width`, or 'mlp')."""
    if arch == "cnn":
        return build_cnn(width)
    if arch == "mlp":
        return build_mlp()
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
