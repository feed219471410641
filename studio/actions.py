"""Actions more than one tab takes: read digits with a profile's model, explain them, save a correction, make a
version the live model. Each is one call on the services with its refusal worded for people (studio.requests)."""

from __future__ import annotations

import numpy as np

from mnist_core.digits import Digit
from mnist_core.ops.serving import ModelUnavailable
from mnist_core.store.profiles import DEFAULT_PROFILE
from mnist_core.store.registry import RegistryError
from mnist_core.store.samples import validate_label
from studio.i18n import say
from studio.requests import no_model, refused, version_id
from studio.services import services
from studio.views import why_html


def predict(digits: list[Digit], profile: str | None) -> np.ndarray:
    """(N, 10) probabilities of ``digits`` on ``profile``'s model; gr.Error when no model can be loaded."""
    try:
        return services().model.predict(digits, profile)
    except ModelUnavailable as e:
        raise no_model(e.reason) from None


def read(digits: list[Digit], ink, profile: str | None):
    """What ``profile``'s image model and, with strokes (``ink``), the ink model say of ``digits``: a Reading."""
    try:
        return services().model.read(digits, ink, profile)
    except ModelUnavailable as e:
        raise no_model(e.reason) from None


def explained(digits: list[Digit], probs: np.ndarray, empty_key: str, profile: str | None = None) -> str:
    """The "Why?" view of digits read as ``probs``: their heat maps (views.why_html), or the ``empty_key`` message."""
    try:
        maps = services().model.explain(digits, probs, profile) if digits else np.zeros((0, 28, 28), np.float32)
    except ModelUnavailable as e:
        raise no_model(e.reason) from None
    return why_html(digits, probs, maps, say(empty_key))


def save_sample(digit: Digit, label, original: bytes | None, origin: str, profile: str = DEFAULT_PROFILE) -> str:
    """Store a corrected digit as one of ``profile``'s samples; the message that says so."""
    store = services().samples
    try:
        label = validate_label(label)
        sid = store.add(label, digit.image, original_png=original, source=origin, profile=profile)
    except ValueError as e:
        raise refused(e) from None
    total = store.count(profile)
    return say("msg_saved_one" if total == 1 else "msg_saved", label=label, sid=sid, total=total)


def activate(version) -> str:
    """Make ``version`` the live model for everyone, served here at once; its id."""
    vid = version_id(version)
    try:
        services().registry.activate(vid)
        services().model.refresh_now()
    except RegistryError as e:
        raise refused(e) from None
    return vid
