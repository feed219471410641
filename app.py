"""MNIST studio: draw or photograph digits, correct the model, retrain it and manage its versions.

    python app.py                      # http://127.0.0.1:7860 (env MNIST_STUDIO_HOST / MNIST_STUDIO_PORT)
    python app.py --host 0.0.0.0       # admin actions then need MNIST_STUDIO_ADMIN_PASSWORD

Reads top to bottom: settings and the lazily built services, thin handlers, the Blocks with its five
tabs, the event wiring (every event has an explicit api_name), then the launcher. TensorFlow is imported
only when the model is first needed (a background warm-up starts it at launch), never at import.
Training runs in a separate process (mnist_core.jobs), so prediction keeps answering while it runs.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import html
import io
import ipaddress
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Gradio keeps uploads in GRADIO_TEMP_DIR: a folder of our own, emptied by delete_cache and at exit.
os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / f"mnist-studio-{os.getuid()}"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home; the studio runs offline
# Timings of the last N events, kept for Gradio's /monitoring page only (default 10,000, ~0.5 KiB each).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "256")

import cv2
import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from mnist_core.config import Limits, Paths, TrainSettings
from mnist_core.data import describe_available
from mnist_core.pen import pen_note
from mnist_core.jobs import JobBusy, JobManager, JobRequest, JobStatus
from mnist_core.preprocess import Digit, ImageError, canvas_to_mnist, load_image, most_prominent, photo_to_mnist
from mnist_core.registry import Registry, RegistryError, validate_version_id
from mnist_core.samples import SampleStore, validate_label, validate_sample_id

log = logging.getLogger("mnist_studio")


def _fail(message: str, title: str = "Error") -> gr.Error:
    """A message for the person (bad input, refused action): shown in the page, no traceback in the log."""
    return gr.Error(message, title=title, print_exception=False)


# ----------------------------------------------------------------------------------------------------------
# Settings and services
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudioConfig:
    """Where the studio keeps its state, who may change it, and what a request may cost."""

    paths: Paths = field(default_factory=Paths)
    # The address served; admin actions are open on loopback only (else they need the password).
    host: str = "127.0.0.1"
    # Env MNIST_STUDIO_ADMIN_PASSWORD; never shown, logged or passed to the trainer.
    admin_password: str | None = field(
        default_factory=lambda: os.environ.get("MNIST_STUDIO_ADMIN_PASSWORD") or None, repr=False
    )
    limits: Limits = field(default_factory=Limits)
    # MNIST file for retraining (None: the core's choice: MNIST_DATA, the Keras cache or the offline subset).
    data: str | None = None
    # Canvas size in pixels: 400x400 is plenty for a digit and keeps every stroke's upload small.
    canvas: int = 400


@dataclass(frozen=True)
class UiLimits:
    """Sizes of what the pages show."""

    # Side of each 28x28 preview in the page, in CSS pixels (nearest-neighbour: crisp pixels).
    preview_px: int = 84
    # Longest side of the boxed photo sent back.
    photo_px: int = 1024
    # Samples shown per gallery page.
    gallery: int = 120
    # Seconds between two looks at the registry's active version from the prediction path.
    refresh_every_s: float = 1.0
    # Canvas uploads kept for events still to consume them; older ones are dropped (Gradio never frees them).
    canvas_blobs: int = 64


UI = UiLimits()
# Seconds an upload stays in Gradio's cache (checked every 2 minutes); all go when the server stops.
UPLOADS_KEPT_S = 900
# Sessions whose server-side component state Gradio keeps (oldest dropped first). Every API call without a
# session_hash (curl, scripts) is a new session of ~185 KiB here; Gradio's default of 10,000 let memory grow by
# ~1.8 GB before levelling off. The app keeps no per-session data of its own (no gr.State): nothing is lost.
STATE_SESSIONS_KEPT = 256


class Studio:
    """The services behind the handlers: model, registry, samples, training jobs, admin policy."""

    def __init__(self, config: StudioConfig | None = None):
        self.config = config or StudioConfig()
        self.registry = Registry(self.config.paths)
        self.samples = SampleStore(self.config.paths.samples_db)
        self.jobs = JobManager(self.config.paths)
        self.canvas_blobs: dict = {}  # the Sketchpad's blob store, set by build_app
        self._recognizer = None
        self._load_lock = threading.Lock()
        self._checked = 0.0
        self._refreshing = threading.Lock()

    # --- the model ---

    def recognizer(self):
        """The Recognizer serving the active version (TensorFlow is imported on first use)."""
        if self._recognizer is None:
            with self._load_lock:
                if self._recognizer is None:
                    # Serves the version's stored TF Lite copy through LiteRT (~0.3 s, no TensorFlow); a version
                    # without one is loaded through Keras (imports TensorFlow: ~6 s).
                    from mnist_core.recognize import Recognizer  # noqa: PLC0415

                    try:
                        self._recognizer = Recognizer.from_registry(self.registry)
                    except RegistryError as e:  # say why, instead of an error without a message
                        raise _fail(f"The model could not be loaded: {e}", title="No model") from None
        return self._recognizer

    def warm(self) -> threading.Thread:
        """Load TensorFlow and the model in the background, so the first request finds them ready."""
        thread = threading.Thread(target=self._warm, name="warm-model", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self.recognizer().predict(np.zeros((1, 28, 28), np.float32))
        except Exception:  # the first request will report it
            log.exception("could not load the model")

    def predict(self, digits: list[Digit]) -> np.ndarray:
        """(N, 10) probabilities for the digits, on the active version (checked about once a second)."""
        rec = self.recognizer()
        now = time.monotonic()
        if now - self._checked > UI.refresh_every_s:
            self._checked = now
            if self.registry.active() != rec.version and self._refreshing.acquire(blocking=False):
                # Load the newly active model off the request path; requests keep the old one meanwhile.
                threading.Thread(target=self._refresh, daemon=True).start()
        return rec.predict(np.stack([d.image for d in digits]))

    def _refresh(self) -> None:
        try:
            self.recognizer().refresh(self.registry)
        except Exception:  # a broken version must not stop serving the one that works
            log.exception("could not switch to the active version")
        finally:
            self._refreshing.release()

    def refresh_now(self) -> None:
        """Switch to the registry's active version now (after an Activate here)."""
        if self._recognizer is not None:
            self._recognizer.refresh(self.registry)

    # --- who may change things ---

    @property
    def admin_mode(self) -> str:
        """"open" on loopback, "password" elsewhere with a password set, else "disabled"."""
        if is_loopback(self.config.host):
            return "open"
        return "password" if self.config.admin_password else "disabled"

    def require_admin(self, password: str | None) -> None:
        """Raise gr.Error unless admin actions are allowed with this password."""
        mode = self.admin_mode
        if mode == "open":
            return
        if mode == "disabled":
            raise _fail(ADMIN_DISABLED, title="Admin actions are disabled")
        given = (password or "").encode()
        if not hmac.compare_digest(given, self.config.admin_password.encode()):
            raise _fail("Wrong or missing admin password.", title="Not allowed")


