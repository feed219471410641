"""The studio's settings and the services behind its handlers: the model server, the registry, the samples, the
training jobs and the admin policy. No Gradio; nothing slow happens at import or construction (the model is loaded
on first use, or by Services.warm)."""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mnist_core.config import Limits, Paths
from mnist_core.ops.jobs import JobManager, JobOptions
from mnist_core.ops.serving import ModelServer
from mnist_core.store.registry import Registry, RegistryError
from mnist_core.store.samples import open_store

if TYPE_CHECKING:
    import gradio as gr


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
    # sooner, for ~0.7 GB of memory held while idle. `python app.py` turns it on; Services made in code leave it off.
    spare_trainer: bool = False


class Services:
    """What the handlers act on: one model server, the registry, the samples, the training jobs, the admin policy."""

    def __init__(self, config: StudioConfig | None = None):
        self.config = config or StudioConfig()
        self.registry = Registry(self.config.paths)
        self.model = ModelServer(self.registry, self.config.paths.home)
        self.samples = open_store(self.config.paths.samples_location)  # SQLite, or PostgreSQL (MNIST_STUDIO_DB)
        self.jobs = JobManager(self.config.paths, options=JobOptions(spare=self.config.spare_trainer))
        self.started = time.monotonic()
        self.canvas_blobs: dict = {}  # the Sketchpad's blob store, set by the Draw tab
        self._cards: dict[str, dict] = {}  # version id -> its card, for /healthz

    def warm(self) -> threading.Thread:
        """Load the model in the background, so the first request finds it ready; then start the spare trainer
        (when configured), so that its TensorFlow import does not compete with the model's loading."""
        def warm() -> None:
            self.model.warm()
            self.jobs.keep_spare()

        thread = threading.Thread(target=warm, name="warm-model", daemon=True)
        thread.start()
        return thread

    def health(self) -> tuple[dict, bool]:
        """What /healthz answers, and whether this replica is ready to serve (the model loaded). Reads two small
        files at most; never the queue, the samples or the model."""
        served = self.model.loaded_version
        vid = served or self.registry.active()
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
            "status": "ok" if served is not None else "starting",
            "active_version": vid,
            "test_accuracy": accuracy if isinstance(accuracy, (int, float)) else None,
            "uptime_s": round(time.monotonic() - self.started, 1),
            "training": training,
            "samples": self.samples.kind,
            "pid": os.getpid(),
        }
        return body, served is not None

    @property
    def admin_mode(self) -> str:
        """"open" on loopback, "password" elsewhere with a password set, else "disabled"."""
        if is_loopback(self.config.host):
            return "open"
        return "password" if self.config.admin_password else "disabled"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The services of the app built last: Gradio calls the tabs' handlers as plain functions, which find them here.
_current: Services | None = None


def services() -> Services:
    """The services of the app built last (a default one when none was built)."""
    global _current
    if _current is None:
        _current = Services()
    return _current


def new_services(config: StudioConfig | None = None) -> Services:
    """Fresh services for ``config``, from now on the ones every handler uses."""
    global _current
    _current = Services(config)
    return _current


@dataclass(frozen=True)
class Page:
    """What a tab needs from the page around it: the Blocks, the services and the shared admin password box."""

    demo: gr.Blocks
    services: Services
    password: gr.Textbox
    # The profile box (whose handwriting): the Draw tab's fine-tune panel reads it.
    profile: gr.Dropdown | None = None

    @property
    def admin_ok(self) -> bool:
        """Whether admin buttons can be used at all on this address."""
        return self.services.admin_mode != "disabled"
