"""python -m mnist_core: fast --help, a tiny real train -> evaluate -> predict round trip,
one-line errors for corrupt data and models, and per-file errors in predict."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _shared import HAVE_MNIST, NO_MNIST_REASON, ROOT, SHARED_MNIST, data_arg

DEFAULT = ROOT / "models" / "default.keras"


def run(*args, home, timeout=300):
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "mnist_core", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc):
    """stderr's last line is 'error: ...' and there is no traceback."""
    return "Traceback" not in proc.stderr and proc.stderr.strip().splitlines()[-1].startswith("error: ")


def test_help_is_fast_and_imports_no_tensorflow(tmp_path):
    code = ("import sys; from mnist_core.cli.main import build_parser; "
            "build_parser().format_help(); print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]
    for args in (["--help"], ["train", "--help"], ["predict", "--help"], ["train-ink", "--help"]):
        proc = run(*args, home=tmp_path)
        assert proc.returncode == 0 and "usage:" in proc.stdout


@pytest.mark.parametrize("args,words", [
    (["train", "--epochs", "-1"], "epochs"),
    (["train", "--batch-size", "0"], "batch size"),
    (["train", "--lr", "1e9"], "learning rate"),
    (["train", "--sample-weight", "-1"], "sample weight"),
])
def test_bad_training_parameters(tmp_path, args, words):
    proc = run(*args, home=tmp_path)
    assert proc.returncode == 2 and one_line_error(proc) and words in proc.stderr


@pytest.mark.parametrize("args,words", [
    (["train-ink", "--epochs", "0"], "epochs"),
    (["train-ink", "--limit", "5"], "limit"),
    (["train-ink", "--points", "4"], "points"),
    (["train-ink", "--output", "x/ink", "--activate"], "nothing to activate"),
])
def test_bad_ink_training_parameters_fail_before_tensorflow(tmp_path, args, words):
    proc = run(*args, home=tmp_path)
    assert proc.returncode == 2 and one_line_error(proc) and words in proc.stderr


def test_models_lists_the_ink_versions_apart(tmp_path):
    proc = run("models", "list", "--kind", "ink", "--json", home=tmp_path)
    assert proc.returncode == 0
    cards = json.loads(proc.stdout)
    assert [(c["id"], c["active"], c["kind"]) for c in cards] == [("default", True, "ink")]
    f = cards[0]["fusion"]
    proc = run("models", "list", "--kind", "ink", home=tmp_path)
    line = proc.stdout.splitlines()[1]  # the shipped card: its weights, and "+ learned" where it has the matrix
    assert line.startswith("* default") and f"{f['w_image']:g}/{f['w_ink']:g}" in line
    assert ("+ learned" in line) == bool(f.get("matrix"))
    proc = run("models", "activate", "20990101-000000-dead", "--kind", "ink", home=tmp_path)
    assert proc.returncode == 1 and one_line_error(proc) and "no model version" in proc.stderr


@pytest.mark.parametrize("content,words", [
    (b"", "cannot read"),
    (b"garbage" * 100, "cannot read"),
], ids=["empty", "garbage"])
def test_corrupt_data_file_is_one_line(tmp_path, content, words):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    proc = run("evaluate", "--model", DEFAULT, "--data", bad, home=tmp_path) if DEFAULT.exists() else \
        run("train", "--data", bad, "--epochs", "1", home=tmp_path)
    assert proc.returncode == 1 and one_line_error(proc)
    assert str(bad) in proc.stderr and words in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04not really a zip"], ids=["empty", "broken-zip"])
def test_corrupt_model_file_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(content)
    proc = run("predict", "--model", bad, tmp_path, home=tmp_path)
    assert proc.returncode == 1 and one_line_error(proc) and "corrupt or not a Keras model" in proc.stderr


def _digit_png(path, label):
    """A real MNIST test digit (from the offline subset without ../shared) as dark ink on white paper, 4x size."""
    import cv2

    from _shared import small_mnist

    data = small_mnist()
    img = data.x_test[np.flatnonzero(data.y_test == label)[0]]
    big = cv2.resize(255 - img, (112, 112), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), big)


