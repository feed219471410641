"""Drawings read with their strokes: /predict_drawing's optional ink, /predict_ink's strokes alone (in process and
over HTTP through gradio_client), what each model said in the Draw tab's details, and bad ink refused in words."""

from __future__ import annotations

import base64
import math
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

import app
from mnist_core.config import Paths
from mnist_core.train import synth
from mnist_core.ink.canvas import layer, place
from mnist_core.ink.format import Ink, from_strokes
from mnist_core.train import pen
from studio import draw
from studio.canvas import PREFIX
from studio.views import png


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home"))))
    return app.services()


@pytest.fixture(scope="module")
def written():
    """Pen digits of the shipped training writers (the package's own asset: no ../shared needed), 10 per label."""
    digits = pen.load_shipped()
    return {label: [d for d in digits if d.label == label][:10] for label in range(10)}


def as_json(strokes, timed: bool = True) -> dict:
    """A pen client's JSON ink: points as objects, 10 ms apart, 200 ms between strokes."""
    out, t = [], 0.0
    for s in strokes:
        pts = []
        for x, y in np.asarray(s)[:, :2]:
            pts.append({"x": float(x), "y": float(y), **({"t": t} if timed else {})})
            t += 10.0
        out.append(pts)
        t += 200.0
    return {"strokes": out}


def page_value(strokes) -> dict:
    """What the page's canvas sends after a stroke: its layer as a PNG data URL and its ink in canvas pixels."""
    ink = place(from_strokes([np.asarray(s)[:, :2] for s in strokes]), 400)
    pixels = layer(ink, 400, 12.0)
    return {"layer": PREFIX + base64.b64encode(png(pixels)).decode(),
            "ink": {"strokes": [[[float(x), float(y), float(t), 0.5] for x, y, t in s] for s in ink.strokes]}}


@pytest.mark.parametrize("label", range(10))
def test_strokes_alone_are_read_by_both_models(studio, written, label):
    answers = [draw.predict_strokes(as_json(d.strokes)) for d in written[label]]
    single = [a["digits"][0] for a in answers if len(a["digits"]) == 1]
    assert len(single) >= 9  # a writer's 0 with a gap may come apart: one in ten at most
    assert sum(a["number"] == str(label) for a in answers) >= 9
    assert sum(d["image"]["digit"] == label for d in single) >= 8 and sum(d["ink"]["digit"] == label for d in single) >= 8
    assert all(0.1 < d["confidence"] <= 1.0 and len(d["box"]) == 4 for d in single)


def test_strokes_without_times_and_inkml_are_read_too(studio, written):
    d = written[3][0]
    assert draw.predict_strokes(as_json(d.strokes, timed=False))["number"] == "3"
    trace = ", ".join(f"{x:g} {y:g}" for x, y in d.strokes[0][:, :2])
    more = "".join("<trace>" + ", ".join(f"{x:g} {y:g}" for x, y in s[:, :2]) + "</trace>" for s in d.strokes[1:])
    assert draw.predict_strokes(f"<ink><trace>{trace}</trace>{more}</ink>")["number"] == "3"


def test_several_digits_each_get_their_own_strokes(studio, written):
    strokes = []
    for k, label in enumerate((2, 0, 7)):
        d = written[label][1]
        x0, x1 = min(s[:, 0].min() for s in d.strokes), max(s[:, 0].max() for s in d.strokes)
        y0, y1 = min(s[:, 1].min() for s in d.strokes), max(s[:, 1].max() for s in d.strokes)
        scale = 100.0 / max(y1 - y0, 1e-6)  # each digit 100 units tall, 40 units apart
        strokes += [np.column_stack([(s[:, 0] - x0) * scale + 140.0 * k, (s[:, 1] - y0) * scale]) for s in d.strokes]
    answer = draw.predict_strokes(as_json(strokes))
    assert answer["number"] == "207"
    assert [d["ink"]["digit"] for d in answer["digits"]] == [2, 0, 7]


def bad_inks():
    ok = [[0, 0, 0], [5, 5, 10], [10, 0, 20]]
    return [
        ({"strokes": []}, "empty"),
        ([], "empty"),
        ({"strokes": [[[0, 0, 0], [math.nan, 1, 10]]]}, "NaN"),
        ({"strokes": [[[0, 0, 0], [1, 1, 10], [2, 2, 5]]]}, "time does not increase"),
        ({"strokes": [ok] * 65}, "too many strokes"),
        ({"strokes": [[[i, i, i] for i in range(4001)]]}, "too many points"),
        ("{not json", "not JSON"),
        ({"dots": []}, "'strokes'"),
    ]


@pytest.mark.parametrize("bad, words", bad_inks())
def test_bad_ink_is_refused_in_words(studio, bad, words):
    with pytest.raises(gr.Error, match=words):
        draw.predict_strokes(bad)
    if bad not in ({"strokes": []}, []):  # empty optional strokes on /predict_drawing mean "no ink"
        with pytest.raises(gr.Error, match=words):
            draw.predict_drawing({"background": None, "layers": [], "composite": None, "strokes": bad})


def test_the_page_canvas_sends_strokes_and_the_details_show_each_model(studio, written):
    d = written[4][0]
    label, number, html, _, _ = draw.predict_canvas(page_value(d.strokes))
    assert number == "4" and max(label, key=label.get) == "4"
    assert 'data-model="image"' in html and 'data-model="ink"' in html
    without = page_value(d.strokes)
    without.pop("ink")  # an older page, or an image-only client: the image model alone, as before
    _, number, html, _, _ = draw.predict_canvas(without)
    assert number == "4" and 'data-model="ink"' not in html


