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
