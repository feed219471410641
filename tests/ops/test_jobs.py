"""JobManager: one training at a time in a subprocess, tailed into a status; a fake trainer keeps it fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_core.config import Paths, TrainSettings
from mnist_core.ops.jobs import JobBusy, JobManager, JobOptions, JobRequest, validate_job_id
from mnist_core.store.registry import Registry
from mnist_core.store.samples import SampleStore
from _shared import wait_until

@pytest.fixture
def fake(fake_trainer):
    return fake_trainer


def manager(home, fake, **options) -> JobManager:
    opts = JobOptions(nice=0, term_after_s=1.0, kill_after_s=2.0, **options)
    return JobManager(Paths(home=home), command=fake, options=opts)


def tiny(**kw) -> JobRequest:
    return JobRequest(settings=TrainSettings(epochs=kw.pop("epochs", 2), limit=1000), **kw)


def test_job_runs_to_done_with_progress_curves_and_result(tmp_path, fake):
    jobs = manager(tmp_path, fake)
    assert jobs.status().status == "idle"
    started = jobs.start(tiny())
    assert started.running and validate_job_id(started.id) == started.id
    status = jobs.wait(30)
    assert status.status == "done" and status.fraction == 1.0
    assert status.result["version"] == "20990101-000000-abcd" and status.elapsed_s == 1.5
    assert status.data == "fake data" and status.epochs == 2
    points = [(p["split"], p["metric"]) for p in status.curves]
    assert points.count(("validation", "loss")) == 2 and points.count(("train", "loss")) == 2 * 4 + 2
    assert "finished" in status.describe()
    assert not jobs.lock_path.exists()
    assert json.dumps(status.to_dict())  # JSON-ready for the API


def recorded(jobs: JobManager, job_id: str) -> dict:
    """What the fake trainer was handed: {"argv", "env", "request" (the request file's JSON)}."""
    return json.loads((jobs.job_dir(job_id) / "argv.json").read_text())


@pytest.mark.parametrize(
    "request_, expected",
    [
        (tiny(), {"settings.epochs": 2, "settings.limit": 1000, "settings.augment": True, "samples": None,
                  "activate": "no"}),
        (tiny(use_samples=True, activate="if_better"), {"settings.sample_weight": 5.0, "activate": "if_better",
                                                        "finetune": None}),
        (JobRequest(TrainSettings(arch="mlp", augment=False), activate="always"),
         {"settings.arch": "mlp", "settings.augment": False, "activate": "always", "settings.limit": None}),
        (tiny(), {"settings.data": "mnist+pen"}),
        (JobRequest(TrainSettings(data="mnist")), {"settings.data": "mnist"}),
        (JobRequest(TrainSettings(schedule="constant", label_smoothing=0.0)),  # the whole recipe, not only the flags
         {"settings.schedule": "constant", "settings.label_smoothing": 0.0}),
    ],
)
def test_the_request_file_reaches_the_trainer(tmp_path, fake, request_, expected):
    SampleStore(Paths(home=tmp_path).samples_db).add(3, np.zeros((28, 28), np.float32))
    jobs = manager(tmp_path, fake)
    status = jobs.start(request_)
    jobs.wait(30)
    got = recorded(jobs, status.id)
    request = got["request"]
    assert got["argv"] == ["--request", str((jobs.job_dir(status.id) / "request.json").resolve())]
    assert request["job_dir"] == str(jobs.job_dir(status.id).resolve()) and request["quiet"] is True
    for key, value in expected.items():
        node = request["job"]
        for part in key.split("."):
            node = node[part]
        assert node == value, key


def test_finetune_passes_version_and_samples(tmp_path, fake):
    SampleStore(Paths(home=tmp_path).samples_db).add(3, np.zeros((28, 28), np.float32))
    jobs = manager(tmp_path, fake)
    status = jobs.start(tiny(finetune="default"))
    jobs.wait(30)
    job = recorded(jobs, status.id)["request"]["job"]
    assert job["finetune"] == "default"
    assert job["samples"] == str(Paths(home=tmp_path).samples_db.resolve())


def test_admin_password_is_not_passed_to_the_trainer(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_ADMIN_PASSWORD", "hunter2")
    jobs = manager(tmp_path, fake)
    status = jobs.start(tiny())
    jobs.wait(30)
    env = json.loads((jobs.job_dir(status.id) / "argv.json").read_text())["env"]
    assert "MNIST_STUDIO_ADMIN_PASSWORD" not in env and "MNIST_STUDIO_HOME" in env
    assert "hunter2" not in (jobs.job_dir(status.id) / "log.jsonl").read_text()


def test_second_start_is_refused_with_progress_here_and_from_another_process(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "slow")
    jobs = manager(tmp_path, fake)
    jobs.start(tiny())
    with pytest.raises(JobBusy, match="already running"):
        jobs.start(tiny())
    other = manager(tmp_path, fake)  # another app process: only the lock file is shared
    with pytest.raises(JobBusy, match="already running.*Training") as busy:
        other.start(tiny())
    assert busy.value.status.attached
    assert other.status().running
    assert other.cancel()  # it may cancel the job it attached to
    assert jobs.wait(15).status == "cancelled"
    assert other.wait(15).status == "cancelled"


def test_cancel_stops_within_seconds(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "slow")
    jobs = manager(tmp_path, fake)
    assert not jobs.cancel()  # nothing to cancel
    jobs.start(tiny(epochs=50))
    assert jobs.cancel()
    asked = jobs.status()
    assert asked.cancel_requested and ("cancelling" in asked.describe() or asked.status == "cancelled")
    status = jobs.wait(15)
    assert status.status == "cancelled"
    assert not jobs.lock_path.exists()
    assert jobs.start(tiny()).running  # free again


def test_cancel_escalates_to_sigterm(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "stubborn")
    jobs = manager(tmp_path, fake)
    jobs.start(tiny(epochs=50))
    assert jobs.cancel()
    status = jobs.wait(20)
    assert status.status == "failed" and "signal" in status.message


@pytest.mark.parametrize(
    "mode, message",
    [("fail", "the data went missing"), ("crash", "exit status 5): Traceback: something broke")],
)
def test_failures_say_why(tmp_path, fake, monkeypatch, mode, message):
    monkeypatch.setenv("FAKE_MODE", mode)
    jobs = manager(tmp_path, fake)
    jobs.start(tiny())
    status = jobs.wait(30)
    assert status.status == "failed" and message in status.message
    assert message in status.describe()


def test_stale_lock_is_taken_over(tmp_path, fake):
    jobs = manager(tmp_path, fake)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    jobs.paths.jobs.mkdir(parents=True)
    jobs.lock_path.write_text(json.dumps({"pid": dead.pid, "job": "20000101-000000-abcdef"}))
    assert jobs.status().status == "idle"
    # A live pid that is not the process that took the lock (pid reuse): stale too.
    jobs.lock_path.write_text(json.dumps({"pid": os.getpid(), "started": 1, "job": "20000101-000000-abcdef"}))
    assert jobs.status().status == "idle"
    jobs.lock_path.write_text("garbage")
    assert jobs.start(tiny()).running
    assert jobs.wait(30).status == "done"


def test_old_job_folders_are_pruned(tmp_path, fake):
    jobs = manager(tmp_path, fake, keep=2)
    ids = []
    for _ in range(3):
        ids.append(jobs.start(tiny(epochs=1)).id)
        jobs.wait(30)
    assert sorted(p.name for p in jobs.paths.jobs.iterdir() if p.is_dir()) == sorted(ids[1:])


@pytest.mark.parametrize(
    "settings, message",
    [
        (TrainSettings(epochs=-1), "epochs"),
        (TrainSettings(batch_size=0), "batch size"),
        (TrainSettings(lr=1e9), "learning rate"),
        (TrainSettings(sample_weight=-1), "sample weight"),
        (TrainSettings(arch="resnet"), "arch"),
    ],
)
def test_bad_settings_are_refused_before_starting(tmp_path, fake, settings, message):
    jobs = manager(tmp_path, fake)
    with pytest.raises(ValueError, match=message):
        jobs.start(JobRequest(settings=settings))
    assert jobs.status().status == "idle" and not jobs.lock_path.exists()


@pytest.mark.parametrize(
    "request_, message",
    [
        (JobRequest(finetune="../../etc"), "version id"),
        (JobRequest(activate="sometimes"), "activate"),
        (JobRequest(data="/nonexistent/mnist.npz"), "no MNIST file"),
        (JobRequest(finetune="default"), "Fine-tuning needs saved samples"),
        (JobRequest(use_samples=True), "Training on your samples needs saved samples"),
    ],
)
def test_bad_requests_are_refused(tmp_path, fake, request_, message):
    with pytest.raises(ValueError, match=message):
        manager(tmp_path, fake).start(request_)


@pytest.mark.parametrize("job_id", ["../x", "20250101-000000-abcdeg", "", None, "20250101-000000-abcdef/.."])
def test_job_ids_are_validated(tmp_path, fake, job_id):
    with pytest.raises(ValueError, match="job id"):
        manager(tmp_path, fake).job_dir(job_id)


def test_a_profiles_finetune_passes_the_profile_and_needs_that_profiles_samples(tmp_path, fake):
    store = SampleStore(Paths(home=tmp_path).samples_db)
    store.add(3, np.zeros((28, 28), np.float32), profile="alice")
    jobs = manager(tmp_path, fake)
    with pytest.raises(ValueError, match="needs saved samples"):
        jobs.start(tiny(finetune="default", profile="bob", activate="if_helps"))  # alice's don't count for bob
    status = jobs.start(tiny(finetune="default", profile="alice", activate="if_helps"))
    jobs.wait(30)
    job = recorded(jobs, status.id)["request"]["job"]
    assert job["profile"] == "alice" and job["activate"] == "if_helps"
    assert job["finetune"] == "default"


@pytest.mark.parametrize("request_, message", [
    (JobRequest(profile="alice"), "fine-tune"),
    (JobRequest(finetune="default", profile="a/b"), "profile"),
    (JobRequest(finetune="default", activate="if_helps"), "profile"),
])
def test_bad_profile_requests_are_refused(tmp_path, fake, request_, message):
    with pytest.raises(ValueError, match=message):
        manager(tmp_path, fake).start(request_)


# --- replicas: a lock from another machine, the database's advisory lock ------------------------------------


def test_a_lock_from_another_machine_is_live_while_fresh(tmp_path, fake, monkeypatch):
    """A replica on another machine sharing the data directory: its pid means nothing here, its lock's age does."""
    from mnist_core.ops import jobs as jobs_module

    jobs = manager(tmp_path, fake)
    jobs.paths.jobs.mkdir(parents=True)
    foreign = {"pid": 1, "started": 1, "job": "20000101-000000-abcdef", "host": "another-machine"}
    jobs.lock_path.write_text(json.dumps(foreign))
    with pytest.raises(JobBusy, match="already running"):
        jobs.start(tiny())
    assert jobs.status().running and jobs.status().attached
    old = jobs.lock_path.stat().st_mtime - jobs_module.FOREIGN_STALE_S - 5
    os.utime(jobs.lock_path, (old, old))  # its app stopped touching it a minute ago
    assert not jobs.status().running  # stale: the job shown ended without its last word
    assert jobs.start(tiny()).running
    holder = json.loads(jobs.lock_path.read_text())
    assert holder["host"] == jobs_module._HOST and holder["job"] != foreign["job"]
    assert jobs.wait(30).status == "done"


def test_the_app_touches_its_jobs_lock_while_it_runs(tmp_path, fake, monkeypatch):
    from mnist_core.ops import jobs as jobs_module

    monkeypatch.setattr(jobs_module, "HEARTBEAT_S", 0.2)
    monkeypatch.setenv("FAKE_MODE", "slow")
    jobs = manager(tmp_path, fake)
    jobs.start(tiny())
    old = jobs.lock_path.stat().st_mtime - 100
    os.utime(jobs.lock_path, (old, old))
    import time

    time.sleep(1.0)
    assert time.time() - jobs.lock_path.stat().st_mtime < 5
    jobs.cancel()
    assert jobs.wait(15).status == "cancelled"


def test_with_postgresql_one_training_across_data_directories(tmp_path, fake, monkeypatch, pg_url):
    """Two replicas whose only common ground is the database (the worst shared filesystem): one training."""
    monkeypatch.setenv("FAKE_MODE", "slow")
    a = JobManager(Paths(home=tmp_path / "a", database=pg_url), command=fake, options=JobOptions(nice=0))
    b = JobManager(Paths(home=tmp_path / "b", database=pg_url), command=fake, options=JobOptions(nice=0))
    first = a.start(tiny())
    with pytest.raises(JobBusy, match="already running"):
        b.start(tiny())
    assert a.cancel() and a.wait(15).status == "cancelled"
    assert b.start(tiny()).running  # freed with the job
    assert b.cancel() and b.wait(15).status == "cancelled"
    argv = json.loads((a.job_dir(first.id) / "argv.json").read_text())
    assert "PGPASSWORD" in argv["env"]


def test_with_postgresql_the_trainer_gets_the_url_without_its_password(tmp_path, fake, pg_url):
    from mnist_core.store.samples import open_store
    from mnist_core.store.samples_pg import split_password

    open_store(pg_url).add(3, np.zeros((28, 28), np.float32))
    jobs = JobManager(Paths(home=tmp_path, database=pg_url), command=fake, options=JobOptions(nice=0))
    status = jobs.start(tiny(use_samples=True))
    assert jobs.wait(30).status == "done"
    handed = recorded(jobs, status.id)
    url, password = split_password(pg_url)
    assert handed["request"]["job"]["samples"] == url
    assert password and f":{password}@" not in json.dumps(handed["request"]) and "PGPASSWORD" in handed["env"]
    assert f":{password}@" not in (jobs.job_dir(status.id) / "request.json").read_text()


def test_with_postgresql_a_killed_holder_frees_the_training_lock(pg_url):
    """The advisory lock dies with its session: a replica killed mid-job does not block training forever."""
    from mnist_core.store.samples_pg import TrainingLock

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from mnist_core.store.samples_pg import TrainingLock; "
         "lock = TrainingLock(sys.argv[1]); assert lock.acquire(); print('held', flush=True); time.sleep(60)", pg_url],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = TrainingLock(pg_url)
        assert lock.held() and not lock.acquire()
    finally:
        holder.kill()
        holder.wait()
    import time

    deadline = time.monotonic() + 10
    while lock.held() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lock.acquire() and lock.held_here
    lock.release()
    assert not lock.held()


# ------------------------------------------------------------------------------------------------ the spare trainer


def test_a_custom_trainer_command_never_gets_a_spare(tmp_path, fake):
    """Only the real trainer knows how to wait for its job: with a custom command, spare=True changes nothing."""
    jobs = manager(tmp_path, fake, spare=True)
    jobs.keep_spare()
    assert jobs._spare is None
    jobs.start(tiny())
    assert jobs.wait(30).status == "done" and jobs._spare is None


def _start_event(jobs: JobManager, job_id: str) -> dict:
    return json.loads((jobs.job_dir(job_id) / "log.jsonl").read_text().splitlines()[0])


def _next_spare(jobs: JobManager):
    """The spare trainer the manager starts after a job (it does so once the job's trainer has exited)."""
    def waiting():
        spare = jobs._spare
        return spare if spare is not None and spare.poll() is None else None

    return wait_until(waiting, 20, "a new spare trainer after the job")


@pytest.mark.slow
def test_a_spare_trainer_runs_the_next_job_and_a_new_one_waits_after_it(tmp_path, mnist_path):
    """The real trainer: a spare that died is replaced by a fresh start (warm false); after a job a new spare
    waits, and the next job runs in it (same pid, warm true), to the same end; close() lets the last one go."""
    jobs = JobManager(Paths(home=tmp_path), options=JobOptions(nice=0, spare=True))
    request = JobRequest(TrainSettings(arch="mlp", width=16, epochs=1, limit=600, validation=100, augment=False,
                                       data="mnist"), data=mnist_path)
    jobs.keep_spare()
    first = jobs._spare
    jobs.keep_spare()
    assert first is not None and jobs._spare is first  # one waits at a time
    first.kill()
    first.wait(30)
    one = jobs.start(request)
    assert jobs.wait(300).status == "done"
    assert _start_event(jobs, one.id)["warm"] is False and _start_event(jobs, one.id)["pid"] != first.pid

    spare = _next_spare(jobs)
    assert spare.pid != first.pid
    two = jobs.start(request)
    assert jobs._spare is None  # taken: no second trainer competes for the cores while the job runs
    status = jobs.wait(300)
    assert status.status == "done", status.message
    assert status.result["version"] in {card["id"] for card in Registry(Paths(home=tmp_path)).versions()}
    event = _start_event(jobs, two.id)
    assert event["warm"] is True and event["pid"] == spare.pid
    assert f"version {status.result['version']}: test accuracy" in (jobs.job_dir(two.id) / "output.log").read_text()

    last = _next_spare(jobs)
    assert last.pid not in (first.pid, spare.pid)
    jobs.close()
    assert last.wait(60) == 0 and jobs._spare is None


@pytest.mark.slow
@pytest.mark.parametrize("line, code", [("", 0), ("not json\n", 2), ('{"argv": ["--epochs", "1"]}\n', 2),
                                        ('{"request": "/nonexistent/request.json"}\n', 2)])
def test_a_spare_trainer_leaves_at_end_of_input_and_refuses_a_bad_job_line(tmp_path, line, code):
    """`python -m mnist_core spare`: the studio gone (end of input) is a quiet exit; a line that is not its job is
    refused with a one-line error, nothing trained."""
    env = {**os.environ, "MNIST_STUDIO_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "spare"], input=line, capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == code, proc.stderr[-2000:]
    assert ("error: a spare trainer takes one JSON line" in proc.stderr) == (code == 2)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
