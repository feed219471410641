"""Serving the digit models: the registry's active version for everyone, a profile's personal version for its owner,
hot swap when the active pointer moves, the ink model beside them for drawings that come with their strokes (the
two answers fused), the number reader and the "Why?" maps. No Gradio; TensorFlow and LiteRT are imported on first
load only (a version with a TF Lite copy never needs TensorFlow)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.digits.explain import occlusion_maps
from mnist_core.digits.results import Digit
from mnist_core.store.registry import Registry, RegistryError

log = logging.getLogger("mnist_studio")


@dataclass(frozen=True)
class ServingSettings:
    """How often the server looks for a newly active version, and how much it keeps in memory."""

    # Seconds between two looks at the registry's active pointer (one small file read): another replica's Activate,
    # or a trainer's --activate, is served here within this plus the new version's load (~0.1 s for its TF Lite copy).
    watch_every_s: float = 0.5
    # Personal models kept loaded for the profiles that use them (a TF Lite copy is ~0.3 MB); the oldest go first.
    personal_models: int = 8
    # Pages whose last digits are kept for the "Why?" view (a few KiB each); the oldest are forgotten.
    recent_pages: int = 64
    # Pages whose hand is kept (ink.hand.PageHand: their 7s crossed or not, a few hundred bytes each).
    hand_pages: int = 1024


@dataclass(frozen=True)
class Reading:
    """What the models said of a drawing's digits: the answer shown, and each model's own."""

    probs: np.ndarray  # (N, 10) the answer: fused where a digit has strokes, else the image model's
    image: np.ndarray  # (N, 10) the image model's
    ink: np.ndarray | None = None  # (N, 10) the ink model's, a NaN row for a digit no stroke went with; None: no ink
    by_hand: np.ndarray | None = None  # (N,) bool: digits whose answer the page's hand changed (ink.hand); None: none
    hand: str | None = None  # what that hand is (`Hand.describe`), where it changed an answer


class ModelUnavailable(RegistryError):
    """The active version cannot be loaded (missing or damaged files); ``reason`` says why, in English."""

    def __init__(self, reason: Exception):
        super().__init__(str(reason))
        self.reason = reason


class ModelServer:
    """The models behind every prediction: loaded on first use, swapped live when the active version changes."""

    def __init__(self, registry: Registry, home: Path, settings: ServingSettings | None = None):
        self.registry = registry
        self.home = Path(home)  # where a number reader trained here is found
        self.settings = settings or ServingSettings()
        # (tab, page session) -> the digits and probabilities it was last shown, for the "Why?" view.
        self.recent: dict[tuple[str, str], tuple[list[Digit], np.ndarray]] = {}
        self.hands: dict = {}  # page session -> ink.hand.PageHand: a writer who crosses their 7s, read as such
        self._hands_lock = threading.Lock()
        self._recognizer = None
        self._number_reader = None  # loaded on first use; False once known to be missing
        self._ink_reader = None  # the ink model, loaded on the first drawing with strokes; False once it failed
        self._ink_checked = 0.0  # time.monotonic() of the last look at the active ink version
        self._load_lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # one swap at a time: the watcher's or an Activate's here
        self._personal: dict = {}  # version id -> Recognizer, for profiles served a personal model
        self._personal_lock = threading.Lock()
        self._watcher: threading.Thread | None = None  # follows the active pointer once the model is loaded

    # --- the shared model ---

    def recognizer(self):
        """The Recognizer serving the active version; ModelUnavailable when it cannot be loaded."""
        if self._recognizer is None:
            with self._load_lock:
                if self._recognizer is None:
                    # Its stored TF Lite copy through LiteRT (~0.3 s, no TensorFlow); a version without one is
                    # loaded through Keras (imports TensorFlow: ~6 s).
                    from mnist_core.digits.recognize import Recognizer  # noqa: PLC0415

                    try:
                        self._recognizer = Recognizer.from_registry(self.registry)
                    except RegistryError as e:
                        raise ModelUnavailable(e) from None
                    self._watcher = _start_watching(self)
        return self._recognizer

    @property
    def loaded_version(self) -> str | None:
        """The version served now, or None before the model is loaded (nothing is loaded by asking)."""
        rec = self._recognizer
        return rec.version if rec is not None else None

    def warm(self) -> None:
        """Load the model and run one prediction, so the first request finds it ready; a failure is logged (the
        first request reports it)."""
        try:
            self.recognizer().predict(np.zeros((1, 28, 28), np.float32))
        except Exception:
            log.exception("could not load the model")

    def refresh_now(self) -> None:
        """Switch to the registry's active version now (after an Activate here), waiting for a swap under way."""
        if self._recognizer is not None:
            with self._refresh_lock:
                self._recognizer.refresh(self.registry)

    def _follow(self) -> None:
        """One look at the active pointer (the watcher's): swap when it moved, unless a swap is under way."""
        rec = self._recognizer
        if rec is None or self.registry.active() == rec.version or not self._refresh_lock.acquire(blocking=False):
            return
        try:
            rec.refresh(self.registry)
        except Exception:  # a broken version must not stop serving the one that works
            log.exception("could not switch to the active version")
        finally:
            self._refresh_lock.release()

    # --- each profile's model ---

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
                    _keep_newest(self._personal, self.settings.personal_models)
        return rec

    def predict(self, digits: list[Digit], profile: str | None = None) -> np.ndarray:
        """(N, 10) probabilities for the digits, on ``profile``'s model (its own, else the shared one)."""
        return self.recognizer_for(profile).predict(np.stack([d.image for d in digits]))

    # --- the ink model ---

    def ink_reader(self):
        """The InkReader for drawings with strokes (the active ink version, else the shipped one; LiteRT, ~0.1 s to
        load); None when none can be loaded (drawings are then read by the image model alone)."""
        now = time.monotonic()
        if self._ink_reader is None or now - self._ink_checked >= self.settings.watch_every_s:
            with self._load_lock:
                # One small file read at most every watch_every_s: a newly active ink version (an Activate here,
                # on another replica or by `train-ink --activate`) is served from the next drawing on.
                current = getattr(self._ink_reader, "version", None)
                if self._ink_reader is None or (current is not None and _active_ink(self.registry) != current):
                    self._ink_reader = load_ink_reader(self.registry) or False
                self._ink_checked = now
        return self._ink_reader or None

    def read(self, digits: list[Digit], ink=None, profile: str | None = None, session: str | None = None) -> Reading:
        """Read ``digits`` on ``profile``'s image model and, when the drawing's strokes come with them (``ink``, an
        ink.format.Ink in the same pixels as the digits' boxes), on the ink model too, the two fused; from a page
        (``session``), the fused answers are then read with that page's hand (`with_hand`)."""
        image = self.predict(digits, profile)
        reader = self.ink_reader() if ink is not None and digits else None
        if reader is None:
            return Reading(image, image)
        from mnist_core.ink.fuse import read_digits  # noqa: PLC0415

        fused, p_ink = read_digits(digits, ink, image, reader)
        return self.with_hand(Reading(fused, image, p_ink), digits, ink, session)

    def with_hand(self, reading: Reading, digits: list[Digit], ink, session: str | None) -> Reading:
        """The reading as the page's writer means it (ink.hand.PageHand): once their finished drawings show that they
        cross their 7s, an uncrossed 7-shape is less likely a 7. A direct call (no session) is read alone."""
        if not session:
            return reading
        from mnist_core.ink.hand import PageHand, bars_in_boxes  # noqa: PLC0415

        bars = bars_in_boxes(ink, [d.box for d in digits])
        with self._hands_lock:
            page = self.hands.pop(session, None) or PageHand()
            self.hands[session] = page  # re-inserted last: the oldest pages are the first forgotten
            _keep_newest(self.hands, self.settings.hand_pages)
            probs, hand = page.read(ink.strokes, reading.probs, reading.ink, bars)
        changed = probs.argmax(axis=1) != reading.probs.argmax(axis=1)
        if not changed.any():
            return reading
        return Reading(probs.astype(reading.probs.dtype), reading.image, reading.ink, changed, hand.describe())

    # --- numbers and the "Why?" view ---

    def number_reader(self):
        """The number reader (TF Lite through LiteRT, ~0.1 s to load): one trained here, else the shipped one;
        None when neither is there (numbers are then read digit by digit)."""
        if self._number_reader is None:
            with self._load_lock:
                if self._number_reader is None:
                    from mnist_core.numbers import reader as nr  # noqa: PLC0415

                    try:
                        self._number_reader = nr.NumberReader.load(nr.served_path(self.home)) or False
                    except Exception:  # a broken file: the segmenter reads numbers as before
                        log.exception("could not load the number reader")
                        self._number_reader = False
        return self._number_reader or None

    def _with_ink(self, strokes):
        """`read_numbers`' ``with_ink`` for a drawing's strokes (an ink.format.Ink); None without strokes or model."""
        reader = self.ink_reader() if strokes is not None else None
        if reader is None:
            return None
        from mnist_core.ink.fuse import ink_for_reader  # noqa: PLC0415

        return ink_for_reader(strokes, reader)

    def read_number(self, digits: list[Digit], probs: np.ndarray, ink, strokes=None) -> dict:
        """{"number", "digits": [{"digit", "confidence", "box"}]}, rows joined top to bottom: the reader's reading
        of each row, combined with the digit model's ``probs`` of the segmenter's ``digits``; with the drawing's
        ``strokes``, the reader's own digits are fused with the ink model's reading of them too."""
        from mnist_core.numbers import reader as nr  # noqa: PLC0415

        return nr.as_json(nr.read_numbers(digits, probs, ink, self.number_reader(), self._with_ink(strokes)))

    def number_tiles(self, digits: list[Digit], probs: np.ndarray, ink, strokes=None) -> list:
        """One ``numbers.tiles.Tile`` per digit of the number read (as ``read_number`` reads it), rows joined; the
        segmenter's digits when the reader found none, so that a drawing always shows what was read."""
        from mnist_core.numbers import reader as nr, tiles as nt  # noqa: PLC0415

        number = nr.read_numbers(digits, probs, ink, self.number_reader(), self._with_ink(strokes))
        return nt.tiles_of(number, digits, ink) or nt.segment_tiles(digits, probs)

    def explain(self, digits: list[Digit], probs: np.ndarray, profile: str | None = None) -> np.ndarray:
        """(N, 28, 28) occlusion maps in [-1, 1] of what pushed each digit to its answer in ``probs``."""
        # One batch of at most 170 copies a digit through the serving model (a few ms a digit on LiteRT).
        images = np.stack([d.image for d in digits])
        return occlusion_maps(images, self.recognizer_for(profile).predict, targets=np.argmax(probs, axis=1))

    def remember(self, tab: str, session: str | None, digits: list[Digit], probs: np.ndarray) -> None:
        """Keep what a page (``session``) was last shown on ``tab``, so its "Why?" view needs no second upload."""
        if not session:  # a direct call: nobody can ask for its "Why?" later
            return
        key = (tab, session)
        self.recent.pop(key, None)  # re-inserted last: the oldest pages are the first forgotten
        self.recent[key] = (digits, probs)
        _keep_newest(self.recent, self.settings.recent_pages)

    def recalled(self, tab: str, session: str | None) -> tuple[list[Digit], np.ndarray]:
        """What the page ``session`` was last shown on ``tab`` (no digits when nothing is known)."""
        return self.recent.get((tab, session), ([], np.zeros((0, 10), np.float32)))


