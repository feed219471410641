"""Model factories. Every model takes (N, 28, 28, 1) float32 in [0, 1], ink bright,
and returns (N, 10) softmax probabilities."""

from __future__ import annotations

import keras
from keras import layers

from mnist_core.config import TrainSettings

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


def build_ensemble(members: list[keras.Model]) -> keras.Model:
    """One model whose (N, 10) answer is the mean of its members' probabilities (each a digit model of this file).

    Members are copied into fresh nets named member_0, member_1, ... (Keras needs unique names inside one
    model), so the arguments are left as they are. Seeds of one recipe make different mistakes on writers
    nobody trained on; the mean of two makes fewer than either (benchmarks/REALWORLD.md), for one more small
    forward pass per digit. One TF Lite file serves it like any other digit model.
    """
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two models")
    inputs = keras.Input(shape=INPUT_SHAPE, name="digits")
    outputs = []
    for i, member in enumerate(members):
        copy = keras.models.clone_model(member)
        copy.set_weights(member.get_weights())
        net = keras.Model(copy.inputs[0], copy.outputs[0], name=f"member_{i}")
        outputs.append(net(inputs))
    mean = layers.Average(name="probabilities")(outputs)
    return keras.Model(inputs, mean, name="ensemble")


def leaf_layers(model: keras.Model) -> list:
    """The model's layers with its nested models (an ensemble's members) opened up, in order."""
    out = []
    for layer in model.layers:
        out.extend(leaf_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return out


def members(model: keras.Model) -> list[keras.Model]:
    """An ensemble's member nets, or [model] for a single net."""
    nested = [la for la in model.layers if isinstance(la, keras.Model)]
    return nested or [model]


def net_shape(model: keras.Model) -> dict:
    """TrainSettings fields that describe the net of ``model``: {"arch": "cnn", "width": w} or {"arch": "mlp"}."""
    conv = next((la for la in leaf_layers(model) if isinstance(la, layers.Conv2D)), None)
    return {"arch": "cnn", "width": int(conv.filters)} if conv is not None else {"arch": "mlp"}


def arch_name(model: keras.Model) -> str:
    """What a card calls the net: "cnn", "mlp", or "ensemble of 2 cnn"."""
    n, arch = len(members(model)), net_shape(model)["arch"]
    return f"ensemble of {n} {arch}" if n > 1 else arch


def build_model(arch: str, width: int = TrainSettings.width) -> keras.Model:
    """Build a fresh model by architecture name ('cnn' at `width`, or 'mlp')."""
    if arch == "cnn":
        return build_cnn(width)
    if arch == "mlp":
        return build_mlp()
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def build_number_reader(width: int = 32) -> keras.Model:
    """The number reader: (N, 32, W, 1) float32 line images in [0, 1] (any W, a multiple of 4) -> (N, W/2, 11)
    logits per frame, symbol 0 CTC's blank and d + 1 the digit d; trained with CTC loss.

    A small VGG-like stack halves the width once and the height five times (32 -> 1), so each frame is two input
    columns seen across the whole line height; three dilated 1-D convolutions (a receptive field of about
    70 input columns, two to three digits) let each frame see its neighbours, which is where a touching pair
    is told apart. Fully convolutional: one TF Lite copy serves every line width.
    """
    w = width
    inputs = keras.Input(shape=(32, None, 1), name="line")
    x = _conv_bn(inputs, w // 2, 3)                                       # (32, W, w/2)
    x = layers.MaxPooling2D((2, 2))(x)                                    # (16, W/2)
    x = _conv_bn(x, w, 3)
    x = layers.MaxPooling2D((2, 1))(x)                                    # (8, W/2)
    x = _conv_bn(x, w * 2, 3)
    x = _conv_bn(x, w * 2, 3)
    x = layers.MaxPooling2D((2, 1))(x)                                    # (4, W/2)
    x = _conv_bn(x, w * 3, 3)
    x = layers.MaxPooling2D((2, 1))(x)                                    # (2, W/2)
    x = layers.Conv2D(w * 4, (2, 1), use_bias=False)(x)                   # (1, W/2, 4w): height read whole
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Activation("relu")(x)
    x = layers.Reshape((-1, w * 4))(x)                                    # (W/2, 4w) frames
    for rate in (1, 2, 4):
        y = layers.Conv1D(w * 4, 3, dilation_rate=rate, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization(momentum=0.9)(y)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(11, name="symbols")(x)                         # logits: blank, 0-9
    return keras.Model(inputs, outputs, name="number_reader")


def with_softmax(reader: keras.Model) -> keras.Model:
    """The reader answering probabilities instead of logits: what is served."""
    return keras.Model(reader.inputs[0], layers.Softmax(name="probabilities")(reader.outputs[0]), name=reader.name)
