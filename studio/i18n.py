"""Every string the studio shows, in English and 简体中文, and how each is chosen.

The page's static text (labels, buttons, tab names, help) goes to the browser through Gradio's i18n
(``gr.I18n``, a launch option): the browser picks the language from its own (navigator.language), or from the
page's language switch, and translates in place. What handlers answer (messages, errors, result cards) is
worded here on the server, in the language of the request: the switch's cookie, else the browser's
Accept-Language, else English (API clients send neither: their answers stay in English, as documented).
Numbers and the digits themselves are the same in both.

Strings with ``{placeholders}`` are only worded on the server (``say``): the browser's translator reads braces
as ICU message syntax. Reasons that come from the core (mnist_core knows no Gradio, no language) stay English.
"""

from __future__ import annotations

from contextvars import ContextVar

import gradio as gr

LANGUAGES = ("en", "zh-CN")
COOKIE = "studio-lang"  # set by the page's language switch (see studio.header)

# key -> (English, 简体中文)
STRINGS: dict[str, tuple[str, str]] = {
    # --- the page ---
    "page_title": ("# ✍️ MNIST studio", "# ✍️ MNIST 工作室"),
    "page_intro": ("Draw or photograph digits, correct the model, retrain it, manage its versions.",
                   "手写或拍摄数字，纠正模型，重新训练，管理模型版本。"),
    "language": ("Language", "语言"),
    "admin_password": ("Admin password", "管理员密码"),
    "admin_password_info": ("Needed to train, cancel, activate, delete and relabel on this address.",
                            "在此地址上训练、取消、启用、删除和重新标注都需要它。"),
    "admin_disabled": ("Training, activating, deleting and relabelling are disabled: the studio is served on a "
                       "network address and no admin password is set (env MNIST_STUDIO_ADMIN_PASSWORD).",
                       "训练、启用、删除和重新标注已被禁用：工作室在网络地址上提供服务，但没有设置管理员密码"
                       "（环境变量 MNIST_STUDIO_ADMIN_PASSWORD）。"),
    "tab_draw": ("Draw", "手写"),
    "tab_photo": ("Photo", "照片"),
    "tab_retrain": ("Retrain", "重新训练"),
    "tab_models": ("Models", "模型"),
    "tab_samples": ("My samples", "我的样本"),
    # --- shared by tabs ---
    "number_read": ("Number read", "识别出的数字串"),
    "model_saw": ("What the model saw (28×28)", "模型看到的图像（28×28）"),
    "wrong_its": ("Wrong? It's a …", "认错了？它是 …"),
    "save_sample": ("Save as a sample", "保存为样本"),
    "confusion": ("Confusion matrix", "混淆矩阵"),
    "delete": ("Delete", "删除"),
    # --- Draw ---
    "draw_canvas": ("Draw digits", "在这里写数字"),
    "draw_clear": ("Clear", "清除"),
    "draw_prediction": ("Prediction (top 3)", "预测（前 3 名）"),
    # the canvas's own toolbar (studio/canvas.py picks the pair in the browser: the translator does not reach it)
    "canvas_tools": ("Drawing tools", "绘图工具"),
    "canvas_brush": ("Brush", "画笔"),
    "canvas_eraser": ("Eraser", "橡皮擦"),
    "canvas_thin": ("Thin", "细"),
    "canvas_medium": ("Medium", "中"),
    "canvas_thick": ("Thick", "粗"),
    "canvas_undo": ("Undo", "撤销"),
    "canvas_redo": ("Redo", "重做"),
    "canvas_clear": ("Clear canvas", "清空画布"),
    "canvas_area": ("Drawing area", "书写区域"),
    "draw_which": ("Which digit (1 = the first; 0 = the main one)", "第几个数字（1 = 第一个；0 = 最主要的那个）"),
    "nothing_drawn": ("Nothing drawn yet: draw a digit (or several, side by side).",
                      "还没有书写：写一个数字（或并排写几个）。"),
    "why_show": ("Why? Show which strokes decided each digit", "为什么？显示哪些笔画决定了每个数字"),
    "why_info": ("A heat map over the 28×28 input: each small square of ink is erased in turn and the answer's "
                 "confidence measured again (one extra batch per digit)",
                 "在 28×28 输入上的热力图：依次擦掉每一小块笔迹，再测一次答案的置信度（每个数字多算一批）"),
    "why_view": ("Why the model answered so", "模型为什么这样回答"),
    # --- Photo ---
    "photo_input": ("A photo of digits (upload, webcam or paste)", "数字的照片（上传、摄像头拍摄或粘贴）"),
    "photo_read": ("Read", "识别"),
    "photo_prominent": ("Most prominent digit", "最主要的数字"),
    "photo_found": ("Digits found", "找到的数字"),
    "photo_which": ("Which digit (as numbered on the photo; 0 = the main one)",
                    "第几个数字（按照片上的编号；0 = 最主要的那个）"),
    "no_photo": ("Upload a photo, take one with the webcam or paste one.", "请上传照片、用摄像头拍一张或粘贴一张。"),
    "no_digits": ("No digits found in this photo: try a closer, sharper shot of dark digits on light paper.",
                  "这张照片里没有找到数字：请在浅色纸上写深色数字，拍得更近、更清晰一些。"),
    # --- Retrain ---
    "data_label": ("**Data:**", "**数据：**"),
    "train_on": ("Train on", "训练数据"),
    "data_mnist": ("MNIST", "MNIST"),
    "data_mnist_samples": ("MNIST + my samples", "MNIST + 我的样本"),
    "data_finetune": ("Fine-tune the active model on my samples", "用我的样本微调当前模型"),
    "train_weight": ("Weight of each of my samples (× an MNIST digit)", "每个样本的权重（× 一个 MNIST 数字）"),
    "train_pen": ("Add real handwriting of other writers (pen digits, drawn as on the canvas)",
                  "加入其他书写者的真实笔迹（笔写数字，按画布的方式绘制）"),
    "train_pen_info": ("MNIST alone is the tutorial's choice; its writers are one population, and it reads 2-5% "
                       "of other people's digits wrong",
                       "只用 MNIST 是教程的做法；它的书写者来自同一群体，读其他人的数字会错 2-5%"),
    "train_arch": ("Architecture", "网络结构"),
    "train_arch_info": ("cnn: the accurate default; mlp: the tutorial's 13,002-parameter net",
                        "cnn：准确的默认结构；mlp：教程中 13,002 个参数的网络"),
    "set_epochs": ("Epochs", "训练轮数"),
    "set_batch": ("Batch size", "批大小"),
    "set_lr": ("Learning rate", "学习率"),
    "set_weight": ("Sample weight", "样本权重"),
    "set_limit": ("The digit limit", "数字数量上限"),
    "train_augment": ("Augment (rotate, shift, zoom, stroke)", "数据增强（旋转、平移、缩放、笔画粗细）"),
    "train_limit": ("Use only the first N training digits (0 = all)", "只用前 N 个训练数字（0 = 全部）"),
    "train_auto": ("Activate automatically if it beats the active model", "如果超过当前模型就自动启用"),
    "train_start": ("Start training", "开始训练"),
    "train_cancel": ("Cancel", "取消"),
    "train_status": ("Status", "状态"),
    "plot_loss": ("Loss", "损失"),
    "plot_accuracy": ("Accuracy", "准确率"),
    "mistakes": ("Worst mistakes", "最严重的错误"),
    "train_new_version": ("New version", "新版本"),
    "train_activate": ("Activate", "启用"),
    # --- Models ---
    "models_version": ("Version", "版本"),
    "models_activate": ("Activate / roll back", "启用 / 回滚"),
    "models_download": ("Download .keras", "下载 .keras"),
    "models_download_lite": ("Download .tflite", "下载 .tflite"),
    "models_card_full": ("The whole card (card.json)", "完整的模型卡（card.json）"),
    "models_curves": ("Training curves", "训练曲线"),
    # --- My samples ---
    "samples_show": ("Show", "显示"),
    "samples_all": ("all", "全部"),
    "samples_gallery": ("Saved samples", "已保存的样本"),
    "samples_id": ("Sample id (click one above)", "样本编号（点击上方的样本）"),
    "samples_new_label": ("New label", "新标签"),
    "samples_relabel": ("Relabel", "重新标注"),
    # --- answers worded on the server ---
    "alt_digit": ("digit {i}: 28x28 input", "第 {i} 个数字：28x28 输入"),
    "alt_why": ("digit {i}: heat map of what made it a {guess}", "第 {i} 个数字：使它被读作 {guess} 的热力图"),
    "bars_alt": ("probabilities of the digits 0 to 9; the answer is {guess}", "数字 0 到 9 的概率；答案是 {guess}"),
    "why_legend": ("<b style=\"color:#ff4020\">Red</b>: ink that made the model answer as it did (erasing it lowers "
                   "the answer's confidence). <b style=\"color:#3080ff\">Blue</b>: ink that argued for another digit. "
                   "Ink left grey made little difference.",
                   "<b style=\"color:#ff4020\">红色</b>：让模型给出这个答案的笔迹（擦掉它，答案的置信度就会下降）。"
                   "<b style=\"color:#3080ff\">蓝色</b>：支持另一个数字的笔迹。保持灰色的笔迹影响很小。"),
    "msg_saved": ("Saved as a **{label}** (sample #{sid}). You have {total} samples; they can train the next model.",
                  "已保存为 **{label}**（样本 #{sid}）。你共有 {total} 个样本，可用来训练下一个模型。"),
    "msg_saved_one": ("Saved as a **{label}** (sample #{sid}). You have {total} sample; it can train the next model.",
                      "已保存为 **{label}**（样本 #{sid}）。你共有 {total} 个样本，可用来训练下一个模型。"),
    "msg_no_training": ("No training is running.", "没有正在进行的训练。"),
    "msg_cancelling": ("Cancelling: the training stops within a few seconds.", "正在取消：训练将在几秒内停止。"),
    "msg_activated": ("`{vid}` is now the active model.", "`{vid}` 现在是当前模型。"),
    "msg_deleted_model": ("Deleted `{vid}`.", "已删除 `{vid}`。"),
    "msg_pick_version": ("Pick a version.", "请选择一个版本。"),
    "msg_relabelled": ("Sample #{sid} is now labelled **{label}**.", "样本 #{sid} 现在是 **{label}**。"),
    "msg_deleted_sample": ("Deleted sample #{sid}.", "已删除样本 #{sid}。"),
    "samples_total": ("**{n} samples**", "**{n} 个样本**"),
    "samples_total_one": ("**{n} sample**", "**{n} 个样本**"),
    "progress_loss": ("loss {loss}", "损失 {loss}"),
    "progress_accuracy": ("accuracy {accuracy}", "准确率 {accuracy}"),
    "progress_data": ("data: {data}", "数据：{data}"),
    "res_new_version": ("### New version `{vid}`", "### 新版本 `{vid}`"),
    "res_accuracy": ("Test accuracy **{acc}** on {source}.", "在 {source} 上的测试准确率为 **{acc}**。"),
    "res_test_set": ("the test set", "测试集"),
    "res_better": ("The active model `{before}` scores {before_acc} on the same test set: the new one is better "
                   "than it ({diff} points).",
                   "当前模型 `{before}` 在同一测试集上为 {before_acc}：新模型比它好（{diff} 个百分点）。"),
    "res_worse": ("The active model `{before}` scores {before_acc} on the same test set: the new one is not better "
                  "than it ({diff} points).",
                  "当前模型 `{before}` 在同一测试集上为 {before_acc}：新模型不如它（{diff} 个百分点）。"),
    "res_same": ("The active model `{before}` scores {before_acc} on the same test set: the new one is as good as "
                 "it ({diff} points).",
                 "当前模型 `{before}` 在同一测试集上为 {before_acc}：新模型与它一样好（{diff} 个百分点）。"),
    "res_activated": ("It is **now active**.", "它**现已启用**。"),
    "res_press_activate": ("Press *Activate* to make it live.", "按 *启用* 让它上线。"),
    "card_active": (" (active)", "（当前）"),
    "card_created": ("- **created** {created}", "- **创建于** {created}"),
    "card_arch": ("- **architecture** {arch}", "- **网络结构** {arch}"),
    "card_arch_params": ("- **architecture** {arch} ({params} parameters)", "- **网络结构** {arch}（{params} 个参数）"),
    "card_data": ("- **data** {data}", "- **数据** {data}"),
    "card_accuracy": ("- **test accuracy** {acc}", "- **测试准确率** {acc}"),
    "card_time": ("- **training time** {seconds} s", "- **训练时间** {seconds} 秒"),
    "card_settings": ("- **settings** epochs {epochs}, batch {batch}, lr {lr}, augment {augment}",
                      "- **设置** 轮数 {epochs}，批大小 {batch}，学习率 {lr}，数据增强 {augment}"),
    "card_parent": ("- **fine-tuned from** `{parent}`", "- **微调自** `{parent}`"),
    "card_profile": ("- **personal model of** {profile}{live}: its held-out samples {before} → {after}, MNIST test "
                     "{mnist_before} → {mnist_after}",
                     "- **{profile} 的个人模型**{live}：留出的样本 {before} → {after}，MNIST 测试集 {mnist_before} → "
                     "{mnist_after}"),
    "card_profile_live": (" (serving it)", "（正在为其服务）"),
    "card_digits": (", {n} digits", "，{n} 个数字"),
    "card_subset": (" (offline subset)", "（离线子集）"),
    "card_yours": (" + {n} of yours", " + 你的 {n} 个"),
    # --- profiles and the personal fine-tune (Draw) ---
    "profile": ("Profile (whose handwriting)", "档案（谁的笔迹）"),
    "profile_info": ("Each person's samples and personal model are kept apart: pick yours, or type a new name.",
                     "每个人的样本和个人模型分开保存：选择你的档案，或输入一个新名字。"),
    "tune_start": ("Fine-tune on my samples (~20 s)", "用我的样本微调（约 20 秒）"),
    "tune_title": ("Teach it my handwriting", "教它认我的笔迹"),
    "tune_start_n": ("Fine-tune on my {n} samples (~20 s)", "用我的 {n} 个样本微调（约 20 秒）"),
    "tune_need": ("**{profile}** has {n} sample(s). Correct {more} more and the model can be fine-tuned on your "
                  "handwriting (about 20 s).",
                  "**{profile}** 有 {n} 个样本。再纠正 {more} 个，就可以用你的笔迹微调模型（约 20 秒）。"),
    "tune_offer": ("**{profile}** has {n} samples. Fine-tuning teaches the model your handwriting in about 20 s; one "
                   "sample in {every} is kept out of it to check the result. It goes live for **{profile}** only, and "
                   "only if it reads those better and MNIST's test set loses at most {cost} point.",
                   "**{profile}** 有 {n} 个样本。微调大约 20 秒，让模型学会你的笔迹；每 {every} 个样本留出 1 个不参与"
                   "训练，用来检验结果。只有当它把这些样本读得更好、且 MNIST 测试集最多下降 {cost} 个百分点时，"
                   "才会只对 **{profile}** 启用。"),
    "tune_serving_own": ("**{profile}** is served a personal model, `{vid}`.", "**{profile}** 正在使用个人模型 `{vid}`。"),
    "tune_serving_shared": ("**{profile}** is served the shared model, `{vid}`.",
                            "**{profile}** 正在使用共享模型 `{vid}`。"),
    "tune_running": ("Fine-tuning on **{profile}**'s samples: {progress}", "正在用 **{profile}** 的样本微调：{progress}"),
    "tune_other_running": ("Another training is running ({progress}); fine-tuning can start when it ends.",
                           "另一个训练正在进行（{progress}）；它结束后才能开始微调。"),
    "tune_result": ("**Fine-tuned for {profile}** (`{vid}`, {seconds} s). {held} of your samples were kept out of "
                    "a first fine-tuning to judge it: read right **{before}** before, **{after}** after. The model "
                    "saved was then fine-tuned on all your samples. MNIST test: {mnist_before} → {mnist_after}.",
                    "**已为 {profile} 微调**（`{vid}`，{seconds} 秒）。{held} 个样本没有参与第一次微调，用来评判它：之前读对 "
                    "**{before}**，之后读对 **{after}**。保存的模型随后用你的全部样本微调。MNIST 测试集：{mnist_before} → "
                    "{mnist_after}。"),
    "tune_activated": ("It is now **{profile}**'s model (nobody else's changed).",
                       "它现在是 **{profile}** 的模型（其他人的模型不变）。"),
    "tune_no_help": ("Not activated: it did not read your held-out samples better. {profile} keeps the model it had.",
                     "未启用：它没有把你留出的样本读得更好。{profile} 继续使用原来的模型。"),
    "tune_mnist_cost": ("Not activated: MNIST's test set lost {cost} point (at most {allowed} allowed). {profile} "
                        "keeps the model it had.",
                        "未启用：MNIST 测试集下降了 {cost} 个百分点（最多允许 {allowed}）。{profile} 继续使用原来的模型。"),
    "tune_failed": ("The fine-tune did not finish: {reason}", "微调没有完成：{reason}"),
    "tune_reset": ("Use the shared model again", "改回共享模型"),
    "msg_tune_reset": ("**{profile}** is served the shared model again.", "**{profile}** 重新使用共享模型。"),
    "err_profile": ("Not a profile name: use 1-32 letters, digits, '_' or '-'.",
                    "不是有效的档案名：请使用 1-32 个字母、数字、“_”或“-”。"),
    "err_tune_samples": ("Fine-tuning needs at least {n} samples of {profile}: correct a few more predictions first.",
                         "微调至少需要 {profile} 的 {n} 个样本：请先再纠正几个预测。"),
    # --- errors ---
    "title_error": ("Error", "错误"),
    "title_no_model": ("No model", "没有模型"),
    "title_admin_disabled": ("Admin actions are disabled", "管理操作已禁用"),
    "title_not_allowed": ("Not allowed", "不允许"),
    "title_bad_image": ("Bad image", "图像有问题"),
    "title_busy": ("Training already running", "已有训练在进行"),
    "title_bad_settings": ("Bad training settings", "训练设置有误"),
    "err_no_model": ("The model could not be loaded: {error}", "无法加载模型：{error}"),
    "err_password": ("Wrong or missing admin password.", "管理员密码错误或缺失。"),
    "err_image": ("Cannot read this image: {error}", "无法读取此图像：{error}"),
    "title_bad_ink": ("Bad ink", "笔迹有问题"),
    "model_image": ("picture:", "图像："),
    "model_ink": ("strokes:", "笔画："),
    "err_ink": ("Cannot read these strokes: {error}", "无法读取这些笔画：{error}"),
    "err_expired": ("the upload has expired: please upload the image again",
                    "上传已过期：请重新上传图像"),
    "err_nothing_found": ("Nothing to save: no digit was found.", "没有可保存的：没有找到数字。"),
    "err_draw_first": ("Nothing to save: draw a digit first.", "没有可保存的：请先写一个数字。"),
    "err_which": ("Which digit? Give its number from 1 to {n}.", "哪一个数字？请给出 1 到 {n} 之间的编号。"),
    "err_pick": ("There are {n} digit(s); pick 1 to {n}.", "共有 {n} 个数字；请选择 1 到 {n}。"),
    "err_pick_one": ("There is {n} digit(s); pick 1 to {n}.", "只有 {n} 个数字；请选择 1 到 {n}。"),
    "err_missing": ("{name} is missing.", "缺少{name}。"),
    "err_not_number": ("{name} must be a number, not {value}.", "{name}必须是数字，而不是 {value}。"),
    "err_not_whole": ("{name} must be a whole number, not {value}.", "{name}必须是整数，而不是 {value}。"),
    "err_data_choice": ("Data must be one of: {choices}.", "训练数据必须是以下之一：{choices}。"),
}

