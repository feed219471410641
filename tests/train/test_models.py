"""mnist_core.train.nets: the tutorial's exact MLP, the default CNN, and an ensemble of CNNs."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from mnist_core.train.nets import (arch_name, build_cnn, build_ensemble, build_mlp, build_model, leaf_layers,  # noqa: E402
                               members, net_shape)


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


def _random_cnn(width, seed):
    keras.utils.set_random_seed(seed)
    return build_cnn(width)


def test_an_ensemble_answers_the_mean_of_its_members():
    a, b = _random_cnn(16, 0), _random_cnn(16, 1)
    x = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    pa, pb = (np.asarray(m(x, training=False)) for m in (a, b))
    assert np.abs(pa - pb).max() > 1e-3  # two different nets, or the mean proves nothing
    e = build_ensemble([a, b])
    np.testing.assert_allclose(np.asarray(e(x, training=False)), (pa + pb) / 2, atol=1e-6)
    assert e.count_params() == a.count_params() + b.count_params()
    # Copies: the members passed in keep their own weights and names.
    assert a.name == b.name == "cnn" and [m.name for m in members(e)] == ["member_0", "member_1"]


@pytest.mark.parametrize("model, arch, shape, n_members", [
    (lambda: build_cnn(24), "cnn", {"arch": "cnn", "width": 24}, 1),
    (build_mlp, "mlp", {"arch": "mlp"}, 1),
    (lambda: build_ensemble([build_cnn(16), build_cnn(16)]), "ensemble of 2 cnn", {"arch": "cnn", "width": 16}, 2),
])
def test_what_a_card_calls_the_net(model, arch, shape, n_members):
    m = model()
    assert arch_name(m) == arch and net_shape(m) == shape and len(members(m)) == n_members
    convs = [la for la in leaf_layers(m) if type(la).__name__ == "Conv2D"]
    assert len(convs) == 5 * n_members if shape["arch"] == "cnn" else not convs


def test_an_ensemble_needs_two_members():
    with pytest.raises(ValueError, match="two"):
        build_ensemble([build_cnn(16)])


def test_an_ensemble_survives_saving(tmp_path):
    e = build_ensemble([_random_cnn(16, 2), _random_cnn(16, 3)])
    e.save(tmp_path / "e.keras")
    back = keras.models.load_model(tmp_path / "e.keras")
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(back(x, training=False)), np.asarray(e(x, training=False)), atol=1e-6)
    assert arch_name(back) == "ensemble of 2 cnn"
