"""ink.hand: a crossed 7's bar found in the strokes, and a writer who crosses their 7s read as such (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.ink import hand
from mnist_core.train import pen, synth


def line(p0, p1, n=12):
    return np.linspace(p0, p1, n)


SEVEN = [np.concatenate([line((0, 0), (60, 0)), line((60, 0), (25, 100))[1:]])]  # bar, then the stem down-left
DASH = line((28, 52), (62, 50), 8)  # through the stem at mid-height
ONE_BASE = [line((30, 0), (30, 100)), line((10, 100), (50, 100), 8)]
RETRACED = [np.concatenate([line((30, 0), (30, 100)), line((30, 100), (31, 0))[1:]])]  # down, and back up over it
LOOPED = [np.concatenate([SEVEN[0], line((25, 100), (10, 60))[1:], line((10, 60), (70, 55))[1:]])]  # back up, across


@pytest.mark.parametrize("name, strokes, bar", [
    ("plain 7", SEVEN, False),
    ("crossed 7", SEVEN + [DASH], True),
    ("crossed 7, the bar short of the stem", SEVEN + [line((8, 52), (30, 50), 8) - [20, 0]], True),
    ("crossed 7 in one stroke", LOOPED, True),
    ("1 with a base (below the band)", ONE_BASE, False),
    ("a line drawn back over itself", RETRACED, False),
    ("a dot beside a 7 (too small for a bar)", SEVEN + [np.array([[70.0, 50.0], [70.5, 50.2]])], False),
])
def test_has_bar(name, strokes, bar):
    assert hand.has_bar(strokes) is bar, name


def test_crossings_are_where_the_bar_crosses_the_stem():
    points = hand.crossings(SEVEN + [DASH])
    assert len(points) == 1
    assert 0.45 < points[0][1] < 0.55  # y: half the height down


def test_the_training_writers_crossed_sevens_have_a_bar_and_their_ones_mostly_not():
    digits = pen.load_shipped()
    rng = np.random.default_rng(0)
    sevens = [d for d in digits if d.label == 7][:200]
    ones = [d for d in digits if d.label == 1][:400]
    crossed = np.mean([hand.has_bar(synth.crossed_seven(d.strokes, rng)) for d in sevens])
    one_bars = np.mean([hand.has_bar(d.strokes) for d in ones])
    assert crossed >= 0.99
    assert one_bars <= 0.05  # some 1s loop their flag or cross their base: never counted as 7s unless read as 7


def probs(**p):
    row = np.full(10, 1e-4)
    for k, v in p.items():
        row[int(k[1:])] = v
    return row / row.sum()


def seen(crossed: int, plain: int) -> hand.Hand:
    h = hand.Hand()
    for _ in range(crossed):
        h.observe(probs(d7=0.99), probs(d7=0.9), bar=True)
    for _ in range(plain):
        h.observe(probs(d7=0.99), probs(d7=0.9), bar=False)
    return h


@pytest.mark.parametrize("crossed, plain, crosses", [
    (0, 0, False), (1, 0, False), (2, 0, True), (2, 2, True), (2, 3, False), (26, 1, True),
])
def test_a_writer_crosses_their_sevens_after_two_and_half_of_them(crossed, plain, crosses):
    assert seen(crossed, plain).crosses() is crosses


def test_only_confident_sevens_with_ink_count():
    h = hand.Hand()
    h.observe(probs(d7=0.4, d1=0.6), probs(d7=0.9), bar=True)  # read as 1: not a 7 seen
    h.observe(probs(d7=0.99), None, bar=True)  # no ink
    h.observe(probs(d7=0.99), probs(d1=0.9), bar=False)  # plain, and the ink says 1: not counted against
    h.observe(probs(d7=0.99), probs(d7=0.7, d1=0.3), bar=False)  # plain, the ink doubtful: maybe a flat-flagged 1
    assert (h.crossed, h.plain, h.doubtful) == (0, 0, 1)
    h.observe(probs(d7=0.99), probs(d7=0.95, d1=0.05), bar=False)  # plain, and the ink sure of a 7
    assert (h.crossed, h.plain, h.doubtful) == (0, 1, 1)


@pytest.mark.parametrize("crossed, plain, doubtful, crosses", [
    (2, 0, 2, True), (2, 0, 3, False), (2, 1, 2, False), (26, 0, 4, True),
])
def test_doubtful_plain_sevens_count_against_crossing_but_not_in_the_odds(crossed, plain, doubtful, crosses):
    h = hand.Hand(crossed, plain, doubtful)
    assert h.crosses() is crosses
    assert h.plain_odds() == pytest.approx((plain + 0.3) / (crossed + plain + 1))


@pytest.mark.parametrize("ink_seven, plain", [(0.95, 1), (0.7, 0)])
def test_a_crossing_writers_doubtful_plain_seven_does_not_weaken_the_odds_for_their_ones(ink_seven, plain):
    h = seen(26, 0)  # as a held-out writer made continental: 26 crossed 7s, and one flat-flagged 1 read as 7
    h.observe(probs(d7=0.96, d1=0.04), probs(d7=ink_seven, d1=1 - ink_seven), bar=False)
    assert (h.plain, h.doubtful) == (plain, 1 - plain)
    assert h.plain_odds() == pytest.approx((plain + 0.3) / (26 + plain + 1))
    one = np.stack([probs(d7=0.965, d1=0.03)])  # a flat-flagged 1 that both models read as 7
    assert h.apply(one, [False]).argmax(1).tolist() == ([1] if plain == 0 else [7])


def test_a_crossing_writers_uncrossed_seven_shape_reads_as_one_and_a_sure_seven_stays():
    h = seen(5, 0)
    rows = np.stack([probs(d7=0.6, d1=0.4), probs(d7=0.999, d1=1e-4), probs(d7=0.6, d1=0.4), probs(d3=0.9)])
    out = h.apply(rows, [False, False, True, False])
    assert out.argmax(1).tolist() == [1, 7, 7, 3]  # the barred one is left alone
    np.testing.assert_allclose(out.sum(1), 1.0)
    assert out[0, 7] / out[0, 1] == pytest.approx(0.6 / 0.4 * h.plain_odds())
    np.testing.assert_allclose(out[2], rows[2])


def test_a_writer_who_does_not_cross_is_left_alone():
    rows = np.stack([probs(d7=0.6, d1=0.4)])
    np.testing.assert_allclose(seen(1, 3).apply(rows, [False]), rows)


def test_by_writer_reads_each_writers_digits_together_and_nobodys_alone():
    rows = np.stack([probs(d7=0.99)] * 2 + [probs(d7=0.6, d1=0.4)] * 3)
    ink = np.stack([probs(d7=0.9)] * 2 + [probs(d1=0.9)] * 3)
    bars = [True, True, False, False, False]
    out, hands = hand.by_writer(rows, ink, bars, ["a", "a", "a", "b", None])
    assert out.argmax(1).tolist() == [7, 7, 1, 7, 7]  # b crossed no 7; None is nobody's
    assert hands["a"].crosses() and not hands["b"].crosses()
    assert "crosses their 7s" in hands["a"].describe()


def drawing_read(page: hand.PageHand, strokes, rows, bars):
    """A page's drawing read once: (answers, hand), the ink model agreeing with the answer."""
    rows = np.stack(rows)
    return page.read(strokes, rows, rows, bars)


