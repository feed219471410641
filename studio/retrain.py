"""The Retrain tab: settings, one training job at a time with live progress and curves, and its result.

"Model" chooses what is trained: the image model (the settings below) or the ink net (its epochs and digit limit
only; versions in the ink registry, studio.ink_versions), one job at a time either way."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from mnist_core.config import TrainSettings
from mnist_core.ink.fit import InkTrainSettings
from mnist_core.ops.jobs import JobBusy, JobRequest, JobStatus
from mnist_core.store.registry import DEFAULT_ID, Registry, RegistryError
from mnist_core.train.evaluate import card_tests
from studio.actions import activate
from studio.i18n import current_language, say, ui, use_language
from studio.ink_versions import activate_ink, is_ink_version
from studio.requests import chosen_profile, fail, profile_of, refused, require_admin, version_id
from studio.services import Page, StudioConfig, services
from studio.testsets import data_test_note, test_set_of
from studio.views import png_file
from studio.wording import available, ink_test_set, job_line, pen_line, run_data

# The API's values for "Train on" (the page shows them translated).
DATA_CHOICES = ["MNIST", "MNIST + my samples", "Fine-tune the active model on my samples"]
_DATA_LABELS = ["data_mnist", "data_mnist_samples", "data_finetune"]
# The API's values for "Model": the image model, or the ink net (its epochs and limit alone apply).
MODEL_KINDS = ["image", "ink"]


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


def _ink_request(epochs, limit, auto_activate) -> JobRequest:
    """An ink net's training: the epochs and the digit limit (0: all) from the form, the rest its defaults."""
    limit_n = _number_setting(limit if limit not in (None, "") else 0, "set_limit")
    settings = InkTrainSettings(epochs=_number_setting(epochs, "set_epochs"), limit=limit_n or None)
    return JobRequest(ink=settings, activate="if_better" if _truthy(auto_activate) else "no")


def _request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate,
             pen_data=True, kind="image") -> JobRequest:
    if kind not in MODEL_KINDS:
        raise fail("err_data_choice", choices=", ".join(MODEL_KINDS))
    if kind == "ink":
        return _ink_request(epochs, limit, auto_activate)
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
    """What "MNIST" means here (a given file, the full set, or, said plainly, the offline subset), the pen data, and
    the test set every figure is measured on, with the shipped model's figures on each."""
    mnist = say("data_from", path=config.data) if config.data else available()
    try:
        shipped = Registry(config.paths).card(DEFAULT_ID)
    except RegistryError:  # no shipped card: no figures to give
        shipped = {}
    return f"{mnist}; {pen_line()}\n\n" + data_test_note(config.data, shipped)


def data_banner(request: gr.Request = None) -> str:
    """The tab's data note, in the page's language (filled when the page loads and when the tab is chosen)."""
    use_language(request)
    return say("data_label") + " " + data_note(services().config)


