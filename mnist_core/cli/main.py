"""Command line: ``python -m mnist_core train | train-number | evaluate | predict | combine | samples | models``
(and ``spare``, the studio's waiting trainer).

TensorFlow is imported only inside the commands that need it, so ``--help`` and argument
errors answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

from mnist_core.config import TrainSettings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 3


class CliError(Exception):
    """An expected failure: printed as one line, no traceback."""


def _quiet_tensorflow() -> None:
    # TensorFlow's C++ start-up chatter is not for the person at the terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# ---------------------------------------------------------------------------------- train
class _JobLog:
    """Appends JSON events to <job-dir>/log.jsonl and turns <job-dir>/cancel or SIGTERM into a flag."""

    def __init__(self, job_dir: str | None, cancel: threading.Event):
        self.path = None
        self.cancel = cancel
        if job_dir:
            d = Path(job_dir)
            d.mkdir(parents=True, exist_ok=True)
            self.path = d / "log.jsonl"
            self.cancel_file = d / "cancel"
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while not self.cancel.is_set():
            if self.cancel_file.exists():
                self.cancel.set()
            time.sleep(0.2)

    def write(self, event: str, **fields) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": time.time(), **fields}, default=float)
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()


class _Bar:
    """A one-line progress bar on stderr."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        width = 24
        done = (p.epoch - 1 + p.step / p.steps) / p.epochs
        bar = "#" * int(done * width) + "-" * (width - int(done * width))
        line = (f"\repoch {p.epoch}/{p.epochs} [{bar}] loss {p.loss:.4f} acc {p.accuracy:.4f}"
                f" | {p.elapsed_s:5.0f}s, ETA {p.eta_s:4.0f}s")
        if p.event == "epoch" and p.val_accuracy is not None:
            line += f" | val loss {p.val_loss:.4f} val acc {p.val_accuracy:.4f}\n"
        elif p.event == "epoch":
            line += "\n"
        sys.stderr.write(line)
        sys.stderr.flush()


def _settings_from(args) -> TrainSettings:
    defaults = TrainSettings()
    settings = TrainSettings(
        arch=args.arch,
        width=args.width if args.width is not None else defaults.width,
        epochs=args.epochs if args.epochs is not None else defaults.epochs,
        batch_size=args.batch_size if args.batch_size is not None else defaults.batch_size,
        lr=args.lr if args.lr is not None else defaults.lr,
        augment=args.augment if args.augment is not None else (args.arch == "cnn"),
        seed=args.seed,
        limit=args.limit,
        validation=args.validation if args.validation is not None else defaults.validation,
        sample_weight=args.sample_weight,
        schedule=args.schedule,
        label_smoothing=args.label_smoothing if args.label_smoothing is not None else defaults.label_smoothing,
        data=args.train_data,
    )
    settings.validate()
    return settings


def _finetune_data(data, extra, replay: int, seed: int):
    """Fine-tuning set: a random replay of `replay` MNIST digits, so the user's digits don't erase MNIST."""
    import numpy as np  # noqa: PLC0415

    from mnist_core.train.data import MnistData  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data.x_train))[: max(replay, 100)]
    return MnistData(data.x_train[idx], data.y_train[idx], data.x_test, data.y_test, data.source, data.subset)


def cmd_train(args) -> int:
    """Train, evaluate on the test set, register the version (and optionally activate it)."""
    args.t_start = time.perf_counter()
    settings = _settings_from(args)   # bad settings fail here, before TensorFlow loads
    if args.profile is not None:
        from mnist_core.store.profiles import validate_profile  # noqa: PLC0415

        args.profile = validate_profile(args.profile)
        if not (args.finetune and args.samples):
            raise CliError("--profile fine-tunes a version on that profile's samples: give --finetune and --samples")
    elif args.activate_if_helps:
        raise CliError("--activate-if-helps is for a profile's fine-tune (--profile)")
    args.cluster = _cluster_from(args)  # bad workers fail here too, before TensorFlow loads
    cancel = threading.Event()
    log = _JobLog(args.job_dir if args.cluster is None or args.cluster.chief else None, cancel)  # the chief's alone
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    try:
        return _train(args, settings, cancel, log)
    except Exception as e:
        log.write("failed", message=str(e) or type(e).__name__)
        raise


