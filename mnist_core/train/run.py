"""One training run, ``run(job, progress, cancel) -> Outcome``: the data, the user's samples, a fine-tune or a
person's fine-tune with its hold-out, the fit (in one process or across workers), the evaluation, the card, plots
and TF Lite copy, the save and the activation.

The CLI (``python -m mnist_core train``), the job manager's trainer process and the spare trainer all call it.
``progress`` receives, in order: one ``Started``, ``fit.Progress`` records, ``Note`` lines for people, and last the
``Outcome`` that ``run`` also returns (the job log's events are written from them, mnist_core.ops.protocol). It
prints nothing. TensorFlow is imported when ``run`` is called, not at import.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, replace

from mnist_core.config import TrainSettings
from mnist_core.train.job import Note, Outcome, RunError, Started, TrainJob


def quiet_tensorflow() -> None:
    """TensorFlow's C++ start-up chatter is not for the person at the terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cluster_of(job: TrainJob):
    """The workers of a run across workers (job.workers or TF_CONFIG), else None; checked before TensorFlow."""
    from mnist_core.train.cluster import from_args  # noqa: PLC0415

    cluster = from_args(job.workers, job.worker_index)
    if cluster is not None and (job.finetune or job.profile or job.samples):
        raise RunError("training across workers trains a new model on MNIST (+ pen digits): not with --finetune, "
                       "--profile or --samples")
    return cluster


@dataclass
class _Run:
    """What one run has gathered so far (data, parent, a person's hold-out), passed between its steps."""

    job: TrainJob
    settings: TrainSettings
    cluster: object = None
    strategy: object = None
    join_seconds: float = 0.0
    data: object = None
    extra: tuple | None = None
    init_model: object = None
    parent: str | None = None
    personal: dict | None = None
    t_start: float = 0.0
    import_seconds: float = 0.0


def run(job: TrainJob, progress, cancel, *, log_path=None) -> Outcome:
    """Train, evaluate, save (and maybe activate) one version as ``job`` says; see the module's docstring.

    ``cancel``: a threading.Event; ``log_path``: the job log, where a join that times out writes its "failed" event.
    Raises RunError for expected failures (one line), anything else as it comes.
    """
    r = _Run(job, job.settings, cluster=cluster_of(job), t_start=time.perf_counter())
    quiet_tensorflow()
    if r.cluster is not None:
        _join(r, progress, log_path)  # before any other TensorFlow op
    t_import = time.perf_counter()
    import keras  # noqa: F401, PLC0415

    from mnist_core.digits import recognize  # noqa: F401, PLC0415
    from mnist_core.store import registry  # noqa: F401, PLC0415
    from mnist_core.train import data, evaluate  # noqa: F401, PLC0415
    from mnist_core.train import fit as training  # noqa: PLC0415

    r.import_seconds = time.perf_counter() - t_import
    _gather(r)
    progress(_started(r))
    try:
        result = _fit(r, progress, cancel)
    except training.TrainingFailed as e:
        raise RunError(str(e)) from None
    except Exception as e:
        if r.cluster is not None and cancel.is_set():
            # Cancelled across workers: this worker left the run at the end of a step while the others were already
            # in the next step's exchange, which TensorFlow reports as a lost peer. It was asked for: a cancel.
            return _report(progress, Outcome("cancelled", epochs_done=None))
        _raise_if_worker_lost(r.cluster, e)
        raise
    if r.cluster is not None and not r.cluster.chief and not result.cancelled:
        return _worker_end(r, result, progress)
    if result.cancelled:
        return _report(progress, Outcome("cancelled", epochs_done=result.epochs_done))
    outcome = _judge_and_save(r, result)
    progress(outcome)
    if r.strategy is not None:
        _release_workers(r.strategy, progress)
    return outcome


def _report(progress, outcome: Outcome) -> Outcome:
    progress(outcome)
    return outcome


