"""The studio in a real browser: Playwright driving Debian's Chromium (headless, no downloads)."""

from __future__ import annotations

import re

import pytest

import app
from _browser import centre, serving, wait_for
from _browser import draw as draw_strokes
from mnist_core.config import Paths


pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Strokes of a "7" and a "1", in pixels from the centre of the drawing area.
SEVEN = [[(-70, -100), (70, -100), (-15, 110)]]
ONE = [[(0, -110), (0, 110)]]


@pytest.fixture(scope="module")
def url(tmp_path_factory, mnist_path):
    """The app on loopback over a fresh data directory."""
    with serving(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path)) as url:
        yield url


@pytest.fixture
def page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#sketch canvas")
    yield page
    page.close()


BRUSH_CHOSEN = '#sketch button[aria-label="Brush"][aria-pressed="true"]'


def draw(page, strokes, dx: float = 0) -> None:
    """Mouse strokes on the canvas (`dx` px right of the middle), once the Brush button shows itself chosen."""
    draw_strokes(page, strokes, dx, ready=BRUSH_CHOSEN)


def shown(page) -> str:
    """What the Draw tab shows: the number read, the top-3 label and the digits' strip."""
    return repr({"brush chosen": page.locator(BRUSH_CHOSEN).count() == 1,
                 "number": page.locator("#draw-number textarea").input_value(),
                 "label": page.locator("#draw-label").inner_text()[:80],
                 "digits": page.locator("#draw-digits").inner_text()[:120]})


def tool(page, name: str) -> None:
    """Click one of the canvas's buttons by its label (Brush, Eraser, Thin, Medium, Thick, Undo, Redo, Clear canvas)."""
    page.click(f'#sketch button[aria-label="{name}"]')


def read_becomes(page, text: str, what: str, timeout: float = 60) -> None:
    number = page.locator("#draw-number textarea")
    wait_for(lambda: number.input_value() == text, timeout, what, lambda: shown(page))


def ink_runs(page, x: float) -> list[int]:
    """The runs of inked canvas pixels (alpha over half) down the canvas column under page x, top to bottom:
    a level stroke crossing it gives a run as long as the stroke is wide."""
    return page.evaluate("""(x) => {
      const c = document.querySelector('#sketch canvas'); const r = c.getBoundingClientRect();
      const col = Math.round((x - r.left) * c.width / r.width);
      const a = c.getContext('2d').getImageData(col, 0, 1, c.height).data;
      const runs = []; let n = 0;
      for (let i = 3; i < a.length; i += 4) { if (a[i] > 127) n++; else if (n) { runs.push(n); n = 0; } }
      if (n) runs.push(n);
      return runs;
    }""", x)


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
    # Clear empties the canvas and the prediction: the next stroke is read alone.
    page.get_by_role("tab", name="Draw").click()
    page.click("#clear-drawing")
    wait_for(lambda: number.input_value() == "", 30, "the cleared number")
    assert ink_runs(page, centre(page)[0]) == []
    draw(page, ONE)
    read_becomes(page, "1", "a 1 read alone after Clear")


def test_several_digits_answer_with_the_number_and_a_tile_is_corrected(page):
    """"71" drawn: the answer is 71 (not one of its digits); a click on the 7's tile and a pick of 1 saves the
    7's 28x28 labelled 1, and the choice is cleared after the save."""
    draw(page, SEVEN, dx=-100)
    draw(page, ONE, dx=100)
    read_becomes(page, "71", "the number 71")
    label = page.locator("#draw-label")
    wait_for(lambda: "71" in label.inner_text(), 30, "71 as the answer", lambda: shown(page))
    tiles = page.locator("#draw-digits figure.studio-digit")
    assert tiles.count() == 2
    fix = page.locator("#draw-fix")
    tiles.nth(0).click()
    wait_for(lambda: "#1" in fix.inner_text(), 30, "the correction naming digit #1", lambda: fix.inner_text())
    assert tiles.nth(0).get_attribute("aria-pressed") == "true"
    before = len(app.services().samples)
    fix.get_by_label("1", exact=True).check()
    page.click("#draw-save")
    wait_for(lambda: len(app.services().samples) == before + 1, 30, "the sample saved")
    saved = app.services().samples.list(limit=1)[0]
    seen = app.services().model.recognizer_for(None).predict(saved["image"][None, ..., None].astype("float32"))
    assert saved["label"] == 1 and int(seen[0].argmax()) == 7  # the 7's tile, not the main digit
    wait_for(lambda: fix.locator("input:checked").count() == 0, 30, "the choice cleared after the save")


