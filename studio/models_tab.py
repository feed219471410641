"""The Models tab: the versions a profile may see (the shared ones and its own personal ones, marked by the owner
column) with their cards (and the whole card.json); activate (roll back; a worse one only when confirmed), share a
personal version (admin), delete (confirmed), download."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from mnist_core.store.registry import DEFAULT_ID, RegistryError, owner_of
from studio.actions import activate, confirmed, share, visible_card
from studio.i18n import say, ui, use_language
from studio import ink_versions
from studio.requests import chosen_profile, profile_of, refused, require_admin, version_id
from studio.services import Page, services
from studio.testsets import card_accuracies, card_short, test_set_of
from studio.views import png_file
from studio.wording import data_source, yes_no

# The table's columns as API clients get them (English; a page gets them in its language, "col_*" strings). "active":
# ● on the version serving its owner (the shared active model; the profile's own personal one); "owner": the
# profile a personal version belongs to ("" for shared ones; a page only ever sees its own).
MODEL_COLUMNS = ["active", "version", "created", "arch", "data", "accuracy", "train time", "owner"]
# Their shares of the table's width, long cells wrapped: at 1280 px every column (accuracy and training time
# included) shows without scrolling sideways (tests/studio/test_browser_layout.py); the data text takes the most.
MODEL_WIDTHS = ["6%", "16%", "11%", "5%", "28%", "15%", "10%", "9%"]


def _models_table(profile: str) -> pd.DataFrame:
    registry = services().registry
    shared, own = registry.active(), registry.personal(profile)
    rows = []
    for card in registry.versions():
        owner = owner_of(card)
        if owner not in (None, profile):
            continue  # another profile's personal version: not listed, not even counted
        data = card.get("data") or {}
        secs = card.get("train_seconds")
        rows.append([
            "●" if card["id"] == (own if owner else shared) else "",
            card["id"],
            str(card.get("created", ""))[:19].replace("T", " "),
            card.get("arch", "?") if "broken" not in card else say("arch_broken"),
            _data_text(card),
            card_short(card),  # its figure and, in words, the test set it is on
            say("dur_s", s=f"{secs:.0f}") if isinstance(secs, (int, float)) else "",
            owner or "",
        ])
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def _data_text(card: dict) -> str:
    """What a version learnt from: MNIST's source and size, and the saved samples (a personal version's own, counted
    once each: the card's data counts the fine-tune's augmented copies)."""
    data = card.get("data") or {}
    if not data:
        return ""
    text = data_source(data.get("source", ""))
    if data.get("train_size"):
        text += say("card_digits", n=f"{int(data['train_size']):,}")
    if data.get("subset"):
        text += say("card_subset")
    personal = card.get("personal") if isinstance(card.get("personal"), dict) else {}
    counted = [personal.get(k) for k in ("samples", "samples_trained") if isinstance(personal.get(k), int)]
    n = counted[0] if counted else data.get("user_samples")
    if n:
        text += say("card_yours" if owner_of(card) else "card_samples", n=int(n))
    return text


def _card_markdown(card: dict) -> str:
    registry = services().registry
    vid = card["id"]
    settings = card.get("settings") or {}
    params = card.get("params")
    seconds = card.get("train_seconds")
    lines = [
        f"### `{vid}`{say('card_active') if vid == registry.active() else ''}",
        say("card_created", created=str(card.get("created", "?"))[:19].replace("T", " ")),
        say("card_arch_params", arch=card.get("arch", "?"), params=f"{params:,}") if isinstance(params, int)
        else say("card_arch", arch=card.get("arch", "?")),
        say("card_data", data=_data_text(card) or "?"),
        say("card_accuracy", acc=card_accuracies(card) or "?"),  # each figure with its test set
        say("card_time", seconds=f"{seconds:.0f}") if isinstance(seconds, (int, float)) else "",
        say("card_settings", epochs=settings.get("epochs", "?"), batch=settings.get("batch_size", "?"),
            lr=settings.get("lr", "?"), augment=yes_no(settings.get("augment", "?"))) if settings else "",
        say("card_parent", parent=card["parent"]) if card.get("parent") else "",
        _personal_line(vid, card),
        say("card_shared", at=str(card["shared"].get("at", "?"))[:19].replace("T", " "))
        if isinstance(card.get("shared"), dict) else "",
    ]
    return "\n".join(line for line in lines if line)


def _personal_line(vid: str, card: dict) -> str:
    """For a profile's fine-tune: whose it is, whether it serves them, and what it did (else "")."""
    info = card.get("personal")
    if not isinstance(info, dict) or not card.get("profile"):
        return ""
    profile = str(card["profile"])
    try:
        live = services().registry.personal(profile) == vid
    except RegistryError:
        live = False
    before, after = info.get("before") or {}, info.get("after") or {}
    test_set = test_set_of(info, card)
    return say("card_profile", profile=profile, live=say("card_profile_live") if live else "",
               n=info.get("samples") or after.get("count", 0), test_set=test_set,
               before=f"{before.get('correct', 0)}/{before.get('count', 0)}",
               after=f"{after.get('correct', 0)}/{after.get('count', 0)}",
               mnist_before=f"{info.get('mnist_before', 0):.2%}", mnist_after=f"{info.get('mnist_after', 0):.2%}")


