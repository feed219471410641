"""A trained model's ending, shared by a training run and ``combine``: its plots and checked TF Lite copy, the save
as a registered version, the activation and the optional shippable copy; and ``combine`` itself (an ensemble)."""

from __future__ import annotations

import json
from pathlib import Path

from mnist_core.train.job import RunError


def render_artifacts(model, metrics: dict, x_test, history: dict) -> dict[str, bytes]:
    """The version's files beside the model: curves (when there is a history), confusion, mistakes, TF Lite copy."""
    from mnist_core.digits.recognize import checked_lite  # noqa: PLC0415
    from mnist_core.train import evaluate as ev  # noqa: PLC0415

    artifacts = {}
    if history:
        artifacts["curves.png"] = ev.plot_curves(history)
    artifacts["confusion.png"] = ev.plot_confusion(metrics["confusion"])
    artifacts["mistakes.png"] = ev.plot_mistakes(x_test, metrics["worst"])
    lite = checked_lite(model)  # the server runs this copy without importing TensorFlow
    if lite is not None:
        artifacts["model.tflite"] = lite
    return artifacts


def save_version(registry, model, card: dict, artifacts: dict, *, activate: bool, profile: str | None = None,
                 output: str | None = None) -> tuple[str, dict]:
    """Register the model as a new version (activated for ``profile`` or everyone when asked), copy it to
    ``output`` when given; (its id, its card as saved)."""
    vid = registry.save(model, card, artifacts)
    card = registry.card(vid)
    if activate:
        registry.activate(vid, profile=profile)
    if output:
        write_output(registry, vid, card, Path(output))
    return vid, card


def write_output(registry, vid: str, card: dict, out: Path) -> None:
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
            raise RunError(f"no such model file: {ref}")
        card_file = path.with_suffix(".json")
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        return load_model_file(path), {**card, "file": str(path)}
    if not registry.exists(ref):
        raise RunError(f"no such version: {ref}")
    return registry.load(ref), registry.card(ref)


def combine(refs: list[str], data_path: str | None, *, activate: bool, output: str | None) -> tuple[str, dict]:
    """Average trained digit models (version ids or .keras files) into one ensemble version: its test accuracy,
    checked TF Lite copy, a card naming each member; (its id, its card)."""
    if len(refs) < 2:
        raise RunError("combine needs at least two models")
    import keras  # noqa: PLC0415

    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415
    from mnist_core.store.registry import Registry  # noqa: PLC0415
    from mnist_core.train import evaluate as ev  # noqa: PLC0415
    from mnist_core.train.data import load_mnist  # noqa: PLC0415
    from mnist_core.train.nets import arch_name, build_ensemble, members  # noqa: PLC0415

    registry = Registry()
    loaded = [_member(ref, registry) for ref in refs]
    if any(len(members(net)) > 1 for net, _ in loaded):
        raise RunError("combine single models, not ensembles")
    model = build_ensemble([net for net, _ in loaded])
    data = load_mnist(data_path)
    reader = Recognizer(model, "new", lite=False)
    metrics = ev.evaluate_data(reader.predict, data)  # names its test set
    first = loaded[0][1]
    seconds = [c.get("train_seconds") for _, c in loaded]
    card = {
        "arch": arch_name(model),
        "params": int(model.count_params()),
        "data": first.get("data"),        # the members' recipe: they are meant to differ by seed alone
        "settings": first.get("settings"),
        "metrics": metrics,
        "tests": ev.other_tests(reader.predict, data),
        "train_seconds": round(sum(seconds), 2) if all(isinstance(t, (int, float)) for t in seconds) else None,
        "history": first.get("history", []),  # the first member's curves
        "ensemble": {
            "how": "the mean of the members' probabilities",
            "members": [{"ref": ref, "version": c.get("id"), "seed": (c.get("settings") or {}).get("seed"),
                         "test_accuracy": (c.get("metrics") or {}).get("accuracy"),
                         "train_seconds": c.get("train_seconds")} for ref, (_, c) in zip(refs, loaded)],
        },
        "parent": None,
        "keras": keras.__version__,
    }
    artifacts = render_artifacts(model, metrics, data.x_test, card["history"])
    return save_version(registry, model, card, artifacts, activate=activate, output=output)