def _gather(r: _Run) -> None:
    """The data, the user's samples, the parent of a fine-tune, a person's hold-out; the settings trained with."""
    from mnist_core.store.registry import Registry  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415

    job = r.job
    r.data = load_mnist(job.data)
    if job.samples:
        from mnist_core.store.samples import open_store  # noqa: PLC0415

        r.extra = open_store(job.samples).arrays(job.profile)  # a profile's own, else everyone's
    if job.finetune:
        r.parent = job.finetune
        r.init_model = Registry().load(r.parent)
        if not r.extra or not len(r.extra[0]):
            raise RunError("fine-tuning needs saved samples (--samples DB with at least one digit)")
    if job.profile is not None:
        r.personal, r.extra, r.settings = _personal_start(job, r.init_model, r.parent, r.extra, r.data)
    elif job.finetune:
        r.data = _finetune_data(r.data, r.settings.limit or 5000, r.settings.seed)
        # The card records the net actually trained: the parent's architecture and width, not the defaults.
        from mnist_core.train.nets import net_shape  # noqa: PLC0415

        r.settings = TrainSettings(**{**asdict(r.settings), "limit": None, **net_shape(r.init_model)})


def _started(r: _Run) -> Started:
    described = r.data.describe()
    if r.personal is not None:
        recipe = r.personal["recipe"]
        described += (f"; fine-tuned on {len(r.extra[1])} samples of {r.job.profile!r} (each {recipe.repeat}x)"
                      f" + {recipe.replay:,} MNIST digits replayed")
    if r.settings.data == "mnist+pen" and r.init_model is None:
        from mnist_core.train.pen import pen_note  # noqa: PLC0415

        described += f" + real handwriting: {pen_note()}"  # the shipped file's own counts
    described += f"; test set: {r.data.test_name}"  # every figure of this run is on it
    return Started(settings=asdict(r.settings), data=described, subset=r.data.subset, pid=os.getpid(),
                   parent=r.parent, profile=r.job.profile, warm=r.job.warm)


def _finetune_data(data, replay: int, seed: int):
    """Fine-tuning set: a random replay of `replay` MNIST digits, so the user's digits don't erase MNIST."""
    import numpy as np  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data.x_train))[: max(replay, 100)]
    return data.with_train(data.x_train[idx], data.y_train[idx])


def _fit(r: _Run, progress, cancel):
    """The fit: a person's fine-tune (cross-validated twins, then all samples), else training.fit."""
    from mnist_core.train import fit as training  # noqa: PLC0415

    if r.personal is None:
        return training.fit(r.settings, r.data, extra=r.extra, init_model=r.init_model, progress=progress,
                            cancel=cancel, strategy=r.strategy)
    from mnist_core.store.registry import Registry  # noqa: PLC0415
    from mnist_core.train.personal import judged_finetune  # noqa: PLC0415

    personal = r.personal
    result, personal["after"], personal["twin_seconds"] = judged_finetune(
        r.init_model, lambda: Registry().load(r.parent), *personal["all"], r.data, personal["recipe"], progress,
        cancel)
    return result


def _judge_and_save(r: _Run, result) -> Outcome:
    """Evaluate the fitted model, write its card and plots, save it, maybe activate it: the "done" outcome."""
    import keras  # noqa: PLC0415

    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.version import render_artifacts, save_version  # noqa: PLC0415

    job, data, registry = r.job, r.data, Registry()
    # A clean copy without optimizer state: smaller files, nothing to deserialize but the net.
    model = keras.models.clone_model(result.model)
    model.set_weights(result.model.get_weights())
    recognizer = Recognizer(model, "new", lite=False)
    metrics = ev.evaluate_data(recognizer.predict, data)  # named: metrics["test_set"]
    active_before = registry.active(job.profile)
    active_accuracy = _active_accuracy(r, registry, active_before)  # on the same test set
    card = _card(r, model, result, metrics)
    card["tests"] = ev.other_tests(recognizer.predict, data)  # the held-out pen writers too, for offline comparisons
    verdict = None
    if r.personal is not None:
        verdict = _personal_end(job.profile, r.personal, metrics, result, card)
    artifacts = render_artifacts(model, metrics, data.x_test, result.history)
    if r.personal is not None:  # the whole job but its save: from the trainer's start to its plots and TF Lite copy
        card["personal"]["wall_seconds"] = round(time.perf_counter() - r.t_start, 2)
    better = active_accuracy is None or metrics["accuracy"] > active_accuracy
    helps = verdict is not None and verdict.activate
    activate = {"always": True, "if_better": better, "if_helps": helps}.get(job.activate, False)
    vid, card = save_version(registry, model, card, artifacts, activate=activate, profile=job.profile,
                             output=job.output)  # a profile's model goes live for that profile alone
    done = {"version": vid, "card": card, "active_before": active_before, "active_accuracy": active_accuracy,
            "test_set": data.test_card(), "activated": activate, "profile": job.profile,
            "personal": card.get("personal")}
    return Outcome("done", result=done, summary=_summary(r, vid, card, result, metrics, done),
                   line=f"version {vid}: test accuracy {metrics['accuracy']:.2%} on {data.test_name} "
                        f"({metrics['errors']} errors); trained {result.epochs_done} epochs in "
                        f"{result.train_seconds:.1f} s "
                        f"(+{result.setup_seconds:.1f} s setup)" + (", activated" if activate else ""),
                   epochs_done=result.epochs_done)


