"""Every string the studio shows, in English and 简体中文 (the table: studio.strings), and how each is chosen.

The page's static text (labels, buttons, tab names, help) goes to the browser through Gradio's i18n
(``gr.I18n``, a launch option): the browser picks the language from its own (navigator.language), or from the
page's language switch, and translates in place. What handlers answer (messages, errors, result cards) is
worded here on the server, in the language of the request: the switch's cookie, else the browser's
Accept-Language, else English (API clients send neither: their answers stay in English, as documented).
Numbers and the digits themselves are the same in both.

Strings with ``{placeholders}`` are only worded on the server (``say``): the browser's translator reads braces
as ICU message syntax; such a string also carries one translation key at most (the browser translates the first
only). What the core says (mnist_core knows no Gradio, no language: job progress, data descriptions, refusals) is
recognised in studio.wording and worded again from these strings; one it does not recognise is shown as it came.
"""

from __future__ import annotations

from contextvars import ContextVar

import gradio as gr

from studio.strings import STRINGS

LANGUAGES = ("en", "zh-CN")
COOKIE = "studio-lang"  # set by the page's language switch (see studio.header)

# key -> (English, 简体中文): the table is studio.strings
TRANSLATIONS: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in STRINGS.items()} for i, lang in enumerate(LANGUAGES)
}
# What gr.Blocks.launch(i18n=...) takes: the browser translates the page's static text with it.
I18N = gr.I18n(**TRANSLATIONS)

_language: ContextVar[str] = ContextVar("studio_language", default="en")


def ui(key: str) -> gr.i18n.I18nData:
    """The page's text for ``key``, translated in the browser (KeyError for a key that has no strings)."""
    if key not in STRINGS:
        raise KeyError(f"no strings for {key!r} in studio.i18n.STRINGS")
    return I18N(key)


def language_of(request: gr.Request | None) -> str:
    """The language to answer ``request`` in: the page switch's cookie, else Accept-Language, else English."""
    if request is None:
        return "en"
    chosen = (getattr(request, "cookies", None) or {}).get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in (request.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):  # zh, zh-CN, zh-TW, ...: the simplified text beats English for any of them
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def use_language(request: gr.Request | None) -> str:
    """Answer the rest of this handler's call in ``request``'s language (a context variable: per call)."""
    lang = language_of(request)
    _language.set(lang)
    return lang


def say(key: str, **values) -> str:
    """The text for ``key`` in the current call's language, with ``values`` filled in."""
    return STRINGS[key][LANGUAGES.index(_language.get())].format(**values)


def current_language() -> str:
    """The language of the current call (set by use_language; English outside a handler)."""
    return _language.get()


def in_language(label, lang: str) -> str:
    """A page label (``ui``'s I18nData, or plain text) as text in ``lang``: sent to the page already worded, so it
    never waits on the browser's translator (whose language may still be loading)."""
    key = getattr(label, "key", None)
    if key in STRINGS:
        return STRINGS[key][LANGUAGES.index(lang) if lang in LANGUAGES else 0]
    return str(label)


def toast_words() -> dict[str, dict[str, str]]:
    """Per language, the words the page puts on Gradio's toasts (it titles them by kind in English, and shows "An
    error occurred." when an error came without a message): {lang: {"error", "warning", "info", "success",
    "unknown"}}."""
    keys = {"error": "title_error", "warning": "toast_warning", "info": "toast_info", "success": "toast_success",
            "unknown": "err_unknown"}
    return {lang: {kind: STRINGS[key][i] for kind, key in keys.items()} for i, lang in enumerate(LANGUAGES)}
