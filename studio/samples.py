"""The My samples tab: the chosen profile's saved digits with counts per label; relabel or delete (its own only);
undo a delete (the store keeps deleted samples a while: mnist_core.store.samples_base.TRASH_KEEP_S)."""

from __future__ import annotations

import gradio as gr
import numpy as np

from mnist_core.store.samples import SampleNotFound, validate_label, validate_sample_id
from mnist_core.store.samples_base import TRASH_KEEP_S
from studio.i18n import say, ui, use_language
from studio.requests import fail, profile_of, refused, require_admin
from studio.services import Page, services
from studio.views import DIGIT_CHOICES, UI

ALL = "all"


def _enlarged(image: np.ndarray) -> np.ndarray:
    """(28, 28) float -> (112, 112) uint8, each pixel a 4x4 block (crisp in any image viewer)."""
    return np.kron(np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))


def list_samples(digit=ALL, request: gr.Request = None):
    """The saved samples (newest first, up to a page) and how many there are of each digit."""
    use_language(request)
    try:
        label = None if digit in (None, "", ALL) else validate_label(digit)
    except ValueError as e:
        raise refused(e) from None
    store = services().samples
    profile = profile_of(request)
    counts = store.counts(profile)
    # Captions are read back by pick_sample up to the first ":" ("#id: label (where)", in the page's language).
    items = [(_enlarged(s["image"]), say("sample_caption", sid=s["id"], label=s["label"], source=_source(s["source"])))
             for s in store.list(label=label, limit=UI.gallery, profile=profile)]
    total = sum(counts.values())
    summary = say("samples_total_one" if total == 1 else "samples_total", n=total)
    return items, summary + " — " + " · ".join(f"{d}: {n}" for d, n in counts.items())


def _source(source: str) -> str:
    """Where a sample came from ("draw", "photo"), in the call's language."""
    return say(f"source_{source}") if source in ("draw", "photo") else str(source)


def pick_sample(evt: gr.SelectData):
    """The id of the gallery item clicked."""
    caption = evt.value.get("caption", "") if isinstance(evt.value, dict) else ""
    return int(caption[1:].split(":")[0]) if caption.startswith("#") else None


def relabel_sample(sample_id, label, password="", request: gr.Request = None):
    """Give a saved sample another label."""
    use_language(request)
    require_admin(password)
    try:
        sid = validate_sample_id(sample_id)
        if label in (None, ""):  # nothing picked under "New label": say where to pick it
            raise fail("err_no_label_relabel")
        new = validate_label(label)
        services().samples.relabel(sid, new, profile=profile_of(request))  # one person never edits another's
    except gr.Error:  # already worded for people (a gr.Error is a ValueError)
        raise
    except ValueError as e:
        raise refused(e) from None
    return say("msg_relabelled", sid=sid, label=new)


def delete_sample(sample_id, password="", request: gr.Request = None):
    """Delete a saved sample."""
    use_language(request)
    require_admin(password)
    try:
        sid = validate_sample_id(sample_id)
        services().samples.delete(sid, profile=profile_of(request))
    except ValueError as e:
        raise refused(e) from None
    return say("msg_deleted_sample", sid=sid)


def undo_delete_sample(password="", request: gr.Request = None):
    """Bring back this profile's last deleted sample (deleted within the hour), with its id and label."""
    use_language(request)
    require_admin(password)
    profile = profile_of(request)
    try:
        sid = services().samples.restore(profile)
    except SampleNotFound:
        raise fail("err_nothing_to_undo", profile=profile, minutes=TRASH_KEEP_S // 60) from None
    return say("msg_restored_sample", sid=sid)


def undo_button(request: gr.Request = None):
    """The Undo button, usable while this profile has a deleted sample to bring back."""
    usable = services().admin_mode != "disabled" and services().samples.trashed(profile_of(request)) > 0
    return gr.Button(interactive=usable)


def tab(page: Page) -> gr.Tab:
    """The My samples tab's layout and events."""
    admin_ok = page.admin_ok
    with gr.Tab(ui("tab_samples"), id="samples") as samples_tab:
        summary = gr.Markdown()
        with gr.Row():
            show = gr.Dropdown([(ui("samples_all"), ALL)] + DIGIT_CHOICES, value=ALL, label=ui("samples_show"))
        gallery = gr.Gallery(label=ui("samples_gallery"), columns=10, height=420, allow_preview=False,
                             fit_columns=False, object_fit="contain", format="png", interactive=False, buttons=[],
                             elem_id="samples-gallery")
        with gr.Row():
            sample_id = gr.Number(label=ui("samples_id"), precision=0)
            new_label = gr.Radio(DIGIT_CHOICES, label=ui("samples_new_label"), elem_id="samples-label")
            relabel = gr.Button(ui("samples_relabel"), interactive=admin_ok, elem_id="samples-relabel")
            delete = gr.Button(ui("delete"), variant="stop", interactive=admin_ok)
            undo = gr.Button(ui("samples_undo"), interactive=False, elem_id="samples-undo")
        message = gr.Markdown(elem_id="samples-message")

    out = [gallery, summary]
    raw = dict(preprocess=False)  # ids and labels are validated here: a bad one gets our message, not Gradio's
    samples_tab.select(list_samples, show, out, api_name="list_samples", **raw).then(
        undo_button, None, undo, api_name=False)
    show.change(list_samples, show, out, api_name=False, **raw)
    gallery.select(pick_sample, None, sample_id, api_name=False)
    relabel.click(relabel_sample, [sample_id, new_label, page.password], message, api_name="relabel_sample",
                  **raw).success(list_samples, show, out, api_name=False, **raw)
    # After a delete or an undo: the gallery and counts as they are now, and whether there is still one to undo.
    delete.click(delete_sample, [sample_id, page.password], message, api_name="delete_sample",
                 **raw).success(list_samples, show, out, api_name=False, **raw).then(undo_button, None, undo,
                                                                                   api_name=False)
    undo.click(undo_delete_sample, page.password, message, api_name="undo_delete_sample",
               **raw).success(list_samples, show, out, api_name=False, **raw).then(undo_button, None, undo,
                                                                                 api_name=False)
    return samples_tab
