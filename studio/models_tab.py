"""The Models tab: every version with its card (and the whole card.json); activate (roll back), delete, download."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from mnist_core.store.registry import RegistryError
from studio.actions import activate
from studio.i18n import say, ui, use_language
from studio.requests import refused, require_admin, version_id
from studio.services import Page, services
from studio.views import png_file

# The table's columns: data for API clients as much as headings, so they stay the same in every language.
MODEL_COLUMNS = ["active", "version", "created", "arch", "data", "accuracy", "train time"]


def _models_table() -> pd.DataFrame:
    registry = services().registry
    active = registry.active()
    rows = []
    for card in registry.versions():
        data = card.get("data") or {}
        acc = (card.get("metrics") or {}).get("accuracy")
        secs = card.get("train_seconds")
        rows.append([
            "●" if card["id"] == active else "",
            card["id"],
            str(card.get("created", ""))[:19].replace("T", " "),
            card.get("arch", "?") if "broken" not in card else "broken",
            _data_text(data),
            f"{acc:.2%}" if isinstance(acc, (int, float)) else "",
            f"{secs:.0f} s" if isinstance(secs, (int, float)) else "",
        ])
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def _data_text(data: dict) -> str:
    if not data:
        return ""
    text = str(data.get("source", ""))
    if data.get("train_size"):
        text += say("card_digits", n=f"{int(data['train_size']):,}")
    if data.get("subset"):
        text += say("card_subset")
    if data.get("user_samples"):
        text += say("card_yours", n=int(data["user_samples"]))
    return text


def _card_markdown(vid: str) -> str:
    registry = services().registry
    card = registry.card(vid)
    acc = (card.get("metrics") or {}).get("accuracy")
    settings = card.get("settings") or {}
    params = card.get("params")
    seconds = card.get("train_seconds")
    lines = [
        f"### `{vid}`{say('card_active') if vid == registry.active() else ''}",
        say("card_created", created=str(card.get("created", "?"))[:19].replace("T", " ")),
        say("card_arch_params", arch=card.get("arch", "?"), params=f"{params:,}") if isinstance(params, int)
        else say("card_arch", arch=card.get("arch", "?")),
        say("card_data", data=_data_text(card.get("data") or {}) or "?"),
        say("card_accuracy", acc=f"{acc:.2%}" if isinstance(acc, (int, float)) else "?"),
        say("card_time", seconds=f"{seconds:.0f}") if isinstance(seconds, (int, float)) else "",
        say("card_settings", epochs=settings.get("epochs", "?"), batch=settings.get("batch_size", "?"),
            lr=settings.get("lr", "?"), augment=settings.get("augment", "?")) if settings else "",
        say("card_parent", parent=card["parent"]) if card.get("parent") else "",
        _personal_line(vid, card),
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
    return say("card_profile", profile=profile, live=say("card_profile_live") if live else "",
               before=f"{before.get('correct', 0)}/{before.get('count', 0)}",
               after=f"{after.get('correct', 0)}/{after.get('count', 0)}",
               mnist_before=f"{info.get('mnist_before', 0):.2%}", mnist_after=f"{info.get('mnist_after', 0):.2%}")


def show_model(version, request: gr.Request = None):
    """A version's card, its curves and confusion plots, and a download of its .keras file."""
    use_language(request)
    if not version:
        return say("msg_pick_version"), None, None, gr.DownloadButton(value=None, interactive=False)
    vid = version_id(version)
    try:
        md = _card_markdown(vid)
        path = services().registry.model_path(vid)
    except RegistryError as e:
        raise refused(e) from None
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
    try:
        card = registry.card(vid)
    except RegistryError as e:
        raise refused(e) from None
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


def _models_outputs(message: str, selected: str | None):
    table = _models_table()
    choices = table["version"].tolist()
    selected = selected if selected in choices else services().registry.active()
    return message, table, gr.Dropdown(choices=choices, value=selected)


def list_models(request: gr.Request = None):
    """Every version: a table of cards, and the version picker."""
    use_language(request)
    return _models_outputs("", None)


def activate_model(version, password="", request: gr.Request = None):
    """Make a version the live model (for everyone, at once)."""
    use_language(request)
    require_admin(password)
    vid = activate(version)
    return _models_outputs(say("msg_activated", vid=vid), vid)


def delete_model(version, password="", request: gr.Request = None):
    """Delete a version (never the active one, never the shipped default)."""
    use_language(request)
    require_admin(password)
    vid = version_id(version)
    try:
        services().registry.delete(vid)
    except RegistryError as e:
        raise refused(e) from None
    return _models_outputs(say("msg_deleted_model", vid=vid), None)


def tab(page: Page) -> gr.Tab:
    """The Models tab's layout and events."""
    admin_ok = page.admin_ok
    with gr.Tab(ui("tab_models"), id="models") as models_tab:
        message = gr.Markdown()
        table = gr.Dataframe(headers=MODEL_COLUMNS, interactive=False, elem_id="models-table")
        with gr.Row():
            pick = gr.Dropdown(label=ui("models_version"), choices=[], elem_id="model-pick")
            activate = gr.Button(ui("models_activate"), interactive=admin_ok)
            delete = gr.Button(ui("delete"), variant="stop", interactive=admin_ok)
            download = gr.DownloadButton(ui("models_download"), interactive=False)
            download_lite = gr.DownloadButton(ui("models_download_lite"), interactive=False, elem_id="model-lite")
        card = gr.Markdown()
        with gr.Row():
            curves = gr.Image(label=ui("models_curves"), interactive=False)
            confusion = gr.Image(label=ui("confusion"), interactive=False)
        with gr.Accordion(ui("models_card_full"), open=False):
            full_card = gr.JSON(label=ui("models_card_full"), show_label=False, elem_id="model-card-json")

    out = [message, table, pick]
    raw = dict(preprocess=False)  # ids are validated here: a bad one gets our message, not Gradio's
    models_tab.select(list_models, None, out, api_name="list_models")
    pick.change(show_model, pick, [card, curves, confusion, download], api_name="show_model", **raw)
    # Its own event, so /show_model's outputs stay as documented.
    pick.change(show_model_card, pick, [full_card, download_lite], api_name="show_model_card", **raw)
    table.select(pick_model_row, None, pick, api_name=False)
    activate.click(activate_model, [pick, page.password], out, api_name="activate_model", **raw)
    delete.click(delete_model, [pick, page.password], out, api_name="delete_model", **raw)
    return models_tab