def _active_accuracy(r: _Run, registry, active_before: str) -> float | None:
    """The active model's accuracy on this run's test set, measured now (never a figure from its card, which may be
    on other digits); the parent's, already measured, for a person's fine-tune of it. Its checked TF Lite copy
    through LiteRT when it has one (no Keras load), else its Keras model."""
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.train import evaluate as ev  # noqa: PLC0415

    if r.personal is not None and active_before == r.parent:
        return r.personal["mnist_before"]
    if not registry.exists(active_before):
        return None
    try:
        lite = registry.lite_content(active_before)
        reader = (Recognizer.from_lite(lite, active_before) if lite
                  else Recognizer(registry.load(active_before), active_before, lite=False))
        return ev.evaluate_data(reader.predict, r.data)["accuracy"]
    except Exception:  # a broken active model must not lose the new one
        return None


def _card(r: _Run, model, result, metrics: dict) -> dict:
    import keras  # noqa: PLC0415

    from mnist_core.train.nets import arch_name  # noqa: PLC0415

    data = r.data
    card = {
        "arch": arch_name(model),
        "params": int(model.count_params()),
        "data": {"source": data.source, "subset": data.subset, "train_size": result.train_size,
                 "test_size": int(len(data.x_test)), "user_samples": result.extra_size,
                 "pen_digits": result.pen_size, "description": result.data},
        "batch_size_used": result.batch_size,
        "settings": asdict(r.settings),
        "metrics": metrics,
        "train_seconds": round(result.train_seconds, 2),
        "setup_seconds": round(result.setup_seconds, 2),
        "import_seconds": round(r.import_seconds, 2),
        "epochs_done": result.epochs_done,
        "history": result.history,
        "parent": r.parent,
        "keras": keras.__version__,
    }
    if r.cluster is not None:
        card["workers"] = {**r.cluster.to_dict(), "join_seconds": round(r.join_seconds, 2)}
    return card


def _summary(r: _Run, vid: str, card: dict, result, metrics: dict, done: dict) -> dict:
    summary = {
        "version": vid,
        "test_accuracy": metrics["accuracy"],
        "test_set": done["test_set"]["name"],
        "train_seconds": round(result.train_seconds, 2),
        "setup_seconds": round(result.setup_seconds, 2),
        "epochs": result.epochs_done,
        "arch": r.settings.arch,
        "data": result.data or r.data.source,
        "activated": done["activated"],
        "active_before": done["active_before"],
        "active_accuracy": done["active_accuracy"],
    }
    if r.personal is not None:
        summary.update(profile=r.job.profile, personal=card["personal"])
    if r.cluster is not None:
        summary["workers"] = list(r.cluster.workers)
    return summary