ADMIN_DISABLED = (
    "Training, activating, deleting and relabelling are disabled: the studio is served on a network "
    "address and no admin password is set (env MNIST_STUDIO_ADMIN_PASSWORD)."
)

_studio: Studio | None = None


def studio() -> Studio:
    """The services of the app built last (a default one when none was built)."""
    global _studio
    if _studio is None:
        _studio = Studio()
    return _studio


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ----------------------------------------------------------------------------------------------------------
# Helpers: payloads in, HTML and images out
# ----------------------------------------------------------------------------------------------------------


def _source(value):
    """A file path or bytes from what Gradio passes (FileData dict, path, canvas blob); None if empty."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("path")
    return value


def _read(value, limits: Limits, exif: bool = True) -> np.ndarray:
    """Decode one image (an uploaded file or bytes) safely; ImageError with a message for people."""
    src = _source(value)
    if isinstance(src, str) and not os.path.exists(src):  # Gradio's cache forgets uploads after 15 minutes
        raise ImageError("the upload has expired: please upload the image again")
    return load_image(src, max_pixels=limits.max_pixels, exif=exif)


def _canvas(value: dict | None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The Sketchpad's value (preprocess off) -> (RGBA layers, composite or None); only what is needed is decoded.

    Gradio sends the canvas either as uploaded files ({layers: [FileData], composite: FileData}) or as an
    id of blobs it received beforehand ({id: ...}); the layers' alpha is the ink, so the composite is only
    decoded when there are no layers (API clients may send just an image as the composite).
    """
    if not value:
        return [], None
    if not isinstance(value, dict):
        raise ImageError("the canvas must be a Sketchpad value: {background, layers, composite}")
    blobs = studio().canvas_blobs
    _trim(blobs)
    if value.get("id"):
        stored = blobs.pop(value["id"], None)
        if stored is None:
            return [], None
        layers = [b for b in (stored.layers or []) if b]
        composite = stored.composite
    else:
        layers = [x for x in (value.get("layers") or []) if x]
        composite = value.get("composite")
    limits = studio().config.limits
    decoded = [_read(layer, limits, exif=False) for layer in layers]  # a browser's canvas PNG has no EXIF
    decoded = [a for a in decoded if a.ndim == 3 and a.shape[2] == 4]
    if decoded:
        return decoded, None
    return [], (_read(composite, limits) if composite else None)


