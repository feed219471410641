"""mnist_core.models: the tutorial's exact MLP and the default CNN."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from mnist_core.models import build_cnn, build_mlp, build_model  # noqa: E402


def test_mlp_is_the_tutorials_model():
    m = build_mlp()
    assert m.count_params() == 13_002
    kinds = [type(layer).__name__ for layer in m.layers[1:]]
    assert kinds == ["Flatten", "Dense", "Dense", "Dropout", "Dense"]
    assert [layer.units for layer in m.layers if type(layer).__name__ == "Dense"] == [16, 16, 10]
    assert m.layers[4].rate == 0.2


@pytest.mark.parametrize("arch", ["cnn", "mlp"])
def test_models_map_digits_to_probabilities(arch):
    m = build_model(arch)
    assert tuple(m.inputs[0].shape[1:]) == (28, 28, 1)
    p = np.asarray(m(np.random.rand(3, 28, 28, 1).astype("float32"), training=False))
    assert p.shape == (3, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_is_small():
    # Small enough to train in minutes on two cores and to answer in milliseconds.
    assert 50_000 < build_cnn().count_params() < 250_000


@pytest.mark.parametrize("width,params", [(32, 141_610), (24, 80_290), (20, 56_110), (16, 36_250)])
def test_cnn_width_sets_the_size(width, params):
    # Width 16 (the shipped model) has a quarter of the multiply-adds: 4x the digits per second.
    model = build_model("cnn", width)
    assert model.count_params() == params
    assert model.layers[1].filters == width and model.output_shape == (None, 10)


def test_unknown_arch():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet")
