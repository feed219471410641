"""Teach it my handwriting (in the Draw tab): once a profile has a few samples, fine-tune the shared model on them
and show what it did: each of that person's samples read before and after by a fine-tune trained without it, what
that check can and cannot show, and the accuracy on the named fair test set (MNIST's test, or offline the held-out
pen writers). The model goes live for that profile alone, and only when mnist_core.train.personal.judge finds
evidence that it helps, beyond luck, without costing that test set more than allowed."""

from __future__ import annotations

import gradio as gr

from mnist_core.ops.jobs import JobBusy, JobRequest, JobStatus
from mnist_core.train.data import MNIST_TEST, likely_test_set
from mnist_core.train.personal import Recipe
from mnist_core.store.registry import RegistryError
from studio.i18n import say, ui, use_language
from studio.requests import chosen_profile, fail, refused, require_admin
from studio.services import Page, services
from studio.testsets import test_set_of
from studio.wording import job_line

RECIPE = Recipe()


def _panel(profile: str, status: JobStatus | None = None):
    """(the fine-tune button, the panel's text, the polling timer) for ``profile`` and the job shown."""
    s = services()
    status = status or s.jobs.status()
    n = s.samples.count(profile)
    lines = []
    own = s.registry.personal(profile)
    shared = s.registry.active()
    lines.append(say("tune_serving_own", profile=profile, vid=own) if own
                 else say("tune_serving_shared", profile=profile, vid=shared))
    mine = status.profile == profile  # known from the job's start (JobManager), not only once its log says so
    if status.running:
        key = "tune_running" if mine else "tune_other_running"
        lines.append(say(key, profile=profile, progress=job_line(status)))
    elif mine and status.status == "done" and (status.result or {}).get("personal"):
        lines.append(_result(profile, status.result))
    elif mine and status.status in ("failed", "cancelled"):
        lines.append(say("tune_failed", reason=job_line(status)))
    if not status.running:
        if n < RECIPE.min_samples:
            lines.append(say("tune_need", profile=profile, n=n, more=RECIPE.min_samples - n))
        elif not (mine and status.status == "done"):
            lines.append(say("tune_offer", profile=profile, n=n, folds=RECIPE.folds, fewest=RECIPE.fewest_to_show(),
                             test_set=_test_set(), cost=f"{RECIPE.max_mnist_cost * 100:.1f}"))
    offered = not status.running and n >= RECIPE.min_samples and s.admin_mode != "disabled"
    button = gr.Button(value=say("tune_start_n", n=n), visible=n >= RECIPE.min_samples, interactive=offered)
    return button, "\n\n".join(lines), gr.Timer(active=status.running)


def _test_set() -> str:
    """The test set a fine-tune here is measured on (MNIST's test, or offline the held-out pen writers), in words."""
    key = MNIST_TEST if services().config.data else likely_test_set()
    return say("testset_mnist_short") if key == MNIST_TEST else say("testset_either_short")