def _trim(blobs: dict) -> None:
    """Drop the oldest canvas blobs beyond UI.canvas_blobs (Gradio stores one set per stroke)."""
    for key in list(blobs)[: max(0, len(blobs) - UI.canvas_blobs)]:
        blobs.pop(key, None)


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def _digit_png(image: np.ndarray) -> bytes:
    """(28, 28) float [0, 1] -> PNG bytes, white ink on black as the model sees it."""
    return _png(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _top3(probs: np.ndarray) -> dict[str, float]:
    order = np.argsort(probs)[::-1][:3]
    return {str(int(d)): float(probs[d]) for d in order}


def _digits_html(digits: list[Digit], probs: np.ndarray, empty: str) -> str:
    """Each digit's 28x28 input, enlarged with crisp pixels, with its guess and confidence."""
    if not digits:
        return f'<p class="studio-empty">{empty}</p>'
    cells = []
    for i, (digit, p) in enumerate(zip(digits, probs), start=1):
        guess = int(np.argmax(p))
        uri = "data:image/png;base64," + base64.b64encode(_digit_png(digit.image)).decode()
        cells.append(
            f'<figure class="studio-digit" data-guess="{guess}" style="margin:0;text-align:center">'
            f'<img src="{uri}" alt="digit {i}: 28x28 input" width="{UI.preview_px}" height="{UI.preview_px}" '
            f'style="image-rendering:pixelated;border:1px solid #888;background:#000">'
            f"<figcaption>#{i}: <b>{guess}</b> ({float(p[guess]):.0%})</figcaption></figure>"
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:12px">' + "".join(cells) + "</div>"


def _number(probs: np.ndarray) -> str:
    return "".join(str(int(np.argmax(p))) for p in probs)


def _boxed(image: np.ndarray, digits: list[Digit], probs: np.ndarray) -> np.ndarray:
    """The photo (RGB, at most UI.photo_px a side) with each digit boxed and labelled with its guess."""
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    scale = min(1.0, UI.photo_px / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    thick = max(2, round(max(rgb.shape[:2]) / 300))
    for i, (digit, p) in enumerate(zip(digits, probs), start=1):
        x0, y0, x1, y1 = (round(v * scale) for v in digit.box)
        cv2.rectangle(rgb, (x0, y0), (x1, y1), (255, 0, 80), thick)
        # Just the digit's number: its guess and confidence are listed under the photo, by that number.
        cv2.putText(rgb, str(i), (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.25 * thick, (255, 0, 80), max(1, thick // 2))
    return rgb


def _pick(digits: list[Digit], index) -> int:
    """0-based position of the digit a person means by ``index`` (1-based; the most prominent when empty)."""
    if not digits:
        raise _fail("Nothing to save: no digit was found.")
    if index in (None, "", 0):
        return most_prominent(digits) or 0
    try:
        i = int(index)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise _fail(f"Which digit? Give its number from 1 to {len(digits)}.") from None
    if not 1 <= i <= len(digits):
        raise _fail(f"There {'is' if len(digits) == 1 else 'are'} {len(digits)} digit(s); pick 1 to {len(digits)}.")
    return i - 1


def _save(digit: Digit, label, original: bytes | None, source: str) -> str:
    try:
        label = validate_label(label)
        sid = studio().samples.add(label, digit.image, original_png=original, source=source)
    except ValueError as e:
        raise _fail(str(e)) from None
    total = len(studio().samples)
    return f"Saved as a **{label}** (sample #{sid}). You have {total} sample{'s' * (total != 1)}; they can train the next model."


def _image_error(e: Exception) -> gr.Error:
    return _fail(f"Cannot read this image: {e}", title="Bad image")


# ----------------------------------------------------------------------------------------------------------
# Handlers: Draw
# ----------------------------------------------------------------------------------------------------------

NOTHING_DRAWN = "Nothing drawn yet: draw a digit (or several, side by side)."


def _drawing_digits(sketch: dict | None) -> tuple[list[Digit], list[np.ndarray], np.ndarray | None]:
    try:
        layers, composite = _canvas(sketch)
        return canvas_to_mnist(layers or None, composite), layers, composite
    except ImageError as e:
        raise _image_error(e) from None


def predict_drawing(sketch: dict | None):
    """Sketchpad value -> (top-3 gr.Label of the most prominent digit, the number read, each digit's 28x28 input)."""
    digits, _, _ = _drawing_digits(sketch)
    if not digits:
        return {}, "", _digits_html([], np.zeros((0, 10)), NOTHING_DRAWN)
    probs = studio().predict(digits)
    main = most_prominent(digits)
    return _top3(probs[main]), _number(probs), _digits_html(digits, probs, NOTHING_DRAWN)


def noop_drawing(sketch: dict | None):
    """Does nothing and returns a constant: the floor that /predict_drawing's latency is measured against.

    Wired to the same Sketchpad, with the same preprocessing (none) and concurrency as /predict_drawing.
    """
    return {"0": 1.0}, "", ""


def save_drawing_sample(sketch: dict | None, digit: float | None, label):
    """Save digit number ``digit`` (1-based; default: the most prominent) of the drawing with ``label``."""
    digits, layers, composite = _drawing_digits(sketch)
    if not digits:
        raise _fail("Nothing to save: draw a digit first.")
    chosen = digits[_pick(digits, digit)]
    strokes = layers[0] if layers else composite
    return _save(chosen, label, _png(strokes) if strokes is not None else None, "draw")


def clear_drawing():
    """Empty canvas and outputs."""
    return None, {}, "", _digits_html([], np.zeros((0, 10)), NOTHING_DRAWN), ""


# ----------------------------------------------------------------------------------------------------------
# Handlers: Photo
# ----------------------------------------------------------------------------------------------------------

NO_DIGITS = "No digits found in this photo: try a closer, sharper shot of dark digits on light paper."


def _photo(photo) -> tuple[np.ndarray, list[Digit]]:
    if _source(photo) is None:
        raise _fail(NO_PHOTO)
    try:
        image = _read(photo, studio().config.limits)
        return image, photo_to_mnist(image)
    except ImageError as e:
        raise _image_error(e) from None


NO_PHOTO = "Upload a photo, take one with the webcam or paste one."


def predict_photo(photo):
    """Image file -> (gr.Label of the most prominent digit, the number read, the photo boxed, each digit's input)."""
    if _source(photo) is None:  # the photo was removed
        return {}, "", None, _digits_html([], np.zeros((0, 10)), NO_PHOTO)
    image, digits = _photo(photo)
    if not digits:
        return {}, "", _boxed(image, [], np.zeros((0, 10))), _digits_html([], np.zeros((0, 10)), NO_DIGITS)
    probs = studio().predict(digits)
    return (
        _top3(probs[most_prominent(digits)]),
        _number(probs),
        _boxed(image, digits, probs),
        _digits_html(digits, probs, NO_DIGITS),
    )


def read_number(photo) -> str:
    """Image file -> the number written on it, digits in reading order ("" when none)."""
    _, digits = _photo(photo)
    return _number(studio().predict(digits)) if digits else ""


def save_photo_sample(photo, digit: float | None, label):
    """Save digit number ``digit`` (1-based; default: the most prominent) of the photo with ``label``."""
    image, digits = _photo(photo)
    chosen = digits[_pick(digits, digit)]
    x0, y0, x1, y1 = chosen.box
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    return _save(chosen, label, _png(crop) if crop.size else None, "photo")


# ----------------------------------------------------------------------------------------------------------
# Handlers: Retrain
# ----------------------------------------------------------------------------------------------------------

DATA_CHOICES = ["MNIST", "MNIST + my samples", "Fine-tune the active model on my samples"]


def _number_setting(value, name: str, kind=int):
    if value is None or value == "":
        raise _fail(f"{name} is missing.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: float(10**400)
        raise _fail(f"{name} must be a number, not {value!r}.") from None
    if kind is int:
        if not number.is_integer():
            raise _fail(f"{name} must be a whole number, not {value!r}.")
        return int(number)
    return number


def _request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate,
             pen_data=True) -> JobRequest:
    if data not in DATA_CHOICES:
        raise _fail(f"Data must be one of: {', '.join(DATA_CHOICES)}.")
    limit_n = _number_setting(limit if limit not in (None, "") else 0, "The digit limit")
    settings = TrainSettings(
        arch=str(arch),
        epochs=_number_setting(epochs, "Epochs"),
        batch_size=_number_setting(batch_size, "Batch size"),
        lr=_number_setting(lr, "Learning rate", float),
        augment=bool(augment),
        limit=limit_n or None,
        sample_weight=_number_setting(sample_weight, "Sample weight", float),
        validation=min(TrainSettings.validation, max(100, (limit_n or 10**9) // 5)),
        data="mnist+pen" if _truthy(pen_data) else "mnist",
    )
    return JobRequest(
        settings=settings,
        data=studio().config.data,
        use_samples=data == DATA_CHOICES[1],
        finetune=studio().registry.active() if data == DATA_CHOICES[2] else None,
        activate="if_better" if auto_activate else "no",
    )


def _truthy(value) -> bool:
    """A checkbox's value as the API may send it: a bool, or a string such as "false"."""
    return value.strip().lower() not in ("", "0", "false", "no", "off") if isinstance(value, str) else bool(value)


def _data_note(config: StudioConfig) -> str:
    """What "MNIST" means here (a given file, the full set, or, said plainly, the offline subset), and the pen data."""
    mnist = f"MNIST from {config.data}" if config.data else describe_available()
    return f"{mnist}; real handwriting: {pen_note()}"


def _progress_html(s: JobStatus) -> str:
    pct = round(100 * s.fraction)
    colour = {"failed": "#dc2626", "cancelled": "#9ca3af", "done": "#16a34a"}.get(s.status, "#f97316")
    details = []
    if s.running and s.loss is not None:
        details.append(f"loss {s.loss:.3f}")
    if s.running and s.accuracy is not None:
        details.append(f"accuracy {s.accuracy:.1%}")
    if s.data:
        details.append(f"data: {s.data}")
    return (
        f'<div id="train-progress" data-status="{s.status}" data-fraction="{s.fraction:.4f}" '
        f'data-points="{len(s.curves)}">'
        f'<div style="background:#e5e7eb;border-radius:6px;height:14px;overflow:hidden">'
        f'<div style="width:{pct}%;background:{colour};height:14px;transition:width .4s"></div></div>'
        f"<p><b>{html.escape(s.describe())}</b></p><p style=\"opacity:.8\">{html.escape(' · '.join(details))}</p></div>"
    )


def _curves(s: JobStatus, metric: str) -> pd.DataFrame:
    """One metric's points so far: epoch (float, fractional within an epoch), split, value."""
    rows = [p for p in s.curves if p["metric"] == metric]
    # Explicit dtypes: an empty frame would otherwise be "object" and the plot's x axis categorical.
    return pd.DataFrame({
        "epoch": pd.Series([p["epoch"] for p in rows], dtype="float64"),
        "split": pd.Series([p["split"] for p in rows], dtype="string"),
        "value": pd.Series([p["value"] for p in rows], dtype="float64"),
    })


def _result(s: JobStatus):
    """Markdown, confusion image, mistakes image and version id of a finished job (empty otherwise)."""
    if s.status != "done" or not s.result:
        return "", None, None, ""
    res = s.result
    vid = res.get("version", "")
    card = res.get("card") or {}
    acc = (card.get("metrics") or {}).get("accuracy")
    before, before_acc = res.get("active_before"), res.get("active_accuracy")
    lines = [f"### New version `{vid}`"]
    if acc is not None:
        lines.append(f"Test accuracy **{acc:.2%}** on {card.get('data', {}).get('source', 'the test set')}.")
    if before_acc is not None and acc is not None:
        diff = (acc - before_acc) * 100
        verdict = "better than" if diff > 0 else "not better than" if diff < 0 else "as good as"
        lines.append(f"The active model `{before}` scores {before_acc:.2%} on the same test set: "
                     f"the new one is {verdict} it ({diff:+.2f} points).")
    lines.append("It is **now active**." if res.get("activated") else "Press *Activate* to make it live.")
    try:
        folder = studio().registry.model_path(vid).parent
    except RegistryError:  # the log names a version the registry does not know: show no plots
        folder = None
    images = [_png_file(folder / name) if folder else None for name in ("confusion.png", "mistakes.png")]
    return "\n\n".join(lines), images[0], images[1], vid


def _png_file(path: Path):
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def _status_outputs(s: JobStatus):
    md, confusion, mistakes, vid = _result(s)
    if s.status == "done" and (s.result or {}).get("activated"):
        studio().refresh_now()
    can_activate = bool(vid) and not (s.result or {}).get("activated") and studio().admin_mode != "disabled"
    return (
        s.describe(),
        _progress_html(s),
        _curves(s, "loss"),
        _curves(s, "accuracy"),
        md,
        confusion,
        mistakes,
        vid,
        gr.Button(interactive=can_activate),
        gr.Timer(active=s.running),
    )


def train(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate, password="",
          pen_data=True):
    """Start a training job (one at a time); returns the status outputs and starts the tab's polling."""
    studio().require_admin(password)
    try:
        status = studio().jobs.start(_request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit,
                                              auto_activate, pen_data))
    except JobBusy as e:
        raise _fail(str(e), title="Training already running") from None
    except gr.Error:  # already worded for people (gr.Error is a ValueError: don't wrap it again)
        raise
    except ValueError as e:
        raise _fail(str(e), title="Bad training settings") from None
    return _status_outputs(status)


def training_status():
    """The current (or last) training's progress, curves and result."""
    return _status_outputs(studio().jobs.status())


def cancel_training(password=""):
    """Ask the running training to stop; it does within a few seconds."""
    studio().require_admin(password)
    if not studio().jobs.cancel():
        return "No training is running."
    return "Cancelling: the training stops within a few seconds."


# ----------------------------------------------------------------------------------------------------------
# Handlers: Models
# ----------------------------------------------------------------------------------------------------------

MODEL_COLUMNS = ["active", "version", "created", "arch", "data", "accuracy", "train time"]


def _models_table() -> pd.DataFrame:
    active = studio().registry.active()
    rows = []
    for card in studio().registry.versions():
        data = card.get("data") or {}
        acc = (card.get("metrics") or {}).get("accuracy")
        secs = card.get("train_seconds")
        rows.append([
            "●" if card["id"] == active else "",
            card["id"],
            str(card.get("created", ""))[:19].replace("T", " "),
            card.get("arch", "?") if "broken" not in card else "broken",
            _data_text(data),
            f"{acc:.2%}" if isinstance(acc, (int, float)) else "",
            f"{secs:.0f} s" if isinstance(secs, (int, float)) else "",
        ])
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def _data_text(data: dict) -> str:
    if not data:
        return ""
    text = str(data.get("source", ""))
    if data.get("train_size"):
        text += f", {int(data['train_size']):,} digits"
    if data.get("subset"):
        text += " (offline subset)"
    if data.get("user_samples"):
        text += f" + {int(data['user_samples'])} of yours"
    return text


def _version(version) -> str:
    try:
        return validate_version_id(version)
    except RegistryError as e:
        raise _fail(str(e)) from None


def _card_markdown(vid: str) -> str:
    card = studio().registry.card(vid)
    acc = (card.get("metrics") or {}).get("accuracy")
    settings = card.get("settings") or {}
    lines = [
        f"### `{vid}`{' (active)' if vid == studio().registry.active() else ''}",
        f"- **created** {str(card.get('created', '?'))[:19].replace('T', ' ')}",
        f"- **architecture** {card.get('arch', '?')} ({card.get('params', '?'):,} parameters)"
        if isinstance(card.get("params"), int) else f"- **architecture** {card.get('arch', '?')}",
        f"- **data** {_data_text(card.get('data') or {}) or '?'}",
        f"- **test accuracy** {acc:.2%}" if isinstance(acc, (int, float)) else "- **test accuracy** ?",
        f"- **training time** {card['train_seconds']:.0f} s" if isinstance(card.get("train_seconds"), (int, float)) else "",
        f"- **settings** epochs {settings.get('epochs', '?')}, batch {settings.get('batch_size', '?')}, "
        f"lr {settings.get('lr', '?')}, augment {settings.get('augment', '?')}" if settings else "",
        f"- **fine-tuned from** `{card['parent']}`" if card.get("parent") else "",
    ]
    return "\n".join(line for line in lines if line)


def show_model(version):
    """A version's card, its curves and confusion plots, and a download of its .keras file."""
    if not version:
        return "Pick a version.", None, None, gr.DownloadButton(value=None, interactive=False)
    vid = _version(version)
    try:
        md = _card_markdown(vid)
        path = studio().registry.model_path(vid)
    except RegistryError as e:
        raise _fail(str(e)) from None
    plots = [_png_file(path.parent / name) for name in ("curves.png", "confusion.png")]
    download = _download_copy(path, f"mnist-{vid}.keras")
    return (md, *(gr.Image(value=p, visible=p is not None) for p in plots),
            gr.DownloadButton(value=download, interactive=True))


def _download_copy(path: Path, name: str) -> str:
    """A copy of ``path`` in Gradio's cache (served from there; old copies are removed)."""
    root = Path(os.environ["GRADIO_TEMP_DIR"]) / "downloads"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > 600:
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    shutil.copyfile(path, folder / name)
    return str(folder / name)


def pick_model_row(evt: gr.SelectData):
    """The version id of the table row clicked."""
    row = evt.row_value or []
    return row[1] if len(row) > 1 else gr.skip()


def _models_outputs(message: str, selected: str | None):
    table = _models_table()
    choices = table["version"].tolist()
    selected = selected if selected in choices else studio().registry.active()
    return message, table, gr.Dropdown(choices=choices, value=selected)


def list_models():
    """Every version: a table of cards, and the version picker."""
    return _models_outputs("", None)


def activate_model(version, password=""):
    """Make a version the live model (for everyone, at once)."""
    studio().require_admin(password)
    vid = _version(version)
    try:
        studio().registry.activate(vid)
        studio().refresh_now()
    except RegistryError as e:
        raise _fail(str(e)) from None
    return _models_outputs(f"`{vid}` is now the active model.", vid)


def delete_model(version, password=""):
    """Delete a version (never the active one, never the shipped default)."""
    studio().require_admin(password)
    vid = _version(version)
    try:
        studio().registry.delete(vid)
    except RegistryError as e:
        raise _fail(str(e)) from None
    return _models_outputs(f"Deleted `{vid}`.", None)


# ----------------------------------------------------------------------------------------------------------
# Handlers: My samples
# ----------------------------------------------------------------------------------------------------------

ALL = "all"


def _enlarged(image: np.ndarray) -> np.ndarray:
    """(28, 28) float -> (112, 112) uint8, each pixel a 4x4 block (crisp in any image viewer)."""
    return np.kron(np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))


def list_samples(digit=ALL):
    """The saved samples (newest first, up to a page) and how many there are of each digit."""
    try:
        label = None if digit in (None, "", ALL) else validate_label(digit)
    except ValueError as e:
        raise _fail(str(e)) from None
    store = studio().samples
    counts = store.counts()
    items = [(_enlarged(s["image"]), f"#{s['id']}: {s['label']} ({s['source']})") for s in store.list(label=label, limit=UI.gallery)]
    total = sum(counts.values())
    summary = f"**{total} sample{'s' * (total != 1)}** — " + " · ".join(f"{d}: {n}" for d, n in counts.items())
    return items, summary


def pick_sample(evt: gr.SelectData):
    """The id of the gallery item clicked."""
    caption = evt.value.get("caption", "") if isinstance(evt.value, dict) else ""
    return int(caption[1:].split(":")[0]) if caption.startswith("#") else None


def relabel_sample(sample_id, label, password=""):
    """Give a saved sample another label."""
    studio().require_admin(password)
    try:
        sid, new = validate_sample_id(sample_id), validate_label(label)
        studio().samples.relabel(sid, new)
    except ValueError as e:
        raise _fail(str(e)) from None
    return f"Sample #{sid} is now a **{new}**."


def delete_sample(sample_id, password=""):
    """Delete a saved sample."""
    studio().require_admin(password)
    try:
        sid = validate_sample_id(sample_id)
        studio().samples.delete(sid)
    except ValueError as e:
        raise _fail(str(e)) from None
    return f"Deleted sample #{sid}."


# ----------------------------------------------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------------------------------------------

# The Sketchpad starts with no tool chosen: pick the brush (on load, and again whenever the Draw tab is shown, in
# case the page loaded while another tab was in front). Gradio marks the chosen tool's button "highlight"; clicking
# it again would open the brush options, so a chosen brush is left alone.
SELECT_BRUSH = """
() => {
  const pick = (tries) => {
    const brush = document.querySelector('#sketch button[aria-label="Brush"]');
    if (brush) { if (!brush.classList.contains('highlight')) brush.click(); }
    else if (tries > 0) { setTimeout(() => pick(tries - 1), 200); }
  };
  pick(50);
}
"""


def build_app(config: StudioConfig | None = None) -> gr.Blocks:
    """The studio's Blocks over fresh services for ``config`` (nothing slow happens here)."""
    global _studio
    _studio = s = Studio(config)
    limits, admin = s.config.limits, s.admin_mode
    admin_ok = admin != "disabled"
    digit_choices = [str(d) for d in range(10)]

    with gr.Blocks(title="MNIST studio", analytics_enabled=False, delete_cache=(120, UPLOADS_KEPT_S)) as demo:
        gr.Markdown("# ✍️ MNIST studio\nDraw or photograph digits, correct the model, retrain it, manage its versions.")
        if admin == "disabled":
            gr.Markdown(f"> ⚠️ {ADMIN_DISABLED}", elem_id="admin-disabled")
        password = gr.Textbox(
            "", label="Admin password", type="password", visible=admin == "password",
            info="Needed to train, cancel, activate, delete and relabel on this address.",
        )

        with gr.Tabs():
            # ---------------------------------------------------------------- 1. Draw
            with gr.Tab("Draw", id="draw") as draw_tab:
                with gr.Row():
                    with gr.Column(scale=3):
                        sketch = gr.Sketchpad(
                            label="Draw digits",
                            canvas_size=(s.config.canvas, s.config.canvas),
                            height=s.config.canvas + 120,
                            image_mode="RGBA",
                            type="numpy",
                            layers=False,
                            transforms=(),
                            brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                            eraser=gr.Eraser(default_size=16),
                            elem_id="sketch",
                        )
                        clear = gr.Button("Clear", elem_id="clear-drawing")
                    with gr.Column(scale=2):
                        draw_label = gr.Label(num_top_classes=3, label="Prediction (top 3)", elem_id="draw-label")
                        draw_number = gr.Textbox(label="Number read", interactive=False, elem_id="draw-number")
                        draw_digits = gr.HTML(_digits_html([], np.zeros((0, 10)), NOTHING_DRAWN), elem_id="draw-digits",
                                              label="What the model saw (28×28)")
                        with gr.Group():
                            draw_fix = gr.Radio(digit_choices, label="Wrong? It's a …", elem_id="draw-fix")
                            draw_which = gr.Number(label="Which digit (1 = the first; 0 = the main one)", precision=0)
                            draw_save = gr.Button("Save as a sample", elem_id="draw-save")
                        draw_saved = gr.Markdown(elem_id="draw-saved")
                noop = gr.Button(visible=False)  # API-only twin of /predict_drawing for latency floors

            # ---------------------------------------------------------------- 2. Photo
            with gr.Tab("Photo", id="photo"):
                with gr.Row():
                    with gr.Column():
                        photo = gr.Image(
                            label="A photo of digits (upload, webcam or paste)",
                            sources=["upload", "webcam", "clipboard"],
                            type="filepath",
                            elem_id="photo",
                        )
                        read_btn = gr.Button("Read", variant="primary")
                    with gr.Column():
                        photo_label = gr.Label(num_top_classes=3, label="Most prominent digit")
                        photo_number = gr.Textbox(label="Number read", interactive=False, elem_id="photo-number")
                        photo_boxed = gr.Image(label="Digits found", interactive=False, format="jpeg")
                photo_digits = gr.HTML(label="What the model saw (28×28)")
                with gr.Group():
                    with gr.Row():
                        photo_which = gr.Number(label="Which digit (as numbered on the photo; 0 = the main one)",
                                                precision=0)
                        photo_fix = gr.Radio(digit_choices, label="Wrong? It's a …")
                    photo_save = gr.Button("Save as a sample")
                photo_saved = gr.Markdown()
                read_number_btn = gr.Button(visible=False)  # API-only: /read_number

            # ---------------------------------------------------------------- 3. Retrain
            with gr.Tab("Retrain", id="retrain"):
                gr.Markdown(f"**Data:** {_data_note(s.config)}", elem_id="data-note")
                with gr.Row():
                    with gr.Column():
                        data = gr.Radio(DATA_CHOICES, value=DATA_CHOICES[0], label="Train on")
                        weight = gr.Slider(0, 100, value=TrainSettings.sample_weight, step=0.5,
                                           label="Weight of each of my samples (× an MNIST digit)")
                        pen_data = gr.Checkbox(TrainSettings.data == "mnist+pen", elem_id="train-pen",
                                               label="Add real handwriting of other writers (pen digits, "
                                                     "drawn as on the canvas)",
                                               info="MNIST alone is the tutorial's choice; its writers are one "
                                                    "population, and it reads 2-5% of other people's digits wrong")
                        arch = gr.Radio(["cnn", "mlp"], value="cnn", label="Architecture",
                                        info="cnn: the accurate default; mlp: the tutorial's 13,002-parameter net")
                    with gr.Column():
                        with gr.Row():
                            epochs = gr.Number(TrainSettings.epochs, label="Epochs", precision=0, minimum=1)
                            batch = gr.Number(TrainSettings.batch_size, label="Batch size", precision=0, minimum=1)
                            lr = gr.Number(TrainSettings.lr, label="Learning rate", minimum=0)
                        with gr.Row():
                            augment = gr.Checkbox(TrainSettings.augment, label="Augment (rotate, shift, zoom, stroke)")
                            limit = gr.Number(0, label="Use only the first N training digits (0 = all)", precision=0,
                                              minimum=0, elem_id="train-limit")
                        auto = gr.Checkbox(False, label="Activate automatically if it beats the active model")
                with gr.Row():
                    start = gr.Button("Start training", variant="primary", interactive=admin_ok, elem_id="train-start")
                    cancel = gr.Button("Cancel", variant="stop", interactive=admin_ok, elem_id="train-cancel")
                train_summary = gr.Textbox(label="Status", interactive=False, elem_id="train-summary")
                progress = gr.HTML(elem_id="train-progress-box")
                with gr.Row():
                    loss_plot = gr.LinePlot(x="epoch", y="value", color="split", title="Loss", elem_id="loss-plot",
                                            x_title="epoch", y_title="loss", height=260)
                    acc_plot = gr.LinePlot(x="epoch", y="value", color="split", title="Accuracy", elem_id="acc-plot",
                                           x_title="epoch", y_title="accuracy", height=260)
                result_md = gr.Markdown(elem_id="train-result")
                with gr.Row():
                    confusion_img = gr.Image(label="Confusion matrix", interactive=False)
                    mistakes_img = gr.Image(label="Worst mistakes", interactive=False)
                with gr.Row():
                    new_version = gr.Textbox(label="New version", interactive=False)
                    activate_new = gr.Button("Activate", interactive=False, elem_id="train-activate")
                activate_msg = gr.Markdown()
                timer = gr.Timer(1.0, active=False)

            # ---------------------------------------------------------------- 4. Models
            with gr.Tab("Models", id="models") as models_tab:
                models_msg = gr.Markdown()
                models_table = gr.Dataframe(headers=MODEL_COLUMNS, interactive=False, elem_id="models-table")
                with gr.Row():
                    model_pick = gr.Dropdown(label="Version", choices=[], elem_id="model-pick")
                    activate_btn = gr.Button("Activate / roll back", interactive=admin_ok)
                    delete_btn = gr.Button("Delete", variant="stop", interactive=admin_ok)
                    download_btn = gr.DownloadButton("Download .keras", interactive=False)
                model_card = gr.Markdown()
                with gr.Row():
                    model_curves = gr.Image(label="Training curves", interactive=False)
                    model_confusion = gr.Image(label="Confusion matrix", interactive=False)

            # ---------------------------------------------------------------- 5. My samples
            with gr.Tab("My samples", id="samples") as samples_tab:
                samples_summary = gr.Markdown()
                with gr.Row():
                    samples_filter = gr.Dropdown([ALL] + digit_choices, value=ALL, label="Show")
                gallery = gr.Gallery(label="Saved samples", columns=10, height=420, allow_preview=False,
                                     fit_columns=False, object_fit="contain", format="png", interactive=False,
                                     buttons=[], elem_id="samples-gallery")
                with gr.Row():
                    sample_id = gr.Number(label="Sample id (click one above)", precision=0)
                    sample_label = gr.Radio(digit_choices, label="New label")
                    relabel_btn = gr.Button("Relabel", interactive=admin_ok)
                    delete_sample_btn = gr.Button("Delete", variant="stop", interactive=admin_ok)
                samples_msg = gr.Markdown()

        # -------------------------------------------------------------------- wiring
        s.canvas_blobs = sketch.blob_storage
        fast = dict(preprocess=False, concurrency_limit=None, show_progress="hidden")
        draw_out = [draw_label, draw_number, draw_digits]
        sketch.change(predict_drawing, sketch, draw_out, api_name="predict_drawing", trigger_mode="always_last", **fast)
        noop.click(noop_drawing, sketch, draw_out, api_name="noop_drawing", **fast)
        draw_save.click(save_drawing_sample, [sketch, draw_which, draw_fix], draw_saved, api_name="save_sample",
                        preprocess=False)
        clear.click(clear_drawing, None, [sketch, *draw_out, draw_saved], api_name="clear_drawing", queue=False).then(
            None, js=SELECT_BRUSH)
        demo.load(None, js=SELECT_BRUSH)
        draw_tab.select(None, js=SELECT_BRUSH, api_name=False)

        photo_out = [photo_label, photo_number, photo_boxed, photo_digits]
        heavy = dict(preprocess=False, concurrency_limit=2, concurrency_id="photo")
        # input: an upload, a webcam shot, a paste, or the photo removed.
        photo.input(predict_photo, photo, photo_out, api_name="predict_photo", **heavy)
        read_btn.click(predict_photo, photo, photo_out, api_name=False, **heavy)
        read_number_btn.click(read_number, photo, photo_number, api_name="read_number", **heavy)
        photo_save.click(save_photo_sample, [photo, photo_which, photo_fix], photo_saved, api_name="save_photo_sample", **heavy)

        status_out = [train_summary, progress, loss_plot, acc_plot, result_md, confusion_img, mistakes_img,
                      new_version, activate_new, timer]
        # Admin and id-taking events validate raw values themselves (preprocess off): a bad value through
        # the API then gets our message, not Gradio's generic one.
        raw = dict(preprocess=False)
        start.click(train, [data, weight, arch, epochs, batch, lr, augment, limit, auto, password, pen_data], status_out,
                    api_name="train", concurrency_limit=1, **raw)
        cancel.click(cancel_training, password, train_summary, api_name="cancel_training", **raw)
        timer.tick(training_status, None, status_out, api_name="training_status", show_progress="hidden")
        models_out = [models_msg, models_table, model_pick]
        activate_new.click(activate_model, [new_version, password], models_out, api_name=False, **raw).success(
            lambda v: f"`{v}` is now the active model.", new_version, activate_msg, api_name=False)
        demo.load(training_status, None, status_out, api_name=False)

        models_tab.select(list_models, None, models_out, api_name="list_models")
        model_pick.change(show_model, model_pick, [model_card, model_curves, model_confusion, download_btn],
                          api_name="show_model", **raw)
        models_table.select(pick_model_row, None, model_pick, api_name=False)
        activate_btn.click(activate_model, [model_pick, password], models_out, api_name="activate_model", **raw)
        delete_btn.click(delete_model, [model_pick, password], models_out, api_name="delete_model", **raw)

        samples_out = [gallery, samples_summary]
        samples_tab.select(list_samples, samples_filter, samples_out, api_name="list_samples", **raw)
        samples_filter.change(list_samples, samples_filter, samples_out, api_name=False, **raw)
        gallery.select(pick_sample, None, sample_id, api_name=False)
        relabel_btn.click(relabel_sample, [sample_id, sample_label, password], samples_msg,
                          api_name="relabel_sample", **raw).success(list_samples, samples_filter, samples_out,
                                                                    api_name=False, **raw)
        delete_sample_btn.click(delete_sample, [sample_id, password], samples_msg,
                                api_name="delete_sample", **raw).success(list_samples, samples_filter, samples_out,
                                                                         api_name=False, **raw)

    # Events without their own limit run up to 4 at a time (Gradio's default is 1: one by one).
    demo.queue(default_concurrency_limit=4)
    queue = getattr(demo, "_queue", None)
    if isinstance(getattr(queue, "pending_event_ids_session", None), dict):
        queue.pending_event_ids_session = _PendingEventIds(queue.pending_messages_per_session,
                                                           queue.pending_event_ids_session)
    return demo


class _PendingEventIds(dict):
    """Gradio's Queue.pending_event_ids_session (session -> ids of its events not yet delivered), kept bounded.

    Gradio never removes a session's entry after a /gradio_api/call/ stream has delivered its last event, and
    every call without a session_hash (curl, scripts) is a new session: one empty set per call, forever. Entries
    are only added on the event loop (Queue.push), so pruning here races with nothing. Only empty sets of sessions
    whose message queue Gradio has already dropped (its LRU keeps 2,000) go, every 256 new sessions.
    """

    def __init__(self, messages, items=()):
        super().__init__(items)
        self._messages = messages
        self._prune_at = len(self) + 256

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if len(self) >= self._prune_at:
            for k in [k for k, ids in self.items() if not ids and k != key and k not in self._messages]:
                del self[k]
            self._prune_at = len(self) + 256


def sweep_uploads(root: str | Path | None = None, older_than_s: float = UPLOADS_KEPT_S) -> int:
    """Delete cached uploads older than ``older_than_s`` left by a server that was killed; returns how many."""
    root = Path(root or os.environ["GRADIO_TEMP_DIR"])
    now, removed = time.time(), 0
    for path in sorted(root.rglob("*"), reverse=True) if root.is_dir() else []:  # files before their folders
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            continue  # in use by another studio process, or already gone
    return removed


def launch_options(config: StudioConfig | None = None) -> dict:
    """demo.launch() keywords every launch uses: the upload cap, bounded session state, no share link, no SSR."""
    limits = (config or studio().config).limits
    return dict(max_file_size=limits.max_upload_bytes, share=False, ssr_mode=False, show_error=False,
                state_session_capacity=STATE_SESSIONS_KEPT)


def main(argv: list[str] | None = None) -> None:
    """Parse flags, build the app, warm the model in the background, serve."""
    parser = argparse.ArgumentParser(description="MNIST studio: draw, photograph, retrain, manage models.")
    parser.add_argument("--host", default=os.environ.get("MNIST_STUDIO_HOST", "127.0.0.1"),
                        help="address to bind (env MNIST_STUDIO_HOST; default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MNIST_STUDIO_PORT", "7860")),
                        help="port (env MNIST_STUDIO_PORT; default 7860)")
    parser.add_argument("--data", default=None, help="MNIST .npz file for retraining (default: the core's choice)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (needs internet)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = StudioConfig(host=args.host, data=args.data)
    sweep_uploads()  # what a killed server left behind
    demo = build_app(config)
    if studio().admin_mode == "disabled":
        log.warning("admin actions are disabled: set MNIST_STUDIO_ADMIN_PASSWORD to allow them on %s", args.host)
    options = launch_options(config)
    options["share"] = args.share
    demo.launch(server_name=args.host, server_port=args.port, prevent_thread_lock=True, **options)
    # Only now: importing TensorFlow holds the GIL for seconds, and launch() gives up on a server
    # that does not answer its own health check within 3 s.
    studio().warm()
    demo.block_thread()


if __name__ == "__main__":
    main()
