"""Training the number reader: a short run learns, its TF Lite copy agrees, the CLI saves it with a card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_core.config import NumberTrainSettings
from tests._shared import small_mnist
from tests.cli.test_cli import run


@pytest.mark.parametrize("read, truth, exact, digits", [
    (["12", "34"], ["12", "34"], 1.0, 1.0),
    (["12", "3"], ["12", "34"], 0.5, 0.75),     # one digit missing
    (["129", "34"], ["12", "34"], 0.5, 0.75),   # one digit extra
    (["", ""], ["12", "34"], 0.0, 0.0),
])
def test_score(read, truth, exact, digits):
    from mnist_core.numbers.train import score

    assert score(read, truth) == pytest.approx((exact, digits))


@pytest.mark.parametrize("field, value", [("lines", 10), ("epochs", 0), ("width", 7), ("lr", 0.0), ("batch_size", 0),
                                          ("pen_share", 1.5), ("pen_share", -0.1)])
def test_settings_out_of_range_are_refused(field, value):
    with pytest.raises(ValueError, match={"lr": "learning rate"}.get(field, field.split("_")[0])):
        NumberTrainSettings(**{field: value}).validate()


@pytest.mark.slow
def test_a_short_run_lowers_the_loss_and_its_tflite_copy_agrees(tmp_path):
    from mnist_core.numbers import lines
    from mnist_core.numbers import reader as nr
    from mnist_core.numbers.train import fit_number, save_reader

    data = small_mnist()
    hand = lines.Hand(None, (data.x_train, data.y_train))
    train = lines.make_lines(320, hand, seed=0, style=lines.LineStyle(max_digits=4, paper=0.0))
    val = lines.make_lines(20, hand, seed=1, style=lines.LineStyle(max_digits=4, paper=0.0))
    seen = []
    result = fit_number(train, val, NumberTrainSettings(lines=320, epochs=3, width=16, batch_size=16, lr=3e-3),
                        progress=seen.append)
    assert result.model is not None and result.epochs_done == 3 and not result.cancelled
    loss = result.history["loss"]
    assert loss[-1] < 0.7 * loss[0] and np.isfinite(loss).all()
    assert [p.epoch for p in seen if p.event == "epoch"] == [1, 2, 3]
    assert save_reader(result.model, tmp_path / "r.keras", {"kind": "number reader (CTC)"})
    reader = nr.NumberReader.load(tmp_path / "r.tflite", shears=(0.0,), widths=(1.0,), weights=(1.0,))
    assert json.loads((tmp_path / "r.json").read_text())["tflite"] is True
    # The copy reads as the model does (one reading of each line, upright at its own width).
    from mnist_core.numbers.train import read_lines

    assert [reader.read_line(x) for x in val[0][:5]] == read_lines(result.model, val[0][:5])


@pytest.mark.slow
def test_cancel_before_an_epoch_saves_nothing():
    from mnist_core.numbers import lines
    from mnist_core.numbers.train import fit_number

    data = small_mnist()
    train = lines.make_lines(100, lines.Hand(None, (data.x_train, data.y_train)), seed=0)
    result = fit_number(train, None, NumberTrainSettings(lines=100, epochs=1, width=8), cancel=lambda: True)
    assert result.cancelled and result.model is None


@pytest.mark.slow
def test_cli_train_number_saves_the_reader_and_prints_json(tmp_path):
    from tests._shared import data_arg

    out = tmp_path / "reader" / "number.keras"
    proc = run("train-number", *data_arg(), "--lines", "200", "--epochs", "1", "--width", "8", "--validation", "20",
               "--output", str(out), "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["lines"] == 200 and summary["epochs"] == 1 and 0.0 <= summary["exact"] <= 1.0
    assert summary["tflite"] is True and out.with_suffix(".tflite").is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["settings"]["lines"] == 200 and "pen digits" in card["trained_on"]
    assert list((tmp_path / "cache").glob("lines-*.npz"))  # the made lines are kept for the next run


def test_cli_train_number_refuses_bad_settings_before_loading_tensorflow(tmp_path):
    proc = run("train-number", "--lines", "5", home=tmp_path)
    assert proc.returncode == 2 and "lines" in proc.stderr