def test_a_page_counts_a_drawing_once_finished_not_while_it_grows_or_is_undone():
    page = hand.PageHand()
    for shift in (0, 5):  # two crossed 7s, each read first without its bar (a plain 7 so far), then with it
        seven = [s + shift for s in SEVEN + [DASH]]
        drawing_read(page, seven[:1], [probs(d7=0.99)], [False])
        drawing_read(page, seven, [probs(d7=0.99)], [True])
    assert (page.hand.crossed, page.hand.plain) == (1, 0)  # the second 7 is still being drawn
    drawing_read(page, seven[:1], [probs(d7=0.99)], [False])  # undone to its first stroke: still that drawing
    assert (page.hand.crossed, page.hand.plain) == (1, 0)
    drawing_read(page, seven, [probs(d7=0.99)], [True])
    out, now = drawing_read(page, ONE_BASE[:1], [probs(d7=0.6, d1=0.4)], [False])  # a new drawing: a 7-shape
    assert (page.hand.crossed, page.hand.plain) == (2, 0) and now.crosses()
    assert out.argmax(1).tolist() == [1]


def test_a_numbers_crossed_sevens_speak_for_its_other_digits_and_a_new_page_knows_nothing():
    number = [probs(d7=0.99), probs(d7=0.99), probs(d7=0.6, d1=0.4)]  # "771": two crossed 7s and a 7-shape
    out, _ = drawing_read(hand.PageHand(), SEVEN, number, [True, True, False])
    assert out.argmax(1).tolist() == [7, 7, 1]
    out, now = drawing_read(hand.PageHand(), SEVEN, number[2:], [False])
    assert out.argmax(1).tolist() == [7] and not now.crosses()
