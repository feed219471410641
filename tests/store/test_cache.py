"""mnist_core.store.cache: arrays made once, read back, made again when broken, and the folder kept within its budget
by deleting what was used longest ago."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from mnist_core.store.cache import CacheSettings, cached, prune


class Maker:
    """Counts how often the arrays had to be made."""

    def __init__(self, n: int = 1000, value: int = 7):
        self.calls, self.n, self.value = 0, n, value

    def __call__(self):
        self.calls += 1
        return {"x": np.full(self.n, self.value, np.uint8), "y": np.arange(3)}


def test_made_once_then_read(tmp_path):
    make = Maker()
    a = cached(tmp_path, "a.npz", make)
    b = cached(tmp_path, "a.npz", make)
    assert make.calls == 1 and (tmp_path / "a.npz").is_file()
    for k in ("x", "y"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not list(tmp_path.glob("*.tmp.*"))  # the temporary file became the cache file


@pytest.mark.parametrize("content", [b"", b"broken", b"PK\x03\x04 not a zip"])
def test_a_broken_file_is_made_again(tmp_path, content):
    (tmp_path / "a.npz").write_bytes(content)
    make = Maker()
    got = cached(tmp_path, "a.npz", make)
    assert make.calls == 1 and got["x"][0] == 7
    assert cached(tmp_path, "a.npz", make)["y"].tolist() == [0, 1, 2] and make.calls == 1  # and kept this time


def test_no_folder_or_one_that_cannot_be_written_still_answers(tmp_path):
    make = Maker()
    assert cached(None, "a.npz", make)["x"].sum() == 7000 and make.calls == 1
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")  # a folder below a file cannot be made, even by root
    assert cached(blocked / "cache", "a.npz", make)["x"][0] == 7 and make.calls == 2
    assert blocked.read_bytes() == b""


def test_the_least_recently_used_files_go_first(tmp_path):
    budget = CacheSettings(max_bytes=3500)  # room for two files (1,514 bytes each: 1,000 + 3 values and headers)
    now = time.time()
    for i, name in enumerate(("old.npz", "used.npz", "mid.npz")):
        cached(tmp_path, name, Maker(value=i), CacheSettings(max_bytes=1 << 30))
        os.utime(tmp_path / name, (now - 300 + 100 * i, now - 300 + 100 * i))  # old, then used, then mid
    cached(tmp_path, "used.npz", Maker(), budget)  # read: now the most recently used; nothing made, nothing pruned
    assert {p.name for p in tmp_path.iterdir()} == {"old.npz", "used.npz", "mid.npz"}
    new = Maker(value=9)
    cached(tmp_path, "new.npz", new, budget)  # a new file: over budget, so the two used longest ago go
    assert new.calls == 1
    assert {p.name for p in tmp_path.iterdir()} == {"used.npz", "new.npz"}


def test_prune_keeps_the_file_asked_for_and_clears_stale_temporaries(tmp_path):
    for name in ("a.npz", "b.npz"):
        cached(tmp_path, name, Maker(n=4000))
    stale = tmp_path / "c.123.456.tmp.npz"
    fresh = tmp_path / "d.123.789.tmp.npz"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    gone = prune(tmp_path, keep=tmp_path / "a.npz", settings=CacheSettings(max_bytes=0))
    assert {p.name for p in gone} == {"b.npz", stale.name}
    assert {p.name for p in tmp_path.iterdir()} == {"a.npz", fresh.name}  # another process may be writing d