def _train(args, settings: TrainSettings, cancel, log) -> int:
    _quiet_tensorflow()
    strategy = _join(args, log) if args.cluster is not None else None  # before any other TensorFlow op
    t_import = time.perf_counter()
    import keras  # noqa: PLC0415

    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train import fit as training  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415
    from mnist_core.digits.recognize import Recognizer, checked_lite  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    import_s = time.perf_counter() - t_import
    registry = Registry()
    data = load_mnist(args.data)
    extra = None
    if args.samples:
        from mnist_core.store.samples import open_store  # noqa: PLC0415

        extra = open_store(args.samples).arrays(args.profile)  # a profile's own, else everyone's (SQLite or PostgreSQL)
    init_model, parent = None, None
    personal = None
    if args.finetune:
        parent = args.finetune
        init_model = registry.load(parent)
        if not extra or not len(extra[0]):
            raise CliError("fine-tuning needs saved samples (--samples DB with at least one digit)")
    if args.profile is not None:
        personal, extra, settings = _personal_start(args, init_model, parent, extra, data)
    elif args.finetune:
        data = _finetune_data(data, extra, settings.limit or 5000, settings.seed)
        # The card records the net actually trained: the parent's architecture and width, not the defaults.
        from mnist_core.train.nets import net_shape  # noqa: PLC0415

        settings = TrainSettings(**{**asdict(settings), "limit": None, **net_shape(init_model)})
    described = data.describe()
    if personal is not None:
        described += (f"; fine-tuned on {len(extra[1])} samples of {args.profile!r} (each {personal['recipe'].repeat}x)"
                      f" + {personal['recipe'].replay:,} MNIST digits replayed")
    if settings.data == "mnist+pen" and init_model is None:
        from mnist_core.train.pen import pen_note  # noqa: PLC0415

        described += f" + real handwriting: {pen_note()}"  # the shipped file's own counts
    log.write("start", settings=asdict(settings), data=described, subset=data.subset, pid=os.getpid(),
              parent=parent, profile=args.profile, warm=args.warm)
    if not args.json:
        print(f"data: {described}", file=sys.stderr)

    bar = _Bar(enabled=not args.quiet and (args.cluster is None or args.cluster.chief))

    def progress(p):
        bar(p)
        fields = p.to_dict()
        kind = fields.pop("event")
        log.write("epoch" if kind == "epoch" else "progress", **fields)

    try:
        if personal is not None:
            from mnist_core.train.personal import finetune, score  # noqa: PLC0415

            recipe = personal["recipe"]
            twice = recipe.refit_all and len(personal["all"][1]) > len(extra[1])
            first = _half_of_two(progress, second=False) if twice else progress
            result = finetune(init_model, extra[0], extra[1], data, recipe, first, cancel)
            if twice and not result.cancelled:
                # The held-out samples judge this twin; the version saved is trained again on every sample.
                twin = Recognizer(result.model, "twin", lite=False)
                personal["twin_after"] = score(twin.predict(personal["held"][0]), personal["held"][1])
                personal["twin_seconds"] = result.train_seconds + result.setup_seconds
                result = finetune(registry.load(parent), *personal["all"], data, recipe,
                                  _half_of_two(progress, second=True), cancel)
        else:
            result = training.fit(settings, data, extra=extra, init_model=init_model, progress=progress,
                                  cancel=cancel, strategy=strategy)
    except training.TrainingFailed as e:
        raise CliError(str(e)) from None  # cmd_train logs the one "failed" event
    except Exception as e:
        if args.cluster is not None and cancel.is_set():
            # Cancelled across workers: this worker left the run at the end of a step while the others were already
            # in the next step's exchange, which TensorFlow reports as a lost peer. It was asked for: a cancel.
            log.write("cancelled", epochs_done=None)
            print("cancelled", file=sys.stderr)
            return EXIT_CANCELLED
        _raise_if_worker_lost(args, e)
        raise
    if args.cluster is not None and not args.cluster.chief and not result.cancelled:
        return _worker_end(args, strategy, result)
    if result.cancelled:
        log.write("cancelled", epochs_done=result.epochs_done)
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED

    # A clean copy without optimizer state: smaller files, nothing to deserialize but the net.
    model = keras.models.clone_model(result.model)
    model.set_weights(result.model.get_weights())
    recognizer = Recognizer(model, "new", lite=False)
    metrics = ev.evaluate(recognizer.predict, data.x_test, data.y_test)
    active_before = registry.active(args.profile)
    active_accuracy = None
    if personal is not None and active_before == parent:
        active_accuracy = personal["mnist_before"]
    elif registry.exists(active_before):
        try:
            active_accuracy = ev.evaluate(Recognizer(registry.load(active_before), active_before, lite=False).predict,
                                          data.x_test, data.y_test)["accuracy"]
        except Exception:  # a broken active model must not lose the new one
            active_accuracy = None
    from mnist_core.train.nets import arch_name  # noqa: PLC0415

    card = {
        "arch": arch_name(model),
        "params": int(model.count_params()),
        "data": {"source": data.source, "subset": data.subset, "train_size": result.train_size,
                 "test_size": int(len(data.x_test)), "user_samples": result.extra_size,
                 "pen_digits": result.pen_size, "description": result.data},
        "batch_size_used": result.batch_size,
        "settings": asdict(settings),
        "metrics": metrics,
        "train_seconds": round(result.train_seconds, 2),
        "setup_seconds": round(result.setup_seconds, 2),
        "import_seconds": round(import_s, 2),
        "epochs_done": result.epochs_done,
        "history": result.history,
        "parent": parent,
        "keras": keras.__version__,
    }
    if args.cluster is not None:
        card["workers"] = {**args.cluster.to_dict(), "join_seconds": round(args.join_seconds, 2)}
    verdict = None
    if personal is not None:
        verdict = _personal_end(args, personal, recognizer, metrics, result, card)
    artifacts = {
        "curves.png": ev.plot_curves(result.history),
        "confusion.png": ev.plot_confusion(metrics["confusion"]),
        "mistakes.png": ev.plot_mistakes(data.x_test, metrics["worst"]),
    }
    lite = checked_lite(model)  # the server runs this copy without importing TensorFlow
    if lite is not None:
        artifacts["model.tflite"] = lite
    if personal is not None:  # the whole job but its save: from the trainer's start to its plots and TF Lite copy
        card["personal"]["wall_seconds"] = round(time.perf_counter() - args.t_start, 2)
    vid = registry.save(model, card, artifacts)
    card = registry.card(vid)
    activated = False
    better = active_accuracy is None or metrics["accuracy"] > active_accuracy
    helps = verdict is not None and verdict.activate
    if args.activate or (args.activate_if_better and better) or (args.activate_if_helps and helps):
        registry.activate(vid, profile=args.profile)  # a profile's model goes live for that profile alone
        activated = True
    if args.output:
        _write_output(registry, vid, card, Path(args.output))
    log.write("done", version=vid, card=card, active_before=active_before, active_accuracy=active_accuracy,
              activated=activated, profile=args.profile, personal=card.get("personal"))
    if strategy is not None:
        _release_workers(strategy)
    summary = {
        "version": vid,
        "test_accuracy": metrics["accuracy"],
        "train_seconds": round(result.train_seconds, 2),
        "setup_seconds": round(result.setup_seconds, 2),
        "epochs": result.epochs_done,
        "arch": settings.arch,
        "data": result.data or data.source,
        "activated": activated,
        "active_before": active_before,
        "active_accuracy": active_accuracy,
    }
    if personal is not None:
        summary.update(profile=args.profile, personal=card["personal"])
    if args.cluster is not None:
        summary["workers"] = list(args.cluster.workers)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"version {vid}: test accuracy {metrics['accuracy']:.2%} ({metrics['errors']} errors in "
              f"{metrics['count']:,}); trained {result.epochs_done} epochs in {result.train_seconds:.1f} s "
              f"(+{result.setup_seconds:.1f} s setup)" + (", activated" if activated else ""))
    return EXIT_OK


