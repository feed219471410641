"""The top of the page: title, the language switch, the admin notice and password box."""

from __future__ import annotations

import json

import gradio as gr

from mnist_core.store.profiles import DEFAULT_PROFILE, validate_profile
from studio.i18n import COOKIE, LANGUAGES, in_language, say, toast_words, ui, use_language
from studio.requests import PROFILE_COOKIE
from studio.services import Services, services

# Gradio picks the page's language from the browser (navigator.language) when the page loads, and only its own
# Settings panel can change it afterwards, with changeLocale() from its "core" chunk. The switch calls that same
# function (importing the module by the URL the page loaded it from gives the same instance), remembers the choice
# in localStorage, and sets a cookie so that the server words its answers in that language too. Gradio titles its
# toasts by their kind in English ("Error") whatever title an error carries, and shows "An error occurred." for an
# error without a message: a watcher (installed once) words both in the page's language (<html lang>).
_SET_LANGUAGE = r"""
const toastWords = TOAST_WORDS;
const wordToasts = () => {
  const words = toastWords[document.documentElement.lang] || toastWords.en;
  document.querySelectorAll(".toast-title").forEach((title) => {
    const kind = ["error", "warning", "info", "success"].find((k) => title.classList.contains(k));
    const text = title.firstChild;
    if (kind && text && text.nodeType === 3 && text.nodeValue.trim() !== words[kind]) {
      text.nodeValue = words[kind] + " ";
    }
  });
  document.querySelectorAll(".toast-message-text").forEach((m) => {
    if (m.textContent.trim() === "An error occurred.") m.textContent = words.unknown;
  });
};
if (!window.studioToasts) {
  window.studioToasts = new MutationObserver(wordToasts);
  window.studioToasts.observe(document.body, {childList: true, subtree: true});
}
const setLanguage = async (lang) => {
  document.cookie = `COOKIE=${lang}; path=/; max-age=31536000; SameSite=Lax`;
  document.documentElement.lang = lang;
  wordToasts();
  const core = performance.getEntriesByType("resource").map((e) => e.name)
    .find((name) => /\/assets\/core-[^/]*\.js$/.test(name));
  if (core) (await import(core)).changeLocale?.(lang);
};
""".replace("COOKIE", COOKIE).replace("TOAST_WORDS", json.dumps(toast_words()))

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
# without an extra input. Returns the name, shown by the profile box. Only a name the core accepts is ever kept:
# PROFILE_RULE is mnist_core.store.profiles' rule (Python's \w is a letter, a digit or "_" in any script), so a
# refused name is neither remembered nor sent; choose_profile then says why and the box shows the profile in use.
PROFILE_RULE = r"/^[\p{L}\p{N}_][\p{L}\p{N}_-]{0,31}$/u"
_SET_PROFILE = r"""
const validProfile = (name) => { name = (name || "").trim(); return RULE.test(name) ? name : null; };
const setProfile = (name) => {
  name = validProfile(name) || "me";
  localStorage.setItem("PROFILE", name);
  document.cookie = `PROFILE=${encodeURIComponent(name)}; path=/; max-age=31536000; SameSite=Lax`;
  return name;
};
""".replace("PROFILE", PROFILE_COOKIE).replace("RULE", PROFILE_RULE)
PROFILE_START = ("() => {" + _SET_PROFILE + """
  const asked = new URLSearchParams(window.location.search).get("profile");
  return setProfile(validProfile(asked) || localStorage.getItem("PROFILE"));
}""".replace("PROFILE", PROFILE_COOKIE))
# A choice: (the box's text, the profile in use) -> the same two; an empty box means "me".
PROFILE_CHOOSE = ("(name, current) => {" + _SET_PROFILE + """
  name = (name || "").trim() || "me";
  if (validProfile(name)) setProfile(name);
  return [name, current];
}""")
# After the server's check: the cookie is the profile in use (the server's rule has the last word).
PROFILE_KEEP = "(name) => {" + _SET_PROFILE + " setProfile(name); }"


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


def start_profile(name: str | None = None):
    """On load: the profile box (see profiles_known) and the profile in use, the same checked name."""
    try:
        name = validate_profile(name or DEFAULT_PROFILE)
    except ValueError:
        name = DEFAULT_PROFILE
    return profiles_known(name), name


def choose_profile(name, current, request: gr.Request = None):
    """The profile box's choice: a valid name becomes the profile in use; a refused one is said (a warning) and the
    box shows the profile in use again, which stays (never the refused name: the tabs follow the profile in use)."""
    use_language(request)
    try:
        return start_profile(validate_profile((name or "").strip() or DEFAULT_PROFILE))
    except ValueError:
        gr.Warning(say("err_profile"))
    try:
        keep = validate_profile(current or DEFAULT_PROFILE)
    except ValueError:
        keep = DEFAULT_PROFILE
    return gr.Dropdown(value=keep), keep


def header(demo: gr.Blocks, here: Services) -> tuple[gr.Textbox, gr.Radio, gr.Textbox]:
    """Title, language switch, profile box and admin notice; returns the admin password box every admin event reads,
    the switch (see follow_language) and the profile in use (a hidden box: the profile box's last accepted name)."""
    with gr.Row(equal_height=True, elem_id="page-header"):  # its phone layout: server.CSS
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
    # The profile in use: the box's last accepted name, what the tabs follow (a refused name never reaches them).
    in_use = gr.Textbox(DEFAULT_PROFILE, visible="hidden", elem_id="profile-in-use")
    quiet = dict(api_name=False, queue=False, show_progress="hidden")
    demo.load(start_profile, profile, [profile, in_use], js=PROFILE_START, **quiet)
    # Queued: a warning reaches the page only through the queue's stream.
    profile.input(choose_profile, [profile, in_use], [profile, in_use], js=PROFILE_CHOOSE,
                  **{**quiet, "queue": True}).then(
        None, in_use, None, js=PROFILE_KEEP, **quiet)
    return password, language, in_use


def follow_language(demo: gr.Blocks, language: gr.Radio, tabs: list[gr.Tab]) -> None:
    """Wire the switch: the language on load and on every choice, then the tab names again.

    changeLocale() translates what is on screen, but the tab bar keeps the names the other tabs had when the page
    was built; so the tabs are sent their names again, worded here in the language chosen: the browser's translator
    would word them in the language it has loaded, and a language chosen for the first time may still be loading
    when they arrive (then four of five names stayed English until a reload).
    """
    def relabel(lang):
        return lang, *(gr.Tab(label=in_language(tab.label, lang)) for tab in tabs)

    out = [language, *tabs]
    quiet = dict(api_name=False, queue=False, show_progress="hidden")
    demo.load(relabel, language, out, js=START, **quiet)
    language.input(relabel, language, out, js=CHOOSE, **quiet)
