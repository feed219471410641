"""The ink net's training data: which writers it trains on (mnist_core.ink.fit)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest

from mnist_core.ink.fit import InkTrainSettings, sources, training_writers


@pytest.mark.parametrize("text, expected", [("", ()), ("none", ()), ("pendigits", ("pendigits",)),
                                           ("syn,ced", ("syn", "ced")), (" val , ced,", ("val", "ced"))])
def test_sources_are_read_from_a_comma_separated_list(text, expected):
    assert sources(text) == expected


@pytest.mark.parametrize("leave_out", [(), ("pendigits",), ("val", "ced"), ("no-such-lab",)])
def test_left_out_sources_are_not_trained_on_and_the_calibration_writers_stay(leave_out):
    all_train, all_calib = training_writers(InkTrainSettings())
    train, calib = training_writers(InkTrainSettings(leave_out=leave_out))
    assert not any(d.source in leave_out for d in train)
    assert len(train) == sum(d.source not in leave_out for d in all_train)
    assert [d.writer for d in calib] == [d.writer for d in all_calib]  # the fusion's writers never change


def test_the_shipped_training_writers_hold_both_collections():
    # The sources the leave-out runs name (benchmarks/ink_labs.py): pendigits and UNIPEN's labs.
    sources = Counter(d.source for d in training_writers(InkTrainSettings())[0])
    assert sources["pendigits"] > 1000 and sources["val"] > 100 and len(sources) >= 10


def test_leave_out_survives_a_card_round_trip():
    s = InkTrainSettings(epochs=3, leave_out=("app", "apa"))
    back = InkTrainSettings.from_dict(json.loads(json.dumps(dataclasses.asdict(s))))
    assert back == s and isinstance(back.leave_out, tuple)
    assert InkTrainSettings.from_dict({}).leave_out == ()  # cards written before the field read as "all"
