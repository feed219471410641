"""Stroke-space augmentation and the writing conventions synthesised from real digits."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.ink import features as F
from mnist_core.train import synth as S

# Hand-made training digits (y down), enough to exercise every generator without the shipped data.
ONE = [np.array([[10.0, 0.0], [9.0, 50.0], [8.0, 100.0]])]
SEVEN = [np.array([[0.0, 5.0], [60.0, 0.0], [40.0, 50.0], [25.0, 100.0]])]
ZERO = [np.stack([30 + 25 * np.cos(a), 50 + 48 * np.sin(a)], 1) for a in [np.linspace(-np.pi / 2, 1.5 * np.pi, 40)]]
FOUR = [np.array([[10.0, 0.0], [5.0, 60.0], [70.0, 60.0]]), np.array([[50.0, 5.0], [48.0, 100.0]])]
_a = np.linspace(0, 2 * np.pi, 30)
NINE = [np.concatenate([np.stack([30 + 20 * np.cos(_a), 25 + 22 * np.sin(-_a)], 1),
                        np.array([[50.0, 40.0], [48.0, 100.0]])])]
_t = np.linspace(0, 2 * np.pi, 60)
EIGHT = [np.stack([30 - 22 * np.sin(2 * _t) / 2, 50 - 48 * np.cos(_t)], 1)]  # begun at the top, one closed stroke
DIGIT = {0: ZERO, 1: ONE, 4: FOUR, 7: SEVEN, 8: EIGHT, 9: NINE}


def rng(seed=0):
    return np.random.default_rng(seed)


def is_unit(strokes) -> bool:
    p = np.concatenate(strokes)
    return abs(p[:, 1].min()) < 1e-9 and abs(p[:, 0].min()) < 1e-9 and abs(p[:, 1].max() - 1) < 1e-9


@pytest.mark.parametrize("conv", S.CONVENTIONS, ids=lambda c: c.name)
@pytest.mark.parametrize("seed", range(5))
def test_every_convention_gives_valid_unit_strokes(conv, seed):
    out = conv.make(DIGIT[conv.label], rng(seed))
    assert out and all(s.ndim == 2 and s.shape[1] == 2 and len(s) >= 1 for s in out)
    assert np.isfinite(np.concatenate(out)).all() and is_unit(out)
    assert F.ink_features(out).shape == (F.FeatureSettings().points, len(F.CHANNELS))


def _flag(strokes):
    """The first stroke's start relative to its topmost point (x left of it, y below it?)."""
    s = strokes[0]
    top = s[np.argmin(s[:, 1])]
    return s[0] - top


@pytest.mark.parametrize("make, base, longer", [
    (S.continental_one, False, 0.2), (S.continental_one_base, True, 0.2), (S.serif_one, None, 0.0)])
def test_ones_start_with_an_up_stroke_flag_into_the_stem(make, base, longer):
    for seed in range(10):
        out = make(ONE, rng(seed))
        d = _flag(out)
        assert d[0] < 0 and d[1] > 0  # starts down-left of the top, drawn up into it
        assert np.hypot(*d) > longer
        if base is not None:
            assert (len(out) == 2) == base
        if len(out) == 2:  # the base: a left-to-right stroke at the foot
            b = out[1]
            assert b[-1, 0] > b[0, 0] and b[:, 1].min() > 0.85


@pytest.mark.parametrize("seed", range(10))
def test_one_stroke_base_runs_from_the_flag_down_the_stem_and_along_the_base(seed):
    out = S.one_stroke_base_one(ONE, rng(seed))
    assert len(out) == 1  # no pen lift
    s = out[0]
    d = _flag(out)
    assert d[0] < 0 and d[1] > 0  # the flag, drawn up into the top
    foot = s[s[:, 1] > 0.85]
    assert np.ptp(foot[:, 0]) > 0.25  # a base along the foot
    assert s[-1, 0] > foot[:, 0].min()  # ends right of where it turned back (the base's left end)
    assert s[-1, 1] > 0.85


@pytest.mark.parametrize("seed", range(10))
def test_flat_flag_is_long_and_near_horizontal(seed):
    out = S.flat_flagged_one(ONE, rng(seed))
    assert len(out) == 1  # no base
    dx, dy = _flag(out)
    assert dx < 0 and dy > 0  # drawn up into the top, like every flag
    assert 10 - 1e-6 <= np.degrees(np.arctan2(dy, -dx)) <= 20 + 1e-6  # a 7's bar's angle, not the taught 20-60