def show_model(version, request: gr.Request = None):
    """A version's card, its curves and confusion plots, and a download of its .keras file."""
    use_language(request)
    if not version:
        return say("msg_pick_version"), None, None, gr.DownloadButton(value=None, interactive=False)
    vid = version_id(version)
    md = _card_markdown(visible_card(vid, profile_of(request)))
    path = services().registry.model_path(vid)
    plots = [png_file(path.parent / name) for name in ("curves.png", "confusion.png")]
    download = _download_copy(path, f"mnist-{vid}.keras")
    return (md, *(gr.Image(value=p, visible=p is not None) for p in plots),
            gr.DownloadButton(value=download, interactive=True))


def show_model_card(version, request: gr.Request = None):
    """A version's whole card (card.json) and a download of its TF Lite copy, the file the studio serves."""
    use_language(request)
    if not version:
        return None, gr.DownloadButton(value=None, interactive=False)
    vid = version_id(version)
    registry = services().registry
    card = visible_card(vid, profile_of(request))
    # Only a copy made from this very model file (the card's lite_of): a stale one is not this version's.
    content = registry.lite_content(vid)
    download = _download_copy(content, f"mnist-{vid}.tflite") if content else None
    return card, gr.DownloadButton(value=download, interactive=download is not None)


def _download_copy(src: Path | bytes, name: str) -> str:
    """A copy of ``src`` (a file, or its bytes) in Gradio's cache (served from there; old copies are removed)."""
    root = Path(os.environ["GRADIO_TEMP_DIR"]) / "downloads"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > 600:
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    if isinstance(src, bytes):
        (folder / name).write_bytes(src)
    else:
        shutil.copyfile(src, folder / name)
    return str(folder / name)


def pick_model_row(evt: gr.SelectData):
    """The version id of the table row clicked."""
    row = evt.row_value or []
    return row[1] if len(row) > 1 else gr.skip()


def _models_outputs(message: str, selected: str | None, profile: str):
    table = _models_table(profile)
    choices = table["version"].tolist()
    selected = selected if selected in choices else services().registry.active(profile)
    table.columns = [say(f"col_{c.replace(' ', '_')}") for c in MODEL_COLUMNS]  # the same English for API clients
    return message, table, gr.Dropdown(choices=choices, value=selected)


def list_models(request: gr.Request = None):
    """The versions this profile may see (the shared ones, its own): a table of cards, and the version picker."""
    use_language(request)
    return _models_outputs("", None, profile_of(request))


def list_models_of(profile, request: gr.Request = None):
    """list_models for the profile the page's profile box names (its change: the cookie may not be sent yet)."""
    use_language(request)
    return _models_outputs("", None, chosen_profile(profile, request))


def activate_model(version, password="", confirm=False, request: gr.Request = None):
    """Make a version live: a shared one for everyone, this profile's own personal one for it alone. One that reads
    the test set worse than the model it would replace only with ``confirm`` (else a warning, nothing changed)."""
    use_language(request)
    require_admin(password)
    profile = profile_of(request)
    done = activate(version, profile, confirm)
    return _models_outputs(done.message, done.vid, profile)