def test_the_canvas_trash_keeps_the_brush_and_the_next_stroke_draws(page):
    """Issue 12's snag: after the canvas's own trash button the brush stays chosen and the next stroke draws."""
    draw(page, SEVEN)
    read_becomes(page, "7", "the number read to be 7")
    tool(page, "Clear canvas")
    read_becomes(page, "", "the answer emptied with the canvas")
    assert page.locator(BRUSH_CHOSEN).count() == 1
    draw(page, ONE)
    read_becomes(page, "1", "a 1 drawn after the trash button, read alone")
    assert page.evaluate("() => (window.getSelection() || '').toString()") == ""  # no page text selected


def test_undo_redo_eraser_and_brush_sizes(page):
    draw(page, ONE, dx=-90)
    read_becomes(page, "1", "the 1")
    draw(page, SEVEN, dx=70)
    read_becomes(page, "17", "1 and 7 side by side")
    tool(page, "Undo")
    read_becomes(page, "1", "the 7 undone")
    tool(page, "Redo")
    read_becomes(page, "17", "the 7 back")
    # The eraser along the 1 (thick: wider than the brush) leaves the 7 alone.
    tool(page, "Thick")
    tool(page, "Eraser")
    draw_with = page.locator('#sketch button[aria-label="Eraser"][aria-pressed="true"]')
    assert draw_with.count() == 1
    cx, cy = centre(page)
    page.mouse.move(cx - 90, cy - 125)
    page.mouse.down()
    page.mouse.move(cx - 90, cy + 125, steps=8)
    page.mouse.up()
    read_becomes(page, "7", "the 1 erased")
    # Brush sizes: a level stroke is about as many canvas pixels tall as the size chosen (6, 12, 20).
    tool(page, "Clear canvas")
    read_becomes(page, "", "the cleared canvas")
    tool(page, "Brush")
    for name, dy in (("Thin", -120), ("Medium", 0), ("Thick", 120)):
        tool(page, name)
        page.mouse.move(cx - 150, cy + dy)
        page.mouse.down()
        page.mouse.move(cx - 60, cy + dy, steps=4)
        page.mouse.up()
    runs = ink_runs(page, cx - 100)
    assert len(runs) == 3 and all(abs(run - want) <= 2 for run, want in zip(runs, (6, 12, 20))), runs


def test_ctrl_z_and_ctrl_y_after_drawing_with_the_mouse(page):
    """Issue 23: after a mouse stroke the keys undo and redo it (the focus did not leave the page's body before)."""
    draw(page, ONE, dx=-90)
    read_becomes(page, "1", "the 1")
    draw(page, SEVEN, dx=70)
    read_becomes(page, "17", "1 and 7 side by side")
    page.keyboard.press("Control+z")
    read_becomes(page, "1", "the 7 undone by Ctrl+Z")
    page.keyboard.press("Control+y")
    read_becomes(page, "17", "the 7 back by Ctrl+Y")
    page.keyboard.press("Control+Shift+z")  # nothing left to redo: the drawing stays
    page.keyboard.press("Control+z")
    read_becomes(page, "1", "undone again")