def _write_output(registry, vid: str, card: dict, out: Path) -> None:
    """Copy version ``vid`` to ``out`` (.keras), its card and checked TF Lite copy beside it: a shippable default."""
    from mnist_core.store.registry import write_atomic  # noqa: PLC0415

    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, registry.model_path(vid).read_bytes())
    write_atomic(out.with_suffix(".json"), json.dumps({**card, "id": "default"}, indent=2).encode())
    if registry.lite_path(vid).is_file():  # the card's lite_of matches: same model bytes
        write_atomic(out.with_suffix(".tflite"), registry.lite_path(vid).read_bytes())


def _member(ref: str, registry):
    """A model and its card from a version id or a .keras file (its card, if any, the .json beside it)."""
    from mnist_core.store.registry import load_model_file  # noqa: PLC0415

    path = Path(ref)
    if path.suffix == ".keras":
        if not path.is_file():
            raise CliError(f"no such model file: {ref}")
        card_file = path.with_suffix(".json")
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        return load_model_file(path), {**card, "file": str(path)}
    if not registry.exists(ref):
        raise CliError(f"no such version: {ref}")
    return registry.load(ref), registry.card(ref)


def cmd_combine(args) -> int:
    """Average trained digit models into one ensemble version: test accuracy, checked TF Lite copy, a card naming
    each member."""
    if len(args.members) < 2:
        raise CliError("combine needs at least two models")
    _quiet_tensorflow()
    import keras  # noqa: PLC0415

    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415
    from mnist_core.train.nets import arch_name, build_ensemble, members  # noqa: PLC0415
    from mnist_core.digits.recognize import Recognizer, checked_lite  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    registry = Registry()
    loaded = [_member(ref, registry) for ref in args.members]
    if any(len(members(net)) > 1 for net, _ in loaded):
        raise CliError("combine single models, not ensembles")
    model = build_ensemble([net for net, _ in loaded])
    data = load_mnist(args.data)
    metrics = ev.evaluate(Recognizer(model, "new", lite=False).predict, data.x_test, data.y_test)
    first = loaded[0][1]
    seconds = [c.get("train_seconds") for _, c in loaded]
    card = {
        "arch": arch_name(model),
        "params": int(model.count_params()),
        "data": first.get("data"),        # the members' recipe: they are meant to differ by seed alone
        "settings": first.get("settings"),
        "metrics": metrics,
        "train_seconds": round(sum(seconds), 2) if all(isinstance(t, (int, float)) for t in seconds) else None,
        "history": first.get("history", []),
        "ensemble": {
            "how": "the mean of the members' probabilities",
            "members": [{"ref": ref, "version": c.get("id"), "seed": (c.get("settings") or {}).get("seed"),
                         "test_accuracy": (c.get("metrics") or {}).get("accuracy"),
                         "train_seconds": c.get("train_seconds")} for ref, (_, c) in zip(args.members, loaded)],
        },
        "parent": None,
        "keras": keras.__version__,
    }
    artifacts = {"confusion.png": ev.plot_confusion(metrics["confusion"]),
                 "mistakes.png": ev.plot_mistakes(data.x_test, metrics["worst"])}
    if card["history"]:
        artifacts["curves.png"] = ev.plot_curves(card["history"])  # the first member's curves
    lite = checked_lite(model)
    if lite is not None:
        artifacts["model.tflite"] = lite
    vid = registry.save(model, card, artifacts)
    card = registry.card(vid)
    if args.activate:
        registry.activate(vid)
    if args.output:
        _write_output(registry, vid, card, Path(args.output))
    summary = {"version": vid, "test_accuracy": metrics["accuracy"], "members": args.members,
               "member_accuracies": [m["test_accuracy"] for m in card["ensemble"]["members"]],
               "tflite": lite is not None, "activated": bool(args.activate)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"version {vid}: the mean of {len(loaded)} models reads {metrics['accuracy']:.2%} of the test set "
              f"({metrics['errors']} errors in {metrics['count']:,}); the members alone "
              + ", ".join(f"{a:.2%}" if isinstance(a, float) else "?" for a in summary["member_accuracies"])
              + (", activated" if args.activate else ""))
    return EXIT_OK


def _cluster_from(args):
    """The workers of a run across workers (--workers/--worker-index or TF_CONFIG), else None; checked before TF."""
    from mnist_core.train.cluster import from_args  # noqa: PLC0415

    cluster = from_args(args.workers, args.worker_index)
    if cluster is not None and (args.finetune or args.profile or args.samples):
        raise CliError("training across workers trains a new model on MNIST (+ pen digits): not with --finetune, "
                       "--profile or --samples")
    return cluster