def test_the_ink_decides_a_continental_one_the_picture_reads_as_seven(studio, written):
    """A continental 1 (a long flag drawn up into the stem) is a 7 without its bar in pixels; its path says 1."""
    rng = np.random.default_rng(3)
    make = next(c for c in synth.CONVENTIONS if c.name.startswith("continental 1 (flag"))
    right_image = right_fused = 0
    ones = [d for d in pen.load_shipped() if d.label == 1][:30]
    for d in ones:
        one = draw.predict_strokes(as_json(make.make(d.strokes, rng)))["digits"][0]
        right_image += one["image"]["digit"] == 1
        right_fused += one["digit"] == 1
    assert right_fused >= 27 and right_fused >= right_image


def page_request(session):
    return SimpleNamespace(session_hash=session, headers={}, cookies={}, query_params={}, client=None)


def page_strokes(strokes, k: int) -> dict:
    """The page canvas's value after the k-th stroke of a drawing: the strokes keep their place as more come."""
    ink = place(from_strokes([np.asarray(s)[:, :2] for s in strokes]), 400)
    part = Ink(ink.strokes[:k], ink.timed)
    return {"layer": PREFIX + base64.b64encode(png(layer(part, 400, 12.0))).decode(),
            "ink": {"strokes": [[[float(x), float(y), float(t), 0.5] for x, y, t in s] for s in part.strokes]}}


@pytest.fixture(scope="module")
def crossing_writer():
    """Three crossed 7s and eight continental 1s with a flat flag (a 7's bar in shape), of training writers."""
    rng = np.random.default_rng(3)
    digits = pen.load_shipped()
    sevens = [synth.crossed_seven(d.strokes, rng) for d in [x for x in digits if x.label == 7][:3]]
    ones = [synth.flagged_one(d.strokes, rng, (0.3, 0.5), (10, 18), base=0.0)
            for d in [x for x in digits if x.label == 1][:8]]
    return sevens, ones


def test_a_pen_client_who_crosses_their_sevens_has_uncrossed_seven_shapes_read_as_ones(studio, crossing_writer):
    """/predict_ink from one client (a session): after its crossed 7s, its flat-flagged 1s read as 1 and say so;
    read alone (no session: a direct call), several of them are 7s."""
    sevens, ones = crossing_writer
    alone = [draw.predict_strokes(as_json(o))["digits"][0] for o in ones]
    for s in sevens:
        assert draw.predict_strokes(as_json(s), page_request("pen-client"))["number"] == "7"
    together = [draw.predict_strokes(as_json(o), page_request("pen-client"))["digits"][0] for o in ones]
    assert sum(d["digit"] == 1 for d in together) >= 7
    assert sum(d["digit"] == 1 for d in together) > sum(d["digit"] == 1 for d in alone)
    for a, b in zip(alone, together):
        assert ("hand" in b) == (a["digit"] != b["digit"])
        if "hand" in b:
            assert "crosses their 7s (3 crossed" in b["hand"]


def test_the_page_learns_the_hand_from_finished_drawings_stroke_by_stroke(studio, crossing_writer):
    """Drawn stroke by stroke, each 7 is read without its bar first: it counts once finished, crossed; then the
    flat-flagged 1s read as 1, and the details say the hand decided."""
    sevens, ones = crossing_writer
    for s in sevens:
        for k in range(1, len(s) + 1):
            draw.predict_canvas(page_strokes(s, k), page_request("page"))
    page = [draw.predict_canvas(page_strokes(o, 1), page_request("page")) for o in ones]
    assert sum(number == "1" for _, number, _, _, _ in page) >= 7
    assert any('data-model="hand"' in html for _, _, html, _, _ in page)
    fresh = [draw.predict_canvas(page_strokes(o, 1), page_request("another page"))[1] for o in ones]
    assert sum(n == "1" for n in fresh) < sum(number == "1" for _, number, _, _, _ in page)


def test_predict_drawing_without_strokes_is_the_image_model_alone(studio, images):
    value = {"background": None, "layers": [{"path": str(images["layer_7.png"])}], "composite": None}
    label, number, html = draw.predict_drawing(value)
    assert number == "7" and 'data-model="ink"' not in html


@pytest.mark.slow
def test_over_http_old_clients_still_work_and_pen_clients_send_strokes(tmp_path, images, written):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    config = app.StudioConfig(paths=Paths(home=tmp_path))
    demo = app.build_app(config)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(config))
    try:
        client = Client(url, verbose=False)
        sketch = {"background": None, "layers": [handle_file(str(images["layer_42.png"]))], "composite": None}
        assert client.predict(sketch, api_name="/predict_drawing")[1] == "42"  # image only, as before
        d = written[7][0]
        page = page_value(d.strokes)
        layer_file = tmp_path / "layer.png"
        layer_file.write_bytes(base64.b64decode(page["layer"][len(PREFIX):]))
        with_ink = {"background": None, "layers": [handle_file(str(layer_file))], "composite": None}
        _, number, html = client.predict({**with_ink, "strokes": page["ink"]}, api_name="/predict_drawing")
        assert number == "7" and 'data-model="ink"' in html
        answer = client.predict(as_json(d.strokes), api_name="/predict_ink")
        assert answer["number"] == "7" and answer["digits"][0]["ink"]["digit"] == 7
        with pytest.raises(AppError, match="time does not increase"):
            client.predict({"strokes": [[[0, 0, 5], [1, 1, 5]]]}, api_name="/predict_ink")
    finally:
        demo.close()
