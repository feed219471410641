"""The top of the page: title, the language switch, the admin notice and password box."""

from __future__ import annotations

import gradio as gr

from mnist_core.store.profiles import DEFAULT_PROFILE, validate_profile
from studio.i18n import COOKIE, LANGUAGES, ui
from studio.requests import PROFILE_COOKIE
from studio.services import Services, services

# Gradio picks the page's language from the browser (navigator.language) when the page loads, and only its own
# Settings panel can change it afterwards, with changeLocale() from its "core" chunk. The switch calls that same
# function (importing the module by the URL the page loaded it from gives the same instance), remembers the choice
# in localStorage, and sets a cookie so that the server words its answers in that language too.
_SET_LANGUAGE = r"""
const setLanguage = async (lang) => {
  document.cookie = `COOKIE=${lang}; path=/; max-age=31536000; SameSite=Lax`;
  const core = performance.getEntriesByType("resource").map((e) => e.name)
    .find((name) => /\/assets\/core-[^/]*\.js$/.test(name));
  if (core) (await import(core)).changeLocale?.(lang);
};
""".replace("COOKIE", COOKIE)

# On load: ?lang= in the address, else the last choice made here, else the browser's languages (any Chinese gets
# the simplified text: Gradio itself only matches zh-CN exactly). Returns the language, shown by the switch.
START = r"""
async () => {
  SET_LANGUAGE
  const known = KNOWN;
  const asked = new URLSearchParams(window.location.search).get("lang");
  const explicit = known.includes(asked) ? asked : known.includes(localStorage.getItem("COOKIE"))
    ? localStorage.getItem("COOKIE") : null;
  const browser = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language])
    .find((tag) => /^(zh|en)\b/i.test(tag)) || "en";
  const lang = explicit || (browser.toLowerCase().startsWith("zh") ? "zh-CN" : "en");
  if (asked === lang) localStorage.setItem("COOKIE", lang);
  await setLanguage(lang);
  return lang;
}
"""
START = START.replace("SET_LANGUAGE", _SET_LANGUAGE).replace("KNOWN", repr(list(LANGUAGES))).replace("COOKIE", COOKIE)

# On a choice in the switch: remember it and translate the page at once, without reloading it.
CHOOSE = r"""
async (lang) => {
  SET_LANGUAGE
  localStorage.setItem("COOKIE", lang);
  await setLanguage(lang);
  return lang;
}
""".replace("SET_LANGUAGE", _SET_LANGUAGE).replace("COOKIE", COOKIE)


# The profile (whose handwriting): ?profile= in the address, else the last one chosen here, else "me"; kept in
# localStorage and sent to the server as a cookie, so every event (predictions, saved samples) speaks for it
# without an extra input. Returns the name, shown by the profile box.
_SET_PROFILE = r"""
const setProfile = (name) => {
  name = (name || "me").trim() || "me";
  localStorage.setItem("PROFILE", name);
  document.cookie = `PROFILE=${encodeURIComponent(name)}; path=/; max-age=31536000; SameSite=Lax`;
  return name;
};
""".replace("PROFILE", PROFILE_COOKIE)
PROFILE_START = ("() => {" + _SET_PROFILE + """
  return setProfile(new URLSearchParams(window.location.search).get("profile") || localStorage.getItem("PROFILE"));
}""".replace("PROFILE", PROFILE_COOKIE))
PROFILE_CHOOSE = "(name) => {" + _SET_PROFILE + " return setProfile(name); }"


def profiles_known(name: str | None = None) -> gr.Dropdown:
    """The profile box with every profile that has samples or a personal model, ``name`` chosen (checked)."""
    try:
        name = validate_profile(name or DEFAULT_PROFILE)
    except ValueError:
        name = DEFAULT_PROFILE
    s = services()
    known = {DEFAULT_PROFILE, name, *s.registry.personal_pointers()}
    if s.samples.exists():  # a SQLite file not created yet has none
        known |= set(s.samples.profiles())
    return gr.Dropdown(choices=sorted(known), value=name)


def header(demo: gr.Blocks, here: Services) -> tuple[gr.Textbox, gr.Radio, gr.Dropdown]:
    """Title, language switch, profile box and admin notice; returns the admin password box every admin event reads,
    the switch (see follow_language) and the profile box."""
    with gr.Row(equal_height=True):
        with gr.Column(elem_id="page-title"):
            # One translatable string per component: gr.I18n translates a whole value, and a value glued from two
            # of them reached the page as their raw metadata.
            gr.Markdown(ui("page_title"))
            gr.Markdown(ui("page_intro"), elem_id="page-intro")
        profile = gr.Dropdown([DEFAULT_PROFILE], value=DEFAULT_PROFILE, allow_custom_value=True, label=ui("profile"),
                              info=ui("profile_info"), elem_id="profile", scale=0, min_width=220)
        # Each language is named in its own script, so whoever cannot read the page can still find theirs.
        language = gr.Radio([("English", "en"), ("简体中文", "zh-CN")], label=ui("language"), elem_id="language",
                            scale=0, min_width=220)
    if here.admin_mode == "disabled":
        gr.Markdown("> ⚠️ " + ui("admin_disabled"), elem_id="admin-disabled")
    password = gr.Textbox("", label=ui("admin_password"), type="password", visible=here.admin_mode == "password",
                          info=ui("admin_password_info"))
    quiet = dict(api_name=False, queue=False, show_progress="hidden")
    demo.load(profiles_known, profile, profile, js=PROFILE_START, **quiet)
    profile.input(None, profile, profile, js=PROFILE_CHOOSE, **quiet)
    return password, language, profile


def follow_language(demo: gr.Blocks, language: gr.Radio, tabs: list[gr.Tab]) -> None:
    """Wire the switch: the language on load and on every choice, then the tab names again.

    changeLocale() translates what is on screen, but the tab bar keeps the names the other tabs had when the page
    was built; sending the tabs their (untranslated) labels again has the browser translate them anew.
    """
    def relabel(lang):
        return lang, *(gr.Tab(label=tab.label) for tab in tabs)

    out = [language, *tabs]
    quiet = dict(api_name=False, queue=False, show_progress="hidden")
    demo.load(relabel, language, out, js=START, **quiet)
    language.input(relabel, language, out, js=CHOOSE, **quiet)
