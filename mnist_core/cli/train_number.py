"""``train-number``: make lines of handwritten numbers, train the number reader on them with CTC, save it."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from mnist_core.cli.common import EXIT_CANCELLED, EXIT_OK, merged, quiet_tensorflow


def register(sub) -> None:
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
    n.set_defaults(func=run)


def _lines(args, settings, say):
    """(training lines, validation lines, what they were made from) for the reader."""
    import hashlib  # noqa: PLC0415

    from mnist_core.config import NumberTrainSettings, Paths  # noqa: PLC0415
    from mnist_core.numbers import lines  # noqa: PLC0415
    from mnist_core.train import pen  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415

    data = load_mnist(args.data)
    shipped = [] if args.no_pen else pen.load_shipped()
    hand = lines.Hand(shipped, (data.x_train, data.y_train), pen_share=settings.pen_share)
    key = hashlib.sha256(data.x_train[:: max(1, len(data.x_train) // 500)].tobytes()).hexdigest()[:12]
    key += f"/{len(data.x_train)}/pen{len(shipped)}"
    if settings.pen_share != NumberTrainSettings.pen_share:  # lines made at the default share keep their cache key
        key += f"/share{settings.pen_share:g}"
    say(f"making {settings.lines:,} lines from {data.describe()} and {len(shipped):,} pen digits ...")
    train = lines.training_lines(settings.lines, hand, settings.seed, Paths().home / "cache", key)
    # Validation: lines of MNIST test digits, a hand the reader never saw.
    val = lines.make_lines(settings.validation, lines.Hand(None, (data.x_test, data.y_test)), settings.seed + 1)
    made_from = f"{data.describe()} and {len(shipped):,} pen digits"
    return train, val, made_from


def _bar(quiet: bool):
    def bar(p):
        if quiet:
            return
        end = "\n" if p.event == "epoch" else ""
        extra = f" | val exact {p.val_accuracy:.4f}" if p.event == "epoch" else ""
        sys.stderr.write(f"\repoch {p.epoch}/{p.epochs} step {p.step}/{p.steps} loss {p.loss:.3f}"
                         f" | {p.elapsed_s:5.0f}s, ETA {p.eta_s:5.0f}s{extra}{end}")
        sys.stderr.flush()
    return bar


def run(args) -> int:
    """Make lines of handwritten numbers, train the number reader on them with CTC, save it and its card."""
    from mnist_core.config import NumberTrainSettings, Paths  # noqa: PLC0415

    settings = merged(NumberTrainSettings, args)  # bad settings fail here, before TensorFlow loads
    quiet_tensorflow()
    t0 = time.perf_counter()
    say = (lambda *a: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    train, val, made_from = _lines(args, settings, say)
    say(f"made in {time.perf_counter() - t0:.0f} s; training ...")
    from mnist_core.numbers.train import fit_number, save_reader  # noqa: PLC0415

    init = None
    if args.init:
        import keras  # noqa: PLC0415

        init = keras.models.load_model(args.init)
        say(f"training {args.init} further")
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    result = fit_number(train, val, settings, _bar(args.quiet), cancel.is_set, init=init)
    if result.model is None:
        print("cancelled before an epoch finished: nothing saved", file=sys.stderr)
        return EXIT_CANCELLED
    output = Path(args.output) if args.output else Paths().home / "number.keras"
    card = {"kind": "number reader (CTC)", "settings": asdict(settings), "init": args.init,
            "trained_on": f"{settings.lines:,} lines made from {made_from} "
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