def _result(profile: str, result: dict) -> str:
    """What a finished fine-tune did for ``profile``: each sample before and after (cross-validated), what that can and
    cannot show, the test set's cost, the verdict."""
    info = result["personal"]
    before, after = info.get("before") or {}, info.get("after") or {}
    evidence = info.get("evidence") or {}
    card = result.get("card") or {}
    seconds = info.get("wall_seconds") or card.get("train_seconds") or 0
    n = info.get("samples") or after.get("count", 0)
    test_set = test_set_of(info, card)
    text = say("tune_result", profile=profile, vid=result.get("version", "?"), seconds=f"{seconds:.0f}", n=n,
               folds=info.get("folds") or RECIPE.folds, before=f"{before.get('correct', 0)}/{before.get('count', 0)}",
               after=f"{after.get('correct', 0)}/{after.get('count', 0)}", surer=evidence.get("surer", "?"),
               less=evidence.get("less_sure", "?"), test_set=test_set,
               mnist_before=f"{info.get('mnist_before', 0):.2%}", mnist_after=f"{info.get('mnist_after', 0):.2%}")
    text += "\n\n" + say("tune_can_show", chance=f"{RECIPE.max_chance:.0%}")
    verdict = info.get("verdict") or {}
    if result.get("activated"):
        return text + "\n\n" + say("tune_activated", profile=profile)
    if verdict.get("reason") == "mnist_cost":
        return text + "\n\n" + say("tune_mnist_cost", profile=profile, test_set=test_set,
                                     cost=f"{verdict.get('mnist_cost', 0) * 100:.2f}",
                                     allowed=f"{RECIPE.max_mnist_cost * 100:.1f}")
    if verdict.get("reason") == "too_few":
        return text + "\n\n" + say("tune_too_few", profile=profile, surer=evidence.get("surer", 0),
                                     less=evidence.get("less_sure", 0), chance=f"{evidence.get('chance', 1):.0%}",
                                     allowed=f"{RECIPE.max_chance:.0%}")
    return text + "\n\n" + say("tune_no_help", profile=profile)


def personal_status(profile="", request: gr.Request = None):
    """The profile's fine-tune panel: what it is served, its samples, the offer, or the running / last fine-tune."""
    use_language(request)
    name = chosen_profile(profile, request)
    return _panel(name)


def personalize(profile="", password="", request: gr.Request = None):
    """Fine-tune the shared active model on ``profile``'s samples (judged by cross-validation over them); activate it
    for that profile alone when it helps them beyond luck and costs the test set at most 0.2 point. Returns the
    panel, which then polls."""
    use_language(request)
    require_admin(password)
    name = chosen_profile(profile, request)
    s = services()
    n = s.samples.count(name)
    if n < RECIPE.min_samples:
        raise fail("err_tune_samples", n=RECIPE.min_samples, profile=name)
    request_ = JobRequest(data=s.config.data, finetune=s.registry.active(), profile=name, activate="if_helps")
    try:
        status = s.jobs.start(request_)
    except JobBusy as e:
        raise refused(e, title="title_busy") from None
    except ValueError as e:
        raise refused(e, title="title_bad_settings") from None
    return _panel(name, status)


def reset_profile_model(profile="", password="", request: gr.Request = None):
    """Serve ``profile`` the shared model again (its personal versions stay in the Models tab)."""
    use_language(request)
    require_admin(password)
    name = chosen_profile(profile, request)
    try:
        services().registry.forget_personal(name)
    except RegistryError as e:
        raise refused(e) from None
    button, text, timer = _panel(name)
    return button, say("msg_tune_reset", profile=name) + "\n\n" + text, timer


def panel(page: Page, profile: gr.Dropdown) -> list:
    """The fine-tune panel's layout and events, placed where it is called (the Draw tab's answer column); returns
    its outputs (button, text, timer) for events that change what it shows (a sample saved)."""
    with gr.Accordion(ui("tune_title"), open=True, elem_id="tune-panel"):
        text = gr.Markdown(elem_id="tune-text")
        with gr.Row():
            start = gr.Button(ui("tune_start"), variant="primary", visible=False, elem_id="tune-start")
            reset = gr.Button(ui("tune_reset"), size="sm", interactive=page.admin_ok, elem_id="tune-reset")
        timer = gr.Timer(1.0, active=False)
    out = [start, text, timer]
    raw = dict(preprocess=False)  # the profile name is validated here: a bad one gets our message
    start.click(personalize, [profile, page.password], out, api_name="personalize", concurrency_limit=1, **raw)
    reset.click(reset_profile_model, [profile, page.password], out, api_name="reset_profile_model", **raw)
    timer.tick(personal_status, profile, out, api_name="personal_status", show_progress="hidden", **raw)
    profile.change(personal_status, profile, out, api_name=False, show_progress="hidden", **raw)
    page.demo.load(personal_status, profile, out, api_name=False, **raw)
    return out
