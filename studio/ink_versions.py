"""The ink model's versions for the Retrain and Models tabs: its registry, its table, activating one; the Models tab's
ink section (`section`: a table, a picker and an Activate button; /list_ink_models, /activate_ink_model).

The ink registry (``Registry(paths, kind="ink")``: ``<home>/ink-models``, the ``ink-active`` pointer, the shipped
``models/ink.*``) is made per call: it holds nothing but paths. The model server notices a new active ink version
itself (it compares ``registry.active()`` with the reader it serves).
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from mnist_core.store.registry import Registry, RegistryError
from studio.i18n import say, ui, use_language
from studio.requests import refused, require_admin, version_id
from studio.services import Page, services
from studio.wording import ink_test_set

# The ink table's columns as API clients get them (English; a page gets them in its language, "col_*" strings).
INK_COLUMNS = ["active", "version", "created", "arch", "accuracy", "test set", "fusion"]


def ink_registry() -> Registry:
    """The ink model's versions in the studio's data directory."""
    return Registry(services().config.paths, kind="ink")


def is_ink_version(vid: str) -> bool:
    """Whether ``vid`` (a valid id) names an ink version rather than an image one."""
    return ink_registry().exists(vid) and not services().registry.exists(vid)


def _row(card: dict, active: str) -> list:
    m, f = card.get("metrics") or {}, card.get("fusion") or {}
    # A trained version reports its test set (card "test_set"); the shipped card, its calibration writers.
    acc = m.get("accuracy", m.get("calibration_accuracy"))
    where = ink_test_set(card.get("test_set")) or (say("ink_calibration") if "calibration_accuracy" in m else "")
    return [
        "●" if card["id"] == active else "",
        card["id"],
        str(card.get("created") or card.get("saved") or "")[:19].replace("T", " "),
        card.get("arch", "?") if "broken" not in card else say("arch_broken"),
        f"{acc:.2%}" if isinstance(acc, (int, float)) else "",
        where,
        (f"{f['w_image']:g} / {f['w_ink']:g}" + (say("ink_fusion_matrix") if f.get("matrix") else ""))
        if "w_image" in f and "w_ink" in f else "",
    ]


def ink_table() -> pd.DataFrame:
    """Every ink version, newest first, the shipped one last; the active one marked."""
    registry = ink_registry()
    active = registry.active()
    return pd.DataFrame([_row(c, active) for c in registry.versions()], columns=INK_COLUMNS)


def activate_ink(version) -> str:
    """Make ``version`` the active ink model (checked loadable first); its id. gr.Error when it cannot be."""
    vid = version_id(version)
    try:
        ink_registry().activate(vid)
    except RegistryError as e:
        raise refused(e) from None
    return vid


def _ink_outputs(selected: str | None):
    table = ink_table()
    choices = table["version"].tolist()
    selected = selected if selected in choices else ink_registry().active()
    table.columns = [say(f"col_{c.replace(' ', '_')}") for c in INK_COLUMNS]  # the same English for API clients
    return table, gr.Dropdown(choices=choices, value=selected)


def list_ink_models(request: gr.Request = None):
    """Every ink version: a table of cards, and the ink version picker."""
    use_language(request)
    return _ink_outputs(None)


def activate_ink_model(version, password="", request: gr.Request = None):
    """Make an ink version the live ink model (for everyone); the message, the table, the picker."""
    use_language(request)
    require_admin(password)
    vid = activate_ink(version)
    return (say("msg_activated_ink", vid=vid), *_ink_outputs(vid))


def section(page: Page, tab: gr.Tab, message: gr.Markdown) -> None:
    """The Models tab's ink versions (laid out where it is called, inside the tab) and their events."""
    with gr.Accordion(ui("models_ink"), open=True):
        table = gr.Dataframe(headers=INK_COLUMNS, interactive=False, elem_id="ink-models-table")
        with gr.Row():
            pick = gr.Dropdown(label=ui("models_ink_version"), choices=[], elem_id="ink-model-pick")
            activate = gr.Button(ui("models_ink_activate"), interactive=page.admin_ok, elem_id="ink-model-activate")
    tab.select(list_ink_models, None, [table, pick], api_name="list_ink_models")
    activate.click(activate_ink_model, [pick, page.password], [message, table, pick], api_name="activate_ink_model",
                   preprocess=False)  # the id is validated here: a bad one gets our message
