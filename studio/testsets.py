"""Test sets as the page names them: every accuracy the studio shows says which digits it was measured on, in the
page's language (mnist_core.train.data names the sets; cards keep their keys, mnist_core.train.evaluate.card_tests)."""

from __future__ import annotations

from mnist_core.train.data import MNIST_TEST, PEN_HELD_OUT, likely_test_set
from mnist_core.train.evaluate import card_tests
from studio.i18n import say

# Each test set's key -> its i18n key ("offline_subset": older cards' figure on the subset's own MNIST training
# digits, never a fair one).
_NAMES = {MNIST_TEST: "testset_mnist", PEN_HELD_OUT: "testset_pen", "offline_subset": "testset_subset"}


def set_name(key: str | None, count: int = 0, fallback: str = "") -> str:
    """A test set's name with its size, in the request's language (``fallback``: the core's English name)."""
    if key in _NAMES:
        return say(_NAMES[key], n=f"{int(count):,}")
    return fallback or say("testset_unknown")


def named(test_set: dict | None) -> str:
    """The name of a test set as cards and results record it ({"key", "name", "count"})."""
    test_set = test_set if isinstance(test_set, dict) else {}
    return set_name(test_set.get("key"), test_set.get("count") or 0, str(test_set.get("name") or ""))


def accuracy_on(acc: float, key: str | None, count: int = 0, fallback: str = "") -> str:
    """"98.73% on held-out pen writers (5,963 digits, never trained on)"."""
    return say("acc_on", acc=f"{acc:.2%}", test_set=set_name(key, count, fallback))


def test_set_of(info: dict, card: dict | None = None) -> str:
    """The test set of a result or a personal fine-tune's block (``info``'s "test_set"), else its card's own (an older
    card: MNIST's test, or the offline subset's own digits), else MNIST's test."""
    if isinstance(info.get("test_set"), dict):
        return named(info["test_set"])
    for key, t in card_tests(card or {}).items():
        return set_name(key, t["count"], t["name"])
    return say("testset_mnist_short")


def card_accuracies(card: dict) -> str:
    """Every figure a card holds, each with its test set ("" when it has none), the card's own test set first."""
    return "; ".join(accuracy_on(t["accuracy"], key, t["count"], t["name"]) for key, t in card_tests(card).items())


def card_short(card: dict) -> str:
    """The card's own figure and its test set in a few words, for the models table ("" when it has none)."""
    tests = card_tests(card)
    if not tests:
        return ""
    key, t = next(iter(tests.items()))
    return f"{t['accuracy']:.2%} ({say(_NAMES.get(key, 'testset_unknown') + '_short')})"


def data_test_note(config_data: str | None, shipped: dict) -> str:
    """The Retrain tab's word on its test set, in the call's language: which set a training here is measured on
    (offline: the held-out pen writers, and why), and the shipped model's figure on each set its card holds."""
    key = MNIST_TEST if config_data else likely_test_set()
    text = say({MNIST_TEST: "testset_note_mnist", None: "testset_note_either"}.get(key, "testset_note_offline"))
    figures = [f"{say(_NAMES.get(k, 'testset_unknown') + '_short')} ({t['count']:,}): {t['accuracy']:.2%}"
               for k, t in card_tests(shipped).items()]
    return text + (f" {say('testset_note_shipped')} " + "; ".join(figures) if figures else "")
