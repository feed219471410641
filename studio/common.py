"""What every tab shares: settings, the services behind the handlers, and helpers for payloads in, HTML and
images out. Nothing slow happens at import: the model is loaded on first use (or by Studio.warm)."""

from __future__ import annotations

import base64
import hmac
import io
import ipaddress
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from mnist_core.config import Limits, Paths
from mnist_core.digits.explain import heat_image, occlusion_maps
from mnist_core.ops.jobs import JobManager, JobOptions
from mnist_core.store.profiles import DEFAULT_PROFILE, validate_profile
from mnist_core.digits.preprocess import Digit, ImageError, load_image, most_prominent
from mnist_core.store.registry import Registry, RegistryError
from mnist_core.store.samples import open_store, validate_label
from studio.i18n import say

log = logging.getLogger("mnist_studio")


def fail(key: str, title: str = "title_error", **values) -> gr.Error:
    """A message for the person (bad input, refused action) in their language: shown in the page, no traceback."""
    return gr.Error(say(key, **values), title=say(title), print_exception=False)


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
    # Keep a trainer waiting with TensorFlow imported (jobs.JobOptions.spare): a training or fine-tune starts 4-5 s
    # sooner, for ~0.7 GB of memory held while idle. `python app.py` turns it on; a Studio made in code leaves it off.
    spare_trainer: bool = False


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
    # Seconds between two looks at it from the background watcher (Studio.watch): another replica's Activate is
    # served here within this plus the new version's load (~0.1 s for its TF Lite copy).
    watch_every_s: float = 0.5
    # Canvas uploads kept for events still to consume them; older ones are dropped (Gradio never frees them).
    canvas_blobs: int = 64
    # Pages whose last digits are kept for the "Why?" view (a few KiB each); the oldest are forgotten.
    recent_pages: int = 64
    # Probability bars: height of the tallest, width of each (CSS pixels).
    bar_px: int = 36
    bar_width_px: int = 8
    # The heat map's enlargement (28 -> 112 px), drawn with crisp pixels.
    heat_scale: int = 4
    # Personal models kept loaded for the profiles that use them (a TF Lite copy is ~0.3 MB); the oldest go first.
    personal_models: int = 8


UI = UiLimits()


