"""ops.predict.with_hands: the digits of one writer read together (ink.hand), grouped as `--writers` says."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.ops.predict import with_hands


def record(path, p7, bar, ink=7, writer=None):
    p = np.full(10, 1e-4)
    p[7], p[1] = p7, 1 - p7
    p /= p.sum()
    r = {"path": path, "digit": int(p.argmax()), "confidence": float(p.max()), "probabilities": p.tolist(),
         "image": {"digit": 7, "confidence": 0.9}, "ink": {"digit": ink, "confidence": 0.9, "bar": bar}}
    return r if writer is None else {**r, "writer": writer}


def records(writer_a="a", folder="w1"):
    """Two crossed 7s and a 7-shape the ink reads as 1, by one writer; then another folder's doubtful 7."""
    return [record(f"{folder}/x.tes#1", 0.99, True, writer=writer_a),
            record(f"{folder}/x.tes#2", 0.99, True, writer=writer_a),
            record(f"{folder}/x.tes#3", 0.6, False, ink=1, writer=writer_a),
            record("w2/y.json", 0.6, False, ink=1)]


@pytest.mark.parametrize("writers, digits", [
    ("auto", [7, 7, 1, 7]),  # the file's writer crosses; y.json names nobody
    ("folder", [7, 7, 1, 7]),  # y.json is alone in its folder
    ("one", [7, 7, 1, 1]),  # every file one writer's
    ("none", [7, 7, 7, 7]),
])
def test_writers_choice(writers, digits):
    out = list(with_hands(records(), writers))
    assert [r["digit"] for r in out] == digits
    assert [r["path"] for r in out] == [r["path"] for r in records()]  # input order kept
    changed = [i for i, (a, b) in enumerate(zip(out, records())) if a["digit"] != b["digit"]]
    assert all("crosses their 7s" in out[i]["hand"] for i in changed)
    assert all("hand" not in out[i] for i in (0, 1))  # a crossed 7 is what it was


@pytest.mark.parametrize("ink_sure, digits", [
    (0.95, [7, 7, 7, 7]),  # two plain 7s the ink is sure of: this writer leaves some 7s uncrossed
    (0.7, [7, 7, 1, 1]),  # the ink doubts them: maybe this writer's flat-flagged 1s, not counted against crossing
])
def test_plain_sevens_count_against_crossing_only_where_the_ink_was_sure(ink_sure, digits):
    run = [record("w1/x.tes#1", 0.99, True, writer="a"), record("w1/x.tes#2", 0.99, True, writer="a")]
    for k in (3, 4):
        r = record(f"w1/x.tes#{k}", 0.8, False, ink=7, writer="a")
        run.append({**r, "ink": {**r["ink"], "confidence": ink_sure}})
    assert [r["digit"] for r in with_hands(run, "auto")] == digits


def test_a_writer_named_in_another_folder_is_another_run():
    out = list(with_hands(records(folder="w1")[:2] + records(folder="w3")[2:3], "auto"))
    assert [r["digit"] for r in out] == [7, 7, 7]  # the crossed 7s were flushed with their own folder


def test_records_without_ink_or_with_errors_pass_through():
    plain = [{"path": "a.png", "digit": 7, "confidence": 0.6, "probabilities": [0.1] * 10},
             {"path": "b.json", "error": "the ink is empty: no strokes"}]
    assert list(with_hands(plain, "one")) == plain


INKML = '<ink xmlns="http://www.w3.org/2003/InkML">{}<trace>0 0, 0 10</trace>{}</ink>'
GROUP = '<traceGroup><annotation type="truth">1</annotation>{}<trace>0 0, 0 10</trace></traceGroup>'


@pytest.mark.parametrize("name, text, about", [
    ("a.json", '{"writer": "anna", "strokes": [[[0, 0], [0, 10]]]}', {"writer": "anna"}),
    ("b.json", '{"strokes": [[[0, 0], [0, 10]]]}', {}),
    ("c.inkml", INKML.format('<annotation type="writer">w123</annotation>', ""), {"writer": "w123"}),
    ("d.inkml", INKML.format("", ""), {}),
    ("e.png", "not read", {}),
])
def test_who_an_ink_file_says_wrote_it(tmp_path, name, text, about):
    from mnist_core.ops.predict import _about

    (tmp_path / name).write_text(text)
    assert _about(tmp_path / name) == about


def test_a_collections_digits_go_with_the_documents_writer_else_the_file(tmp_path):
    from mnist_core.ops.predict import Part, _about

    named = tmp_path / "named.inkml"
    named.write_text(INKML.format('<annotation type="writer">w9</annotation>', GROUP.format("") * 2))
    plain = tmp_path / "plain.inkml"
    plain.write_text(INKML.format("", GROUP.format("") + GROUP.format('<annotation type="writer">g</annotation>')))
    assert [_about(Part(named, i)) for i in (0, 1)] == [{"label": "1", "writer": "w9"}] * 2
    assert [_about(Part(plain, i))["writer"] for i in (0, 1)] == [str(plain), "g"]


class _Ones:
    """A recognizer that reads every digit as a 1."""

    def predict(self, x):
        p = np.full((len(x), 10), 0.01, np.float32)
        p[:, 1] = 0.91
        return p


@pytest.mark.parametrize("text, writer", [
    ('{"writer": "anna", "strokes": [[[0, 0], [1, 20], [2, 40], [2, 60]]]}', "anna"),
    ('{"strokes": [[[0, 0], [1, 20], [2, 40], [2, 60]]]}', None),
])
def test_an_ink_file_is_read_once_for_its_ink_and_its_writer(tmp_path, monkeypatch, text, writer):
    from pathlib import Path

    from mnist_core.ops import predict

    f = tmp_path / "one.json"
    f.write_text(text)
    reads, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    [record] = predict.read_part([f], _Ones(), None, number=False)
    assert "error" not in record and record["digit"] == 1
    assert record.get("writer") == writer
    assert reads.count(f) == 1


def test_an_unreadable_ink_file_is_an_error_record(tmp_path, monkeypatch):
    from pathlib import Path

    from mnist_core.ops import predict

    gone = tmp_path / "gone.json"
    tries, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: tries.append(self) or real(self))
    [record] = predict.read_part([gone], _Ones(), None, number=False)
    assert "error" in record and "writer" not in record
    assert "gone.json" in record["error"]  # the reading says why: the file is not there
    assert tries.count(gone) == 1  # tried once, not again for its writer and its ink