TRANSLATIONS: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in STRINGS.items()} for i, lang in enumerate(LANGUAGES)
}
# What gr.Blocks.launch(i18n=...) takes: the browser translates the page's static text with it.
I18N = gr.I18n(**TRANSLATIONS)

_language: ContextVar[str] = ContextVar("studio_language", default="en")


def ui(key: str) -> gr.i18n.I18nData:
    """The page's text for ``key``, translated in the browser (KeyError for a key that has no strings)."""
    if key not in STRINGS:
        raise KeyError(f"no strings for {key!r} in studio.i18n.STRINGS")
    return I18N(key)


def language_of(request: gr.Request | None) -> str:
    """The language to answer ``request`` in: the page switch's cookie, else Accept-Language, else English."""
    if request is None:
        return "en"
    chosen = (getattr(request, "cookies", None) or {}).get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in (request.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):  # zh, zh-CN, zh-TW, ...: the simplified text beats English for any of them
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def use_language(request: gr.Request | None) -> str:
    """Answer the rest of this handler's call in ``request``'s language (a context variable: per call)."""
    lang = language_of(request)
    _language.set(lang)
    return lang


def say(key: str, **values) -> str:
    """The text for ``key`` in the current call's language, with ``values`` filled in."""
    return STRINGS[key][LANGUAGES.index(_language.get())].format(**values)