def _join(args, log):
    """This worker's MultiWorkerMirroredStrategy, once every worker has joined (or an error past --join-timeout)."""
    from mnist_core.train.cluster import JoinWatchdog, make_strategy  # noqa: PLC0415

    c = args.cluster
    if not args.json:
        print(f"worker {c.index} of {len(c.workers)} at {c.address}" + (" (chief)" if c.chief else "")
              + ": waiting for the others", file=sys.stderr)
    t = time.perf_counter()
    with JoinWatchdog(c, args.join_timeout, log.path):  # past the timeout: "failed" logged, this process killed
        strategy = make_strategy(c)
    args.join_seconds = time.perf_counter() - t
    return strategy


def _raise_if_worker_lost(args, e: Exception) -> None:
    """TensorFlow's long report of a lost worker as one line (CliError); anything else is left as it is."""
    if args.cluster is not None:
        from mnist_core.train.cluster import peer_failure  # noqa: PLC0415

        message = peer_failure(e, args.cluster)
        if message is not None:
            raise CliError(message) from None


def _worker_end(args, strategy, result) -> int:
    """A worker other than the chief: wait for the chief to save the version, then stop; it saves nothing."""
    c = args.cluster
    if not args.json:
        print(f"worker {c.index}: trained {result.epochs_done} epochs in {result.train_seconds:.1f} s; waiting for the "
              f"chief ({c.workers[0]}) to save the version", file=sys.stderr)
    try:
        from mnist_core.train.cluster import barrier  # noqa: PLC0415

        barrier(strategy)
    except Exception as e:
        _raise_if_worker_lost(args, e)
        raise
    if args.json:
        print(json.dumps({"worker": c.index, "workers": list(c.workers), "epochs": result.epochs_done,
                          "train_seconds": round(result.train_seconds, 2), "saved_by": c.workers[0]}))
    else:
        print(f"worker {c.index}: done; the chief saved the version", file=sys.stderr)
    return EXIT_OK


def _release_workers(strategy) -> None:
    """The chief, its version saved: let the other workers stop (they wait for this; a lost one is only noted)."""
    from mnist_core.train.cluster import barrier  # noqa: PLC0415

    try:
        barrier(strategy)
    except Exception as e:  # the version is saved: a worker gone by now changes nothing
        print(f"note: a worker had stopped before the end ({type(e).__name__})", file=sys.stderr)


def _half_of_two(progress, second: bool):
    """Progress of one of two equal fits, reported as that half of one run: epochs 1..E (the first, its time to go
    counting the second as long as itself) or E+1..2E (the second) of 2E."""
    def report(p):
        if second:
            progress(replace(p, epoch=p.epoch + p.epochs, epochs=2 * p.epochs))
        else:
            progress(replace(p, epochs=2 * p.epochs, eta_s=p.eta_s + p.elapsed_s + p.eta_s))
    return report


