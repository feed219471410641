"""Training the ink net on the training writers' pen digits, its checked TF Lite copy and its card.

    python -m mnist_core.ink.fit --output models/ink --seed 1   # the shipped model (40 epochs, 96 points, width 96)
    python -m mnist_core train-ink [--epochs N --limit N ...]    # a registry version (mnist_core.ink.job)

Data: the shipped pen digits (`pen.load_shipped()`: exactly the training writers of UCI pendigits and UNIPEN,
see `pen.split_writers`). The held-out writers are never read here (each digit's writer is checked again), and
neither is USPS. Of the training writers, a fixed `calibration` share (a hash of the name, like
`pen.is_held_out`, with another salt) is kept out of the ink net's training: the fusion with the image model is
calibrated on them (`calibrate_fusion`), never on a writer whose figures are reported.

Each epoch draws every training digit afresh: redrawn in one of its label's conventions in their shares
(`synth.with_conventions`), then augmented in stroke space (`synth.augment`, all but `plain` of them), then
turned into features. TensorFlow is imported by the functions that need it, not by this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mnist_core.ink import features as F
from mnist_core.train import synth


@dataclass(frozen=True)
class InkTrainSettings:
    """One training run of the ink net."""

    epochs: int = 40  # passes over the training writers' digits, each freshly augmented
    batch_size: int = 128
    lr: float = 3e-3  # AdamW's peak rate, cosine-decayed to 0 after a 1-epoch warm-up
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    width: int = 96  # the net's first block's filters (64 measured too: INK.md)
    arch: str = "cnn"  # "cnn" or "cnn_gru" (see net.build_ink_net)
    seed: int = 0
    limit: int | None = None  # keep this many training digits spread over the writers (a short run)
    calibration: float = 0.15  # share of the training writers kept out for the fusion's calibration
    conventions: float = 1.0  # scale of the conventions' shares (0: the writers' own shapes only)
    # Sources (UNIPEN lab codes such as "val", or "pendigits") whose writers are left out of training: a net that
    # never saw a collection, to measure what an unseen one costs (benchmarks/ink_labs.py); () trains on all.
    leave_out: tuple[str, ...] = ()
    plain: float = 0.1  # share of each epoch's digits left as written (no augmentation)
    features: F.FeatureSettings = field(default_factory=F.FeatureSettings)
    augment: synth.AugmentSettings = field(default_factory=synth.AugmentSettings)

    def validate(self) -> None:
        """Raise ValueError naming the first setting that is out of range."""
        def whole(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi):
                raise ValueError(f"{name} must be an integer from {lo} to {hi}, not {v!r}")

        whole("epochs", 1, 500)
        whole("batch_size", 1, 8192)
        whole("width", 4, 256)
        if self.arch not in ("cnn", "cnn_gru"):
            raise ValueError(f"arch must be 'cnn' or 'cnn_gru', not {self.arch!r}")
        if self.limit is not None:
            whole("limit", 10, 10**7)
        if not (isinstance(self.lr, (int, float)) and 1e-6 <= self.lr <= 1.0):
            raise ValueError(f"learning rate must be from 1e-6 to 1, not {self.lr!r}")
        if not (isinstance(self.leave_out, tuple) and all(isinstance(x, str) for x in self.leave_out)):
            raise ValueError(f"leave_out must be a list of source names, not {self.leave_out!r}")
        if not (isinstance(self.features.points, int) and 16 <= self.features.points <= 512):
            raise ValueError(f"points must be an integer from 16 to 512, not {self.features.points!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "InkTrainSettings":
        """The settings of ``dataclasses.asdict`` (a card's or a request file's); unknown keys raise TypeError."""
        d = dict(d)
        nested = dict(features=F.FeatureSettings(**d.pop("features", {})),
                      augment=synth.AugmentSettings(**d.pop("augment", {})),
                      leave_out=_tuple(d.pop("leave_out", ())))
        return cls(**d, **nested)


def _tuple(v):
    """A card's list (JSON has no tuples) as a tuple; anything else as it is, for `validate` to refuse."""
    return tuple(v) if isinstance(v, list) else v