def share_model(version, password="", confirm=False, request: gr.Request = None):
    """Admin: make this profile's personal version a shared one and everyone's active model (a worse one only with
    ``confirm``)."""
    use_language(request)
    require_admin(password)
    profile = profile_of(request)
    done = share(version, profile, confirm)
    return _models_outputs(done.message, done.vid, profile)


def delete_model(version, password="", confirm=False, request: gr.Request = None):
    """Delete a version (never one that serves anyone, never the shipped default), with ``confirm`` only: it
    cannot be undone."""
    use_language(request)
    require_admin(password)
    vid = version_id(version)
    profile = profile_of(request)
    visible_card(vid, profile)
    registry = services().registry
    # What the registry never deletes (the shipped default, a version serving anyone) is refused at once with its
    # reason; asking to confirm first would only lead to that refusal.
    live = vid == DEFAULT_ID or vid == registry.active() or vid in registry.personal_pointers().values()
    if not live and not confirmed(confirm):
        return _models_outputs(say("warn_delete_model", vid=vid), vid, profile)
    try:
        registry.delete(vid)
    except RegistryError as e:
        raise refused(e) from None
    return _models_outputs(say("msg_deleted_model", vid=vid), None, profile)


def _unconfirm() -> bool:
    """Untick the confirmation after every action: each worse activation or delete is confirmed on its own."""
    return False


def tab(page: Page) -> gr.Tab:
    """The Models tab's layout and events."""
    admin_ok = page.admin_ok
    with gr.Tab(ui("tab_models"), id="models") as models_tab:
        message = gr.Markdown(elem_id="models-message")
        table = gr.Dataframe(headers=MODEL_COLUMNS, interactive=False, elem_id="models-table", wrap=True,
                             column_widths=MODEL_WIDTHS)
        with gr.Row():
            pick = gr.Dropdown(label=ui("models_version"), choices=[], elem_id="model-pick")
            activate = gr.Button(ui("models_activate"), interactive=admin_ok, elem_id="model-activate")
            share = gr.Button(ui("models_share"), interactive=admin_ok, elem_id="model-share")
            delete = gr.Button(ui("delete"), variant="stop", interactive=admin_ok, elem_id="model-delete")
            download = gr.DownloadButton(ui("models_download"), interactive=False)
            download_lite = gr.DownloadButton(ui("models_download_lite"), interactive=False, elem_id="model-lite")
        confirm = gr.Checkbox(False, label=ui("models_confirm"), interactive=admin_ok, elem_id="model-confirm")
        card = gr.Markdown()
        with gr.Row():
            curves = gr.Image(label=ui("models_curves"), interactive=False)
            confusion = gr.Image(label=ui("confusion"), interactive=False)
        with gr.Accordion(ui("models_card_full"), open=False):
            full_card = gr.JSON(label=ui("models_card_full"), show_label=False, elem_id="model-card-json")
        ink_versions.section(page, models_tab, message)  # the ink model's versions (studio.ink_versions)

    out = [message, table, pick]
    raw = dict(preprocess=False)  # ids are validated here: a bad one gets our message, not Gradio's
    models_tab.select(list_models, None, out, api_name="list_models")
    if page.profile is not None:  # another profile chosen: its versions, not the last one's
        page.profile.change(list_models_of, page.profile, out, api_name=False, **raw)
    pick.change(show_model, pick, [card, curves, confusion, download], api_name="show_model", **raw)
    # Its own event, so /show_model's outputs stay as documented.
    pick.change(show_model_card, pick, [full_card, download_lite], api_name="show_model_card", **raw)
    table.select(pick_model_row, None, pick, api_name=False)
    for button, handler, name in ((activate, activate_model, "activate_model"), (share, share_model, "share_model"),
                                  (delete, delete_model, "delete_model")):
        button.click(handler, [pick, page.password, confirm], out, api_name=name, **raw).then(
            _unconfirm, None, confirm, api_name=False)
    return models_tab