def _personal_start(args, model, parent: str, extra, data):
    """A profile's fine-tune: hold out one sample in `holdout_every`, score the parent on them and on MNIST's test
    set first (the model is trained in place), and the settings the recipe runs with."""
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.personal import Recipe, held_out, score, train_settings  # noqa: PLC0415
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

    try:
        recipe = Recipe(**json.loads(args.recipe)) if args.recipe else Recipe()
    except (TypeError, ValueError) as e:
        raise CliError(f"--recipe: {e}") from None
    if args.limit:  # a short run (tests): a smaller replay
        recipe = replace(recipe, replay=min(recipe.replay, args.limit), validation=min(recipe.validation, args.limit // 10))
    recipe.validate()
    x, y = extra
    if len(y) < recipe.min_samples:
        raise CliError(f"a personal fine-tune needs at least {recipe.min_samples} samples of {args.profile!r} "
                       f"(it has {len(y)}): one in {recipe.holdout_every} is held out to judge it")
    mask = held_out(len(y), recipe.holdout_every)
    before = Recognizer(model, parent, lite=False).predict
    state = {
        "recipe": recipe,
        "all": (x, y),
        "held": (x[mask], y[mask]),
        "before": score(before(x[mask]), y[mask]),
        "mnist_before": ev.evaluate(before, data.x_test, data.y_test)["accuracy"],
    }
    return state, (x[~mask], y[~mask]), train_settings(model, recipe)


def _personal_end(args, state: dict, recognizer, metrics: dict, result, card: dict):
    """Score the new model on the held-out samples, judge it, and write it all in the card; returns the Verdict."""
    from mnist_core.train.personal import judge, score  # noqa: PLC0415

    recipe = state["recipe"]
    # With a refit, the held-out samples were seen by the saved model: its twin trained without them is judged.
    after = state["twin_after"] if "twin_after" in state else score(recognizer.predict(state["held"][0]),
                                                                     state["held"][1])
    verdict = judge(state["before"], after, state["mnist_before"], metrics["accuracy"], recipe.max_mnist_cost)
    card["profile"] = args.profile
    card["personal"] = {
        "profile": args.profile,
        "samples_trained": int(result.extra_size // recipe.repeat),
        "held_out": after.count,
        "before": state["before"].to_dict(),
        "after": after.to_dict(),
        "mnist_before": state["mnist_before"],
        "mnist_after": metrics["accuracy"],
        "verdict": verdict.to_dict(),
        "recipe": asdict(recipe),
        "judged": "a twin trained without the held-out samples; this version on all of them"
                  if "twin_after" in state else "this version, trained without the held-out samples",
        "finetune_seconds": round(result.train_seconds + result.setup_seconds + state.get("twin_seconds", 0.0), 2),
    }
    return verdict


# ------------------------------------------------------------------------------- evaluate
def _load_for(args):
    from mnist_core.store.registry import Registry, load_model_file  # noqa: PLC0415

    if getattr(args, "model", None):
        return load_model_file(args.model), str(args.model)
    registry = Registry()
    vid = args.version or registry.active()
    return registry.load(vid), vid


def cmd_evaluate(args) -> int:
    """Test-set metrics of a version or a model file."""
    _quiet_tensorflow()
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415

    data = load_mnist(args.data)  # first: a bad data file is reported before TensorFlow loads
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

    model, name = _load_for(args)
    t = time.perf_counter()
    metrics = ev.evaluate(Recognizer(model, name, lite=False).predict, data.x_test, data.y_test)
    seconds = time.perf_counter() - t
    if args.json:
        print(json.dumps({"model": name, "data": data.source, "seconds": round(seconds, 3), **metrics}))
        return EXIT_OK
    print(f"model {name} on {data.describe()}")
    print(f"accuracy {metrics['accuracy']:.2%}  ({metrics['errors']} errors in {metrics['count']:,}; {seconds:.2f} s)")
    print("digit  precision  recall  support")
    for c in metrics["per_class"]:
        print(f"{c['digit']:>5}  {c['precision']:9.2%}  {c['recall']:6.2%}  {c['support']:7}")
    print("confusion (rows true, columns predicted):")
    for d, row in enumerate(metrics["confusion"]):
        print(f"{d}: " + " ".join(f"{v:5}" for v in row))
    return EXIT_OK


# -------------------------------------------------------------------------------- predict
def _expand(paths: list[str]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


def cmd_predict(args) -> int:
    """Read digits (or numbers) from image files and folders, in batches (--jobs N: in N processes)."""
    _quiet_tensorflow()
    files = _expand(args.paths)
    if args.jobs > 1 and len(files) > 1:
        from mnist_core.ops.parallel import predict_in_processes  # noqa: PLC0415

        return EXIT_ERROR if predict_in_processes(args, files, args.jobs) else EXIT_OK
    recognizer, reader = _predict_setup(args, len(files))
    failed = False
    # Files read per model call: bounded memory, one batch per chunk. Numbers keep each photo's ink map (megabytes)
    # until the chunk's digits are read, so fewer at a time.
    chunk = 64 if args.number else 2048
    for start in range(0, len(files), chunk):
        failed |= _predict_chunk(files[start:start + chunk], recognizer, reader, args)
    return EXIT_ERROR if failed else EXIT_OK


def _predict_setup(args, n_files: int):
    """The recognizer (and with --number the number reader) for reading `n_files` files."""
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    # Converting to TF Lite pays off past a few thousand digits (it takes seconds); a version's stored copy
    # is used at once, without importing TensorFlow.
    lite = n_files > 3000
    if getattr(args, "model", None):
        model, name = _load_for(args)
        recognizer = Recognizer(model, name, lite=lite)
    else:
        recognizer = Recognizer.from_registry(Registry(), args.version, lite=lite)
    reader = None
    if args.number and not args.no_reader:
        from mnist_core.numbers import reader as nr  # noqa: PLC0415
        from mnist_core.config import Paths  # noqa: PLC0415

        reader = nr.NumberReader.load(nr.served_path(Paths().home))  # None: the segmenter alone, as before
    return recognizer, reader


def _predict_chunk(part: list, recognizer, reader, args) -> bool:
    """Read and print `part` (one model call for all its digits), in order; True when a file could not be read."""
    import numpy as np  # noqa: PLC0415

    from mnist_core.digits import preprocess as pp  # noqa: PLC0415

    failed = False
    per_file: list = []
    images = []
    for f in part:
        try:
            digits, ink = pp.photo_ink(pp.load_image(f))
            if not args.number:
                k = pp.most_prominent(digits)
                digits, ink = ([] if k is None else [digits[k]]), None  # a photo's ink map is megabytes: not kept
            per_file.append((len(images), digits, ink))
            images.extend(d.image for d in digits)
        except Exception as e:  # one bad file must not stop the rest
            per_file.append((str(e) or type(e).__name__, None, None))
    probs = recognizer.predict(np.stack(images)) if images else np.zeros((0, 10), np.float32)
    for f, (first, digits, ink) in zip(part, per_file):
        if digits is None:
            failed = True
            _print_error(f, first, args.json)
            continue
        rows = probs[first:first + len(digits)]
        if args.number:
            _print_number(f, digits, rows, ink, reader, args)
        else:
            _print_result(f, digits, rows, args)
    return failed


def _print_error(path, message, as_json):
    if as_json:
        print(json.dumps({"path": str(path), "error": message}))
    else:
        print(f"{path}\terror\t{message}")
    print(f"error: {path}: {message}", file=sys.stderr)


def _print_number(path, digits, rows, ink, reader, args):
    """One file's number: the reader's rows (combined with the segmenter's digits), or the segmenter's alone."""
    from mnist_core.numbers import reader as nr  # noqa: PLC0415

    got = nr.as_json(nr.read_numbers(digits, rows, ink, reader))
    if args.json:
        print(json.dumps({"path": str(path), **got}))
    else:
        conf = min((x["confidence"] for x in got["digits"]), default=0.0)
        print(f"{path}\t{got['number']}\t{conf:.4f}")


def _print_result(path, digits, rows, args):
    if not len(rows):
        if args.json:
            print(json.dumps({"path": str(path), "digit": None, "confidence": 0.0, "probabilities": [0.0] * 10}))
        else:
            print(f"{path}\t-\t0.0000")
        return
    r = rows[0]
    if args.json:
        print(json.dumps({"path": str(path), "digit": int(r.argmax()), "confidence": round(float(r.max()), 4),
                          "probabilities": [round(float(v), 6) for v in r], "box": [int(v) for v in digits[0].box]}))
    else:
        print(f"{path}\t{int(r.argmax())}\t{float(r.max()):.4f}")


# --------------------------------------------------------------------------- train-number
def cmd_train_number(args) -> int:
    """Make lines of handwritten numbers, train the number reader on them with CTC, save it and its card."""
    from mnist_core.config import NumberTrainSettings, Paths  # noqa: PLC0415

    d = NumberTrainSettings()
    settings = NumberTrainSettings(
        lines=args.lines if args.lines is not None else d.lines,
        epochs=args.epochs if args.epochs is not None else d.epochs,
        batch_size=args.batch_size if args.batch_size is not None else d.batch_size,
        lr=args.lr if args.lr is not None else d.lr,
        width=args.width if args.width is not None else d.width,
        validation=args.validation if args.validation is not None else d.validation,
        seed=args.seed, pen_share=args.pen_share if args.pen_share is not None else d.pen_share)
    settings.validate()  # bad settings fail here, before TensorFlow loads
    _quiet_tensorflow()
    import hashlib  # noqa: PLC0415

    from mnist_core.numbers import lines
    from mnist_core.train import pen  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415

    t0 = time.perf_counter()
    data = load_mnist(args.data)
    shipped = [] if args.no_pen else pen.load_shipped()
    hand = lines.Hand(shipped, (data.x_train, data.y_train), pen_share=settings.pen_share)
    key = hashlib.sha256(data.x_train[:: max(1, len(data.x_train) // 500)].tobytes()).hexdigest()[:12]
    key += f"/{len(data.x_train)}/pen{len(shipped)}"
    if settings.pen_share != d.pen_share:  # lines made at the default share keep their cache key
        key += f"/share{settings.pen_share:g}"
    home = Paths().home
    say = (lambda *a: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    say(f"making {settings.lines:,} lines from {data.describe()} and {len(shipped):,} pen digits ...")
    train = lines.training_lines(settings.lines, hand, settings.seed, home / "cache", key)
    # Validation: lines of MNIST test digits, a hand the reader never saw.
    val = lines.make_lines(settings.validation, lines.Hand(None, (data.x_test, data.y_test)), settings.seed + 1)
    made = time.perf_counter() - t0
    say(f"made in {made:.0f} s; training ...")
    from mnist_core.numbers.train import fit_number, save_reader  # noqa: PLC0415

    def bar(p):
        if args.quiet:
            return
        end = "\n" if p.event == "epoch" else ""
        extra = f" | val exact {p.val_accuracy:.4f}" if p.event == "epoch" else ""
        sys.stderr.write(f"\repoch {p.epoch}/{p.epochs} step {p.step}/{p.steps} loss {p.loss:.3f}"
                         f" | {p.elapsed_s:5.0f}s, ETA {p.eta_s:5.0f}s{extra}{end}")
        sys.stderr.flush()

    init = None
    if args.init:
        import keras  # noqa: PLC0415

        init = keras.models.load_model(args.init)
        say(f"training {args.init} further")
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    result = fit_number(train, val, settings, bar, cancel.is_set, init=init)
    if result.model is None:
        print("cancelled before an epoch finished: nothing saved", file=sys.stderr)
        return EXIT_CANCELLED
    output = Path(args.output) if args.output else home / "number.keras"
    card = {"kind": "number reader (CTC)", "settings": asdict(settings), "init": args.init,
            "trained_on": f"{settings.lines:,} lines made from {data.describe()} and {len(shipped):,} pen digits "
                          "of the training writers (UCI pendigits, UNIPEN)",
            "validation": f"{len(val[0])} lines of MNIST test digits",
            "val_exact": round(result.exact, 4), "val_digit_accuracy": round(result.digit_accuracy, 4),
            "history": result.history, "train_seconds": round(result.train_seconds, 1),
            "params": int(result.model.count_params()), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    lite = save_reader(result.model, output, card)
    summary = {"output": str(output), "tflite": lite, "exact": round(result.exact, 4),
               "digit_accuracy": round(result.digit_accuracy, 4), "lines": len(train[0]),
               "epochs": result.epochs_done, "cancelled": result.cancelled,
               "seconds": round(time.perf_counter() - t0, 1)}
    if not args.quiet:
        print(f"saved {output} (TF Lite copy: {'yes' if lite else 'NO: it could not be made or disagreed with the model'}); validation lines read "
              f"exactly: {result.exact:.2%}, digits: {result.digit_accuracy:.2%}")
    if args.json:
        print(json.dumps(summary))
    return EXIT_CANCELLED if result.cancelled else EXIT_OK


# --------------------------------------------------------------------------------- models
def cmd_samples(args) -> int:
    """Copy every saved sample from one store to another (SQLite file or postgresql:// URL), profiles kept."""
    from mnist_core.store.samples import copy_samples, open_store  # noqa: PLC0415 (no TensorFlow)

    src, dst = open_store(args.source), open_store(args.destination)
    if src.describe() == dst.describe():
        raise CliError("the source and the destination are the same store")

    def progress(n: int) -> None:
        if not args.json:
            print(f"\r{n:,} samples copied", end="", file=sys.stderr, flush=True)

    try:
        n = copy_samples(src, dst, append=args.append, progress=progress)
    except ValueError as e:  # a destination that holds samples, no source, a bad row: the store's own words
        raise CliError(str(e)) from None
    profiles = dst.profiles()
    if args.json:
        print(json.dumps({"copied": n, "source": src.describe(), "destination": dst.describe(),
                          "destination_profiles": profiles}))
    else:
        print(f"\rcopied {n:,} samples from {src.describe()} to {dst.describe()}; it now holds "
              + ", ".join(f"{name}: {count:,}" for name, count in profiles.items()), file=sys.stderr)
    return EXIT_OK


def cmd_spare(args) -> int:
    """A trainer waiting for its job, as the studio keeps one (jobs.JobOptions.spare): the slow imports now, then one
    JSON line on stdin, {"argv": [train's arguments], "output": a file for stdout and stderr}, and ``train`` runs
    with them as if just started. End of input (the studio went away): exit at once."""
    import importlib  # noqa: PLC0415

    _quiet_tensorflow()
    # Keras (TensorFlow: most of the 5-6 s a trainer takes to start on 2 cores) and what train imports after it.
    for module in ("keras", "mnist_core.train.fit", "mnist_core.train.evaluate", "mnist_core.train.personal",
                   "mnist_core.digits.recognize", "mnist_core.store.registry"):
        importlib.import_module(module)
    line = sys.stdin.readline()
    if not line.strip():
        return EXIT_OK
    try:
        job = json.loads(line)
        argv, output = [str(a) for a in job["argv"]], str(job["output"])
    except (ValueError, KeyError, TypeError):
        print("error: a spare trainer takes one JSON line: {\"argv\": [...], \"output\": \"FILE\"}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return main(["train", *argv, "--warm"])


def cmd_models(args) -> int:
    """List, activate or delete model versions."""
    from mnist_core.store.registry import Registry  # noqa: PLC0415

    registry = Registry()
    if args.action == "list":
        active = registry.active()
        cards = registry.versions()
        if args.json:
            print(json.dumps([{**c, "active": c["id"] == active} for c in cards]))
            return EXIT_OK
        print(f"{'':2}{'version':22}{'arch':5} {'accuracy':>9} {'train s':>8}  data")
        for c in cards:
            if "broken" in c:
                print(f"  {c['id']:22}BROKEN: {c['broken']}")
                continue
            acc = (c.get("metrics") or {}).get("accuracy")
            print(f"{'*' if c['id'] == active else ' '} {c['id']:22}{c.get('arch', '?'):5} "
                  f"{acc:9.2%} {c.get('train_seconds', 0):8.1f}  {(c.get('data') or {}).get('source', '?')}"
                  if acc is not None else f"  {c['id']:22}{c.get('arch', '?')}")
        return EXIT_OK
    if not args.id:
        raise CliError(f"models {args.action} needs a version id")
    if args.action == "activate":
        registry.activate(args.id)
        print(f"active: {args.id}")
    else:
        registry.delete(args.id)
        print(f"deleted: {args.id}")
    return EXIT_OK


# ---------------------------------------------------------------------------------- parser
def _positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (no heavy imports)."""
    p = argparse.ArgumentParser(prog="python -m mnist_core", description="Train, evaluate and use MNIST digit models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and register it as a new version")
    t.add_argument("--data", help="MNIST .npz (Keras layout) or a folder of IDX files; default: env MNIST_DATA, "
                                  "Keras' download, else the offline 5,000-digit subset")
    t.add_argument("--arch", choices=("cnn", "mlp"), default="cnn", help="cnn (default) or the tutorial's mlp")
    t.add_argument("--width", type=int, help=f"CNN channels in its first stage (default {TrainSettings.width}; "
                                             "16 runs 4x cheaper per digit)")
    t.add_argument("--epochs", type=int, help=f"passes over the data (default {TrainSettings.epochs})")
    t.add_argument("--batch-size", type=int, help=f"default {TrainSettings.batch_size}")
    t.add_argument("--lr", type=float, help=f"peak learning rate (default {TrainSettings.lr})")
    t.add_argument("--schedule", choices=("onecycle", "constant"), default=TrainSettings.schedule)
    t.add_argument("--label-smoothing", type=float, help=f"default {TrainSettings.label_smoothing}")
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random rotation/shift/zoom/thickness (default: on for cnn, off for mlp)")
    t.add_argument("--train-data", choices=("mnist+pen", "mnist"), default=TrainSettings.data,
                   help="mnist+pen (default): MNIST plus real pen handwriting of 260 other writers (UCI pendigits, "
                        "UNIPEN; ships with the project); mnist: MNIST alone, the tutorial's choice")
    t.add_argument("--limit", type=int, help="train on the first N MNIST digits only (and pen digits in proportion)")
    t.add_argument("--validation", type=int, help=f"digits held out for validation curves (default {TrainSettings.validation})")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--samples", help="the user's labelled digits to add to the training data: their SQLite file, "
                   "or a postgresql:// URL (password in PGPASSWORD)")
    t.add_argument("--sample-weight", type=float, default=TrainSettings.sample_weight,
                   help="weight of each user digit relative to an MNIST digit")
    t.add_argument("--finetune", metavar="VERSION", help="fine-tune this version on --samples plus an MNIST replay")
    t.add_argument("--profile", metavar="NAME",
                   help="a personal fine-tune for this profile: its samples only, the measured recipe, one sample in "
                        "five held out to score it before and after; activation is for this profile alone")
    act = t.add_mutually_exclusive_group()
    act.add_argument("--activate", action="store_true", help="make the new version the active one")
    act.add_argument("--activate-if-better", action="store_true", help="activate only if it beats the active one")
    act.add_argument("--activate-if-helps", action="store_true",
                     help="with --profile: activate for the profile when it reads the held-out samples better and "
                          "costs MNIST's test set at most 0.2 point")
    t.add_argument("--output", help="also write the model to this .keras file (card beside it as .json)")
    t.add_argument("--workers", metavar="HOST:PORT,...",
                   help="train across these workers with TensorFlow's MultiWorkerMirroredStrategy: start the same "
                        "command on each, with its --worker-index; worker 0 (the chief) reports progress and saves "
                        "the version (default: env TF_CONFIG when set, else one process)")
    t.add_argument("--worker-index", type=int, metavar="I", help="this process's place in --workers (0: the chief)")
    t.add_argument("--join-timeout", type=float, default=300.0, metavar="S",
                   help="seconds to wait for every worker to join before giving up (default 300)")
    t.add_argument("--recipe", help=argparse.SUPPRESS)  # JSON of personal.Recipe fields: benchmarks/personalize.py
    t.add_argument("--job-dir", help=argparse.SUPPRESS)  # the app's job folder: log.jsonl, cancel file
    t.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)  # run by a spare trainer (cmd_spare)
    t.add_argument("--json", action="store_true", help="print one JSON summary line at the end")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    def which(sp):
        g = sp.add_mutually_exclusive_group()
        g.add_argument("--version", help="a registered version id (default: the active one)")
        g.add_argument("--model", help="a .keras model file")

    e = sub.add_parser("evaluate", help="test-set accuracy, per-class metrics, confusion matrix")
    which(e)
    e.add_argument("--data", help="as for train")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="read digits from image files or folders")
    which(r)
    r.add_argument("--number", action="store_true", help="read each image as a number of several digits (each row "
                   "of writing by the number reader, which reads touching digits and skips separators)")
    r.add_argument("--no-reader", action="store_true", help="with --number: cut the digits apart and read each "
                   "one (the segmenter alone, as before the number reader)")
    r.add_argument("--json", action="store_true", help="one JSON object per line")
    r.add_argument("--jobs", type=_positive, default=1, metavar="N",
                   help="read the files in N processes, each loading the model once; output in input order "
                        "(default 1)")
    r.add_argument("paths", nargs="+", metavar="PATH", help="image files (png, jpg, bmp, webp, tiff, gif) or folders")
    r.set_defaults(func=cmd_predict)

    n = sub.add_parser("train-number", help="train the number reader (lines of digits, CTC) and save it")
    n.add_argument("--data", help="MNIST as for train")
    n.add_argument("--lines", type=int, help="lines made for training (default 60,000)")
    n.add_argument("--epochs", type=int, help="passes over the lines (default 6)")
    n.add_argument("--batch-size", type=int, help="lines per step (default 32)")
    n.add_argument("--lr", type=float, help="peak learning rate (default 0.003)")
    n.add_argument("--width", type=int, help="channels of the reader's second stage (default 32)")
    n.add_argument("--validation", type=int, help="lines of MNIST test digits scored after each epoch (default 1000)")
    n.add_argument("--seed", type=int, default=0)
    n.add_argument("--no-pen", action="store_true", help="write the lines with MNIST digits only")
    n.add_argument("--pen-share", type=float, help="share of the lines written by a pen writer rather than with "
                                                   "MNIST digits (default 0.5)")
    n.add_argument("--init", metavar="FILE", help="train this saved reader (.keras) further instead of a fresh one "
                                                  "(give a new --seed for new lines)")
    n.add_argument("--output", help="where to save it (.keras; .tflite and .json beside it); default: "
                                    "<MNIST_STUDIO_HOME>/number.keras, which the studio then serves")
    n.add_argument("--json", action="store_true", help="print one JSON summary line at the end")
    n.add_argument("--quiet", action="store_true", help="no progress")
    n.set_defaults(func=cmd_train_number)

    c = sub.add_parser("combine", help="average trained models (seeds of one recipe) into one ensemble version")
    c.add_argument("members", nargs="+", metavar="MODEL", help="version ids or .keras files (two or more)")
    c.add_argument("--data", help="MNIST for the test accuracy (as for train)")
    c.add_argument("--activate", action="store_true", help="make the ensemble the active version")
    c.add_argument("--output", help="also write it to this .keras file (card and TF Lite copy beside it)")
    c.add_argument("--json", action="store_true", help="print one JSON summary line")
    c.set_defaults(func=cmd_combine)

    s = sub.add_parser("samples", help="copy saved samples between stores (SQLite to PostgreSQL, for replicas)")
    s.add_argument("action", choices=("copy",))
    s.add_argument("source", help="a samples.sqlite3 file or a postgresql:// URL (password in PGPASSWORD)")
    s.add_argument("destination", help="the same kinds; created or migrated as the studio does")
    s.add_argument("--append", action="store_true", help="add to a destination that already holds samples")
    s.add_argument("--json", action="store_true", help="print one JSON summary line")
    s.set_defaults(func=cmd_samples)

    w = sub.add_parser("spare", help="(the studio's) a trainer that imports TensorFlow, then waits on stdin for its "
                                     "job's train arguments")
    w.set_defaults(func=cmd_spare)

    m = sub.add_parser("models", help="list, activate or delete model versions")
    m.add_argument("action", choices=("list", "activate", "delete"))
    m.add_argument("id", nargs="?", help="version id (for activate and delete)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    from mnist_core.train.data import DataError  # noqa: PLC0415
    from mnist_core.store.registry import RegistryError  # noqa: PLC0415

    try:
        return args.func(args)
    except ValueError as e:  # bad settings (TrainSettings.validate), bad inputs, DataError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(e, DataError) else EXIT_ERROR
    except (CliError, RegistryError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED


if __name__ == "__main__":
    sys.exit(main())