def sent_inks(page) -> list:
    """Collect the ink each stroke's event carries (the queue/join posts of the page's canvas), in order. Playwright
    delivers the page's events while the test calls into it: wait on the list through `strokes_sent`."""
    inks = []

    def seen(request):
        if request.method == "POST" and "/queue/join" in request.url:
            data = (request.post_data_json or {}).get("data") or []
            if data and isinstance(data[0], dict) and "layer" in data[0]:
                inks.append(data[0].get("ink"))
    page.on("request", seen)
    return inks


def strokes_sent(page, inks, n: int, what: str) -> list:
    """The strokes of the latest event once it carries ``n`` of them (pumping the page's events meanwhile)."""
    def latest():
        page.wait_for_timeout(100)
        return bool(inks) and bool(inks[-1]) and len(inks[-1]["strokes"]) == n
    wait_for(latest, 30, what, lambda: inks[-1:] or "no event")
    return inks[-1]["strokes"]


def test_strokes_arrive_with_the_drawing_and_both_models_read_them(page):
    """Issue 22: each stroke's points (x, y in canvas pixels, t increasing, pressure) travel with the layer, and the
    details say what the picture and the strokes were each read as."""
    inks = sent_inks(page)
    draw(page, SEVEN)
    read_becomes(page, "7", "the 7")
    (stroke,) = inks[-1]["strokes"]
    assert len(stroke) >= 3 and all(len(p) == 4 for p in stroke)
    times = [p[2] for p in stroke]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(0 <= p[0] <= 400 and 0 <= p[1] <= 400 and p[3] > 0 for p in stroke)  # a mouse reports 0.5 pressed
    models = page.locator("#draw-digits [data-model]")
    wait_for(lambda: models.count() == 2, 30, "what each model said", lambda: shown(page))
    assert {models.nth(i).get_attribute("data-model") for i in range(2)} == {"image", "ink"}
    assert page.locator('#draw-digits [data-model="ink"]').get_attribute("data-digit") == "7"


# A 7 with a bar through its stem; a continental 1 whose long flag is nearly flat (10 degrees: a 7's bar in shape).
CROSSED_SEVEN = SEVEN + [[(-40, 5), (60, 5)]]
FLAT_FLAG_ONE = [[(-78, -93), (20, -110), (0, 110)]]


def test_a_writer_who_crosses_their_sevens_gets_their_flat_flagged_ones_read_as_ones(page):
    """Issue 22: the page learns the hand from finished drawings. Alone, a 1 with a flat flag reads 7 (the picture
    is sure of it); after two crossed 7s, each drawn stroke by stroke and cleared, the same 1 reads 1, and the
    details say the hand decided."""
    number = page.locator("#draw-number textarea")

    def drawn(strokes, expected: str, what: str, dx: float = 0) -> None:
        draw(page, strokes, dx)
        read_becomes(page, expected, what)
        page.click("#clear-drawing")
        wait_for(lambda: number.input_value() == "", 30, "the cleared number")

    drawn(FLAT_FLAG_ONE, "7", "the flat-flagged 1 read alone, as a 7")
    drawn(CROSSED_SEVEN, "7", "a crossed 7")
    drawn(CROSSED_SEVEN, "7", "another crossed 7", dx=20)
    draw(page, FLAT_FLAG_ONE)
    read_becomes(page, "1", "the flat-flagged 1 read with the writer's hand")
    hand = page.locator('#draw-digits [data-model="hand"]')
    wait_for(lambda: hand.count() == 1, 30, "the details saying the hand decided", lambda: shown(page))
    assert hand.get_attribute("data-digit") == "1"


def test_the_eraser_cuts_a_stroke_in_the_ink_and_undo_mends_it(page):
    inks = sent_inks(page)
    draw(page, [[(-150, 0), (-50, 0), (50, 0), (150, 0)]])  # one level stroke across the canvas
    strokes_sent(page, inks, 1, "the stroke's ink")
    cx, cy = centre(page)
    tool(page, "Eraser")
    page.mouse.move(cx, cy - 60)  # a cut down its middle
    page.mouse.down()
    page.mouse.move(cx, cy + 60, steps=6)
    page.mouse.up()
    left, right = strokes_sent(page, inks, 2, "the stroke cut in two")
    canvas = page.locator("#sketch canvas").first.bounding_box()
    middle = (cx - canvas["x"]) * 400 / canvas["width"]
    assert max(p[0] for p in left) < middle - 5 < middle + 5 < min(p[0] for p in right)  # nothing under the eraser
    tool(page, "Undo")
    strokes_sent(page, inks, 1, "the stroke whole again after Undo")


