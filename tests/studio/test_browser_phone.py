"""The studio on a phone (issue 23, item 8): a 390x844 touch screen in Debian's Chromium through Playwright.

The header used to take about 60% of the first screen, the answer sat below the canvas (every stroke needed a
scroll to see it) and the canvas's trash button wrapped onto a second row; studio/server.py's CSS lays the page
out for phones.
"""

from __future__ import annotations

import pytest

import app
from _browser import serving, wait_for
from mnist_core.config import Paths

PHONE = {"width": 390, "height": 844}  # CSS pixels of a common phone held upright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A "7" in pixels from the middle of the drawing area (scaled to the canvas's width on the phone).
SEVEN = [(-0.23, -0.33), (0.23, -0.33), (-0.05, 0.37)]


@pytest.fixture(scope="module")
def url(tmp_path_factory, mnist_path):
    """The app on loopback over a fresh data directory."""
    with serving(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), data=mnist_path,
                                  spare_trainer=False)) as url:
        yield url


@pytest.fixture
def phone(browser, url):
    """A page on a 390x844 touch screen (a phone's viewport, its zoom and touch events)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector('#sketch .ink-pad[data-tool="brush"]', state="attached")  # the canvas's script ran
    yield page
    context.close()


def swipe(page, points: list[tuple[float, float]], steps: int = 6) -> None:
    """One finger drawn through `points` (fractions of the canvas's width from its middle), as touch events."""
    box = page.locator("#sketch canvas").bounding_box()
    cx, cy, w = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"]
    xy = [(cx + fx * w, cy + fy * w) for fx, fy in points]
    cdp = page.context.new_cdp_session(page)
    touch = lambda kind, pts: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})  # noqa: E731
    touch("touchStart", [{"x": xy[0][0], "y": xy[0][1]}])
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        for i in range(1, steps + 1):
            touch("touchMove", [{"x": x0 + (x1 - x0) * i / steps, "y": y0 + (y1 - y0) * i / steps}])
    touch("touchEnd", [])
    cdp.detach()



def on_screen(page, selector: str) -> dict:
    """The element's box in the viewport, with whether it lies wholly within the first screen."""
    box = page.locator(selector).first.bounding_box()
    box["inside"] = box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] and box["x"] >= 0 and \
        box["x"] + box["width"] <= PHONE["width"]
    return box


def test_a_stroke_and_its_answer_share_the_first_screen(phone):
    swipe(phone, SEVEN)
    number = phone.locator("#draw-number textarea")
    wait_for(lambda: number.input_value() == "7", 60, "the number read to be 7",
             lambda: repr(number.input_value()))
    wait_for(lambda: "7" in phone.locator("#draw-label").inner_text(), 30, "the top 3 to show the 7")
    assert phone.evaluate("() => [window.scrollX, window.scrollY]") == [0, 0]  # drawing did not scroll the page
    for what in ("#sketch canvas", "#draw-label", "#draw-number"):  # the canvas, the top 3, the number read
        box = on_screen(phone, what)
        assert box["inside"], (what, box)
    # The answer comes right under the canvas, before the Clear button and the rest of the tab.
    assert on_screen(phone, "#draw-label")["y"] < on_screen(phone, "#clear-drawing")["y"]


def test_the_canvas_tools_stay_on_one_row(phone):
    tops = phone.evaluate("""() => [...document.querySelectorAll('#sketch .ink-tools button')]
        .map((b) => { const r = b.getBoundingClientRect(); return [r.top, r.bottom, r.right]; })""")
    assert len(tops) >= 8  # brush, eraser, three sizes, undo, redo, trash
    assert max(t for t, _, _ in tops) < min(b for _, b, _ in tops), tops  # every button beside every other
    assert max(r for _, _, r in tops) <= PHONE["width"], tops
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll


def test_the_header_leaves_the_first_screen_to_the_canvas(phone):
    # The title, the profile and language boxes: once about 60% of the first screen, now under a quarter.
    bottom = max(on_screen(phone, s)["y"] + on_screen(phone, s)["height"] for s in ("#page-title", "#profile",
                                                                                  "#language"))
    assert bottom <= 0.25 * PHONE["height"], bottom
    assert phone.locator("#profile input").is_visible() and phone.locator("#language input").first.is_visible()