def test_serif_flag_is_short():
    lengths = [np.hypot(*_flag(S.serif_one(ONE, rng(s)))) for s in range(20)]
    assert max(lengths) < 0.3


def test_crossed_seven_bar_is_a_separate_short_stroke_through_the_stem():
    for seed in range(10):
        out = S.crossed_seven(SEVEN, rng(seed))
        assert len(out) == 2
        bar = out[1]
        assert 0.35 < bar[:, 1].mean() < 0.75  # mid-height
        assert np.ptp(bar[:, 0]) > 2 * np.ptp(bar[:, 1])  # horizontal
        assert np.ptp(bar[:, 0]) < 0.7  # short


def test_looped_crossed_seven_is_one_stroke_that_comes_back_up_and_crosses_the_stem():
    for seed in range(10):
        out = S.crossed_seven_looped(SEVEN, rng(seed))
        assert len(out) == 1 and is_unit(out)
        s = out[0]
        foot = int(np.argmax(s[:, 1]))
        assert s[foot, 1] > 0.95 and foot < len(s) - 8  # the pen reaches the foot, then goes on
        bar = s[-8:]  # the last 8 points: the bar, left to right at mid-height
        assert bar[-1, 0] > bar[0, 0] and 0.35 < bar[:, 1].mean() < 0.75
        assert np.ptp(bar[:, 0]) > 2 * np.ptp(bar[:, 1])
        assert s[foot:, 1].min() < 0.7  # back up from the foot


@pytest.mark.parametrize("digit", [ONE, SEVEN, S.crossed_seven(SEVEN, rng(3))], ids=["1", "7", "crossed 7"])
def test_hooked_foot_turns_the_stem_right_and_up_at_its_foot(digit):
    for seed in range(10):
        out = S.hooked_foot(digit, rng(seed))
        stem = max(out, key=lambda s: np.ptp(s[:, 1]))
        foot = int(np.argmax(stem[:, 1]))
        hook = stem[foot:]
        assert 2 <= len(hook) <= 10  # a few points after the lowest one, in the same stroke
        assert hook[-1, 0] > stem[foot, 0] and hook[-1, 1] < stem[foot, 1]  # ends right of and above the foot
        assert np.hypot(*(hook[-1] - stem[foot])) < 0.2  # short: a hook, not a 2's base
        assert len(out) == len(digit)  # no pen lift added


def test_hooked_foot_leaves_a_stem_drawn_upwards_as_written():
    up = [ONE[0][::-1]]  # a 1 drawn from the foot up: its pen lifts at the top
    out = S.hooked_foot(up, rng(0))
    assert np.allclose(np.concatenate(out), np.concatenate(S.unit(up)))


def test_slashed_zero_adds_a_diagonal_through_the_ring():
    out = S.slashed_zero(ZERO, rng(1))
    assert len(out) == 2
    sl = out[1]
    assert np.ptp(sl[:, 1]) > 0.8 and np.ptp(sl[:, 0]) > 0.3
    c = sl.mean(0)
    ring = np.concatenate(out[:1])
    assert np.abs(c - (ring.min(0) + ring.max(0)) / 2).max() < 0.15


def test_dotted_zero_adds_a_tiny_stroke_inside():
    out = S.dotted_zero(ZERO, rng(2))
    assert len(out) == 2 and np.ptp(out[1], axis=0).max() < 0.06
    assert 0.3 < out[1][0, 1] < 0.7


@pytest.mark.parametrize("make, strokes", [(S.four_open_one, 1), (S.four_closed_one, 1), (S.four_closed_two, 2)])
def test_fours(make, strokes):
    for seed in range(5):
        out = make(FOUR, rng(seed))
        assert len(out) == strokes
        assert np.ptp(np.concatenate(out)[:, 0]) > 0.3  # a bar across


def test_four_closed_one_starts_at_the_foot_and_goes_up():
    out = S.four_closed_one(FOUR, rng(3))[0]
    assert out[0, 1] > 0.95 and out[9, 1] < 0.15


@pytest.mark.parametrize("make", [S.nine_straight, S.nine_curled])
def test_nines_keep_the_loop_and_reach_the_foot(make):
    for seed in range(5):
        out = make(NINE, rng(seed))
        assert len(out) == 1
        s = out[0]
        assert s[-1, 1] > 0.75 and s[:, 1].min() < 0.02
    curled = S.nine_curled(NINE, rng(0))[0]
    assert curled[-1, 0] < curled[-8, 0]  # the tail ends going left


