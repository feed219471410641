"""The Retrain tab: settings, one training job at a time with live progress and curves, and its result."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from mnist_core.config import TrainSettings
from mnist_core.train.data import describe_available
from mnist_core.ops.jobs import JobBusy, JobRequest, JobStatus
from mnist_core.train.pen import pen_note
from mnist_core.store.registry import RegistryError
from studio.actions import activate
from studio.i18n import say, ui, use_language
from studio.requests import fail, refused, require_admin
from studio.services import Page, StudioConfig, services
from studio.views import png_file

# The API's values for "Train on" (the page shows them translated).
DATA_CHOICES = ["MNIST", "MNIST + my samples", "Fine-tune the active model on my samples"]
_DATA_LABELS = ["data_mnist", "data_mnist_samples", "data_finetune"]


def _number_setting(value, name: str, kind=int):
    """A setting typed into a box as int or float; gr.Error naming the setting (``name``: its string key)."""
    if value is None or value == "":
        raise fail("err_missing", name=say(name))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: float(10**400)
        raise fail("err_not_number", name=say(name), value=repr(value)) from None
    if kind is int:
        if not number.is_integer():
            raise fail("err_not_whole", name=say(name), value=repr(value))
        return int(number)
    return number


def _request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate,
             pen_data=True) -> JobRequest:
    if data not in DATA_CHOICES:
        raise fail("err_data_choice", choices=", ".join(DATA_CHOICES))
    limit_n = _number_setting(limit if limit not in (None, "") else 0, "set_limit")
    settings = TrainSettings(
        arch=str(arch),
        epochs=_number_setting(epochs, "set_epochs"),
        batch_size=_number_setting(batch_size, "set_batch"),
        lr=_number_setting(lr, "set_lr", float),
        augment=bool(augment),
        limit=limit_n or None,
        sample_weight=_number_setting(sample_weight, "set_weight", float),
        validation=min(TrainSettings.validation, max(100, (limit_n or 10**9) // 5)),
        data="mnist+pen" if _truthy(pen_data) else "mnist",
    )
    return JobRequest(
        settings=settings,
        data=services().config.data,
        use_samples=data == DATA_CHOICES[1],
        finetune=services().registry.active() if data == DATA_CHOICES[2] else None,
        activate="if_better" if auto_activate else "no",
    )


def _truthy(value) -> bool:
    """A checkbox's value as the API may send it: a bool, or a string such as "false"."""
    return value.strip().lower() not in ("", "0", "false", "no", "off") if isinstance(value, str) else bool(value)


def data_note(config: StudioConfig) -> str:
    """What "MNIST" means here (a given file, the full set, or, said plainly, the offline subset), and the pen data."""
    mnist = f"MNIST from {config.data}" if config.data else describe_available()
    return f"{mnist}; real handwriting: {pen_note()}"


def _progress_html(s: JobStatus) -> str:
    pct = round(100 * s.fraction)
    colour = {"failed": "#dc2626", "cancelled": "#9ca3af", "done": "#16a34a"}.get(s.status, "#f97316")
    details = []
    if s.running and s.loss is not None:
        details.append(say("progress_loss", loss=f"{s.loss:.3f}"))
    if s.running and s.accuracy is not None:
        details.append(say("progress_accuracy", accuracy=f"{s.accuracy:.1%}"))
    if s.data:
        details.append(say("progress_data", data=s.data))
    return (
        f'<div id="train-progress" data-status="{s.status}" data-fraction="{s.fraction:.4f}" '
        f'data-points="{len(s.curves)}">'
        f'<div style="background:#e5e7eb;border-radius:6px;height:14px;overflow:hidden">'
        f'<div style="width:{pct}%;background:{colour};height:14px;transition:width .4s"></div></div>'
        f"<p><b>{html.escape(s.describe())}</b></p><p style=\"opacity:.8\">{html.escape(' · '.join(details))}</p></div>"
    )


def _curves(s: JobStatus, metric: str) -> pd.DataFrame:
    """One metric's points so far: epoch (float, fractional within an epoch), split, value."""
    rows = [p for p in s.curves if p["metric"] == metric]
    # Explicit dtypes: an empty frame would otherwise be "object" and the plot's x axis categorical.
    return pd.DataFrame({
        "epoch": pd.Series([p["epoch"] for p in rows], dtype="float64"),
        "split": pd.Series([p["split"] for p in rows], dtype="string"),
        "value": pd.Series([p["value"] for p in rows], dtype="float64"),
    })


def _result(s: JobStatus):
    """Markdown, confusion image, mistakes image and version id of a finished job (empty otherwise)."""
    if s.status != "done" or not s.result:
        return "", None, None, ""
    res = s.result
    vid = res.get("version", "")
    card = res.get("card") or {}
    acc = (card.get("metrics") or {}).get("accuracy")
    before, before_acc = res.get("active_before"), res.get("active_accuracy")
    lines = [say("res_new_version", vid=vid)]
    if acc is not None:
        lines.append(say("res_accuracy", acc=f"{acc:.2%}",
                         source=card.get("data", {}).get("source") or say("res_test_set")))
    if before_acc is not None and acc is not None:
        diff = (acc - before_acc) * 100
        verdict = "res_better" if diff > 0 else "res_worse" if diff < 0 else "res_same"
        lines.append(say(verdict, before=before, before_acc=f"{before_acc:.2%}", diff=f"{diff:+.2f}"))
    lines.append(say("res_activated" if res.get("activated") else "res_press_activate"))
    try:
        folder = services().registry.model_path(vid).parent
    except RegistryError:  # the log names a version the registry does not know: show no plots
        folder = None
    images = [png_file(folder / name) if folder else None for name in ("confusion.png", "mistakes.png")]
    return "\n\n".join(lines), images[0], images[1], vid


