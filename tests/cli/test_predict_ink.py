"""``python -m mnist_core predict`` on ink files: JSON and InkML strokes read by both models, bad ink refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from _shared import ROOT
from mnist_core.ink.format import from_strokes, to_inkml
from mnist_core.train import pen

pytestmark = pytest.mark.slow  # each run starts a Python process and loads two models (~1-2 s)


def run(*args, home):
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "mnist_core", "predict", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def tablet_inkml(ink) -> str:
    """The ink as a tablet's exporter might write it: Y growing upwards (declared "-ve"), every point after the
    first as first differences, under the inkml: prefix (written with a byte-order mark by the caller)."""
    fmt = ('<inkml:traceFormat><inkml:channel name="X"/><inkml:channel name="Y" orientation="-ve"/>'
           '<inkml:channel name="T"/></inkml:traceFormat>')
    traces = []
    for s in ink.strokes:
        q = np.round(s.astype(np.float64) * [1, -1, 1], 2)
        d = np.diff(q, axis=0)
        pts = [" ".join(f"{v:g}" for v in q[0])] + ["".join(f"'{v:g}" for v in row) for row in d]
        traces.append("<inkml:trace>" + ", ".join(pts) + "</inkml:trace>")
    return f'<inkml:ink xmlns:inkml="http://www.w3.org/2003/InkML">{fmt}{"".join(traces)}</inkml:ink>'


@pytest.fixture(scope="module")
def inks(tmp_path_factory):
    """A training writer's 0, 4 and 7 as JSON (with times) and InkML (without), and a file of bad ink."""
    folder = tmp_path_factory.mktemp("inks")
    digits = pen.load_shipped()
    for label in (0, 4, 7):
        d = [x for x in digits if x.label == label][5]
        timed = from_strokes([s[:, :2] for s in d.strokes])
        (folder / f"digit_{label}.json").write_text(json.dumps(timed.to_json()))
        (folder / f"digit_{label}.inkml").write_text(to_inkml(timed))
        (folder / f"digit_{label}_tablet.inkml").write_bytes(tablet_inkml(timed).encode("utf-8-sig"))
    (folder / "backwards.json").write_text(json.dumps({"strokes": [[[0, 0, 5], [1, 1, 5]]]}))
    return folder


