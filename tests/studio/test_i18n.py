"""The studio in English and 简体中文: every string in both, the page translated for a zh-CN browser, answers
worded in the request's language."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import httpx
import pytest
from gradio.i18n import I18nData

import app
from mnist_core.config import Paths
from studio import draw, retrain, services
from studio.i18n import LANGUAGES, STRINGS, TRANSLATIONS, language_of, say, use_language

MARKER = re.compile(r'__i18n__(\{[^{}]*\})')
PLACEHOLDER = re.compile(r"\{(\w*)\}")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _translate(text: str, lang: str) -> str:
    return MARKER.sub(lambda m: TRANSLATIONS[lang][json.loads(m.group(1))["key"]], text)


def as_shown(config: dict, lang: str) -> dict:
    """Gradio's page config with every translation key replaced by its text in ``lang``, as the browser does."""
    def default(o):
        if isinstance(o, I18nData):
            return TRANSLATIONS[lang][o.key]
        return o.tojson() if hasattr(o, "tojson") else str(o)

    plain = json.loads(json.dumps(config, default=default))

    def walk(v):
        if isinstance(v, str):
            return _translate(v, lang)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(plain)


def _keys_used(config: dict) -> set[str]:
    """Every translation key the page's components carry."""
    text = json.dumps(config["components"], default=lambda o: str(o))
    return {json.loads(m.replace('\\"', '"'))["key"] for m in re.findall(r'__i18n__(\{[^{}]*\})', text)}


# --- the strings ----------------------------------------------------------------------------------------


def test_every_string_has_both_languages_and_nothing_is_empty():
    assert LANGUAGES == ("en", "zh-CN")
    for key, pair in STRINGS.items():
        assert len(pair) == len(LANGUAGES), key
        assert all(isinstance(s, str) and s.strip() for s in pair), key
    assert set(TRANSLATIONS["en"]) == set(TRANSLATIONS["zh-CN"]) == set(STRINGS)


