"""Arrays made once and kept in the studio's cache folder (`<home>/cache`): the pen digits drawn for training and
the number reader's training lines. A file is named by a key of everything that made it; a broken or unreadable
one is made again; a read-only folder still works (nothing is kept). Files not used for the longest time are
deleted once the folder holds more than a budget, so new recipes do not pile up gigabytes of old lines."""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class CacheSettings:
    """How much the cache may hold."""

    # Bytes the folder may hold before the least recently used files go (2 GiB: the default recipes need about
    # 0.3 GB, 60,000 training lines, plus 0.1 GB of drawn pen digits; a few variants fit beside them).
    max_bytes: int = 2 << 30


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.npz") if p.is_file() and ".tmp." not in p.name]


def prune(folder: Path, keep: Path | None = None, settings: CacheSettings = CacheSettings()) -> list[Path]:
    """Delete the least recently used files until the folder fits its budget (never `keep`), and temporary files
    an interrupted save left over an hour ago; returns those gone."""
    gone = []
    for p in folder.glob("*.tmp.npz"):
        try:
            if time.time() - p.stat().st_mtime > 3600:
                p.unlink()
                gone.append(p)
        except OSError:
            pass
    try:
        files = sorted(_files(folder), key=lambda p: p.stat().st_mtime)  # used oldest first
        total = sum(p.stat().st_size for p in files)
    except OSError:
        return gone
    for p in files:
        if total <= settings.max_bytes:
            break
        if keep is not None and p == keep:
            continue
        try:
            size = p.stat().st_size
            p.unlink()
        except OSError:
            continue  # another process took it, or the folder is read-only
        total -= size
        gone.append(p)
    return gone


def cached(folder: Path | None, name: str, make: Callable[[], dict[str, np.ndarray]],
           settings: CacheSettings = CacheSettings()) -> dict[str, np.ndarray]:
    """`make()`'s arrays, read from `folder/name` (.npz) when kept there, else made, kept, and the folder pruned."""
    path = folder / name if folder is not None else None
    if path is not None and path.is_file():
        try:
            with np.load(path) as f:
                arrays = {k: f[k] for k in f.files}
            try:
                os.utime(path)  # recently used: pruned last
            except OSError:
                pass
            return arrays
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a broken file (a truncated or foreign zip too) is made again
    arrays = make()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp.npz")
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
            prune(path.parent, keep=path, settings=settings)
        except OSError:
            pass  # a read-only home still trains
    return arrays
