"""``evaluate``: test-set accuracy, per-class metrics and confusion matrix of a version or a model file."""

from __future__ import annotations

import json
import time

from mnist_core.cli.common import EXIT_OK, add_model_choice, quiet_tensorflow


def register(sub) -> None:
    e = sub.add_parser("evaluate", help="test-set accuracy, per-class metrics, confusion matrix")
    add_model_choice(e)
    e.add_argument("--data", help="as for train")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=run)


def run(args) -> int:
    """Test-set metrics of a version or a model file."""
    quiet_tensorflow()
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415

    data = load_mnist(args.data)  # first: a bad data file is reported before TensorFlow loads
    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.ops.predict import model_of  # noqa: PLC0415

    model, name = model_of(args.version, args.model)
    t = time.perf_counter()
    metrics = ev.evaluate_data(Recognizer(model, name, lite=False).predict, data)  # names its test set
    seconds = time.perf_counter() - t
    if args.json:
        print(json.dumps({"model": name, "data": data.source, "seconds": round(seconds, 3), **metrics}))
        return EXIT_OK
    print(f"model {name} on {data.test_name} ({data.source})")
    print(f"accuracy {metrics['accuracy']:.2%}  ({metrics['errors']} errors in {metrics['count']:,}; {seconds:.2f} s)")
    print("digit  precision  recall  support")
    for c in metrics["per_class"]:
        print(f"{c['digit']:>5}  {c['precision']:9.2%}  {c['recall']:6.2%}  {c['support']:7}")
    print("confusion (rows true, columns predicted):")
    for d, row in enumerate(metrics["confusion"]):
        print(f"{d}: " + " ".join(f"{v:5}" for v in row))
    return EXIT_OK