def test_a_finger_draws_too(browser, url):
    """Touch input: a finger's stroke (touch events, as a phone sends them) is read like the mouse's."""
    context = browser.new_context(viewport={"width": 800, "height": 1000}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        page.wait_for_selector("#sketch canvas")
        page.wait_for_selector(BRUSH_CHOSEN, state="attached")
        page.locator("#sketch canvas").scroll_into_view_if_needed()
        cx, cy = centre(page)
        cdp = context.new_cdp_session(page)
        touch = lambda kind, points: cdp.send("Input.dispatchTouchEvent", {  # noqa: E731
            "type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})
        touch("touchStart", [(cx, cy - 110)])
        for i in range(1, 11):
            touch("touchMove", [(cx, cy - 110 + 22 * i)])
        touch("touchEnd", [])
        read_becomes(page, "1", "a 1 drawn with a finger")
    finally:
        context.close()


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
    assert app.services().jobs.status().running
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
    assert app.services().jobs.status().status == "cancelled"


def test_a_zh_cn_browser_gets_the_chinese_page_and_can_switch(browser, url):
    """Gradio's i18n picks 简体中文 for a zh-CN browser; the switch at the top changes the page and the answers."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        page.wait_for_selector("#sketch canvas")
        for name in ("手写", "照片", "重新训练", "模型", "我的样本"):
            assert page.get_by_role("tab", name=name).count() == 1
        intro = lambda: page.locator("#page-title").inner_text()  # noqa: E731
        wait_for(lambda: "MNIST 工作室" in intro() and "纠正模型" in intro(), 30, "the Chinese title and intro", intro)
        assert "translation_metadata" not in page.locator("body").inner_text()  # no string shown untranslated
        wait_for(lambda: "还没有书写" in page.locator("#draw-digits").inner_text(), 30, "the Chinese hint")
        page.click("#draw-save")  # nothing drawn: the server's refusal is in Chinese too
        wait_for(lambda: page.get_by_text("请先写一个数字").count() > 0, 30, "the Chinese error")
        assert page.locator("#language").get_by_label("简体中文", exact=True).is_checked()
        brush = page.locator('#sketch button[data-tool="brush"]')  # the canvas's own toolbar speaks it too
        wait_for(lambda: brush.get_attribute("aria-label") == "画笔", 30, "the Chinese brush button")
        english = ["Draw", "Photo", "Retrain", "Models", "My samples"]
        tabs = lambda: page.get_by_role("tab").all_inner_texts()  # noqa: E731
        page.locator("#language").get_by_label("English", exact=True).check()
        wait_for(lambda: tabs() == english, 30, "the English page", tabs)
        wait_for(lambda: "correct the model" in intro(), 30, "the English intro", intro)
        brush.hover()
        wait_for(lambda: brush.get_attribute("title") == "Brush", 30, "the English brush button")
        page.get_by_role("tab", name="Retrain").click()
        wait_for(lambda: page.get_by_role("button", name="Start training").count() == 1, 30, "an English button")
        page.reload()  # the choice is remembered
        page.wait_for_selector("#sketch canvas")
        wait_for(lambda: tabs() == english, 30, "the English page again", tabs)
        page.goto(url + "?lang=zh-CN")  # a link to the Chinese page
        wait_for(lambda: tabs() == ["手写", "照片", "重新训练", "模型", "我的样本"], 60, "the Chinese page from ?lang=", tabs)
    finally:
        page.close()