def _status_outputs(s: JobStatus):
    md, confusion, mistakes, vid = _result(s)
    if s.status == "done" and (s.result or {}).get("activated"):
        services().model.refresh_now()
    can_activate = bool(vid) and not (s.result or {}).get("activated") and services().admin_mode != "disabled"
    return (
        s.describe(),
        _progress_html(s),
        _curves(s, "loss"),
        _curves(s, "accuracy"),
        md,
        confusion,
        mistakes,
        vid,
        gr.Button(interactive=can_activate),
        gr.Timer(active=s.running),
    )


def train(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate, password="",
          pen_data=True, request: gr.Request = None):
    """Start a training job (one at a time); returns the status outputs and starts the tab's polling."""
    use_language(request)
    require_admin(password)
    try:
        status = services().jobs.start(_request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit,
                                              auto_activate, pen_data))
    except JobBusy as e:
        raise refused(e, title="title_busy") from None
    except gr.Error:  # already worded for people (gr.Error is a ValueError: don't wrap it again)
        raise
    except ValueError as e:
        raise refused(e, title="title_bad_settings") from None
    return _status_outputs(status)


def training_status(request: gr.Request = None):
    """The current (or last) training's progress, curves and result."""
    use_language(request)
    return _status_outputs(services().jobs.status())


def cancel_training(password="", request: gr.Request = None):
    """Ask the running training to stop; it does within a few seconds."""
    use_language(request)
    require_admin(password)
    if not services().jobs.cancel():
        return say("msg_no_training")
    return say("msg_cancelling")


def activate_new(version, password="", request: gr.Request = None) -> str:
    """Make the version just trained the live model; the message that says so."""
    use_language(request)
    require_admin(password)
    return say("msg_activated", vid=activate(version))


def tab(page: Page) -> gr.Tab:
    """The Retrain tab's layout and events (its Timer polls the job while one runs)."""
    admin_ok = page.admin_ok
    with gr.Tab(ui("tab_retrain"), id="retrain") as retrain_tab:
        gr.Markdown(ui("data_label") + " " + data_note(page.services.config), elem_id="data-note")
        with gr.Row():
            with gr.Column():
                data = gr.Radio([(ui(k), v) for k, v in zip(_DATA_LABELS, DATA_CHOICES)], value=DATA_CHOICES[0],
                                label=ui("train_on"))
                weight = gr.Slider(0, 100, value=TrainSettings.sample_weight, step=0.5, label=ui("train_weight"))
                pen_data = gr.Checkbox(TrainSettings.data == "mnist+pen", elem_id="train-pen", label=ui("train_pen"),
                                       info=ui("train_pen_info"))
                arch = gr.Radio(["cnn", "mlp"], value="cnn", label=ui("train_arch"), info=ui("train_arch_info"))
            with gr.Column():
                with gr.Row():
                    epochs = gr.Number(TrainSettings.epochs, label=ui("set_epochs"), precision=0, minimum=1)
                    batch = gr.Number(TrainSettings.batch_size, label=ui("set_batch"), precision=0, minimum=1)
                    lr = gr.Number(TrainSettings.lr, label=ui("set_lr"), minimum=0)
                with gr.Row():
                    augment = gr.Checkbox(TrainSettings.augment, label=ui("train_augment"))
                    limit = gr.Number(0, label=ui("train_limit"), precision=0, minimum=0, elem_id="train-limit")
                auto = gr.Checkbox(False, label=ui("train_auto"))
        with gr.Row():
            start = gr.Button(ui("train_start"), variant="primary", interactive=admin_ok, elem_id="train-start")
            cancel = gr.Button(ui("train_cancel"), variant="stop", interactive=admin_ok, elem_id="train-cancel")
        summary = gr.Textbox(label=ui("train_status"), interactive=False, elem_id="train-summary")
        progress = gr.HTML(elem_id="train-progress-box")
        with gr.Row():
            loss_plot = gr.LinePlot(x="epoch", y="value", color="split", title=ui("plot_loss"), elem_id="loss-plot",
                                    x_title="epoch", y_title="loss", height=260)
            acc_plot = gr.LinePlot(x="epoch", y="value", color="split", title=ui("plot_accuracy"), elem_id="acc-plot",
                                   x_title="epoch", y_title="accuracy", height=260)
        result_md = gr.Markdown(elem_id="train-result")
        with gr.Row():
            confusion_img = gr.Image(label=ui("confusion"), interactive=False)
            mistakes_img = gr.Image(label=ui("mistakes"), interactive=False)
        with gr.Row():
            new_version = gr.Textbox(label=ui("train_new_version"), interactive=False)
            activate = gr.Button(ui("train_activate"), interactive=False, elem_id="train-activate")
        activate_msg = gr.Markdown()
        timer = gr.Timer(1.0, active=False)

    status_out = [summary, progress, loss_plot, acc_plot, result_md, confusion_img, mistakes_img, new_version,
                  activate, timer]
    # Admin events validate raw values themselves (preprocess off): a bad value through the API then gets our
    # message, not Gradio's generic one.
    raw = dict(preprocess=False)
    start.click(train, [data, weight, arch, epochs, batch, lr, augment, limit, auto, page.password, pen_data],
                status_out, api_name="train", concurrency_limit=1, **raw)
    cancel.click(cancel_training, page.password, summary, api_name="cancel_training", **raw)
    timer.tick(training_status, None, status_out, api_name="training_status", show_progress="hidden")
    activate.click(activate_new, [new_version, page.password], activate_msg, api_name=False, **raw)
    page.demo.load(training_status, None, status_out, api_name=False)
    return retrain_tab