# A 9 whose loop runs below the top 58% of its height: the run there is an open arc, a "?" once a tail is put on.
_b = np.linspace(0, 2 * np.pi, 40)
DEEP_NINE = [np.concatenate([np.stack([30 + 20 * np.cos(_b), 38 + 36 * np.sin(-_b)], 1),
                             np.array([[50.0, 40.0], [48.0, 100.0]])])]


@pytest.mark.parametrize("digit, loop", [(ZERO, True), (NINE, True), (DEEP_NINE, True), (ONE, False),
                                         (SEVEN, False), (FOUR, False)])
def test_has_loop_finds_a_closed_ring(digit, loop):
    assert S.has_loop(digit) is loop


@pytest.mark.parametrize("make", [S.nine_straight, S.nine_curled])
@pytest.mark.parametrize("digit", [NINE, DEEP_NINE, ONE], ids=["nine", "deep-loop nine", "stem only"])
def test_every_synthesised_nine_has_a_closed_loop(make, digit):
    for seed in range(10):
        out = make(digit, rng(seed))
        assert S.has_loop(out), seed  # before: the deep loop gave "?" shapes and a stem-only 9 a "J"
        assert np.concatenate(out)[:, 1].max() == pytest.approx(1.0)


def test_augment_keeps_unit_strokes_and_moves_them():
    out = S.augment(SEVEN, rng(0))
    assert is_unit(out)
    a, b = F.ink_features(SEVEN), F.ink_features(out)
    assert np.abs(a[:, :2] - b[:, :2]).max() > 0.005


def test_augment_with_nothing_on_is_the_identity():
    off = S.AugmentSettings(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    np.testing.assert_allclose(F.ink_features(S.augment(FOUR, rng(0), off)), F.ink_features(FOUR), atol=1e-6)


@pytest.mark.parametrize("setting, check", [
    ("reverse", lambda src, out: any(np.allclose(o[0], s[-1], atol=1e-6) for o, s in zip(out, src))),
    ("reorder", lambda src, out: np.allclose(out[0][0], src[1][0], atol=1e-6)),
    ("split", lambda src, out: len(out) == 3),
    ("merge", lambda src, out: len(out) == 1),
    ("restart", lambda src, out: len(out) == 3 and not np.allclose(out[2][0], src[2][0], atol=1e-3)),
])
def test_pen_accidents(setting, check):
    base = dict(slant=0, rotation=0, aspect=0, wobble=0, jitter=0, reverse=0, reorder=0, split=0, merge=0,
                restart=0)
    s = S.AugmentSettings(**{**base, setting: 1.0})
    src = S.unit([np.array([[10.0, 0.0], [5.0, 60.0], [70.0, 60.0], [80, 62], [90, 64], [95, 65]]),
                  np.array([[50.0, 5.0], [48.0, 100.0]])] + ([EIGHT[0] * 0.8 + 20] if setting == "restart" else []))
    hits = sum(bool(check(src, S.augment(src, rng(k), s))) for k in range(20))
    assert hits >= 5


def test_with_conventions_follows_the_shares():
    r = rng(0)
    n = 4000
    two = sum(len(S.with_conventions(SEVEN, 7, r)) == 2 for _ in range(n)) / n
    share = S.by_name("crossed 7").share
    assert abs(two - share) < 0.03
    assert all(len(S.with_conventions(SEVEN, 7, r, scale=0.0)) == 1 for _ in range(200))
    np.testing.assert_allclose(S.with_conventions(ONE, 3, r)[0], S.unit(ONE)[0])  # no convention for 3


def test_shares_per_label_leave_room_for_the_writers_own_shapes():
    for label in range(10):
        assert sum(c.share for c in S.CONVENTIONS if c.label == label) < 0.6
    with pytest.raises(KeyError):
        S.by_name("no such")


@pytest.mark.parametrize("label", [0, 8])
def test_a_loop_begun_elsewhere_begins_away_from_the_writers_start(label):
    src = S.unit(DIGIT[label])[0]
    for seed in range(10):
        out = S.loop_begun_elsewhere(DIGIT[label], rng(seed))
        assert len(out) == 1 and S.is_closed(out[0])
        assert np.hypot(*(out[0][0] - src[0])) > 0.2  # not at the top, where this writer began


def test_a_digit_without_a_loop_is_left_as_written():
    for digit in (SEVEN, FOUR):
        out = S.loop_begun_elsewhere(digit, rng(0))
        for a, b in zip(out, S.unit(digit)):
            np.testing.assert_allclose(a, b)
