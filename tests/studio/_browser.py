"""What the browser tests share: the app served on loopback, drawing on the Draw tab's canvas with the mouse, and
polling (the ``browser`` fixture, Debian's Chromium through Playwright, is in tests/conftest.py)."""

from __future__ import annotations

import time
from contextlib import contextmanager

import app


@contextmanager
def serving(config: app.StudioConfig, jobs=None):
    """The app of ``config`` on loopback, warmed, training through ``jobs()`` (a JobManager made once the app is
    built) when given; its URL. Any training is cancelled and the app closed on the way out."""
    demo = app.build_app(config)
    if jobs is not None:
        app.services().jobs = jobs()
    _, local_url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(config))
    app.services().warm()
    try:
        yield local_url
    finally:
        app.services().jobs.cancel()
        app.services().jobs.wait(30)
        demo.close()


def wait_for(predicate, timeout: float, what: str, seen=None):
    """Poll until predicate() is truthy; on timeout, say what was there instead (seen() describes it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}" + (f"; found {seen()}" if seen else ""))


# The Draw tab's pad with the brush chosen, whatever the page's language (the buttons' labels are translated).
BRUSH_READY = '#sketch .ink-pad[data-tool="brush"]'


def centre(page) -> tuple[float, float]:
    """The middle of the drawing area, in page pixels."""
    box = page.locator("#sketch canvas").first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def draw(page, strokes, dx: float = 0, ready: str = BRUSH_READY) -> None:
    """Mouse strokes on the canvas, as a person would draw them (`dx` px right of the middle), once ``ready`` (a
    selector: the brush chosen) is on the page."""
    page.wait_for_selector(ready, state="attached", timeout=60_000)
    cx, cy = centre(page)
    cx += dx
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0], cy + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(cx + x, cy + y, steps=4)
        page.mouse.up()

