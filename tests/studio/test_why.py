"""Showing why, through the handlers: all ten probabilities per digit, the "Why?" heat maps (on demand only),
the Models tab's TF Lite download and whole card."""

from __future__ import annotations

import base64
import io
import json
import re
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import app
from mnist_core.config import Paths
from mnist_core.ops.serving import ServingSettings
from studio import draw, models_tab, photo, services
from studio.views import UI
from _shared import ROOT

BAR = re.compile(r'class="studio-bar" data-digit="(\d)" data-p="([0-9.]+)"')
HEAT = re.compile(r'<figure class="studio-why" data-guess="(\d)".*?<img src="data:image/png;base64,([^"]+)"')


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The app's services over a fresh data directory (the shipped default model serving)."""
    previous = services._current
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home"))))
    yield app.services()
    services._current = previous


def canvas(path) -> dict:
    return {"background": None, "layers": [{"path": str(path)}], "composite": None}


def page(session: str, accept: str = "") -> SimpleNamespace:
    """What a browser page's request carries: its session, its language."""
    return SimpleNamespace(session_hash=session, headers={"accept-language": accept}, cookies={})


def bars(html: str) -> list[np.ndarray]:
    """Each digit's ten probabilities, as its bar chart carries them."""
    found = [(int(d), float(p)) for d, p in BAR.findall(html)]
    assert len(found) % 10 == 0
    charts = [found[i:i + 10] for i in range(0, len(found), 10)]
    assert all([d for d, _ in chart] == list(range(10)) for chart in charts)
    return [np.array([p for _, p in chart]) for chart in charts]


def heat_maps(html: str) -> list[tuple[int, np.ndarray]]:
    """Each digit's guess and heat-map image (decoded), in order."""
    return [(int(g), np.asarray(Image.open(io.BytesIO(base64.b64decode(b))))) for g, b in HEAT.findall(html)]


@pytest.mark.parametrize("name, number", [("layer_7.png", "7"), ("layer_42.png", "42")])
def test_every_digit_read_shows_all_ten_probabilities(studio, images, name, number):
    _, read, html = draw.predict_drawing(canvas(images[name]))
    assert read == number
    charts = bars(html)
    assert len(charts) == len(number)
    for chart, digit in zip(charts, number):
        assert abs(chart.sum() - 1) < 1e-3 and np.all(chart >= 0) and int(np.argmax(chart)) == int(digit)
    assert html.count("<img") == len(number)  # the bars are no images: the strip's images are the inputs


def test_the_photo_tab_shows_them_too(studio, images):
    _, number, _, html = photo.predict_photo(str(images["photo_2024.jpg"]))
    charts = bars(html)
    assert number == "2024" and len(charts) == 4
    assert "".join(str(int(np.argmax(c))) for c in charts) == "2024"


@pytest.mark.parametrize("name, number", [("layer_7.png", "7"), ("layer_42.png", "42")])
def test_explain_drawing_gives_a_heat_map_per_digit(studio, images, name, number):
    html = draw.explain_drawing(canvas(images[name]))
    maps = heat_maps(html)
    assert "".join(str(g) for g, _ in maps) == number
    side = 28 * UI.heat_scale
    for _, img in maps:
        assert img.shape == (side, side, 3) and img.dtype == np.uint8
        red = (img[..., 0].astype(int) - img[..., 2]) > 60
        assert red.mean() > 0.01  # some ink argued for the answer
        assert not red[:8, :8].any()  # the corner, blank in every 28x28 input, is never coloured
    assert "Red" in html


