"""``train``: train a model and register it as a new version (also the job manager's trainer: ``--request FILE``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import replace

from mnist_core.cli.common import EXIT_CANCELLED, EXIT_OK, CliError, logged_run, merged
from mnist_core.config import TrainSettings
from mnist_core.ops.protocol import JobLog, read_request
from mnist_core.train.job import Note, Outcome, RunError, Started, TrainJob


def register(sub) -> None:
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
    t.add_argument("--pen-conventions", type=float,
                   help="scale of other populations' writing conventions (continental 1s, crossed 7s, slashed 0s, "
                        f"one-stroke 4s...) among the drawn pen digits, 0 to 2 (default {TrainSettings.pen_conventions:g}: "
                        "as their writers wrote them; benchmarks/INK.md measures 1)")
    t.add_argument("--limit", type=int, help="train on the first N MNIST digits only (and pen digits in proportion)")
    t.add_argument("--validation", type=int, help=f"digits held out for validation curves (default {TrainSettings.validation})")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--samples", help="the user's labelled digits to add to the training data: their SQLite file, "
                   "or a postgresql:// URL (password in PGPASSWORD)")
    t.add_argument("--sample-weight", type=float, default=TrainSettings.sample_weight,
                   help="weight of each user digit relative to an MNIST digit")
    t.add_argument("--finetune", metavar="VERSION", help="fine-tune this version on --samples plus an MNIST replay")
    t.add_argument("--profile", metavar="NAME",
                   help="a personal fine-tune for this profile: its samples only, the measured recipe, each sample read "
                        "before and after by a fine-tune trained without it; activation is for this profile alone")
    act = t.add_mutually_exclusive_group()
    act.add_argument("--activate", action="store_true", help="make the new version the active one")
    act.add_argument("--activate-if-better", action="store_true", help="activate only if it beats the active one")
    act.add_argument("--activate-if-helps", action="store_true",
                     help="with --profile: activate for the profile when its samples, each read by a fine-tune "
                          "trained without it, read better beyond luck and the test set loses at most 0.2 point")
    t.add_argument("--output", help="also write the model to this .keras file (card beside it as .json)")
    t.add_argument("--workers", metavar="HOST:PORT,...",
                   help="train across these workers with TensorFlow's MultiWorkerMirroredStrategy: start the same "
                        "command on each, with its --worker-index; worker 0 (the chief) reports progress and saves "
                        "the version (default: env TF_CONFIG when set, else one process)")
    t.add_argument("--worker-index", type=int, metavar="I", help="this process's place in --workers (0: the chief)")
    t.add_argument("--join-timeout", type=float, metavar="S",
                   help="seconds to wait for every worker to join before giving up (default 300)")
    t.add_argument("--recipe", help=argparse.SUPPRESS)  # JSON of personal.Recipe fields: benchmarks/bench_personal.py
    t.add_argument("--job-dir", help=argparse.SUPPRESS)  # the app's job folder: log.jsonl, cancel file
    # The job manager's path: the job as a request file (mnist_core.ops.protocol); the flags above are for people.
    t.add_argument("--request", metavar="FILE", help=argparse.SUPPRESS)
    t.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)  # run by a spare trainer (cli/spare.py)
    t.add_argument("--json", action="store_true", help="print one JSON summary line at the end")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=run)


_ACTIVATE = {"activate": "always", "activate_if_better": "if_better", "activate_if_helps": "if_helps"}


def job_from(args) -> tuple[TrainJob, str | None, bool]:
    """(the job, its folder for the log, no progress bar) from the flags or from --request; checked, before
    TensorFlow loads. With --request, the flags of this process's place (workers, job folder, warm, quiet) still
    apply when given."""
    own = {k: getattr(args, k) for k in ("workers", "worker_index", "join_timeout") if getattr(args, k) is not None}
    if args.request:
        request = read_request(args.request)
        job = replace(request.job, **own, warm=args.warm or request.job.warm)
        return job.checked(), args.job_dir or request.job_dir, args.quiet or request.quiet
    augment = {} if args.augment is not None else {"augment": args.arch == "cnn"}
    settings = merged(TrainSettings, args, data=args.train_data, **augment)
    activate = next((how for flag, how in _ACTIVATE.items() if getattr(args, flag)), "no")
    job = TrainJob(settings=settings, data=args.data, samples=args.samples, finetune=args.finetune,
                   profile=args.profile, activate=activate, output=args.output, recipe=args.recipe, warm=args.warm,
                   **own)
    return job.checked(), args.job_dir, args.quiet


class _Reporter:
    """What a run reports: into the job log (the chief's alone), onto the progress bar, the notes onto stderr."""

    def __init__(self, log: JobLog, bar, as_json: bool):
        self.log, self.bar, self.as_json = log, bar, as_json

    def __call__(self, item) -> None:
        self.log.report(item)
        if isinstance(item, Started):
            if not self.as_json:
                print(f"data: {item.data}", file=sys.stderr)
        elif isinstance(item, Note):
            if item.always or not self.as_json:
                print(item.text, file=sys.stderr)
        elif not isinstance(item, Outcome):
            self.bar(item)


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


def run(args) -> int:
    """Train, evaluate on the test set, register the version (and optionally activate it)."""
    from mnist_core.train.run import cluster_of, run as run_job  # noqa: PLC0415

    job, job_dir, quiet = job_from(args)  # bad settings fail here, before TensorFlow loads
    try:
        cluster = cluster_of(job)  # bad workers fail here too
    except RunError as e:
        raise CliError(str(e)) from None
    cancel = threading.Event()
    chief = cluster is None or cluster.chief
    log = JobLog(job_dir if chief else None, cancel)
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    report = _Reporter(log, _Bar(enabled=not quiet and chief), args.json)
    outcome = logged_run(lambda: run_job(job, report, cancel, log_path=log.path), log)
    if outcome is None:
        return EXIT_CANCELLED
    if args.json:
        print(json.dumps(outcome.summary))
    else:
        print(outcome.line, file=sys.stderr if outcome.status == "worker" else sys.stdout)
    return EXIT_OK
