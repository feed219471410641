"""The studio in a real browser: Playwright driving Debian's Chromium (headless, no downloads)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

import app
from mnist_core.config import Paths

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Strokes of a "7" and a "1", in pixels from the centre of the drawing area.
SEVEN = [[(-70, -100), (70, -100), (-15, 110)]]
ONE = [[(0, -110), (0, 110)]]


@pytest.fixture(scope="module")
def url(tmp_path_factory, mnist_path):
    """The app on loopback over a fresh data directory."""
    config = app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path)
    demo = app.build_app(config)
    _, local_url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(config))
    app.studio().warm()
    try:
        yield local_url
    finally:
        app.studio().jobs.cancel()
        app.studio().jobs.wait(30)
        demo.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#sketch canvas")
    yield page
    page.close()


BRUSH_CHOSEN = '#sketch button[aria-label="Brush"].highlight'


def draw(page, strokes) -> None:
    """Mouse strokes on the Sketchpad, as a person would draw them, once the app has picked the brush."""
    page.wait_for_selector(BRUSH_CHOSEN, state="attached", timeout=60_000)
    box = page.locator("#sketch canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 - 20
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0], cy + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(cx + x, cy + y, steps=4)
        page.mouse.up()


def wait_for(predicate, timeout: float, what: str, seen=None):
    """Poll until predicate() is truthy; on timeout, say what was there instead (seen() describes it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}" + (f"; found {seen()}" if seen else ""))


def shown(page) -> str:
    """What the Draw tab shows: the number read, the top-3 label and the digits' strip."""
    return repr({"brush chosen": page.locator(BRUSH_CHOSEN).count() == 1,
                 "number": page.locator("#draw-number textarea").input_value(),
                 "label": page.locator("#draw-label").inner_text()[:80],
                 "digits": page.locator("#draw-digits").inner_text()[:120]})


def progress(page) -> dict:
    """The Retrain tab's progress bar state: status, fraction done, curve points so far."""
    el = page.query_selector("#train-progress")
    if el is None:
        return {"status": None, "fraction": 0.0, "points": 0}
    return {"status": el.get_attribute("data-status"), "fraction": float(el.get_attribute("data-fraction")),
            "points": int(el.get_attribute("data-points"))}


def plotted(page, plot: str) -> int:
    """Points the loss or accuracy plot has drawn (Vega labels each one "epoch: ...")."""
    return page.locator(f"#{plot} [aria-label^='epoch: ']").count()


def test_draw_a_seven_and_see_the_prediction(page):
    draw(page, SEVEN)
    number = page.locator("#draw-number textarea")
    wait_for(lambda: number.input_value() == "7", 60, "the number read to be 7", lambda: shown(page))
    label = page.locator("#draw-label")
    assert "7" in label.inner_text()
    assert re.search(r"\d+%", label.inner_text())  # top 3 with probabilities
    preview = page.locator("#draw-digits img")
    assert preview.count() == 1 and "pixelated" in preview.first.get_attribute("style")
    # "Wrong? It's a …": save it as a 1 and find it counted in My samples.
    page.locator("#draw-fix").get_by_label("1", exact=True).check()
    page.click("#draw-save")
    wait_for(lambda: "Saved as a" in page.locator("#draw-saved").inner_text(), 30, "the save message")
    page.get_by_role("tab", name="My samples").click()
    wait_for(lambda: page.locator("#samples-gallery img").count() >= 1, 30, "the sample in the gallery")
    # Clear empties the canvas and the prediction.
    page.get_by_role("tab", name="Draw").click()
    page.click("#clear-drawing")
    wait_for(lambda: number.input_value() == "", 30, "the cleared number")


def test_retraining_shows_live_progress_while_drawing_still_answers(page):
    page.get_by_role("tab", name="Retrain").click()
    page.get_by_label("Epochs").fill("200")  # long enough to still run when the checks below are done
    page.locator("#train-limit input").fill("2000")
    page.click("#train-start")
    first = wait_for(lambda: (p := progress(page))["fraction"] > 0 and p, 240, "training steps to be reported")
    assert first["status"] == "running"
    # While it trains, the Draw tab keeps answering.
    page.get_by_role("tab", name="Draw").click()
    draw(page, ONE)
    number = page.locator("#draw-number textarea")
    # Generous: Chromium renders the canvas in software here, and the trainer shares the two cores.
    wait_for(lambda: number.input_value() == "1", 150, "the prediction during training", lambda: shown(page))
    assert app.studio().jobs.status().running
    # Back on the Retrain tab, the bar and the curves have moved on.
    page.get_by_role("tab", name="Retrain").click()
    later = wait_for(lambda: (p := progress(page))["points"] > first["points"] and p["fraction"] > first["fraction"] and p,
                     60, "the progress and the curve to advance")
    assert later["status"] == "running"
    assert wait_for(lambda: plotted(page, "loss-plot") > 0, 30, "the loss curve to be drawn")
    assert "left" in page.locator("#train-progress").inner_text()  # the ETA
    # Cancel stops it within a few seconds.
    page.click("#train-cancel")
    wait_for(lambda: progress(page)["status"] == "cancelled", 30, "the training to stop")
    assert app.studio().jobs.status().status == "cancelled"


def test_a_zh_cn_browser_gets_the_chinese_page_and_can_switch(browser, url):
    """Gradio's i18n picks 简体中文 for a zh-CN browser; the switch at the top changes the page and the answers."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        page.wait_for_selector("#sketch canvas")
        for name in ("手写", "照片", "重新训练", "模型", "我的样本"):
            assert page.get_by_role("tab", name=name).count() == 1
        wait_for(lambda: "还没有书写" in page.locator("#draw-digits").inner_text(), 30, "the Chinese hint")
        page.click("#draw-save")  # nothing drawn: the server's refusal is in Chinese too
        wait_for(lambda: page.get_by_text("请先写一个数字").count() > 0, 30, "the Chinese error")
        assert page.locator("#language").get_by_label("简体中文", exact=True).is_checked()
        english = ["Draw", "Photo", "Retrain", "Models", "My samples"]
        tabs = lambda: page.get_by_role("tab").all_inner_texts()  # noqa: E731
        page.locator("#language").get_by_label("English", exact=True).check()
        wait_for(lambda: tabs() == english, 30, "the English page", tabs)
        page.get_by_role("tab", name="Retrain").click()
        wait_for(lambda: page.get_by_role("button", name="Start training").count() == 1, 30, "an English button")
        page.reload()  # the choice is remembered
        page.wait_for_selector("#sketch canvas")
        wait_for(lambda: tabs() == english, 30, "the English page again", tabs)
        page.goto(url + "?lang=zh-CN")  # a link to the Chinese page
        wait_for(lambda: tabs() == ["手写", "照片", "重新训练", "模型", "我的样本"], 60, "the Chinese page from ?lang=", tabs)
    finally:
        page.close()