def test_chinese_strings_are_chinese_and_keep_their_placeholders():
    # Names and numbers may be the same in both (MNIST, .keras); everything with words is translated.
    same = {key for key, (en, zh) in STRINGS.items() if en == zh}
    assert same <= {"data_mnist"}, same
    for key, (en, zh) in STRINGS.items():
        assert sorted(PLACEHOLDER.findall(en)) == sorted(PLACEHOLDER.findall(zh)), key
        if key not in same and re.search(r"[A-Za-z]{3}", re.sub(r"`[^`]*`|MNIST|MNIST_STUDIO_\w+|\.keras|cnn|mlp", "", en)):
            assert HAN.search(zh), f"{key}: {zh!r} has no Chinese"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The page built over a fresh data directory (not served), with admin actions disabled to show every notice."""
    previous = services._current
    demo = app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home")), host="0.0.0.0",
                                          admin_password=None))
    try:
        yield demo
    finally:
        demo.close()
        services._current = previous


def test_every_label_of_the_page_is_a_translation_key(built):
    """No English left behind: labels, infos, buttons, tab names and text blocks all go through gr.I18n."""
    config = built.get_config_file()
    used = _keys_used(config)
    assert used <= set(STRINGS)
    for key in used:  # the browser's translator reads braces as ICU syntax: the page's strings have none
        assert not PLACEHOLDER.search(" ".join(STRINGS[key])), key
    for c in config["components"]:
        props = c["props"]
        for prop in ("label", "info", "placeholder", "title"):
            value = props.get(prop)
            if isinstance(value, str) and value:
                assert "__i18n__" in value, (c["type"], prop, value)
        if c["type"] == "button" and props.get("visible") is not False:  # the hidden ones are API-only
            assert "__i18n__" in str(props.get("value")), props.get("value")
        if c["type"] == "tabitem":
            assert "__i18n__" in str(props.get("label")), props
    shown = json.dumps(as_shown(config, "zh-CN")["components"], ensure_ascii=False)
    for zh in ("手写", "照片", "重新训练", "模型", "我的样本", "开始训练", "没有设置管理员密码"):
        assert zh in shown
    assert "Start training" not in shown and "Start training" in json.dumps(as_shown(config, "en"))


def test_the_data_choices_keep_their_api_values(built):
    radio = next(c for c in built.get_config_file()["components"]
                 if c["type"] == "radio" and [v for _, v in c["props"]["choices"]] == retrain.DATA_CHOICES)
    assert [label for label, _ in as_shown({"c": radio}, "zh-CN")["c"]["props"]["choices"]][1] == "MNIST + 我的样本"


# --- answers worded on the server ---------------------------------------------------------------------


def _request(accept: str = "", cookie: str | None = None):
    return SimpleNamespace(headers={"accept-language": accept}, cookies={"studio-lang": cookie} if cookie else {})


@pytest.mark.parametrize("accept, cookie, expected", [
    ("", None, "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh-CN"),
    ("zh-TW", None, "zh-CN"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", None, "en"),
    ("fr-FR", None, "en"),
    ("zh-CN", "en", "en"),  # the page's switch wins over the browser
    ("en-US", "zh-CN", "zh-CN"),
    ("en-US", "klingon", "en"),
])
def test_the_language_of_a_request(accept, cookie, expected):
    assert language_of(_request(accept, cookie)) == expected
    assert language_of(None) == "en"  # API clients and direct calls


def test_handlers_answer_and_refuse_in_the_browsers_language(tmp_path):
    previous = services._current
    try:
        app.build_app(app.StudioConfig(paths=Paths(home=tmp_path)))
        zh = _request("zh-CN")
        assert "还没有书写" in draw.predict_drawing(None, request=zh)[2]
        with pytest.raises(Exception, match="请先写一个数字"):
            draw.save_drawing_sample(None, 0, 1, zh)
        with pytest.raises(Exception, match="缺少训练轮数"):
            retrain.train(**{**dict(data="MNIST", sample_weight=5, arch="cnn", epochs=None, batch_size=64,
                                    lr=0.003, augment=True, limit=1000, auto_activate=False)}, request=zh)
        assert retrain.cancel_training(request=zh) == "没有正在进行的训练。"
        # Without a request (the HTTP API, scripts), English, as documented.
        assert "Nothing drawn" in draw.predict_drawing(None)[2]
        assert retrain.cancel_training() == "No training is running."
    finally:
        services._current = previous
        use_language(None)


def test_say_fills_in_numbers_unchanged():
    use_language(_request("zh-CN"))
    try:
        assert say("err_pick", n=3) == "共有 3 个数字；请选择 1 到 3。"
    finally:
        use_language(None)
    assert say("err_pick", n=3) == "There are 3 digit(s); pick 1 to 3."


# --- served: what a zh-CN browser gets ---------------------------------------------------------------


@pytest.mark.slow
def test_a_zh_cn_browser_gets_the_chinese_page(tmp_path):
    """The page and the config Gradio serves carry the translations; Gradio's frontend applies zh-CN's."""
    previous = services._current
    config = app.StudioConfig(paths=Paths(home=tmp_path))
    demo = app.build_app(config)
    try:
        _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(config))
        headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            page = http.get("/")
            served = http.get("/config").json()
        assert page.status_code == 200 and "i18n_translations" in page.text
        translations = served["i18n_translations"]
        assert translations["zh-CN"] == TRANSLATIONS["zh-CN"] and translations["en"] == TRANSLATIONS["en"]
        keys = _keys_used(served)
        assert {"tab_draw", "tab_retrain", "train_start", "draw_canvas"} <= keys
        shown = json.dumps(as_shown(served, "zh-CN")["components"], ensure_ascii=False)
        assert "手写" in shown and "开始训练" in shown and "在这里写数字" in shown
        # The language switch: both languages, each named in its own script.
        switch = next(c for c in served["components"] if c["props"].get("elem_id") == "language")
        assert [tuple(x) for x in switch["props"]["choices"]] == [("English", "en"), ("简体中文", "zh-CN")]
        # An answer to a zh-CN browser is worded in Chinese; the same call from a script stays English.
        empty = {"background": None, "layers": [], "composite": None}
        for accept, expected in (("zh-CN", "还没有书写"), ("", "Nothing drawn")):
            with httpx.Client(base_url=url, headers={"Accept-Language": accept} if accept else {}, timeout=60) as http:
                event = http.post("/gradio_api/call/predict_drawing", json={"data": [empty]}).json()["event_id"]
                body = http.get(f"/gradio_api/call/predict_drawing/{event}").text
                assert expected in json.loads(body.split("event: complete\ndata:", 1)[1].strip().splitlines()[0])[2]
    finally:
        demo.close()
        services._current = previous
