"""The sample stores: the user's labelled digits in SQLite (SampleStore) and PostgreSQL (PgSampleStore).

The tests of the shared behaviour run against both backends (``store``); PostgreSQL's skip without a server
(conftest.pg_url). The file-level ones (WAL, first opening races, a schema-1 file) are SQLite's."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import numpy as np
import pytest

from mnist_core.store.samples import SCHEMA_VERSION, SampleNotFound, SampleStore, open_store


def digit(value: float = 0.5) -> np.ndarray:
    img = np.zeros((28, 28), np.float32)
    img[4:24, 12:16] = value
    return img


# The shared behaviour on PostgreSQL is in the full run only (a schema made and dropped per test, ~0.3 s each);
# the quick tier still opens, migrates and races PostgreSQL through the test_pg_* tests below.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store(request, tmp_path):
    """A fresh, empty store of each backend."""
    if request.param == "postgresql":
        return open_store(request.getfixturevalue("pg_url"))
    return SampleStore(tmp_path / "sub" / "samples.sqlite3")


@pytest.fixture
def sqlite_store(tmp_path) -> SampleStore:
    return SampleStore(tmp_path / "sub" / "samples.sqlite3")


def reopened(store):
    """Another store object over the same data, as another process would open it."""
    return open_store(store.url if store.kind == "postgresql" else store.path)


def test_add_get_roundtrip_is_lossless(store):
    img = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    sid = store.add(7, img, original_png=b"\x89PNG fake", source="photo")
    got = store.get(sid)
    assert got["label"] == 7 and got["source"] == "photo" and got["original"] == b"\x89PNG fake"
    np.testing.assert_array_equal(got["image"], img)
    assert got["image"].dtype == np.float32


def test_created_on_first_use_in_wal_mode_with_schema_version(sqlite_store):
    store = sqlite_store
    assert not store.path.exists()
    store.add(1, digit())
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_arrays_shape_dtype_and_order(store):
    assert store.arrays()[0].shape == (0, 28, 28)
    for label in (3, 1, 4):
        store.add(label, digit(label / 10))
    x, y = store.arrays()
    assert x.shape == (3, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4]
    assert x[2].max() == pytest.approx(0.4)


def test_list_counts_relabel_delete(store):
    ids = [store.add(label, digit()) for label in (2, 2, 5)]
    assert [s["id"] for s in store.list()] == ids[::-1]  # newest first
    assert [s["id"] for s in store.list(label=2)] == ids[1::-1]
    assert [s["id"] for s in store.list(limit=1, offset=1)] == [ids[1]]
    assert store.counts() == {**dict.fromkeys(range(10), 0), 2: 2, 5: 1}
    store.relabel(ids[0], 9)
    assert store.get(ids[0])["label"] == 9
    store.delete(ids[1])
    assert len(store) == 2
    with pytest.raises(SampleNotFound, match="no sample"):
        store.get(ids[1])
    with pytest.raises(SampleNotFound):
        store.delete(ids[1])
    with pytest.raises(SampleNotFound):
        store.relabel(12345, 1)


@pytest.mark.parametrize("label", [-1, 10, 3.5, "x", "", None, True, "1; DROP TABLE samples", [1]])
def test_bad_labels_are_refused(store, label):
    with pytest.raises(ValueError, match="label must be a digit"):
        store.add(label, digit())
    assert len(store) == 0


@pytest.mark.parametrize("label, expected", [(0, 0), ("7", 7), (9.0, 9), (np.int64(4), 4)])
def test_label_forms_accepted(store, label, expected):
    assert store.get(store.add(label, digit()))["label"] == expected


@pytest.mark.parametrize("sample_id", [0, -3, "../etc/passwd", "1 OR 1=1", 1.5, None, True, "", 2**70])
def test_bad_ids_are_refused(store, sample_id):
    store.add(1, digit())
    for call in (store.get, store.delete, lambda i: store.relabel(i, 1)):
        with pytest.raises(ValueError, match="sample id"):
            call(sample_id)
    assert len(store) == 1


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((28, 27), np.float32), "28x28"),
        (np.zeros((28, 28), np.uint8), "floats"),
        (np.full((28, 28), 1.5, np.float32), r"\[0, 1\]"),
        (np.full((28, 28), np.nan, np.float32), "finite"),
    ],
)
def test_bad_images_are_refused(store, image, message):
    with pytest.raises(ValueError, match=message):
        store.add(1, image)


def test_accepts_channel_axis_and_float64(store):
    sid = store.add(1, digit()[..., None].astype(np.float64))
    assert store.get(sid)["image"].shape == (28, 28)


def test_oversized_original_is_refused(store):
    with pytest.raises(ValueError, match="MB"):
        store.add(1, digit(), original_png=b"\0" * (4 * 2**20 + 1))


def test_concurrent_writers_and_reopen(store):
    def writer(label):
        for _ in range(10):
            store.add(label, digit())

    threads = [threading.Thread(target=writer, args=(d,)) for d in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = reopened(store)
    assert again.counts() == {**dict.fromkeys(range(10), 0), 0: 10, 1: 10, 2: 10, 3: 10}


def _first_open_writer(location, label, barrier) -> None:
    store = open_store(location)
    barrier.wait()  # every process opens the new file at the same moment
    for _ in range(5):
        store.add(label, digit())


# The first opening races, one row a backend: (multiprocessing start method, trials). SQLite forks 30 times: the
# app and a training run can both be first to open a new file, and before the retry 100 such races of 4
# processes gave 14 "database is locked" errors from the switch to WAL, each losing its samples. PostgreSQL
# spawns (psycopg's state is not shared across a fork), once: replicas starting together create the schema once,
# under an advisory lock.
RACES = [pytest.param("sqlite", "fork", 30, id="sqlite"), pytest.param("postgresql", "spawn", 1, id="postgresql")]


@pytest.mark.slow
@pytest.mark.parametrize("backend, start, trials", RACES)
def test_processes_first_opening_one_new_store_all_write(request, tmp_path, backend, start, trials):
    """Four processes open one new store at the same moment and each writes 5 samples: every write lands."""
    ctx = multiprocessing.get_context(start)
    for trial in range(trials):
        location = (request.getfixturevalue("pg_url") if backend == "postgresql"
                    else tmp_path / f"race{trial}" / "samples.sqlite3")
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_first_open_writer, args=(location, d, barrier)) for d in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0], f"trial {trial}"
        assert open_store(location).counts() == {**dict.fromkeys(range(10), 0), 0: 5, 1: 5, 2: 5, 3: 5}


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="newer version"):
        SampleStore(path).counts()


# --- profiles -----------------------------------------------------------------------------------------------


def test_profiles_keep_their_samples_apart(store):
    mine = [store.add(3, digit(0.3)), store.add(4, digit(0.4))]
    hers = store.add(3, digit(0.9), profile="alice")
    assert store.profiles() == {"alice": 1, "me": 2}
    assert [s["id"] for s in store.list(profile="me")] == mine[::-1]
    assert [s["id"] for s in store.list(profile="alice")] == [hers] and store.get(hers)["profile"] == "alice"
    assert store.counts("alice")[3] == 1 and store.counts("me")[3] == 1 and store.counts()[3] == 2
    assert store.count("me") == 2 and store.count() == len(store) == 3
    x, y = store.arrays("alice")
    assert y.tolist() == [3] and x[0].max() == pytest.approx(0.9)
    assert store.arrays("bob")[0].shape == (0, 28, 28)
    # One person cannot relabel or delete another's sample through their own profile.
    with pytest.raises(SampleNotFound, match="alice"):
        store.delete(mine[0], profile="alice")
    with pytest.raises(SampleNotFound):
        store.relabel(hers, 1, profile="me")
    store.relabel(hers, 8, profile="alice")
    store.delete(mine[0], profile="me")
    assert store.counts("alice")[8] == 1 and store.count("me") == 1


@pytest.mark.parametrize("name", ["", " ", "../x", "a/b", ".", "x" * 33, None, 7, "a b"])
def test_bad_profile_names_are_refused(store, name):
    with pytest.raises(ValueError, match="profile"):
        store.add(1, digit(), profile=name)


def test_profile_names_in_any_script(store):
    store.add(1, digit(), profile="小明")
    store.add(2, digit(), profile=" anna-2 ")  # stripped
    assert store.profiles() == {"anna-2": 1, "小明": 1}


def test_schema_1_file_is_migrated_in_place_and_its_samples_are_mes(tmp_path):
    """A samples file written before profiles existed: opened, migrated once, nothing lost, all of it "me"'s."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE samples (id INTEGER PRIMARY KEY AUTOINCREMENT,
            label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9), image BLOB NOT NULL, original BLOB,
            source TEXT NOT NULL, created TEXT NOT NULL);
        CREATE INDEX samples_label ON samples (label);
        PRAGMA user_version = 1;
    """)
    old = digit(0.7)
    with conn:
        for label in (5, 6):
            conn.execute("INSERT INTO samples (label, image, original, source, created) VALUES (?, ?, ?, ?, ?)",
                         (label, old.tobytes(), b"png", "draw", "2026-01-01T00:00:00+00:00"))
    conn.close()
    store = SampleStore(path)
    assert store.profiles() == {"me": 2}
    got = store.get(1)
    assert got["label"] == 5 and got["profile"] == "me" and got["original"] == b"png"
    np.testing.assert_array_equal(got["image"], old)
    new = store.add(7, digit(), profile="alice")
    assert new == 3 and store.arrays("me")[1].tolist() == [5, 6]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()
    assert SampleStore(path).count() == 3  # a second opening finds it migrated


# --- the trash: a deleted sample can be brought back by its profile ---------------------------------------


def test_a_deleted_sample_comes_back_with_its_id_and_everything(store):
    img = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    first = store.add(4, img, original_png=b"png", source="photo", profile="anna")
    second = store.add(5, digit(), profile="anna")
    other = store.add(6, digit(), profile="ben")
    created = store.get(first)["created"]
    store.delete(first, profile="anna")
    store.delete(second)  # (without a profile, as the CLI does: the trash keeps whose it was)
    assert store.count("anna") == 0 and store.arrays()[1].tolist() == [6]  # training never sees the trash
    assert (store.trashed("anna"), store.trashed("ben")) == (2, 0)
    with pytest.raises(SampleNotFound, match="'ben'"):
        store.restore("ben")
    assert store.restore("anna") == second and store.restore("anna") == first  # the last deleted first
    got = store.get(first)
    assert (got["label"], got["source"], got["original"], got["profile"], got["created"]) == (4, "photo", b"png",
                                                                                                "anna", created)
    np.testing.assert_array_equal(got["image"], img)
    assert store.trashed("anna") == 0 and store.add(7, digit(), profile="anna") > other  # no id is reused
    store.delete(first, profile="anna")
    assert store.restore("anna") == first  # deleted again after coming back: still one row in the trash


def test_the_trash_forgets_after_its_time(store, monkeypatch):
    from mnist_core.store import samples_base

    sid = store.add(1, digit(), profile="anna")
    store.delete(sid)
    monkeypatch.setattr(samples_base, "TRASH_KEEP_S", -1)  # as if the hour had passed
    assert store.trashed("anna") == 0
    with pytest.raises(SampleNotFound):
        store.restore("anna")
    with pytest.raises(SampleNotFound):
        store.get(sid)


def test_schema_2_file_gains_the_trash_in_place(tmp_path):
    path = tmp_path / "v2.sqlite3"
    SampleStore(path).add(3, digit(), profile="anna")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP TABLE samples_trash")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    store = SampleStore(path)
    store.delete(1)
    assert store.restore("anna") == 1 and store.get(1)["label"] == 3
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()


# --- both backends: transactions; PostgreSQL: schema, migration, URLs ---------------------------------------


def test_a_write_that_fails_midway_leaves_nothing(store):
    """Every call is one transaction: an error inside it rolls back what it had written."""
    store.add(1, digit())
    with pytest.raises(RuntimeError, match="midway"):
        with store._connect() as conn:
            store._run(conn, "INSERT INTO samples (label, image, source, created, profile) VALUES (?, ?, ?, ?, ?)",
                       (2, digit().tobytes(), "draw", "2026-01-01T00:00:00+00:00", "me"))
            raise RuntimeError("midway")
    assert store.counts()[2] == 0 and len(reopened(store)) == 1


def test_open_store_picks_the_backend(tmp_path):
    assert open_store(tmp_path / "s.sqlite3").kind == "sqlite"
    assert open_store(str(tmp_path / "s.sqlite3")).kind == "sqlite"
    assert open_store("postgresql://u:pw@127.0.0.1:1/db").kind == "postgresql"  # nothing connects yet
    with pytest.raises(ValueError, match="postgresql://"):
        open_store("mysql://u@host/db")


def test_database_urls_never_show_the_password():
    from mnist_core.store.samples_pg import redacted, split_password

    url = "postgresql://studio:s3cret@db.example:5433/samples?sslmode=require"
    assert "s3cret" not in open_store(url).describe() and "db.example:5433/samples" in open_store(url).describe()
    assert "s3cret" not in repr(open_store(url)) and "s3cret" not in redacted(url)
    assert split_password(url) == ("postgresql://studio@db.example:5433/samples?sslmode=require", "s3cret")
    assert split_password("postgresql://studio@h/db?password=p%40ss&sslmode=disable") == (
        "postgresql://studio@h/db?sslmode=disable", "p@ss")
    assert split_password("postgresql://h/db") == ("postgresql://h/db", None)


def _pg_admin(url):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def test_pg_schema_is_created_at_prepare_with_its_version(pg_url):
    store = open_store(pg_url)
    store.prepare()
    with _pg_admin(pg_url) as conn:
        assert conn.execute("SELECT version FROM studio_schema").fetchall() == [(SCHEMA_VERSION,)]
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'samples'")}
    assert columns == {"id", "label", "image", "original", "source", "created", "profile"}
    assert len(store) == 0


def test_pg_schema_1_table_is_migrated_and_its_samples_are_mes(pg_url):
    old = digit(0.7)
    with _pg_admin(pg_url) as conn:
        conn.execute("""CREATE TABLE samples (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            label SMALLINT NOT NULL CHECK (label BETWEEN 0 AND 9), image BYTEA NOT NULL, original BYTEA,
            source TEXT NOT NULL, created TEXT NOT NULL)""")
        conn.execute("CREATE TABLE studio_schema (id INT PRIMARY KEY CHECK (id = 1), version INT NOT NULL)")
        conn.execute("INSERT INTO studio_schema VALUES (1, 1)")
        for label in (5, 6):
            conn.execute("INSERT INTO samples (label, image, original, source, created) VALUES (%s, %s, %s, %s, %s)",
                         (label, old.tobytes(), b"png", "draw", "2026-01-01T00:00:00+00:00"))
    store = open_store(pg_url)
    assert store.profiles() == {"me": 2}
    got = store.get(1)
    assert got["label"] == 5 and got["profile"] == "me" and got["original"] == b"png"
    np.testing.assert_array_equal(got["image"], old)
    assert store.add(7, digit(), profile="alice") == 3 and store.arrays("me")[1].tolist() == [5, 6]
    with _pg_admin(pg_url) as conn:
        assert conn.execute("SELECT version FROM studio_schema").fetchone()[0] == SCHEMA_VERSION == 3


def test_pg_newer_schema_is_refused(pg_url):
    with _pg_admin(pg_url) as conn:
        conn.execute("CREATE TABLE studio_schema (id INT PRIMARY KEY CHECK (id = 1), version INT NOT NULL)")
        conn.execute("INSERT INTO studio_schema VALUES (1, 99)")
    with pytest.raises(RuntimeError, match="newer version"):
        open_store(pg_url).counts()


# --- copying a store (SQLite to PostgreSQL when replicas start sharing one) --------------------------------


def _filled_sqlite(path) -> SampleStore:
    src = SampleStore(path)
    rng = np.random.default_rng(3)
    for i in range(7):
        src.add(i % 10, rng.random((28, 28), dtype=np.float32), original_png=b"\x89PNG %d" % i if i % 2 else None,
                source=("draw", "photo")[i % 2], profile=("me", "小明")[i % 3 == 0])
    return src


def _everything(store) -> list[tuple]:
    return [row for rows in store.export(batch=3) for row in rows]


def test_copy_keeps_every_sample_with_its_profile_time_and_original(store, tmp_path):
    from mnist_core.store.samples import copy_samples

    src = _filled_sqlite(tmp_path / "src.sqlite3")
    seen = []
    assert copy_samples(src, store, batch=3, progress=seen.append) == 7
    assert seen == [3, 6, 7]  # one transaction a batch
    assert _everything(store) == _everything(src)  # labels, pixels, originals, sources, times, profiles
    assert store.profiles() == src.profiles() == {"me": 4, "小明": 3}
    x, y = reopened(store).arrays("小明")
    np.testing.assert_array_equal(x, src.arrays("小明")[0])


def test_copy_refuses_a_store_that_has_samples_unless_appending(store, tmp_path):
    from mnist_core.store.samples import copy_samples

    src = _filled_sqlite(tmp_path / "src.sqlite3")
    store.add(3, digit())
    with pytest.raises(ValueError, match="already holds 1 samples; give --append"):
        copy_samples(src, store)
    assert len(store) == 1
    assert copy_samples(src, store, append=True) == 7 and len(store) == 8
    with pytest.raises(ValueError, match="no samples at"):
        copy_samples(SampleStore(tmp_path / "none.sqlite3"), store, append=True)


def test_a_bad_row_imports_nothing(store):
    good = (1, digit().tobytes(), None, "draw", "2026-12-02T10:00:00+00:00", "me")
    for bad in [(1, b"short", None, "draw", "2026-12-02T10:00:00+00:00", "me"),
                (11, digit().tobytes(), None, "draw", "2026-12-02T10:00:00+00:00", "me"),
                (1, digit().tobytes(), None, "draw", "2026-12-02T10:00:00+00:00", "../x")]:
        with pytest.raises(ValueError):
            store.import_rows([good, bad])
    assert len(store) == 0
    assert store.import_rows([good]) == 1 and store.list()[0]["created"] == "2026-12-02T10:00:00+00:00"


def test_a_sqlite_store_never_imports_psycopg(tmp_path):
    """open_store imports the PostgreSQL backend only for a postgresql:// URL; the base imports no backend."""
    import subprocess
    import sys

    code = ("import sys; from mnist_core.store.samples import open_store; "
            f"open_store({str(tmp_path / 's.sqlite3')!r}).add(1, __import__('numpy').zeros((28, 28), 'float32')); "
            "import mnist_core.store.samples_base as b; "
            "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'mnist_core.store.samples_'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split("\n")[0] == "['mnist_core.store.samples_base', 'mnist_core.store.samples_sqlite']"
