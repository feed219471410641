"""What a request brings and how a refusal goes back: the profile it speaks for, the image it carries, the admin
password it gives, and the gr.Error that words a refusal for people in their language."""

from __future__ import annotations

import hmac
import os
from urllib.parse import unquote

import gradio as gr
import numpy as np

from mnist_core.config import Limits
from mnist_core.digits import Digit, ImageError, load_image, most_prominent
from mnist_core.store.profiles import DEFAULT_PROFILE, validate_profile
from mnist_core.store.registry import RegistryError, validate_version_id
from studio.i18n import say
from studio.wording import model_problem, reason
from studio.services import services

# The page's profile choice travels as this cookie (set by the header's profile box, like the language's); API
# clients send the header instead. Neither: "me", the profile of every sample saved before profiles existed.
PROFILE_COOKIE = "studio-profile"
PROFILE_HEADER = "x-studio-profile"


# --- refusals ---


def fail(key: str, title: str = "title_error", **values) -> gr.Error:
    """A message for the person (bad input, refused action) in their language: shown in the page, no traceback."""
    return gr.Error(say(key, **values), title=say(title), print_exception=False)


def refused(e: Exception, title: str = "title_error") -> gr.Error:
    """The gr.Error for a refusal worded by the core (a bad label, id, version or setting): said again in the
    person's language with what to do (studio.wording), or as the core said it when not recognised."""
    return gr.Error(reason(e) or str(e), title=say(title), print_exception=False)


def image_error(e: Exception) -> gr.Error:
    """The gr.Error for an image that cannot be read (the core's reason said again in the person's language)."""
    return fail("err_image", title="title_bad_image", error=reason(e) or e)


def no_model(e: Exception) -> gr.Error:
    """The gr.Error for a model that cannot be loaded (mnist_core.ops.serving.ModelUnavailable's reason)."""
    return fail("err_no_model", title="title_no_model", error=model_problem(e))


# --- who asks ---


def profile_of(request) -> str:
    """The profile a request speaks for: the page's cookie, else the X-Studio-Profile header, else "me"."""
    if request is None:
        return DEFAULT_PROFILE
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


def session_of(request) -> str | None:
    """The page session a request comes from (None for a direct call)."""
    return getattr(request, "session_hash", None)


def require_admin(password: str | None) -> None:
    """Raise gr.Error unless admin actions are allowed here with this password."""
    mode = services().admin_mode
    if mode == "open":
        return
    if mode == "disabled":
        raise fail("admin_disabled", title="title_admin_disabled")
    given = (password or "").encode()
    if not hmac.compare_digest(given, services().config.admin_password.encode()):
        raise fail("err_password", title="title_not_allowed")


# --- what it carries ---


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


def ink_of(value, required: bool = False):
    """Strokes sent as JSON or InkML (see mnist_core.ink.format) -> an Ink; None when none came (unless
    ``required``); gr.Error saying what is wrong with bad ink (empty, NaN, too many points, time going back)."""
    if value in (None, "", [], {}) and not required:
        return None
    from mnist_core.ink.format import InkError, parse  # noqa: PLC0415

    try:
        return parse(value if value is not None else [])
    except InkError as e:
        raise fail("err_ink", title="title_bad_ink", error=e) from None


def version_id(value) -> str:
    """A version id as typed or picked; gr.Error for one that is not an id."""
    try:
        return validate_version_id(value)
    except RegistryError as e:
        raise refused(e) from None


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
