"""The whole page in 简体中文 (issue 23, item 7), in Debian's Chromium through Playwright.

Under ?lang=zh-CN the Retrain tab's data note, status, result and plot axes, the Models table's headings and data
column, a card's settings ("数据增强 True"), My samples' captions and every error toast used to stay English, and
switching the language live left four of five tab names English until a reload. One test walks every tab and the
messages a person meets there and reads what the page shows; another switches the language live.
"""

from __future__ import annotations

import re
import sys
import time

import pytest

import app
from _browser import draw, serving, wait_for
from conftest import FAKE_TRAINER
from mnist_core.config import Paths
from mnist_core.ops.jobs import JobManager, JobOptions

ZH_TABS = ["手写", "照片", "重新训练", "模型", "我的样本"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Latin words the Chinese page may show: proper names (of data sets, licences, libraries, the language switch's own
# "English"), file kinds, the architectures' names as the API takes them, and the names a person or the shipped model
# has ("me", "default"). Paths, file names and version ids are taken out before the words are read.
ALLOWED = {"MNIST", "UCI", "pendigits", "UNIPEN", "CC", "BY", "mlxtend", "Keras", "API", "Gradio", "English", "PNG",
           "JPEG", "cnn", "mlp", "me", "default"}
NOT_WORDS = [
    re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}"),  # version ids
    re.compile(r"\S*/\S*"),  # paths
    re.compile(r"\S*\.(?:keras|tflite|json|npz|png|jpe?g)\b"),  # file names and kinds (card.json, .keras)
    re.compile(r"\d+(?:\.\d+)?e-?\d+"),  # 1e-06
    re.compile(r"\d+(?:\.\d+)?s\b"),  # Gradio's timer on a component while its event runs: "0.2s"
]
LATIN = re.compile(r"[A-Za-z][A-Za-z'’_-]*")

# The fake trainer (tests/conftest.py) describing its data as the real one does (mnist_core.train.run).
RUN_DATA = ("MNIST from /data/mnist.npz: 1,000 training digits + real handwriting: 13,292 pen digits by 260 writers "
            "(UCI pendigits, UNIPEN; CC BY 4.0), shipped with the studio; test set: MNIST test (10,000 digits)")

# Strokes of a "7", in pixels from the centre of the drawing area.
SEVEN = [[(-70, -100), (70, -100), (-15, 110)]]


@pytest.fixture(scope="module")
def url(tmp_path_factory, mnist_path):
    """The app on loopback over a fresh data directory, training with a fake trainer (milliseconds an epoch)."""
    folder = tmp_path_factory.mktemp("zh")
    trainer = folder / "fake_trainer.py"
    trainer.write_text(FAKE_TRAINER.replace('data="fake data"', f"data={RUN_DATA!r}"))
    config = app.StudioConfig(paths=Paths(home=folder / "home"), data=mnist_path)
    jobs = lambda: JobManager(config.paths, command=[sys.executable, str(trainer)], options=JobOptions(nice=0))  # noqa: E731
    with serving(config, jobs) as url:
        yield url


def visible_text(page) -> str:
    """Everything the page shows: its text (toasts and plots' labels included) and the values of visible boxes."""
    return page.evaluate("""() => {
      const parts = [document.body.innerText];
      document.querySelectorAll('textarea, input[type=text], input:not([type])').forEach((e) => {
        if (e.offsetParent !== null && e.value) parts.push(e.value);
      });
      return parts.join('\\n');
    }""")


def english_words(text: str) -> list[str]:
    """The lines of ``text`` with a Latin word that is not allowed (each line once, the words first)."""
    found = {}
    for line in text.splitlines():
        plain = line
        for pattern in NOT_WORDS:
            plain = pattern.sub(" ", plain)
        words = [w for w in LATIN.findall(plain) if w.strip("'’_-") not in ALLOWED]
        if words:
            found[line.strip()[:160]] = words
    return [f"{words} in {line!r}" for line, words in found.items()]


class Walk:
    """What a zh-CN page has shown so far, read after each step."""

    def __init__(self, page):
        self.page, self.seen = page, {}

    def read(self, step: str) -> str:
        text = visible_text(self.page)
        self.seen[step] = text
        return text

    def toast(self, step: str, words: str) -> None:
        """Wait for an error toast saying ``words``, read the page with it, close the toasts."""
        wait_for(lambda: words in self.page.locator(".toast-body").all_inner_texts().__str__(), 30,
                 f"the toast {words!r} ({step})", lambda: self.page.locator(".toast-body").all_inner_texts())
        title = self.page.locator(".toast-title").first
        wait_for(lambda: title.inner_text().strip() == "错误", 10, "the toast's title in Chinese", title.inner_text)
        self.read(step)
        for close in self.page.locator(".toast-close").all():
            close.click()

    def english(self) -> list[str]:
        return [f"{step}: {line}" for step, text in self.seen.items() for line in english_words(text)]


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_every_tab_and_message_of_the_chinese_page_is_chinese(browser, url, images):
    # An English browser: the address asks for Chinese.
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page.set_default_timeout(60_000)
    walk = Walk(page)
    try:
        page.goto(url + "?lang=zh-CN")
        page.wait_for_selector("#sketch canvas")
        wait_for(lambda: page.get_by_role("tab").all_inner_texts() == ZH_TABS, 60, "the Chinese tabs")
        wait_for(lambda: "正在使用共享模型" in page.locator("#tune-text").inner_text(), 60, "the fine-tune panel")
        # Gradio's placeholder for a part still loading is worded when the page starts (in the browser's English
        # here, before ?lang= applies) and goes once it has loaded.
        wait_for(lambda: "Loading" not in page.locator("body").inner_text(), 30, "the page loaded")
        walk.read("Draw, nothing drawn")
        # Draw: refusals, an answer, a correction saved.
        page.click("#draw-save")
        walk.toast("Draw, saving nothing", "请先写一个数字")
        draw(page, SEVEN)
        number = page.locator("#draw-number textarea")
        wait_for(lambda: number.input_value() == "7", 60, "the 7 read")
        page.click("#draw-save")
        walk.toast("Draw, saving without a label", "还没有选择数字")
        page.locator("#draw-fix .clear-status button").click()  # the refusal's mark lies over the choice (an output)
        page.locator("#draw-fix").get_by_label("1", exact=True).check()
        page.click("#draw-save")
        wait_for(lambda: "标注为" in page.locator("#draw-saved").inner_text(), 30, "the save message")
        walk.read("Draw, a 7 saved as a 1")
        # Photo: a file that is not an image.
        open_tab(page, "照片")
        page.locator("#photo input[type=file]").set_input_files(str(images["not_an_image.png"]))
        walk.toast("Photo, not an image", "不是图像")
        # Retrain: the data note, a bad setting, a training (the fake trainer), its status, result and curves.
        open_tab(page, "重新训练")
        note = page.locator("#data-note")
        wait_for(lambda: "测试集" in note.inner_text() and "真实笔迹" in note.inner_text(), 30, "the data note",
                 note.inner_text)
        summary = page.locator("#train-summary textarea")
        wait_for(lambda: summary.input_value() == "还没有进行过训练。", 30, "the idle status", summary.input_value)
        walk.read("Retrain, idle")
        epochs = page.get_by_label("训练轮数")
        epochs.fill("0")
        page.click("#train-start")
        walk.toast("Retrain, 0 epochs", "训练轮数必须是")
        epochs.fill("2")
        page.locator("#train-limit input").fill("1000")
        page.click("#train-start")
        wait_for(lambda: page.locator('#train-progress[data-status="done"]').count() == 1, 60, "the training done")
        wait_for(lambda: "训练完成" in summary.input_value(), 30, "the status", summary.input_value)
        wait_for(lambda: "轮次" in page.locator("#loss-plot").inner_text(), 30, "the curves' axes",
                 lambda: page.locator("#loss-plot").inner_text())
        wait_for(lambda: "新版本" in page.locator("#train-result").inner_text(), 30, "the result")
        text = walk.read("Retrain, done")
        assert "数据：MNIST（来自" in text and "个训练数字" in text  # the run's data, worded
        # Models: the table, the shipped model's card, a refused delete.
        open_tab(page, "模型")
        table = page.locator("#models-table")
        wait_for(lambda: "版本" in table.inner_text() and "default" in table.inner_text(), 30, "the models table",
                 table.inner_text)
        wait_for(lambda: "数据增强 是" in page.locator("body").inner_text(), 30, "the card's settings in words")
        walk.read("Models")
        page.click("#model-delete")
        walk.toast("Models, deleting the shipped model", "不能删除")
        # My samples: the gallery's captions, refusals, a relabel.
        open_tab(page, "我的样本")
        gallery = page.locator("#samples-gallery")
        wait_for(lambda: "（来自手写）" in gallery.inner_text(), 30, "the sample's caption", gallery.inner_text)
        page.click("#samples-relabel")
        walk.toast("My samples, relabelling nothing", "还没有选择样本")
        gallery.locator("img").first.click()
        page.click("#samples-relabel")
        walk.toast("My samples, no new label", "还没有选择新标签")
        page.locator("#samples-label").get_by_label("8", exact=True).check()
        page.click("#samples-relabel")
        wait_for(lambda: "现在标注为 8" in page.locator("#samples-message").inner_text(), 30, "the relabel message")
        walk.read("My samples, relabelled")
        english = walk.english()
        assert not english, "English on the Chinese page:\n" + "\n".join(english)
        assert "translation_metadata" not in "".join(walk.seen.values())  # no string left for a translator
    finally:
        page.close()


def test_switching_to_chinese_live_renames_every_tab(browser, url):
    """The switch, without a reload, on a page that has not loaded Gradio's Chinese yet (delayed here: a slow network
    or a busy machine) names all five tabs in Chinese, and a tab chosen next speaks it too."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page.set_default_timeout(60_000)

    def late(route):
        time.sleep(3)
        route.continue_()

    try:
        page.route(re.compile(r".*/assets/zh-CN-[^/]*\.js(\?.*)?$"), late)
        page.goto(url)
        page.wait_for_selector("#sketch canvas")
        tabs = lambda: page.get_by_role("tab").all_inner_texts()  # noqa: E731
        wait_for(lambda: tabs() == ["Draw", "Photo", "Retrain", "Models", "My samples"], 30, "the English tabs", tabs)
        page.locator("#language").get_by_label("简体中文", exact=True).check()
        wait_for(lambda: tabs() == ZH_TABS, 30, "every tab named in Chinese", tabs)
        time.sleep(4)  # Gradio's Chinese arrives meanwhile: the names stay
        assert tabs() == ZH_TABS
        open_tab(page, "重新训练")
        note = page.locator("#data-note")
        wait_for(lambda: "测试集" in note.inner_text(), 30, "the data note in Chinese", note.inner_text)
        assert english_words(note.inner_text()) == []
        page.locator("#language").get_by_label("English", exact=True).check()
        wait_for(lambda: tabs() == ["Draw", "Photo", "Retrain", "Models", "My samples"], 30, "the English tabs again",
                 tabs)
    finally:
        page.close()