def sources(text: str) -> tuple[str, ...]:
    """Source names from a comma-separated list ("syn,ced", "pendigits"); "" or "none": none."""
    return () if text.strip() == "none" else tuple(x.strip() for x in text.split(",") if x.strip())


def is_calibration(writer: str, fraction: float = 0.15) -> bool:
    """Whether a training writer is kept out of the ink net for calibrating the fusion (fixed hash)."""
    h = int.from_bytes(hashlib.sha1(f"ink-calibration/{writer}".encode()).digest()[:4], "big")
    return h / 2**32 < fraction


def training_writers(settings: InkTrainSettings = InkTrainSettings()):
    """(training digits, calibration digits): the shipped pen digits of the training writers, split by writer; the
    sources in `settings.leave_out` are left out of the training digits (the calibration writers stay all)."""
    from mnist_core.train import pen

    digits = [d for d in pen.load_shipped() if not pen.is_held_out(d.writer)]  # never a held-out writer
    train = [d for d in digits if not is_calibration(d.writer, settings.calibration)
             and d.source not in settings.leave_out]
    calib = [d for d in digits if is_calibration(d.writer, settings.calibration)]
    if settings.limit is not None:
        train = train[:: max(1, len(train) // settings.limit)][: settings.limit]
    return train, calib


def epoch_data(digits, rng: np.random.Generator, settings: InkTrainSettings) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's inputs: every digit in a convention by its share, augmented; x (N, points, C), y (N,)."""
    inks = []
    for d in digits:
        s = synth.with_conventions(d.strokes, d.label, rng, settings.conventions)
        inks.append(s if rng.random() < settings.plain else synth.augment(s, rng, settings.augment))
    return F.batch_features(inks, settings.features), np.array([d.label for d in digits], np.int64)


def convention_set(digits, rng: np.random.Generator, settings: InkTrainSettings = InkTrainSettings(), per: int = 200):
    """{convention name: (x, y)}: `per` digits of each convention made from these digits, not augmented."""
    out = {}
    for c in synth.CONVENTIONS:
        pool = [d for d in digits if d.label == c.label]
        pick = [pool[int(i)] for i in rng.integers(0, len(pool), per)]
        x = F.batch_features([c.make(d.strokes, rng) for d in pick], settings.features)
        out[c.name] = (x, np.full(per, c.label, np.int64))
    return out


def _compile(model, settings: InkTrainSettings, steps: int) -> None:
    import keras

    sched = keras.optimizers.schedules.CosineDecay(0.0, max(1, steps * (settings.epochs - 1)),
                                                   warmup_target=settings.lr, warmup_steps=steps)
    model.compile(optimizer=keras.optimizers.AdamW(sched, weight_decay=settings.weight_decay),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing),
                  metrics=["accuracy"])


def _batch_callback(model, epoch: int, steps: int, batch_progress, cancel):
    """A Keras callback: `batch_progress(epoch, step, steps, logs)` after each batch; `cancel()` stops the fit."""
    import keras

    def end(batch, logs):
        if batch_progress is not None:
            batch_progress(epoch, batch + 1, steps, logs or {})
        if cancel is not None and cancel():
            model.stop_training = True  # Keras 3 stops after this batch

    return keras.callbacks.LambdaCallback(on_train_batch_end=end)


def train_ink(settings: InkTrainSettings = InkTrainSettings(), progress: Callable[[dict], None] | None = None,
              cancel: Callable[[], bool] | None = None, batch_progress: Callable | None = None):
    """Train the ink net: (model, history {metric: [per epoch]}, metrics on the calibration writers).

    `progress` gets a dict after each epoch (epoch, epochs, loss, accuracy, val_accuracy, seconds);
    `batch_progress(epoch, step, steps, logs)` after each batch; `cancel()` returning True stops within the batch
    (the model trained so far is returned)."""
    import keras

    from mnist_core.ink.net import build_ink_net

    keras.utils.set_random_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    train, calib = training_writers(settings)
    xv, yv = F.batch_features([d.strokes for d in calib], settings.features), np.array([d.label for d in calib])
    model = build_ink_net(settings.features.points, len(F.CHANNELS), settings.width, settings.arch)
    steps = int(np.ceil(len(train) / settings.batch_size))
    _compile(model, settings, steps)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_accuracy": []}
    for epoch in range(settings.epochs):
        t0 = time.perf_counter()
        x, y = epoch_data(train, rng, settings)
        h = model.fit(x, keras.utils.to_categorical(y, 10), batch_size=settings.batch_size, epochs=1, verbose=0,
                      shuffle=True, callbacks=[_batch_callback(model, epoch + 1, steps, batch_progress, cancel)])
        val = float((model.predict(xv, batch_size=512, verbose=0).argmax(1) == yv).mean()) if len(xv) else float("nan")
        for k in ("loss", "accuracy"):
            history[k].append(float(h.history[k][-1]))
        history["val_accuracy"].append(val)
        if progress:
            progress(dict(epoch=epoch + 1, epochs=settings.epochs, loss=history["loss"][-1],
                          accuracy=history["accuracy"][-1], val_accuracy=val, seconds=time.perf_counter() - t0))
        if cancel is not None and cancel():
            break
    metrics = evaluate_ink(model, calib, settings)
    metrics.update(train_digits=len(train), train_writers=len({d.writer for d in train}),
                   epochs_run=len(history["loss"]))
    return model, history, metrics


def evaluate_ink(model, digits, settings: InkTrainSettings = InkTrainSettings(), per: int = 200,
                 name: str = "calibration") -> dict:
    """Accuracy of a Keras ink net on digits as written and on each convention made from them: {name}_accuracy,
    {name}_digits, {name}_writers and conventions {convention: accuracy}."""
    if not digits:
        return {}
    x = F.batch_features([d.strokes for d in digits], settings.features)
    y = np.array([d.label for d in digits])
    acc = float((model.predict(x, batch_size=512, verbose=0).argmax(1) == y).mean())
    conv = {}
    for c, (xc, yc) in convention_set(digits, np.random.default_rng(12345), settings, per).items():
        conv[c] = float((model.predict(xc, batch_size=512, verbose=0).argmax(1) == yc).mean())
    return {f"{name}_accuracy": acc, f"{name}_digits": len(digits), f"{name}_writers": len({d.writer for d in digits}),
            "conventions": conv}


# The held-out writers' files of development machines (../shared/data/pen): never shipped, never trained on.
HELD_OUT_FILES = ("pendigits_dev.json.gz", "unipen_dev.json.gz")


def report_digits(settings: InkTrainSettings = InkTrainSettings()) -> tuple[list, str]:
    """(digits, what they are) to report a trained net's figures on: the held-out writers (`pen.split_writers`) of
    ../shared/data/pen when this machine has them, else the calibration writers (training-side writers the net
    did not train on, also the fusion's calibration group)."""
    from mnist_core.train import pen

    held = []
    for name in HELD_OUT_FILES:
        if (pen.SHARED / name).is_file():
            held += pen.split_writers(pen.load_pen(pen.SHARED / name))[1]
    if held:
        return held, "held-out writers of UCI pendigits and UNIPEN (pen.split_writers, ../shared/data/pen)"
    return training_writers(settings)[1], ("calibration writers of the shipped pen digits (ink.fit.is_calibration; "
                                           "the held-out writers' files are not on this machine)")


def probe(settings: F.FeatureSettings = F.FeatureSettings()) -> np.ndarray:
    """A fixed batch of ink-like inputs (8, points, C) for checking a TF Lite copy against its Keras model."""
    rng = np.random.default_rng(0)
    inks = [[np.cumsum(rng.normal(0, 1, (int(rng.integers(3, 30)), 2)), 0) for _ in range(1 + i % 3)] for i in range(8)]
    return F.batch_features(inks, settings)


def plain_copy(model, settings: InkTrainSettings):
    """The same weights in a fresh uncompiled net: saved without optimizer state (a smaller file)."""
    from mnist_core.ink.net import build_ink_net

    m = build_ink_net(settings.features.points, len(F.CHANNELS), settings.width, settings.arch)
    m.set_weights(model.get_weights())
    return m


# What the ink net trains on, for its card.
TRAINING_DATA = ("shipped pen digits of the training writers (mnist_core/assets/pen_train.npz), less the calibration "
                 "writers (ink.fit.is_calibration)")


def checked_copy(model, settings: InkTrainSettings):
    """(the net without optimizer state, its TF Lite bytes checked against it); RuntimeError if they disagree."""
    from mnist_core.digits.recognize import checked_lite

    plain = plain_copy(model, settings)
    content = checked_lite(plain, probe(settings.features))
    if content is None:
        raise RuntimeError("the TF Lite copy of the ink net disagrees with it (or cannot be converted)")
    return plain, content


def ink_card(plain, settings: InkTrainSettings, history: dict, metrics: dict, fusion: dict | None = None,
             data=TRAINING_DATA) -> dict:
    """The card of an ink net (without `lite_of`, which the writer adds from the file it wrote)."""
    return dict(kind="ink", arch=settings.arch, params=int(plain.count_params()),
                input=dict(points=settings.features.points, channels=list(F.CHANNELS),
                           max_strokes=settings.features.max_strokes),
                settings=dataclasses.asdict(settings), history=history, metrics=metrics, data=data,
                conventions={c.name: c.share for c in synth.CONVENTIONS},
                fusion=fusion, saved=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def save_ink(model, settings: InkTrainSettings, history: dict, metrics: dict, keras_path: Path, lite_path: Path,
             card_path: Path, fusion: dict | None = None, **card_fields) -> dict:
    """Write the model, its checked TF Lite copy (refused if it disagrees) and its card; returns the card."""
    plain, content = checked_copy(model, settings)
    keras_path.parent.mkdir(parents=True, exist_ok=True)
    plain.save(keras_path)
    lite_path.write_bytes(content)
    card = {**ink_card(plain, settings, history, metrics, fusion), **card_fields,
            "lite_of": hashlib.sha256(keras_path.read_bytes()).hexdigest()}
    card_path.write_text(json.dumps(card, indent=2))
    return card


def save_to_registry(registry, model, settings: InkTrainSettings, history: dict, metrics: dict,
                     fusion: dict | None = None, **card_fields) -> tuple[str, dict]:
    """A new version of an ink registry (`Registry(paths, kind="ink")`): (its id, its card as saved)."""
    plain, content = checked_copy(model, settings)
    card = {**ink_card(plain, settings, history, metrics, fusion), **card_fields}
    vid = registry.save(plain, card, {"model.tflite": content})
    return vid, registry.card(vid)


def save_version(model, settings, history, metrics, folder: Path, fusion: dict | None = None, **card_fields) -> dict:
    """A registry-style version folder: model.keras, model.tflite, card.json."""
    folder = Path(folder)
    return save_ink(model, settings, history, metrics, folder / "model.keras", folder / "model.tflite",
                    folder / "card.json", fusion, **card_fields)


def save_shipped(model, settings, history, metrics, stem: Path, fusion: dict | None = None, **card_fields) -> dict:
    """The shipped layout: <stem>.keras, <stem>.tflite, <stem>.json (e.g. models/ink.*)."""
    stem = Path(stem)
    return save_ink(model, settings, history, metrics, stem.with_suffix(".keras"), stem.with_suffix(".tflite"),
                    stem.with_suffix(".json"), fusion, **card_fields)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the ink net on the training writers' pen digits.")
    ap.add_argument("--output", default="models/ink", help="<stem> for <stem>.keras/.tflite/.json, or a folder "
                    "with --version (default models/ink)")
    ap.add_argument("--version", action="store_true", help="write model.keras, model.tflite, card.json in --output")
    ap.add_argument("--epochs", type=int, default=InkTrainSettings.epochs)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=InkTrainSettings.width)
    ap.add_argument("--arch", default="cnn")
    ap.add_argument("--points", type=int, default=F.FeatureSettings.points)
    ap.add_argument("--leave-out", default="", help="comma-separated sources (UNIPEN lab codes, 'pendigits') whose "
                    "writers are left out of training (benchmarks/ink_labs.py); 'none' or nothing: none")
    ap.add_argument("--no-fusion", action="store_true", help="skip calibrating the fusion with the image model")
    ap.add_argument("--calibrate-only", action="store_true", help="refit the fusion of the model at --output "
                    "(its .tflite through LiteRT) and rewrite its card; no training")
    ap.add_argument("--image", default=None, help="with --calibrate-only: the image model (.tflite) to calibrate "
                    "against, e.g. a twin trained without the calibration writers (benchmarks/calibration_twin.py); "
                    "default: the shipped models/default.tflite")
    args = ap.parse_args(argv)
    if args.calibrate_only:
        return recalibrate(Path(args.output), args.version, args.image)
    s = InkTrainSettings(epochs=args.epochs, limit=args.limit, seed=args.seed, width=args.width, arch=args.arch,
                         features=F.FeatureSettings(points=args.points),
                         leave_out=sources(args.leave_out))

    def log(p: dict) -> None:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in p.items()}), flush=True)

    model, history, metrics = train_ink(s, progress=log)
    print(json.dumps(metrics), flush=True)
    save = save_version if args.version else save_shipped
    card = save(model, s, history, metrics, Path(args.output))  # saved first: calibration cannot lose it
    print(f"saved {args.output}: {card['params']:,} parameters", flush=True)
    if not args.no_fusion:
        card_path = Path(args.output) / "card.json" if args.version else Path(args.output).with_suffix(".json")
        card["fusion"] = calibrate_fusion(model, s)
        card_path.write_text(json.dumps(card, indent=2))
        print(json.dumps({"fusion": card["fusion"]}), flush=True)
    return 0