class Studio:
    """The services behind the handlers: model, registry, samples, training jobs, admin policy."""

    def __init__(self, config: StudioConfig | None = None):
        self.config = config or StudioConfig()
        self.registry = Registry(self.config.paths)
        self.samples = open_store(self.config.paths.samples_location)  # SQLite, or PostgreSQL (MNIST_STUDIO_DB)
        self.jobs = JobManager(self.config.paths, options=JobOptions(spare=self.config.spare_trainer))
        self.started = time.monotonic()
        self._cards: dict[str, dict] = {}  # version id -> its card, for /healthz
        self.canvas_blobs: dict = {}  # the Sketchpad's blob store, set by the Draw tab
        # (tab, page session) -> the digits and probabilities it was last shown, for the "Why?" view.
        self.recent: dict[tuple[str, str], tuple[list[Digit], np.ndarray]] = {}
        self._recognizer = None
        self._number_reader = None  # loaded on first use; False once known to be missing
        self._load_lock = threading.Lock()
        self._checked = 0.0
        self._refreshing = threading.Lock()
        self._personal: dict = {}  # version id -> Recognizer, for profiles served a personal model
        self._personal_lock = threading.Lock()

    # --- the model ---

    def recognizer(self):
        """The Recognizer serving the active version (TensorFlow is imported on first use)."""
        if self._recognizer is None:
            with self._load_lock:
                if self._recognizer is None:
                    # Serves the version's stored TF Lite copy through LiteRT (~0.3 s, no TensorFlow); a version
                    # without one is loaded through Keras (imports TensorFlow: ~6 s).
                    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

                    try:
                        self._recognizer = Recognizer.from_registry(self.registry)
                    except RegistryError as e:  # say why, instead of an error without a message
                        raise fail("err_no_model", title="title_no_model", error=e) from None
        return self._recognizer

    def warm(self) -> threading.Thread:
        """Load the model in the background, so the first request finds it ready; then start the spare trainer
        (when configured), so that its TensorFlow import does not compete with the model's loading."""
        thread = threading.Thread(target=self._warm, name="warm-model", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self.recognizer().predict(np.zeros((1, 28, 28), np.float32))
        except Exception:  # the first request will report it
            log.exception("could not load the model")
        self.jobs.keep_spare()

    def predict(self, digits: list[Digit], profile: str | None = None) -> np.ndarray:
        """(N, 10) probabilities for the digits, on ``profile``'s active version (its own, else the global one,
        checked about once a second)."""
        rec = self.recognizer()
        now = time.monotonic()
        if now - self._checked > UI.refresh_every_s:
            self._checked = now
            if self.registry.active() != rec.version and self._refreshing.acquire(blocking=False):
                # Load the newly active model off the request path; requests keep the old one meanwhile.
                threading.Thread(target=self._refresh, daemon=True).start()
        return self.recognizer_for(profile).predict(np.stack([d.image for d in digits]))

    def recognizer_for(self, profile: str | None):
        """The Recognizer serving ``profile``: its personal version when it has one, else the shared one."""
        shared = self.recognizer()
        vid = self.registry.personal(profile) if profile is not None else None  # one small file read
        if vid is None or vid == shared.version:
            return shared
        rec = self._personal.get(vid)
        if rec is None:
            with self._personal_lock:  # one load per version, even when its owner's requests come in together
                rec = self._personal.get(vid)
                if rec is None:
                    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

                    try:  # its TF Lite copy through LiteRT: ~0.1 s, no TensorFlow
                        rec = Recognizer.from_registry(self.registry, vid)
                    except RegistryError:  # a broken personal version: its owner gets the shared one
                        log.exception("could not load %s's model %s", profile, vid)
                        return shared
                    self._personal[vid] = rec
                    for old in list(self._personal)[: max(0, len(self._personal) - UI.personal_models)]:
                        self._personal.pop(old, None)
        return rec

    def explain(self, digits: list[Digit], probs: np.ndarray, profile: str | None = None) -> np.ndarray:
        """(N, 28, 28) occlusion maps in [-1, 1] of what pushed each digit to its answer in ``probs``."""
        # One batch of at most 170 copies a digit through the serving model (a few ms a digit on LiteRT).
        images = np.stack([d.image for d in digits])
        return occlusion_maps(images, self.recognizer_for(profile).predict, targets=np.argmax(probs, axis=1))

    def number_reader(self):
        """The number reader (TF Lite through LiteRT, ~0.1 s to load): one trained here, else the shipped one;
        None when neither is there (numbers are then read digit by digit)."""
        if self._number_reader is None:
            with self._load_lock:
                if self._number_reader is None:
                    from mnist_core.numbers import reader as nr  # noqa: PLC0415

                    try:
                        self._number_reader = nr.NumberReader.load(nr.served_path(self.config.paths.home)) or False
                    except Exception:  # a broken file: the segmenter reads numbers as before
                        log.exception("could not load the number reader")
                        self._number_reader = False
        return self._number_reader or None

    def read_number(self, digits: list[Digit], probs: np.ndarray, ink) -> dict:
        """{"number", "digits": [{"digit", "confidence", "box"}]}, rows joined top to bottom: the reader's reading
        of each row, combined with the digit model's ``probs`` of the segmenter's ``digits`` (mnist_core.numbers.reader)."""
        from mnist_core.numbers import reader as nr  # noqa: PLC0415

        return nr.as_json(nr.read_numbers(digits, probs, ink, self.number_reader()))

    def remember(self, tab: str, request, digits: list[Digit], probs: np.ndarray) -> None:
        """Keep what a page was last shown on ``tab``, so its "Why?" view needs no second upload."""
        session = getattr(request, "session_hash", None)
        if not session:  # a direct call: nobody can ask for its "Why?" later
            return
        key = (tab, session)
        self.recent.pop(key, None)  # re-inserted last: the oldest pages are the first forgotten
        self.recent[key] = (digits, probs)
        for old in list(self.recent)[: max(0, len(self.recent) - UI.recent_pages)]:
            self.recent.pop(old, None)

    def recalled(self, tab: str, request) -> tuple[list[Digit], np.ndarray]:
        """What the page of ``request`` was last shown on ``tab`` (no digits when nothing is known)."""
        session = getattr(request, "session_hash", None)
        return self.recent.get((tab, session), ([], np.zeros((0, 10), np.float32)))

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

    def watch(self) -> threading.Thread:
        """Follow the registry's active pointer in the background, so an Activate or a roll-back made by another
        replica over the same data directory is served here within about UI.watch_every_s, requests or not."""
        thread = threading.Thread(target=self._watch, name="watch-active", daemon=True)
        thread.start()
        return thread

    def _watch(self) -> None:
        while True:
            time.sleep(UI.watch_every_s)
            rec = self._recognizer  # not loaded yet: it will load the active version itself
            try:
                if rec is not None and self.registry.active() != rec.version and self._refreshing.acquire(blocking=False):
                    self._refresh()  # releases _refreshing
            except Exception:  # a pointer being replaced, a disk hiccup: look again next time
                log.exception("could not look at the active version")

    def health(self) -> tuple[dict, bool]:
        """What /healthz answers, and whether this replica is ready to serve (the model loaded). Reads two small
        files at most; never the queue, the samples or the model."""
        rec = self._recognizer
        vid = rec.version if rec is not None else self.registry.active()
        card = self._cards.get(vid)
        if card is None:
            try:
                card = self.registry.card(vid)
            except RegistryError:
                card = {}
            self._cards[vid] = card
        accuracy = (card.get("metrics") or {}).get("accuracy")
        try:
            training = self.jobs.status().running
        except Exception:  # the database of the training lock is away: say so without failing the check
            training = None
        body = {
            "status": "ok" if rec is not None else "starting",
            "active_version": vid,
            "test_accuracy": accuracy if isinstance(accuracy, (int, float)) else None,
            "uptime_s": round(time.monotonic() - self.started, 1),
            "training": training,
            "samples": self.samples.kind,
            "pid": os.getpid(),
        }
        return body, rec is not None

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
            raise fail("admin_disabled", title="title_admin_disabled")
        given = (password or "").encode()
        if not hmac.compare_digest(given, self.config.admin_password.encode()):
            raise fail("err_password", title="title_not_allowed")


_studio: Studio | None = None


def studio() -> Studio:
    """The services of the app built last (a default one when none was built)."""
    global _studio
    if _studio is None:
        _studio = Studio()
    return _studio


def new_studio(config: StudioConfig | None = None) -> Studio:
    """Fresh services for ``config``, from now on the ones every handler uses."""
    global _studio
    _studio = Studio(config)
    return _studio


# The page's profile choice travels as this cookie (set by the header's profile box, like the language's); API
# clients send the header instead. Neither: "me", the profile of every sample saved before profiles existed.
PROFILE_COOKIE = "studio-profile"
PROFILE_HEADER = "x-studio-profile"


def profile_of(request) -> str:
    """The profile a request speaks for: the page's cookie, else the X-Studio-Profile header, else "me"."""
    if request is None:
        return DEFAULT_PROFILE
    from urllib.parse import unquote  # noqa: PLC0415

    chosen = (getattr(request, "cookies", None) or {}).get(PROFILE_COOKIE)
    if not chosen:
        headers = getattr(request, "headers", None) or {}
        chosen = headers.get(PROFILE_HEADER)
    if not chosen:
        return DEFAULT_PROFILE
    try:
        return validate_profile(unquote(chosen))
    except ValueError:
        raise fail("err_profile") from None


def chosen_profile(value, request) -> str:
    """A profile given explicitly (the new endpoints' first input), else the request's (see profile_of)."""
    if value in (None, ""):
        return profile_of(request)
    try:
        return validate_profile(value)
    except ValueError:
        raise fail("err_profile") from None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Page:
    """What a tab needs from the page around it: the Blocks, the services and the shared admin password box."""

    demo: gr.Blocks
    studio: Studio
    password: gr.Textbox
    # The profile box (whose handwriting): the Draw tab's fine-tune panel reads it.
    profile: gr.Dropdown | None = None

    @property
    def admin_ok(self) -> bool:
        """Whether admin buttons can be used at all on this address."""
        return self.studio.admin_mode != "disabled"


DIGIT_CHOICES = [str(d) for d in range(10)]


# ----------------------------------------------------------------------------------------------------------
# Helpers: payloads in, HTML and images out
# ----------------------------------------------------------------------------------------------------------


def source(value):
    """A file path or bytes from what Gradio passes (FileData dict, path, canvas blob); None if empty."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("path")
    return value


def read_image(value, limits: Limits, exif: bool = True) -> np.ndarray:
    """Decode one image (an uploaded file or bytes) safely; ImageError with a message for people."""
    src = source(value)
    if isinstance(src, str) and not os.path.exists(src):  # Gradio's cache forgets uploads after 15 minutes
        raise ImageError(say("err_expired"))
    return load_image(src, max_pixels=limits.max_pixels, exif=exif)


def refused(e: Exception, title: str = "title_error") -> gr.Error:
    """The gr.Error for a refusal worded by the core (a bad label, id, version or setting; in English)."""
    return gr.Error(str(e), title=say(title), print_exception=False)


def image_error(e: Exception) -> gr.Error:
    """The gr.Error for an image that cannot be read (the core's reason is in English)."""
    return fail("err_image", title="title_bad_image", error=e)


def png(array: np.ndarray) -> bytes:
    """An image array as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def png_file(path: Path):
    """An RGB array of the PNG at ``path``, or None when it is missing or unreadable."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def top3(probs: np.ndarray) -> dict[str, float]:
    """The three likeliest digits and their probabilities, for a gr.Label."""
    order = np.argsort(probs)[::-1][:3]
    return {str(int(d)): float(probs[d]) for d in order}


def _data_uri(pixels: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(pixels)).decode()


def prob_bars(p: np.ndarray) -> str:
    """All ten probabilities of one digit as a small HTML bar chart (the answer's bar in the accent colour)."""
    guess = int(np.argmax(p))
    total = float(np.sum(p)) or 1.0
    cols = []
    for d in range(10):
        share = float(p[d]) / total  # the bars of one digit sum to 1 even after float32 rounding
        colour = "var(--color-accent, #f97316)" if d == guess else "#9ca3af"
        cols.append(
            f'<span title="{d}: {share:.1%}" style="display:inline-flex;flex-direction:column;align-items:center;'
            f'width:{UI.bar_width_px + 2}px">'
            f'<span style="display:flex;align-items:flex-end;height:{UI.bar_px}px;width:{UI.bar_width_px}px;'
            f'border-bottom:1px solid #888">'
            f'<span class="studio-bar" data-digit="{d}" data-p="{share:.6f}" '
            f'style="display:block;width:100%;height:{share * 100:.1f}%;background:{colour}"></span></span>'
            f'<span style="font-size:9px;line-height:1.2">{d}</span></span>'
        )
    label = say("bars_alt", guess=guess)
    return (f'<div class="studio-probs" role="img" aria-label="{label}" '
            f'style="display:flex;justify-content:center;margin-top:4px">' + "".join(cols) + "</div>")


def digits_html(digits: list[Digit], probs: np.ndarray, empty: str) -> str:
    """Each digit's 28x28 input, enlarged with crisp pixels, with its guess, confidence and all ten bars."""
    if not digits:
        return f'<p class="studio-empty">{empty}</p>'
    cells = []
    for i, (digit, p) in enumerate(zip(digits, probs), start=1):
        guess = int(np.argmax(p))
        uri = _data_uri(np.clip(digit.image * 255.0 + 0.5, 0, 255).astype(np.uint8))  # white ink on black, as seen
        cells.append(
            f'<figure class="studio-digit" data-guess="{guess}" style="margin:0;text-align:center">'
            f'<img src="{uri}" alt="{say("alt_digit", i=i)}" width="{UI.preview_px}" height="{UI.preview_px}" '
            f'style="image-rendering:pixelated;border:1px solid #888;background:#000">'
            f"<figcaption>#{i}: <b>{guess}</b> ({float(p[guess]):.0%})</figcaption>{prob_bars(p)}</figure>"
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:12px">' + "".join(cells) + "</div>"


def explained(digits: list[Digit], probs: np.ndarray, empty_key: str, profile: str | None = None) -> str:
    """The "Why?" view of digits read as ``probs``: their heat maps (why_html), or the ``empty_key`` message."""
    maps = studio().explain(digits, probs, profile) if digits else np.zeros((0, 28, 28), np.float32)
    return why_html(digits, probs, maps, say(empty_key))


def why_html(digits: list[Digit], probs: np.ndarray, maps: np.ndarray, empty: str) -> str:
    """Each digit's heat map over its 28x28 input: red where the ink argued for the answer, blue against."""
    if not digits:
        return f'<p class="studio-empty">{empty}</p>'
    side = 28 * UI.heat_scale
    cells = []
    for i, (digit, p, heat) in enumerate(zip(digits, probs, maps), start=1):
        guess = int(np.argmax(p))
        uri = _data_uri(heat_image(digit.image, heat, UI.heat_scale))
        cells.append(
            f'<figure class="studio-why" data-guess="{guess}" style="margin:0;text-align:center">'
            f'<img src="{uri}" alt="{say("alt_why", i=i, guess=guess)}" width="{side}" height="{side}" '
            f'style="image-rendering:pixelated;border:1px solid #888">'
            f"<figcaption>#{i}: <b>{guess}</b></figcaption></figure>"
        )
    legend = f'<p style="margin:6px 0 0;font-size:0.9em">{say("why_legend")}</p>'
    return '<div style="display:flex;flex-wrap:wrap;gap:12px">' + "".join(cells) + "</div>" + legend


def empty_digits(message_key: str) -> str:
    """The digits' strip when there are none: a message saying why."""
    return digits_html([], np.zeros((0, 10)), say(message_key))


def pick(digits: list[Digit], index) -> int:
    """0-based position of the digit a person means by ``index`` (1-based; the most prominent when empty)."""
    if not digits:
        raise fail("err_nothing_found")
    if index in (None, "", 0):
        return most_prominent(digits) or 0
    try:
        i = int(index)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise fail("err_which", n=len(digits)) from None
    if not 1 <= i <= len(digits):
        raise fail("err_pick_one" if len(digits) == 1 else "err_pick", n=len(digits))
    return i - 1


def save_sample(digit: Digit, label, original: bytes | None, origin: str, profile: str = DEFAULT_PROFILE) -> str:
    """Store a corrected digit as one of ``profile``'s samples; the message that says so."""
    try:
        label = validate_label(label)
        sid = studio().samples.add(label, digit.image, original_png=original, source=origin, profile=profile)
    except ValueError as e:
        raise refused(e) from None
    total = studio().samples.count(profile)
    return say("msg_saved_one" if total == 1 else "msg_saved", label=label, sid=sid, total=total)