# ------------------------------------------------------------------------------------------------ workers
def _join(r: _Run, progress, log_path) -> None:
    """This worker's MultiWorkerMirroredStrategy, once every worker has joined (or an error past the timeout)."""
    from mnist_core.train.cluster import JoinWatchdog, make_strategy  # noqa: PLC0415

    c = r.cluster
    progress(Note(f"worker {c.index} of {len(c.workers)} at {c.address}" + (" (chief)" if c.chief else "")
                  + ": waiting for the others"))
    t = time.perf_counter()
    with JoinWatchdog(c, r.job.join_timeout, log_path):  # past the timeout: "failed" logged, this process killed
        r.strategy = make_strategy(c)
    r.join_seconds = time.perf_counter() - t


def _raise_if_worker_lost(cluster, e: Exception) -> None:
    """TensorFlow's long report of a lost worker as one line (RunError); anything else is left as it is."""
    if cluster is not None:
        from mnist_core.train.cluster import peer_failure  # noqa: PLC0415

        message = peer_failure(e, cluster)
        if message is not None:
            raise RunError(message) from None


def _worker_end(r: _Run, result, progress) -> Outcome:
    """A worker other than the chief: wait for the chief to save the version, then stop; it saves nothing."""
    c = r.cluster
    progress(Note(f"worker {c.index}: trained {result.epochs_done} epochs in {result.train_seconds:.1f} s; waiting "
                  f"for the chief ({c.workers[0]}) to save the version"))
    try:
        from mnist_core.train.cluster import barrier  # noqa: PLC0415

        barrier(r.strategy)
    except Exception as e:
        _raise_if_worker_lost(c, e)
        raise
    summary = {"worker": c.index, "workers": list(c.workers), "epochs": result.epochs_done,
               "train_seconds": round(result.train_seconds, 2), "saved_by": c.workers[0]}
    return _report(progress, Outcome("worker", summary=summary, line=f"worker {c.index}: done; the chief saved the "
                                     "version", epochs_done=result.epochs_done))


def _release_workers(strategy, progress) -> None:
    """The chief, its version saved: let the other workers stop (they wait for this; a lost one is only noted)."""
    from mnist_core.train.cluster import barrier  # noqa: PLC0415

    try:
        barrier(strategy)
    except Exception as e:  # the version is saved: a worker gone by now changes nothing
        progress(Note(f"note: a worker had stopped before the end ({type(e).__name__})", always=True))


# ------------------------------------------------------------------------------------------------ a person's fine-tune
def _personal_start(job: TrainJob, model, parent: str, extra, data):
    """A profile's fine-tune: the parent reads every sample and the data's test set first (the model is trained in
    place), and the settings the recipe runs with; every sample is judged by cross-validation (personal.py)."""
    import json  # noqa: PLC0415

    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.personal import Recipe, train_settings  # noqa: PLC0415

    try:
        recipe = Recipe(**json.loads(job.recipe)) if job.recipe else Recipe()
        limit = job.settings.limit
        if limit:  # a short run (tests): a smaller replay
            recipe = replace(recipe, replay=min(recipe.replay, limit), validation=min(recipe.validation, limit // 10))
        recipe.validate()
    except (TypeError, ValueError) as e:
        raise RunError(f"--recipe: {e}") from None
    x, y = extra
    if len(y) < recipe.min_samples:
        raise RunError(f"a personal fine-tune needs at least {recipe.min_samples} samples of {job.profile!r} "
                       f"(it has {len(y)}): each is read by a fine-tune trained without it to judge it")
    before = Recognizer(model, parent, lite=False).predict
    state = {
        "recipe": recipe,
        "all": (x, y),
        "before": before(x),
        "test_set": data.test_card(),
        "mnist_before": ev.evaluate_data(before, data)["accuracy"],
    }
    return state, (x, y), train_settings(model, recipe)


def _personal_end(profile: str, state: dict, metrics: dict, result, card: dict):
    """Judge the fine-tune on the cross-validated readings and write it all in the card; returns the Verdict."""
    from mnist_core.train.personal import personal_card  # noqa: PLC0415

    card["profile"] = profile
    card["personal"], verdict = personal_card(profile, state, metrics, result, state["recipe"])
    card["data"]["user_samples"] = card["personal"]["samples"]  # distinct samples, not their weighted copies
    return verdict
