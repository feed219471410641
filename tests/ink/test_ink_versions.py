"""Ink versions: the reader of the active ink version, the ink job and its request file, the job manager's ink
trainer (a fake one, and the real one cancelled), and `train-ink` end to end at a tiny size."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from mnist_core.config import Paths
from mnist_core.ink.fit import InkTrainSettings
from mnist_core.ink.job import InkJob
from mnist_core.ops import protocol
from mnist_core.ops.jobs import JobManager, JobOptions, JobRequest
from mnist_core.store.registry import DEFAULT_ID, Registry, RegistryError

from _shared import ROOT, fake_ink_trainer, wait_until

SHIPPED = ROOT / "models" / "ink"
needs_shipped = pytest.mark.skipif(not all(SHIPPED.with_suffix(e).is_file() for e in (".keras", ".tflite", ".json")),
                                   reason="models/ink.* not built")
SEVEN = [[[0.0, 0.0], [60.0, 0.0], [20.0, 100.0]]]
VID = "20261205-120000-abcd"


def ink_paths(tmp_path) -> Paths:
    return Paths(home=tmp_path / "home")


def copy_shipped_as_version(paths: Paths, vid: str = VID) -> Registry:
    """The shipped ink files registered by hand as version ``vid`` (its card's lite_of matches): no TensorFlow."""
    registry = Registry(paths, kind="ink")
    d = registry.root / vid
    d.mkdir(parents=True)
    shutil.copyfile(SHIPPED.with_suffix(".keras"), d / "model.keras")
    shutil.copyfile(SHIPPED.with_suffix(".tflite"), d / "model.tflite")
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    (d / "card.json").write_text(json.dumps({**card, "fusion": {"w_image": 0.5, "w_ink": 1.5}}))
    return registry


# ------------------------------------------------------------------------------------ the reader of a version

@needs_shipped
def test_reader_serves_the_active_version_else_the_shipped_one(tmp_path):
    from mnist_core.ink.reader import InkReader

    registry = copy_shipped_as_version(ink_paths(tmp_path))
    first = InkReader.from_registry(registry)
    assert first.version == DEFAULT_ID and registry.active() == DEFAULT_ID
    registry.pointer.write_text(VID + "\n")  # what activate writes (activate itself loads Keras to check)
    assert registry.active() == VID
    reader = InkReader.from_registry(registry)
    assert reader.version == VID and (reader.fusion.w_image, reader.fusion.w_ink) == (0.5, 1.5)
    assert reader.predict([SEVEN]).shape == (1, 10)
    # a model file replaced by hand: its copy is not served, the shipped one is
    (registry.root / VID / "model.keras").write_bytes(b"replaced by hand")
    assert InkReader.from_registry(registry).version == DEFAULT_ID
    with pytest.raises(RegistryError, match="ink registry"):
        InkReader.from_registry(Registry(ink_paths(tmp_path)))


def test_reader_without_any_ink_model_says_so(tmp_path):
    from mnist_core.ink.reader import InkReader

    paths = Paths(home=tmp_path / "home", default_model=tmp_path / "nowhere" / "default.keras")
    with pytest.raises(RegistryError, match="no ink model to serve"):
        InkReader.from_registry(Registry(paths, kind="ink"))


@needs_shipped
def test_reading_the_active_version_imports_no_tensorflow(tmp_path):
    copy_shipped_as_version(ink_paths(tmp_path)).pointer.write_text(VID)
    code = ("import sys; from pathlib import Path; from mnist_core.config import Paths; "
            "from mnist_core.store.registry import Registry; from mnist_core.ink.reader import InkReader; "
            "r = InkReader.from_registry(Registry(Paths(home=Path(sys.argv[1])), kind='ink')); "
            "print(r.version, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split() == [VID, "False", "False"], out.stderr[-2000:]


# ------------------------------------------------------------------------------------ the job and its request

def test_an_ink_job_goes_through_its_request_file_and_only_to_its_trainer(tmp_path):
    job = InkJob(settings=InkTrainSettings(epochs=3, limit=300, width=8), activate="if_better")
    path = protocol.write_request(tmp_path / "request.json", protocol.Request(job, job_dir=str(tmp_path)))
    assert json.loads(path.read_text())["kind"] == "ink"
    back = protocol.read_request(path, kind="ink")
    assert back.job == job and back.job_dir == str(tmp_path)
    with pytest.raises(ValueError, match="train-ink --request"):
        protocol.read_request(path)  # the image model's trainer refuses it
    from mnist_core.train.job import TrainJob

    image = protocol.write_request(tmp_path / "image.json", protocol.Request(TrainJob()))
    with pytest.raises(ValueError, match="train --request"):
        protocol.read_request(image, kind="ink")


@pytest.mark.parametrize("job, words", [
    (InkJob(settings=InkTrainSettings(epochs=0)), "epochs"),
    (InkJob(settings=InkTrainSettings(arch="transformer")), "arch"),
    (InkJob(settings=InkTrainSettings(limit=5)), "limit"),
    (InkJob(settings=InkTrainSettings(leave_out="val")), "leave_out"),
    (InkJob.from_dict({"settings": {"leave_out": [3]}}), "leave_out"),
    (InkJob(activate="if_helps"), "activate"),
    (InkJob(activate="always", output="out/ink"), "nothing to activate"),
])
def test_bad_ink_jobs_are_refused_before_training(job, words):
    with pytest.raises(ValueError, match=words):
        job.checked()


def test_unknown_fields_of_an_ink_job_are_refused():
    with pytest.raises(TypeError, match="unknown"):
        InkJob.from_dict({"settings": {}, "finetune": "default"})


@pytest.mark.parametrize("request_, words", [
    (JobRequest(ink=InkTrainSettings(), use_samples=True), "no samples"),
    (JobRequest(ink=InkTrainSettings(), activate="if_helps"), "activate"),
    (JobRequest(ink=InkTrainSettings(epochs=-1)), "epochs"),
])
def test_bad_ink_requests_are_refused_by_the_manager(tmp_path, request_, words):
    jobs = JobManager(Paths(home=tmp_path), command=fake_ink_trainer(tmp_path), options=JobOptions(nice=0))
    with pytest.raises(ValueError, match=words):
        jobs.start(request_)
    assert not jobs.status().running


def test_the_manager_runs_an_ink_job_through_the_ink_trainer(tmp_path):
    ink = fake_ink_trainer(tmp_path)
    jobs = JobManager(Paths(home=tmp_path), command=["false"], ink_command=ink, options=JobOptions(nice=0))
    jobs.start(JobRequest(ink=InkTrainSettings(epochs=2, limit=300), activate="always"))
    status = jobs.wait(30)
    assert status.status == "done" and status.kind == "ink" and status.fraction == 1.0
    assert status.result["version"] == "20990101-000000-1234" and status.result["kind"] == "ink"
    assert {p["split"] for p in status.curves} == {"train", "validation"}
    seen = json.loads((jobs.job_dir(status.id) / "argv.json").read_text())
    assert seen["argv"][0] == "--request" and seen["request"]["kind"] == "ink"
    assert seen["request"]["job"]["settings"]["limit"] == 300 and seen["request"]["job"]["activate"] == "always"


# ------------------------------------------------------------------------------------ real trainings (tiny)

def run_cli(*args, home, timeout=600):
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "mnist_core", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@needs_shipped
def test_train_ink_registers_activates_and_serves_a_version(tmp_path):
    from mnist_core.ink.reader import InkReader

    home = tmp_path / "home"
    proc = run_cli("train-ink", "--limit", 300, "--epochs", 1, "--width", 8, "--points", 32, "--activate", "--json",
                   home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [e["epoch"] for e in lines[:-1]] == [1] and lines[0]["event"] == "epoch"
    summary = lines[-1]
    registry = Registry(Paths(home=home), kind="ink")
    vid = summary["version"]
    assert summary["activated"] is True and registry.active() == vid
    assert Registry(Paths(home=home)).active() == DEFAULT_ID  # the image model's pointer is untouched
    card = registry.card(vid)
    assert card["kind"] == "ink" and card["input"]["points"] == 32 and card["settings"]["limit"] == 300
    assert 0 <= card["metrics"]["accuracy"] <= 1 and card["metrics"]["count"] > 1000
    assert card["test_set"] == card["metrics"]["test_set"] and "writers" in card["test_set"]
    assert {"w_image", "w_ink", "image_version", "method", "cv_nll"} <= set(card["fusion"]) and card["lite_of"]
    assert card["fusion"]["calibration_digits"] == 2883 and card["fusion"]["draws"] == 1  # a short run's calibration
    assert card["fusion"]["method"] == min(card["fusion"]["cv_nll"], key=card["fusion"]["cv_nll"].get)
    assert summary["active_before"] == DEFAULT_ID and isinstance(summary["active_accuracy"], float)
    reader = InkReader.from_registry(registry)
    assert reader.version == vid and reader.settings.points == 32
    listed = run_cli("models", "list", "--kind", "ink", home=home)
    assert listed.returncode == 0 and f"* {vid}" in listed.stdout and "default" in listed.stdout


@pytest.mark.slow
def test_the_real_ink_trainer_is_cancelled_within_seconds_and_saves_nothing(tmp_path):
    jobs = JobManager(Paths(home=tmp_path / "home"), options=JobOptions(nice=0))
    jobs.start(JobRequest(ink=InkTrainSettings(epochs=50, limit=2000, width=8)))
    wait_until(lambda: jobs.status().step > 0 or not jobs.status().running, 180, "the ink training's first steps")
    assert jobs.status().running and jobs.status().kind == "ink"
    assert jobs.cancel()
    status = jobs.wait(30)
    assert status.status == "cancelled", status.message
    assert not Registry(jobs.paths, kind="ink").root.exists()
