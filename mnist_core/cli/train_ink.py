"""``train-ink``: train the ink net (digits from their strokes) and register it as a new ink version (also the job
manager's trainer for ink jobs: ``--request FILE``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from mnist_core.cli.common import EXIT_CANCELLED, EXIT_OK, logged_run, merged

# The defaults shown in --help (mnist_core.ink.fit.InkTrainSettings; not imported here, to keep --help light).
_DEFAULTS = dict(epochs=40, width=96, points=96, batch_size=128)


def register(sub) -> None:
    t = sub.add_parser("train-ink", help="train the ink model (digits from their strokes) and register it as a new "
                                         "ink version")
    t.add_argument("--epochs", type=int, help=f"passes over the training writers' pen digits, each redrawn and "
                                              f"augmented afresh (default {_DEFAULTS['epochs']}: about 10 min on 2 "
                                              "cores)")
    t.add_argument("--limit", type=int, help="train on N digits spread over the training writers (default: all, "
                                             "about 11,500)")
    t.add_argument("--seed", type=int, help="seed of the weights, the augmentation and the conventions (default 0)")
    t.add_argument("--width", type=int, help=f"filters of the net's first block (default {_DEFAULTS['width']})")
    t.add_argument("--arch", choices=("cnn", "cnn_gru"), help="cnn (default) or cnn_gru (slower to serve)")
    t.add_argument("--points", type=int, help=f"points each ink is resampled to (default {_DEFAULTS['points']})")
    t.add_argument("--batch-size", type=int, help=f"default {_DEFAULTS['batch_size']}")
    act = t.add_mutually_exclusive_group()
    act.add_argument("--activate", action="store_true", help="make the new ink version the active one")
    act.add_argument("--activate-if-better", action="store_true",
                     help="activate it only if it reads the test set better than the active ink version")
    t.add_argument("--output", metavar="PATH", help="write files instead of a registry version: a folder (existing, "
                   "or ending in /) gets model.keras, model.tflite, card.json; otherwise PATH is a stem for "
                   "PATH.keras, .tflite and .json (as models/ink)")
    t.add_argument("--json", action="store_true", help="progress as JSON lines (one per epoch) and a JSON summary")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    # The job manager's path: the job as a request file (mnist_core.ops.protocol); the flags above are for people.
    t.add_argument("--request", metavar="FILE", help=argparse.SUPPRESS)
    t.set_defaults(func=run)


def job_from(args):
    """(the InkJob, its folder for the log, no progress lines) from the flags or from --request; checked."""
    from mnist_core.ink.job import InkJob  # noqa: PLC0415
    from mnist_core.ops.protocol import read_request  # noqa: PLC0415

    if args.request:
        request = read_request(args.request, kind="ink")
        return request.job.checked(), request.job_dir, args.quiet or request.quiet
    from mnist_core.ink.features import FeatureSettings  # noqa: PLC0415
    from mnist_core.ink.fit import InkTrainSettings  # noqa: PLC0415

    extra = {} if args.points is None else {"features": FeatureSettings(points=args.points)}
    settings = merged(InkTrainSettings, args, **extra)
    activate = "always" if args.activate else "if_better" if args.activate_if_better else "no"
    return InkJob(settings=settings, activate=activate, output=args.output).checked(), None, args.quiet


class _Reporter:
    """What the run reports: into the job log; epochs as lines (JSON with --json) on stdout, notes on stderr."""

    def __init__(self, log, as_json: bool, quiet: bool):
        self.log, self.as_json, self.quiet = log, as_json, quiet

    def __call__(self, item) -> None:
        from mnist_core.train.job import Note, Outcome, Started  # noqa: PLC0415

        self.log.report(item)
        if self.quiet or isinstance(item, Outcome):
            return
        if isinstance(item, (Started, Note)):
            print(item.data if isinstance(item, Started) else item.text, file=sys.stderr)
        elif getattr(item, "event", None) == "epoch":
            if self.as_json:
                fields = {k: round(v, 4) if isinstance(v, float) else v for k, v in item.to_dict().items()}
                print(json.dumps(fields), flush=True)
            else:
                val = f", calibration writers {item.val_accuracy:.2%}" if item.val_accuracy is not None else ""
                print(f"epoch {item.epoch}/{item.epochs}: loss {item.loss:.4f}, accuracy {item.accuracy:.2%}{val} "
                      f"({item.elapsed_s:.0f} s, about {item.eta_s:.0f} s to go)", file=sys.stderr, flush=True)


def run(args) -> int:
    """Train the ink net, read the test set, calibrate the fusion, register (and maybe activate) the version."""
    from mnist_core.ink.job import run as run_job  # noqa: PLC0415
    from mnist_core.ops.protocol import JobLog  # noqa: PLC0415

    job, job_dir, quiet = job_from(args)  # bad settings fail here, before TensorFlow loads
    cancel = threading.Event()
    log = JobLog(job_dir, cancel)
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    outcome = logged_run(lambda: run_job(job, _Reporter(log, args.json, quiet), cancel), log)
    if outcome is None:
        return EXIT_CANCELLED
    print(json.dumps(outcome.summary) if args.json else outcome.line, flush=True)
    return EXIT_OK