def test_why_follows_the_page_only_when_ticked(studio, images, monkeypatch):
    me = page("why-page-1")
    draw.predict_drawing(canvas(images["layer_42.png"]), request=me)
    shown = draw.why_drawing(True, me)
    assert shown.visible is True and len(heat_maps(shown.value)) == 2
    # Unticked, a stroke's follow-up computes nothing.
    monkeypatch.setattr(studio.model, "explain", lambda *a: pytest.fail("explained with the box unticked"))
    draw.predict_drawing(canvas(images["layer_7.png"]), request=me)
    hidden = draw.why_drawing(False, me)
    assert hidden.visible is False and hidden.value == ""
    monkeypatch.undo()
    # Ticked again: the page's latest drawing, not another page's.
    draw.predict_drawing(canvas(images["layer_3.png"]), request=page("why-page-2"))
    assert [g for g, _ in heat_maps(draw.why_drawing(True, me).value)] == [7]
    draw.predict_drawing(None, request=me)  # cleared
    assert "Nothing drawn" in draw.why_drawing(True, me).value
    assert "Nothing drawn" in draw.why_drawing(True, page("never-drew")).value


def test_why_answers_in_the_pages_language(studio, images):
    zh = page("why-zh", accept="zh-CN")
    draw.predict_drawing(canvas(images["layer_7.png"]), request=zh)
    assert "红色" in draw.why_drawing(True, zh).value


def test_photo_why(studio, images):
    me = page("why-photo")
    photo.predict_photo(str(images["photo_2024.jpg"]), me)
    assert [g for g, _ in heat_maps(photo.why_photo(True, me).value)] == [2, 0, 2, 4]
    assert [g for g, _ in heat_maps(photo.explain_photo(str(images["photo_2024.jpg"])))] == [2, 0, 2, 4]
    assert "No digits found" in photo.explain_photo(str(images["photo_blank.jpg"]))
    with pytest.raises(gr.Error, match="Upload a photo"):
        photo.explain_photo(None)


def test_pages_remembered_are_bounded(studio):
    digit = np.zeros((28, 28), np.float32)
    kept, model = ServingSettings().recent_pages, studio.model
    for i in range(3 * kept):
        model.remember("draw", f"crowd-{i}", [digit], np.eye(10, dtype=np.float32)[:1])
    assert len(model.recent) <= kept
    assert ("draw", f"crowd-{3 * kept - 1}") in model.recent
    before = dict(model.recent)
    model.remember("draw", None, [digit], np.eye(10)[:1])  # a direct call: no page will ask for it
    assert model.recent.keys() == before.keys()


def test_models_tab_offers_the_tflite_copy_and_the_whole_card(studio):
    card, download = models_tab.show_model_card("default")
    assert card == {**json.loads((ROOT / "models" / "default.json").read_text()), "id": "default"}
    path = download.value if isinstance(download.value, str) else download.value["path"]
    assert path.endswith("mnist-default.tflite") and download.interactive is True
    assert open(path, "rb").read() == (ROOT / "models" / "default.tflite").read_bytes()
    # /show_model keeps its four outputs, the .keras download last.
    assert len(models_tab.show_model("default")) == 4


def test_a_copy_not_made_from_the_model_is_not_offered(studio, monkeypatch):
    monkeypatch.setattr(studio.registry, "lite_content", lambda vid: None)
    card, download = models_tab.show_model_card("default")
    assert card["id"] == "default" and download.interactive is False and download.value is None


@pytest.mark.parametrize("version", ["../../etc/passwd", "20991231-000000-zzzz", 7])
def test_bad_version_ids_are_refused(studio, version):
    with pytest.raises(gr.Error, match="(?i)invalid version id|no model version"):
        models_tab.show_model_card(version)
    assert models_tab.show_model_card("")[1].interactive is False


def test_new_events_have_api_names_and_old_ones_keep_theirs(studio, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "_current", studio)
    demo = app.build_app(app.StudioConfig(paths=Paths(home=tmp_path)))
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    assert {"explain_drawing", "explain_photo", "show_model_card"} <= set(fns)
    assert [len(fns[n].inputs) for n in ("predict_drawing", "show_model", "explain_drawing")] == [1, 1, 1]
    assert [len(fns[n].outputs) for n in ("predict_drawing", "show_model", "show_model_card")] == [3, 4, 2]
