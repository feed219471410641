"""The header's profile box (issue 23, item 9): a refused name never becomes the profile in use, neither in the box
nor in the cookie. The server's check (header.choose_profile) is called directly; the page's own rule (the
JavaScript that sets the cookie) is run through Node where it is installed and must agree with the core's."""

from __future__ import annotations

import json
import shutil
import subprocess
from types import SimpleNamespace

import pytest

import app
from mnist_core.config import Paths
from mnist_core.store.profiles import validate_profile
from studio import header

# Names the core accepts and refuses (mnist_core.store.profiles): letters and digits of any script, "_" and "-".
NAMES = ["anna", "ben_2", "李雷", "Zoë", "a-b", "_x", "x" * 32, "bad name!", "-x", "x" * 33, "a/b", "..", "e\u0301",
         "a b", "<script>"]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    app.build_app(app.StudioConfig(paths=Paths(home=tmp_path_factory.mktemp("home"))))
    return app.services()


def page(lang: str = "en") -> SimpleNamespace:
    return SimpleNamespace(headers={"accept-language": lang}, cookies={}, session_hash=None)


def accepted(name: str) -> bool:
    try:
        validate_profile(name)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name, current", [("bad name!", "anna"), ("x" * 33, "me"), ("a/b", "ben_2"), ("..", "anna")])
def test_a_refused_name_is_said_and_the_box_shows_the_profile_in_use(studio, name, current):
    with pytest.warns(UserWarning, match="profile name"):  # gr.Warning outside a page event: a Python warning
        box, in_use = header.choose_profile(name, current, page())
    assert box.value == current and in_use == current


def test_a_valid_name_becomes_the_profile_in_use(studio):
    box, in_use = header.choose_profile("  anna ", "me", page())
    assert in_use == "anna" and box.value == "anna" and "anna" in [c[0] for c in box.choices]


def test_an_empty_box_means_me_and_a_broken_current_falls_back_to_me(studio):
    assert header.choose_profile("", "anna", page())[1] == "me"
    with pytest.warns(UserWarning):
        assert header.choose_profile("bad name!", "also bad!", page())[1] == "me"


@pytest.mark.parametrize("asked, shown", [("anna", "anna"), ("bad name!", "me"), (None, "me")])
def test_on_load_the_box_and_the_profile_in_use_agree(studio, asked, shown):
    box, in_use = header.start_profile(asked)
    assert box.value == in_use == shown


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (the page's rule runs in a browser)")
def test_the_pages_rule_is_the_cores():
    """PROFILE_RULE, the JavaScript test before a name is remembered or sent as the cookie, accepts exactly the names
    validate_profile accepts."""
    script = f"const RULE = {header.PROFILE_RULE}; console.log(JSON.stringify({json.dumps(NAMES)}.map((n) => RULE.test(n))));"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [accepted(n) for n in NAMES]


def test_the_cookie_is_only_ever_set_to_a_checked_name():
    """The page's scripts: the choice sets the cookie only for a name that passes the rule, and after the server's
    check the cookie is set to the profile in use."""
    assert "if (validProfile(name)) setProfile(name);" in header.PROFILE_CHOOSE
    assert "name = validProfile(name) || \"me\";" in header.PROFILE_KEEP
    assert "validProfile(asked)" in header.PROFILE_START