def recalibrate(output: Path, version: bool = False, image: str | Path | None = None) -> int:
    """Refit the fusion of a saved ink model on the calibration writers and write it into its card; ``image``: the
    image model's .tflite to calibrate against (None: the shipped one)."""
    from mnist_core.digits.recognize import LiteFunction
    from mnist_core.ink.fuse import calibrate_on_writers
    from mnist_core.ink.reader import InkReader

    lite, card_path = ((output / "model.tflite", output / "card.json") if version
                       else (output.with_suffix(".tflite"), output.with_suffix(".json")))
    reader = InkReader.from_files(lite, card_path)
    card = json.loads(card_path.read_text())
    predict = LiteFunction(content=Path(image).read_bytes()) if image else None
    card["fusion"] = calibrate_on_writers(reader.predict_features, training_writers()[1], reader.settings,
                                          image_predict=predict)
    if image:
        card["fusion"]["calibrated_with"] = Path(image).name
    card_path.write_text(json.dumps(card, indent=2))
    print(json.dumps({"fusion": card["fusion"]}), flush=True)
    return 0


def calibrate_fusion(model, settings: InkTrainSettings, seed: int = 7, image_predict=None) -> dict:
    """The fusion fitted on the calibration writers (see fuse.calibrate_on_writers); `image_predict`
    ((N, 28, 28, 1) -> (N, 10)): the image model it is fused with (None: the shipped one). A short run (`limit`)
    calibrates on each digit once and 100 of each convention (2,883 drawings, ~15 s) instead of 6,866 (~1 min)."""
    from mnist_core.ink.fuse import calibrate_on_writers

    draws, per = (1, 100) if settings.limit is not None else (2, 300)
    return calibrate_on_writers(lambda x: np.asarray(model.predict(x, batch_size=512, verbose=0)),
                                training_writers(settings)[1], settings.features, seed, image_predict=image_predict,
                                per_convention=per, draws=draws)


if __name__ == "__main__":
    raise SystemExit(main())