def _progress_html(s: JobStatus) -> str:
    pct = round(100 * s.fraction)
    colour = {"failed": "#dc2626", "cancelled": "#9ca3af", "done": "#16a34a"}.get(s.status, "#f97316")
    details = []
    if s.running and s.loss is not None:
        details.append(say("progress_loss", loss=f"{s.loss:.3f}"))
    if s.running and s.accuracy is not None:
        details.append(say("progress_accuracy", accuracy=f"{s.accuracy:.1%}"))
    if s.data:
        details.append(say("progress_data", data=run_data(s.data)))
    return (
        f'<div id="train-progress" data-status="{s.status}" data-fraction="{s.fraction:.4f}" '
        f'data-points="{len(s.curves)}">'
        f'<div style="background:#e5e7eb;border-radius:6px;height:14px;overflow:hidden">'
        f'<div style="width:{pct}%;background:{colour};height:14px;transition:width .4s"></div></div>'
        f"<p><b>{html.escape(job_line(s))}</b></p><p style=\"opacity:.8\">{html.escape(' · '.join(details))}</p></div>"
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


def _plot(s: JobStatus, metric: str):
    """One metric's curves for its plot: the points (API clients, English); in another language, the plot with its
    axes, legend and splits worded in it (the page's static titles cannot be translated in the browser)."""
    points = _curves(s, metric)
    if current_language() == "en":
        return points
    points["split"] = points["split"].map(lambda split: say(f"split_{split}")).astype("string")
    return gr.LinePlot(value=points, x_title=say("plot_epoch"), y_title=say(f"plot_{metric}_axis"),
                       color_title=say("plot_split"))


def _result(s: JobStatus):
    """Markdown, confusion image, mistakes image and version id of a finished job (empty otherwise)."""
    if s.status != "done" or not s.result:
        return "", None, None, ""
    if s.kind == "ink":
        return _ink_result(s.result), None, None, s.result.get("version") or ""
    res = s.result
    vid = res.get("version", "")
    card = res.get("card") or {}
    acc = (card.get("metrics") or {}).get("accuracy")
    before, before_acc = res.get("active_before"), res.get("active_accuracy")
    lines = [say("res_new_version", vid=vid)]
    if acc is not None:  # named: the run's test set (MNIST's test; offline, the held-out pen writers)
        lines.append(say("res_accuracy", acc=f"{acc:.2%}", test_set=test_set_of(res, card)))
    # The active model's figure is measured again on the same test set by the run; an older offline card's figure
    # was on the offline subset's MNIST training digits, which the shipped model learned: no fair comparison.
    if before_acc is not None and acc is not None and "offline_subset" in card_tests(card):
        lines.append(say("res_no_compare", before=before))
    elif before_acc is not None and acc is not None:
        diff = (acc - before_acc) * 100
        verdict = "res_better" if diff > 0 else "res_worse" if diff < 0 else "res_same"
        lines.append(say(verdict, before=before, before_acc=f"{before_acc:.2%}", diff=f"{diff:+.2f}"))
    lines.append(_serving_line(res, vid))
    try:
        folder = services().registry.model_path(vid).parent
    except RegistryError:  # the log names a version the registry does not know: show no plots
        folder = None
    images = [png_file(folder / name) if folder else None for name in ("confusion.png", "mistakes.png")]
    return "\n\n".join(lines), images[0], images[1], vid


def _ink_result(res: dict) -> str:
    """Markdown of a finished ink training: its version, test figure, fusion weights, activation."""
    card = res.get("card") or {}
    m, f = card.get("metrics") or {}, card.get("fusion") or {}
    lines = [say("res_new_ink_version", vid=res.get("version", ""))]
    if isinstance(m.get("accuracy"), (int, float)):
        lines.append(say("res_ink_accuracy", acc=f"{m['accuracy']:.2%}", n=f"{m.get('count', 0):,}",
                         test_set=ink_test_set(card.get("test_set")) or say("res_test_set")))
        before, before_acc = res.get("active_before"), res.get("active_accuracy")
        if isinstance(before_acc, (int, float)):
            diff = (m["accuracy"] - before_acc) * 100
            verdict = "res_better" if diff > 0 else "res_worse" if diff < 0 else "res_same"
            lines.append(say(verdict, before=before, before_acc=f"{before_acc:.2%}", diff=f"{diff:+.2f}"))
    if "w_image" in f and "w_ink" in f:
        lines.append(say("res_ink_fusion", w_image=f"{f['w_image']:g}", w_ink=f"{f['w_ink']:g}"))
        if str(f.get("method", "")).startswith("matrix"):
            lines.append(say("res_ink_fusion_matrix"))
    lines.append(say("res_activated" if res.get("activated") else "res_press_activate"))
    return "\n\n".join(lines)


def _serving_line(res: dict, vid: str) -> str:
    """Whether the version serves now, for everyone or (a personal fine-tune, shown to its own profile only) for its
    profile: the registry's state, so the result follows an activation made after the run."""
    registry, profile = services().registry, res.get("profile")
    if profile:
        live = registry.personal(profile) == vid
        return say("res_activated_personal" if live else "res_personal_not_live", profile=profile)
    active = registry.active()
    if active == vid:
        return say("res_activated")
    return say("res_now_other", active=active) if res.get("activated") else say("res_press_activate")


def _can_activate(s: JobStatus, vid: str) -> bool:
    """Whether the Activate button has something to do: a version that does not serve what it was trained for."""
    res = s.result or {}
    if not vid or services().admin_mode == "disabled":
        return False
    if s.kind == "ink":
        return not res.get("activated")
    registry, profile = services().registry, res.get("profile")
    return (registry.personal(profile) if profile else registry.active()) != vid


def _status_outputs(s: JobStatus):
    md, confusion, mistakes, vid = _result(s)
    if s.status == "done" and s.kind == "image" and (s.result or {}).get("activated"):
        services().model.refresh_now()
    can_activate = _can_activate(s, vid)
    return (
        job_line(s),
        _progress_html(s),
        _plot(s, "loss"),
        _plot(s, "accuracy"),
        md,
        confusion,
        mistakes,
        vid,
        gr.Button(interactive=can_activate),
        gr.Timer(active=s.running),
    )


def train(data, sample_weight, arch, epochs, batch_size, lr, augment, limit, auto_activate, password="",
          pen_data=True, kind="image", request: gr.Request = None):
    """Start a training job (one at a time) of the image model or (``kind`` "ink") the ink net; returns the status
    outputs and starts the tab's polling."""
    use_language(request)
    require_admin(password)
    try:
        status = services().jobs.start(_request(data, sample_weight, arch, epochs, batch_size, lr, augment, limit,
                                              auto_activate, pen_data, kind))
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
    return _status_outputs(services().jobs.status_for(profile_of(request)))  # another profile's fine-tune: not shown


def training_status_of(profile, request: gr.Request = None):
    """training_status for the profile the page's profile box names (its change: the cookie may not be sent yet)."""
    use_language(request)
    return _status_outputs(services().jobs.status_for(chosen_profile(profile, request)))


def cancel_training(password="", request: gr.Request = None):
    """Ask the running training to stop; it does within a few seconds."""
    use_language(request)
    require_admin(password)
    if not services().jobs.cancel():
        return say("msg_no_training")
    return say("msg_cancelling")


def activate_new(version, password="", confirm=False, request: gr.Request = None) -> str:
    """Make the version just trained live (a worse one only with ``confirm``; a personal fine-tune for its own
    profile alone); the message that says what happened."""
    use_language(request)
    require_admin(password)
    vid = version_id(version)
    if is_ink_version(vid):
        return say("msg_activated_ink", vid=activate_ink(vid))
    return activate(vid, profile_of(request), confirm).message


def show_kind(kind):
    """The form for what is trained: the image model's settings, or the ink net's epochs, limit and note."""
    image = kind != "ink"
    epochs = TrainSettings.epochs if image else InkTrainSettings.epochs
    return (gr.Radio(visible=image), gr.Slider(visible=image), gr.Checkbox(visible=image), gr.Radio(visible=image),
            gr.Number(visible=image), gr.Number(visible=image), gr.Checkbox(visible=image), gr.Number(value=epochs),
            gr.Markdown(visible=not image))


def tab(page: Page) -> gr.Tab:
    """The Retrain tab's layout and events (its Timer polls the job while one runs)."""
    admin_ok = page.admin_ok
    with gr.Tab(ui("tab_retrain"), id="retrain") as retrain_tab:
        note = gr.Markdown(elem_id="data-note")  # worded on the server: data_banner
        kind = gr.Radio([(ui("kind_image"), "image"), (ui("kind_ink"), "ink")], value="image",
                        label=ui("train_model"), elem_id="train-kind")
        ink_note = gr.Markdown(ui("train_ink_note"), visible=False, elem_id="train-ink-note")
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
            confirm = gr.Checkbox(False, label=ui("train_confirm"), interactive=admin_ok, elem_id="train-confirm")
        activate_msg = gr.Markdown(elem_id="train-activate-msg")
        timer = gr.Timer(1.0, active=False)

    status_out = [summary, progress, loss_plot, acc_plot, result_md, confusion_img, mistakes_img, new_version,
                  activate, timer]
    # Admin events validate raw values themselves (preprocess off): a bad value through the API then gets our
    # message, not Gradio's generic one.
    raw = dict(preprocess=False)
    start.click(train, [data, weight, arch, epochs, batch, lr, augment, limit, auto, page.password, pen_data, kind],
                status_out, api_name="train", concurrency_limit=1, **raw)
    kind.change(show_kind, kind, [data, weight, pen_data, arch, batch, lr, augment, epochs, ink_note], api_name=False,
                show_progress="hidden")
    cancel.click(cancel_training, page.password, summary, api_name="cancel_training", **raw)
    timer.tick(training_status, None, status_out, api_name="training_status", show_progress="hidden")
    # After an activation the result, the button and the message say what serves now; the confirmation is unticked.
    activate.click(activate_new, [new_version, page.password, confirm], activate_msg, api_name=False, **raw).then(
        training_status, None, status_out, api_name=False, show_progress="hidden").then(
        lambda: False, None, confirm, api_name=False, show_progress="hidden")
    if page.profile is not None:
        page.profile.change(training_status_of, page.profile, status_out, api_name=False, show_progress="hidden", **raw)
    page.demo.load(training_status, None, status_out, api_name=False)
    # Worded in the page's language when it loads and again when the tab is chosen (after a switch of language).
    quiet = dict(api_name=False, show_progress="hidden")
    page.demo.load(data_banner, None, note, **quiet)
    retrain_tab.select(data_banner, None, note, **quiet)
    retrain_tab.select(training_status, None, status_out, **quiet)
    return retrain_tab