def _active_ink(registry: Registry) -> str | None:
    """The active ink version's id (one small file read), None when it cannot be read."""
    try:
        return Registry(registry.paths, kind="ink").active()
    except Exception:  # noqa: BLE001  (a pointer being replaced: look again next time)
        return None


def load_ink_reader(registry: Registry):
    """The active ink version's reader (the shipped one when none is active), or None when it cannot be loaded."""
    from mnist_core.ink import reader as ir  # noqa: PLC0415

    try:
        return ir.InkReader.from_registry(Registry(registry.paths, kind="ink"))
    except Exception:  # a missing or damaged ink model: drawings are read by the image model alone
        log.exception("could not load the ink model")
        return None


def _keep_newest(items: dict, n: int) -> None:
    """Drop the oldest entries of ``items`` (insertion order) beyond ``n``."""
    for old in list(items)[: max(0, len(items) - n)]:
        items.pop(old, None)


def _start_watching(server: ModelServer) -> threading.Thread:
    """Follow the active pointer for as long as ``server`` lives: the one way a newly active version is picked up
    (an Activate here also swaps at once, through refresh_now)."""
    ref, every = weakref.ref(server), server.settings.watch_every_s  # a server dropped (an app rebuilt) ends it

    def watch() -> None:
        while True:
            time.sleep(every)
            current = ref()
            if current is None:
                return
            try:
                current._follow()
            except Exception:  # a pointer being replaced, a disk hiccup: look again next time
                log.exception("could not look at the active version")
            del current

    thread = threading.Thread(target=watch, name="watch-active", daemon=True)
    thread.start()
    return thread