@pytest.mark.slow
def test_train_evaluate_predict_round_trip(tmp_path):
    home = tmp_path / "home"
    proc = run("train", *data_arg(), "--epochs", "1", "--limit", "3000", "--json", "--activate", home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    vid = summary["version"]
    assert summary["activated"] and 0.0 <= summary["test_accuracy"] <= 1.0 and summary["train_seconds"] > 0
    card = json.loads((home / "models" / vid / "card.json").read_text())
    for key in ("id", "created", "arch", "params", "data", "settings", "metrics", "train_seconds", "parent"):
        assert key in card, key
    assert card["data"]["train_size"] == 2700 + card["data"]["pen_digits"] and card["settings"]["epochs"] == 1
    # the default recipe's pen digits, in MNIST's proportion for a short run: 666 digits drawn twice, cut once
    assert card["data"]["pen_digits"] == 3 * (3000 * 2 // 9) and "pen digits" in card["data"]["description"]
    assert (home / "active").read_text().strip() == vid
    assert all((home / "models" / vid / f).stat().st_size > 1000 for f in ("curves.png", "confusion.png", "mistakes.png"))
    # The checked TF Lite copy the server runs without TensorFlow, tied to this very model file.
    assert (home / "models" / vid / "model.tflite").stat().st_size > 10_000 and len(card["lite_of"]) == 64

    proc = run("evaluate", "--version", vid, *data_arg(), "--json", home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ev = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ev["accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)
    assert len(ev["confusion"]) == 10 and sum(map(sum, ev["confusion"])) == ev["count"]

    proc = run("models", "list", "--json", home=home)
    listed = json.loads(proc.stdout)
    assert [c["id"] for c in listed if c["active"]] == [vid]

    folder = tmp_path / "imgs"
    folder.mkdir()
    _digit_png(folder / "a.png", 3)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    proc = run("predict", "--version", vid, "--json", folder, home=home)
    rows = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert proc.returncode == 1  # one unreadable file: reported, the rest go on, status 1 at the end
    by_name = {Path(r["path"]).name: r for r in rows}
    assert "error" in by_name["broken.png"]
    good = by_name["a.png"]
    assert good["digit"] in range(10) and len(good["probabilities"]) == 10
    assert sum(good["probabilities"]) == pytest.approx(1.0, abs=1e-3)


needs_default = pytest.mark.skipif(not DEFAULT.exists(), reason="models/default.keras not built yet")


@pytest.mark.slow
@needs_default
def test_finetune_card_records_the_parents_net(tmp_path):
    """Fine-tuning the shipped width-24 CNN keeps that net, and its card says so (not the default width)."""
    from mnist_core.config import Paths, TrainSettings
    from mnist_core.store.samples import SampleStore

    home = tmp_path / "home"
    store = SampleStore(Paths(home=home).samples_db)
    for label in range(3):
        store.add(label, np.eye(28, dtype=np.float32))
    proc = run("train", *data_arg(), "--finetune", "default", "--samples", store.path, "--epochs", "1",
               "--limit", "500", "--validation", "50", "--json", home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    vid = json.loads(proc.stdout.strip().splitlines()[-1])["version"]
    card = json.loads((home / "models" / vid / "card.json").read_text())
    assert card["parent"] == "default" and card["settings"]["arch"] == "cnn"
    assert card["settings"]["width"] == 24 != TrainSettings.width
    assert card["params"] == 80_290


@needs_default
@pytest.mark.slow
def test_predict_and_read_numbers_with_the_shipped_model(tmp_path):
    import cv2

    digits = []
    for i, label in enumerate([2, 0, 2, 6]):
        _digit_png(tmp_path / f"d{i}.png", label)
        digits.append(cv2.imread(str(tmp_path / f"d{i}.png"), cv2.IMREAD_GRAYSCALE))
    row = np.full((160, 40 + 130 * 4), 255, np.uint8)
    for i, d in enumerate(digits):
        row[24:136, 20 + 130 * i: 132 + 130 * i] = d
    cv2.imwrite(str(tmp_path / "number.png"), row)
    (tmp_path / "blank.png").write_bytes(cv2.imencode(".png", np.full((100, 100), 255, np.uint8))[1].tobytes())

    proc = run("predict", "--json", *[tmp_path / f"d{i}.png" for i in range(4)], tmp_path / "blank.png", home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [r["digit"] for r in rows] == [2, 0, 2, 6, None]

    proc = run("predict", "--number", "--json", tmp_path / "number.png", home=tmp_path)
    number = json.loads(proc.stdout.strip().splitlines()[-1])
    assert number["number"] == "2026"
    xs = [d["box"][0] for d in number["digits"]]
    assert xs == sorted(xs) and all(0.0 < d["confidence"] <= 1.0 for d in number["digits"])

    proc = run("predict", tmp_path / "d0.png", home=tmp_path)
    path, digit, conf = proc.stdout.strip().split("\t")
    assert digit == "2" and 0.0 < float(conf) <= 1.0


@needs_default
@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST_REASON)
def test_shipped_default_scores_at_least_99_5_on_mnist_test(tmp_path):
    proc = run("evaluate", "--json", "--data", SHARED_MNIST, home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["model"] == "default" and result["count"] == 10_000
    assert result["accuracy"] >= 0.995
    card = json.loads((ROOT / "models" / "default.json").read_text())
    assert card["metrics"]["accuracy"] == pytest.approx(result["accuracy"], abs=2e-4)


@pytest.mark.slow
def test_combine_averages_models_into_one_checked_version(tmp_path):
    """Two nets saved as .keras files become one ensemble version: its card names both, its TF Lite copy is
    checked, its test accuracy is the ensemble's own, and --output writes a shippable default."""
    import keras

    from mnist_core.train.nets import build_cnn

    files = []
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        path = tmp_path / f"m{seed}.keras"
        build_cnn(16).save(path)
        files.append(path)
    home, out = tmp_path / "home", tmp_path / "ship" / "default.keras"
    proc = run("combine", *files, *data_arg(), "--output", out, "--activate", "--json", home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["activated"] and summary["tflite"] and len(summary["members"]) == 2
    vid = summary["version"]
    card = json.loads((home / "models" / vid / "card.json").read_text())
    assert card["arch"] == "ensemble of 2 cnn" and card["params"] == 2 * 36_250
    assert [m["ref"] for m in card["ensemble"]["members"]] == [str(f) for f in files]
    assert (home / "active").read_text().strip() == vid
    assert (home / "models" / vid / "model.tflite").stat().st_size > 10_000 and len(card["lite_of"]) == 64
    assert {p.suffix for p in out.parent.iterdir()} == {".keras", ".json", ".tflite"}
    proc = run("evaluate", "--version", vid, *data_arg(), "--json", home=home)
    assert json.loads(proc.stdout.strip().splitlines()[-1])["accuracy"] == pytest.approx(summary["test_accuracy"])

    proc = run("combine", files[0], home=home)
    assert proc.returncode != 0 and one_line_error(proc) and "two" in proc.stderr


def test_samples_copy_between_stores(tmp_path):
    """`samples copy` moves a studio's saved digits to another store; a second copy into it is refused."""
    from mnist_core.store.samples import SampleStore

    src = SampleStore(tmp_path / "a.sqlite3")
    for label in range(4):
        src.add(label, np.eye(28, dtype=np.float32), profile=("me", "ana")[label % 2])
    proc = run("samples", "copy", src.path, tmp_path / "b.sqlite3", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["copied"] == 4 and summary["destination_profiles"] == {"ana": 2, "me": 2}
    assert SampleStore(tmp_path / "b.sqlite3").counts("ana") == {**dict.fromkeys(range(10), 0), 1: 1, 3: 1}
    proc = run("samples", "copy", src.path, tmp_path / "b.sqlite3", home=tmp_path)
    assert proc.returncode == 1 and one_line_error(proc) and "--append" in proc.stderr
    proc = run("samples", "copy", src.path, src.path, home=tmp_path)
    assert proc.returncode == 1 and "same store" in proc.stderr
