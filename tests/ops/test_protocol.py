"""The trainer <-> job manager protocol: the request file round trip, the log's writer and reader (old logs too)."""

from __future__ import annotations

import json
import threading

import pytest

from mnist_core.config import TrainSettings
from mnist_core.ops import protocol
from mnist_core.train.job import Outcome, Started, TrainJob


@pytest.mark.parametrize("job", [
    TrainJob(),
    TrainJob(TrainSettings(arch="mlp", epochs=2, limit=1000, schedule="constant"), data="/d/mnist.npz",
             samples="postgresql://u@h/db", finetune="default", profile="alice", activate="if_helps", output="o.keras",
             workers="a:1,b:2", worker_index=1, join_timeout=8.0, recipe='{"repeat": 2}', warm=True),
])
def test_a_request_reads_back_as_written(tmp_path, job):
    request = protocol.Request(job, job_dir=str(tmp_path), quiet=False)
    assert protocol.read_request(protocol.write_request(tmp_path / "request.json", request)) == request


@pytest.mark.parametrize("body, words", [
    ("not json", "not a job request"),
    ('{"format": 99, "job": {}}', "format 99"),
    ('{"format": 1, "job": {"settings": {}, "epochs": 3}}', "unknown job fields"),
    ('{"format": 1, "job": {"settings": {"depth": 3}}}', "depth"),
])
def test_a_bad_request_is_refused_by_name(tmp_path, body, words):
    (tmp_path / "r.json").write_text(body)
    with pytest.raises(ValueError, match=words):
        protocol.read_request(tmp_path / "r.json")


def test_a_missing_request_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the job request"):
        protocol.read_request(tmp_path / "none.json")


class _Progress:
    """A fit.Progress look-alike (fit imports TensorFlow)."""

    def __init__(self, event: str):
        self.event = event

    def to_dict(self) -> dict:
        return {"event": self.event, "epoch": 1, "epochs": 1, "step": 4, "steps": 4, "loss": 0.5, "accuracy": 0.9,
                "elapsed_s": 1.0, "eta_s": 0.0, "val_loss": 0.4, "val_accuracy": 0.95}


def test_what_a_run_reports_is_read_back_into_a_status(tmp_path):
    log = protocol.JobLog(tmp_path, threading.Event())
    log.report(Started(settings={"epochs": 1}, data="MNIST", subset=False, pid=1, parent=None, profile="ana",
                       warm=True))
    log.report(_Progress("step"))
    log.report(_Progress("epoch"))
    log.report(Outcome("done", result={"version": "v1", "card": {"train_seconds": 2.5}, "activated": True}))
    events = [json.loads(line) for line in (tmp_path / protocol.LOG_FILE).read_text().splitlines()]
    assert [e["event"] for e in events] == ["start", "progress", "epoch", "done"]
    tail = protocol.LogTail("job", tmp_path / protocol.LOG_FILE)
    tail.read()
    assert tail.state["status"] == "done" and tail.state["profile"] == "ana" and tail.state["elapsed_s"] == 2.5
    assert tail.state["result"]["version"] == "v1" and tail.state["step"] == 4
    assert {(p["split"], p["metric"]) for p in tail.curves} == {("train", "loss"), ("train", "accuracy"),
                                                                 ("validation", "loss"), ("validation", "accuracy")}
    log.cancel.set()  # ends the cancel file's watcher


@pytest.mark.parametrize("lines, status, message", [
    # A log of the CLI before this module (the same events), a half-written last line, garbage in between.
    (['{"event": "start", "time": 1.0, "settings": {"epochs": 2}, "data": "d", "pid": 5}',
      'garbage', '{"event": "failed", "time": 2.0, "message": "boom"}'], "failed", "boom"),
    (['{"event": "start", "settings": {"epochs": 2}}', '{"event": "cancelled", "epochs_done": 1}'], "cancelled", ""),
    (['{"event": "start", "settings": {"epochs": 2}}', '{"event": "done", "version": "v'], "running", ""),
])
def test_logs_are_read_whatever_wrote_them(tmp_path, lines, status, message):
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + ("\n" if status != "running" else ""))
    tail = protocol.LogTail("job", tmp_path / "log.jsonl")
    tail.read()
    assert tail.state["status"] == status and tail.state.get("message", "") == message
    assert tail.state["epochs"] == 2


def test_the_cancel_file_sets_the_flag(tmp_path):
    cancel = threading.Event()
    protocol.JobLog(tmp_path, cancel)
    assert not cancel.wait(0.3)
    protocol.request_cancel(tmp_path)
    assert protocol.cancel_requested(tmp_path) and cancel.wait(5)


def test_exit_codes_give_a_status_without_a_last_word():
    assert protocol.EXIT_STATUS == {0: "done", 3: "cancelled"}
    assert (protocol.EXIT_OK, protocol.EXIT_ERROR, protocol.EXIT_USAGE, protocol.EXIT_CANCELLED) == (0, 1, 2, 3)