def test_ink_files_are_read_by_both_models(inks, tmp_path):
    proc = run("--json", inks, home=tmp_path)
    records = {os.path.basename(r["path"]): r for r in map(json.loads, proc.stdout.splitlines())}
    for label in (0, 4, 7):
        for suffix in ("json", "inkml", "_tablet.inkml"):
            r = records[f"digit_{label}{'' if suffix.startswith('_') else '.'}{suffix}"]
            assert r["digit"] == label and r["ink"]["digit"] == label and r["image"]["digit"] == label, r
            assert abs(sum(r["probabilities"]) - 1) < 1e-3
    assert "time does not increase" in records["backwards.json"]["error"]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_an_ink_number_is_read_with_number(inks, tmp_path):
    digits = pen.load_shipped()
    strokes = []
    for k, label in enumerate((3, 0, 5)):
        d = [x for x in digits if x.label == label][4]
        pts = [s[:, :2] for s in d.strokes]
        lo, hi = min(p[:, 1].min() for p in pts), max(p[:, 1].max() for p in pts)
        left = min(p[:, 0].min() for p in pts)
        scale = 100 / max(hi - lo, 1e-6)
        strokes += [[[float((x - left) * scale + 130 * k), float((y - lo) * scale)] for x, y in p] for p in pts]
    path = tmp_path / "number.json"
    path.write_text(json.dumps({"strokes": strokes}))
    proc = run("--number", path, home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.split("\t")[1] == "305"


def unipen_digits(per: int = 2) -> list:
    """A training writer's first `per` digits of each label (pen.load_shipped's, y down)."""
    digits = pen.load_shipped()
    return [[x for x in digits if x.label == label][7 + k] for label in range(10) for k in range(per)]


def unipen_lines(digits, first: int = 0) -> tuple[list[str], list[str]]:
    """(stroke lines, segment lines) of `digits` in UNIPEN (y up), components numbered from `first`."""
    strokes, segments, k = [], [], first
    for d in digits:
        for s in d.strokes:
            strokes += [".PEN_DOWN", *(f"{x:.1f} {-y:.1f}" for x, y in np.asarray(s)[:, :2]), ".PEN_UP"]
        segments.append(f'.SEGMENT DIGIT {k}-{k + len(d.strokes) - 1} ? "{d.label}"')
        k += len(d.strokes)
    return strokes, segments


def test_unipen_files_are_read_segment_by_segment_with_their_labels(tmp_path):
    """A pendigits-style file (segments inline) and UNIPEN's layout (a data file including its strokes from
    include/), read in one call and with --jobs 2: one line per segment, FILE#N, the label last, the tally."""
    digits = unipen_digits()
    strokes, segments = unipen_lines(digits)
    inline = []
    for seg, d in zip(segments, digits):  # each segment before its own strokes, as pendigits writes them
        own, _ = unipen_lines([d])
        inline += [seg, *own]
    (tmp_path / "writer.tes").write_text("\n".join(inline) + "\n")
    data = tmp_path / "collection" / "data" / "1a" / "lab" / "w1.dat"
    include = tmp_path / "collection" / "include" / "lab" / "data" / "w1.dat"
    data.parent.mkdir(parents=True)
    include.parent.mkdir(parents=True)
    include.write_text("\n".join([".COORD X Y", *strokes]) + "\n")  # no segments: skipped in a folder
    data.write_text("\n".join([".VERSION 1.0", ".INCLUDE lab/data/w1.dat", *segments,
                               '.SEGMENT DIGIT 999 ? "5"']) + "\n")
    for jobs in ("1", "2"):
        proc = run("--jobs", jobs, tmp_path / "writer.tes", tmp_path / "collection", home=tmp_path)
        lines = [ln.split("\t") for ln in proc.stdout.splitlines()]
        assert [ln[0] for ln in lines] == ([f"{tmp_path / 'writer.tes'}#{i}" for i in range(1, 21)]
                                           + [f"{data}#{i}" for i in range(1, 22)])
        assert [ln[-1] for ln in lines] == [str(d.label) for d in digits] * 2 + ["5"]
        good = [ln for ln in lines if ln[1] != "error"]
        assert len(good) == 40 and sum(ln[1] == ln[-1] for ln in good) >= 38, lines
        assert lines[-1][1] == "error" and "component 999 is not in the file" in lines[-1][2]
        tally = [ln for ln in proc.stderr.splitlines() if ln.startswith("labelled digits")]
        right = sum(ln[1] == ln[-1] for ln in good)
        assert tally == [f"labelled digits: 41, read as labelled: {right} ({right / 41:.2%})"]
        misread = [ln for ln in proc.stderr.splitlines() if ln.startswith("misread, label→read: ")]
        assert len(misread) == 1 and "5→error ×1" in misread[0]  # the segment naming a stroke the file lacks
        assert proc.returncode == 1 and "Traceback" not in proc.stderr  # the bad segment is an error line
    proc = run("--json", data, home=tmp_path)
    first = json.loads(proc.stdout.splitlines()[0])
    assert first["label"] == "0" and first["ink"] is not None and first["path"].endswith("w1.dat#1")


def test_an_inkml_collection_is_read_group_by_group(tmp_path):
    """An InkML file whose trace groups are labelled (traces named by traceView) gives a line per group; an InkML
    file without labelled groups stays one drawing."""
    digits = unipen_digits(per=1)
    traces, groups, k = [], [], 0
    for n, d in enumerate(digits):
        views = []
        for s in d.strokes:
            traces.append(f'<trace xml:id="t{k}">' + ", ".join(f"{x:.1f} {y:.1f}" for x, y in np.asarray(s)[:, :2])
                          + "</trace>")
            views.append(f'<traceView traceDataRef="#t{k}"/>')
            k += 1
        groups.append(f'<traceGroup xml:id="d{n}"><annotation type="truth">{d.label}</annotation>'
                      + "".join(views) + "</traceGroup>")
    (tmp_path / "page.inkml").write_text('<ink xmlns="http://www.w3.org/2003/InkML">' + "".join(traces)
                                         + "<traceGroup>" + "".join(groups) + "</traceGroup></ink>")
    (tmp_path / "one.inkml").write_text(to_inkml(from_strokes([s[:, :2] for s in digits[3].strokes])))
    proc = run(tmp_path / "page.inkml", tmp_path / "one.inkml", home=tmp_path)
    lines = [ln.split("\t") for ln in proc.stdout.splitlines()]
    assert [ln[0] for ln in lines] == [f"{tmp_path / 'page.inkml'}#{i}" for i in range(1, 11)] + [
        str(tmp_path / "one.inkml")]
    assert [ln[-1] for ln in lines[:10]] == [str(d.label) for d in digits]
    assert sum(ln[1] == ln[-1] for ln in lines[:10]) >= 9 and len(lines[10]) == 3 and lines[10][1] == "3"
    assert proc.returncode == 0 and "labelled digits: 10," in proc.stderr


def test_a_writer_who_crosses_their_sevens_has_their_uncrossed_seven_shapes_read_as_ones(tmp_path):
    """One writer's crossed 7s and continental 1s with a flat flag (a 7's bar in shape), in a UNIPEN file naming
    the writer: with --writers none each digit is read alone; by default the writer's digits are read together,
    every uncrossed digit's 7 made less likely by the writer's odds of leaving a 7 uncrossed, the 7s untouched."""
    from mnist_core.train import synth

    rng = np.random.default_rng(3)
    digits = pen.load_shipped()
    sevens = [pen.PenDigit(7, tuple(synth.crossed_seven(d.strokes, rng)), "w", "test")
              for d in [x for x in digits if x.label == 7][:4]]
    ones = [pen.PenDigit(1, tuple(synth.flagged_one(d.strokes, rng, (0.3, 0.5), (10, 18), base=0.0)), "w", "test")
            for d in [x for x in digits if x.label == 1][:8]]
    scale = lambda d: pen.PenDigit(d.label, tuple(s * 200 for s in d.strokes), "w", "test")  # noqa: E731
    strokes, segments = unipen_lines([scale(d) for d in sevens + ones])
    (tmp_path / "w.unp").write_text("\n".join([".WRITER_ID anna", *segments, *strokes]) + "\n")
    alone, together = ([json.loads(ln) for ln in run("--json", "--writers", w, tmp_path / "w.unp",
                                                     home=tmp_path).stdout.splitlines()] for w in ("none", "auto"))
    assert [r["writer"] for r in together] == ["anna"] * 12
    assert all(r["ink"]["bar"] for r in together[:4]) and not any(r["ink"]["bar"] for r in together[4:])
    assert together[:4] == alone[:4]  # the crossed 7s read as they were
    for a, b in zip(alone[4:], together[4:]):
        assert b["probabilities"][7] < 0.5 * a["probabilities"][7] or a["probabilities"][7] < 1e-3
        assert b["digit"] == a["digit"] or (a["digit"] == 7 and "crosses their 7s" in b["hand"])
    right = lambda rs: sum(r["digit"] == int(r["label"]) for r in rs)  # noqa: E731
    assert right(together) >= right(alone)
    print("ones read as 1, alone:", right(alone[4:]), "together:", right(together[4:]))


def test_the_unnamed_ink_files_of_one_folder_are_one_writers_by_default(tmp_path):
    """A folder of JSON inks that name no writer (one writer's crossed 7s and flat-flagged continental 1s): by default
    read as one writer's, so the 1s' 7 is made less likely; with --writers auto (named writers only) each alone."""
    from mnist_core.train import synth

    rng = np.random.default_rng(3)
    digits = pen.load_shipped()
    sevens = [synth.crossed_seven(d.strokes, rng) for d in [x for x in digits if x.label == 7][:3]]
    ones = [synth.flagged_one(d.strokes, rng, (0.3, 0.5), (10, 18), base=0.0)
            for d in [x for x in digits if x.label == 1][:4]]
    folder = tmp_path / "anna"
    folder.mkdir()
    for k, strokes in enumerate(sevens + ones):
        ink = {"strokes": [np.round(np.asarray(s)[:, :2] * 200, 1).tolist() for s in strokes]}
        (folder / f"{k}.json").write_text(json.dumps(ink))
    default, named = ([json.loads(ln) for ln in run("--json", *w, folder, home=tmp_path).stdout.splitlines()]
                      for w in ((), ("--writers", "auto")))
    assert [r["path"] for r in default] == [r["path"] for r in named] == [str(folder / f"{k}.json") for k in range(7)]
    assert all("hand" not in r for r in named)
    assert default[:3] == named[:3] and all(r["digit"] == 7 for r in default[:3])  # the crossed 7s as they were
    for a, b in zip(named[3:], default[3:]):
        assert b["probabilities"][7] < 0.5 * a["probabilities"][7] or a["probabilities"][7] < 1e-3
    assert sum(r["digit"] == 1 for r in default[3:]) >= sum(r["digit"] == 1 for r in named[3:])
