"""Actions more than one tab takes: read digits with a profile's model, explain them, save a correction, make a
version the live model (a shared one for everyone, a profile's own for it alone, a worse one only when confirmed)
or share a profile's version. Each is one call on the services with its refusal worded for people
(studio.requests)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_core.digits import Digit
from mnist_core.digits.marks import digit_marks
from mnist_core.ops.serving import ModelUnavailable
from mnist_core.store.profiles import DEFAULT_PROFILE
from mnist_core.store.registry import RegistryError, owner_of
from mnist_core.store.samples import validate_label
from mnist_core.train.evaluate import card_tests
from studio.i18n import say
from studio.requests import fail, no_model, refused, version_id
from studio.services import services
from studio.testsets import set_name
from studio.views import why_html


def predict(digits: list[Digit], profile: str | None) -> np.ndarray:
    """(N, 10) probabilities of ``digits`` on ``profile``'s model; gr.Error when no model can be loaded."""
    try:
        return services().model.predict(digits, profile)
    except ModelUnavailable as e:
        raise no_model(e.reason) from None


def real_digits(digits: list[Digit], alpha) -> list[Digit]:
    """The canvas's ``digits`` without the marks too small or too simple to be one (a dot, a speck, a blob: a lone
    click was read as "0" at 83%), judged on the ink they were cut from (``alpha``: the canvas path's Ink or its
    (H, W) array; None keeps them all); [] when none is a digit: the page then says "not_a_digit"."""
    return digit_marks(digits, getattr(alpha, "image", alpha))


def read(digits: list[Digit], ink, profile: str | None, session: str | None = None):
    """What ``profile``'s image model and, with strokes (``ink``), the ink model say of ``digits``: a Reading (read
    with the page's hand when ``session`` says which page: ops.serving.ModelServer.with_hand)."""
    try:
        return services().model.read(digits, ink, profile, session)
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
    # Nothing picked under "Wrong? It's a …" (a dict: an update marker a radio left as its value): say where to pick it.
    if label in (None, "") or isinstance(label, dict):
        raise fail("err_no_label_save")
    try:
        label = validate_label(label)
        sid = store.add(label, digit.image, original_png=original, source=origin, profile=profile)
    except ValueError as e:
        raise refused(e) from None
    total = store.count(profile)
    return say("msg_saved_one" if total == 1 else "msg_saved", label=label, sid=sid, total=total)


# --- which versions a profile sees, and making one live ---


@dataclass(frozen=True)
class Activation:
    """What an activation (or a share) did: the version, whether it is live now, the message for people."""

    vid: str
    done: bool
    message: str


def confirmed(value) -> bool:
    """A confirmation as the page or the API sends it: a bool, or a string such as "true" / "false"."""
    return value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)


def visible_card(vid: str, profile: str) -> dict:
    """``vid``'s card when ``profile`` may see it (a shared version, or its own personal one); another profile's
    personal version is refused exactly as an unknown one is (gr.Error), so nothing tells that it exists."""
    try:
        card = services().registry.card(vid)
    except RegistryError as e:
        raise refused(e) from None
    if owner_of(card) not in (None, profile):
        raise refused(RegistryError(f"no model version {vid!r}"))
    return card


def worse_warning(card: dict, current: str) -> str | None:
    """The warning for making ``card``'s version replace ``current`` when it reads a test set they were both measured
    on (same key, same size: mnist_core.train.evaluate.card_tests) worse; None when it does not, or when they share
    no test set (then there is nothing fair to compare)."""
    if card.get("id") == current:
        return None
    try:
        now = card_tests(services().registry.card(current))
    except RegistryError:
        return None
    new = card_tests(card)
    common = [key for key in now if key in new and new[key]["count"] == now[key]["count"] > 0]
    if not common:
        return None
    key = common[0]  # the current model's own test set first (card_tests lists it first)
    ours, theirs = new[key]["accuracy"], now[key]["accuracy"]
    if ours >= theirs:
        return None
    return say("warn_worse", vid=card["id"], acc=f"{ours:.2%}", points=f"{(theirs - ours) * 100:.2f}",
               active=current, active_acc=f"{theirs:.2%}", test_set=set_name(key, now[key]["count"], now[key]["name"]))


def activate(version, profile: str, confirm=False) -> Activation:
    """Make ``version`` live, served here at once: a shared version for everyone, ``profile``'s own personal version
    for it alone (never the shared model: see share). One that reads the test set worse than the model it would
    replace is not activated without ``confirm``: the Activation says why."""
    vid = version_id(version)
    registry = services().registry
    card = visible_card(vid, profile)
    personal = owner_of(card) is not None
    warning = worse_warning(card, registry.active(profile if personal else None))
    if warning and not confirmed(confirm):
        return Activation(vid, False, warning)
    try:
        registry.activate(vid, profile=profile if personal else None)
        services().model.refresh_now()
    except RegistryError as e:
        raise refused(e) from None
    return Activation(vid, True, say("msg_activated_personal", vid=vid, profile=profile) if personal
                      else say("msg_activated", vid=vid))


def share(version, profile: str, confirm=False) -> Activation:
    """Make ``profile``'s personal version a shared one and the shared active model (an admin's explicit choice, the
    one way a person's model reaches everyone); a worse one waits for ``confirm`` like any activation."""
    vid = version_id(version)
    registry = services().registry
    card = visible_card(vid, profile)
    if owner_of(card) is None:
        raise fail("err_share_shared", vid=vid)
    warning = worse_warning(card, registry.active())
    if warning and not confirmed(confirm):
        return Activation(vid, False, warning)
    try:
        registry.share(vid)
        registry.activate(vid)
        services().model.refresh_now()
    except RegistryError as e:
        raise refused(e) from None
    return Activation(vid, True, say("msg_shared", vid=vid, profile=profile))
