"""mnist_core.train.personal: profile names, the cross-validation folds, the evidence and the rule that activates a
personal model."""

from __future__ import annotations

import numpy as np
import pytest

from _shared import HAVE_MNIST, NO_MNIST_REASON, ROOT, SHARED_MNIST, data_arg
from mnist_core.store.profiles import validate_profile
from mnist_core.train.personal import Evidence, Recipe, Score, compare, folds_of, judge, score, signed_rank


def test_profile_names():
    assert validate_profile(" me ") == "me" and validate_profile("小明_2") == "小明_2"
    for bad in ("", "-x", "a.b", "../", "x" * 33, None):
        with pytest.raises(ValueError, match="profile"):
            validate_profile(bad)


def test_samples_fall_into_folds_in_turn_oldest_first():
    assert folds_of(7, 2).tolist() == [0, 1, 0, 1, 0, 1, 0]
    assert folds_of(5, 3).tolist() == [0, 1, 2, 0, 1]
    # 5 samples of each digit saved digit by digit: both folds hold every digit.
    y = np.repeat(np.arange(10), 5)
    for f in range(2):
        assert set(y[folds_of(50, 2) == f]) == set(range(10))


def test_score():
    probs = np.eye(10, dtype=np.float32)[[1, 2, 3]] * 0.9 + 0.01
    s = score(probs, np.array([1, 2, 4]))
    assert (s.correct, s.count) == (2, 3) and s.mean_p == pytest.approx((0.91 + 0.91 + 0.01) / 3)
    assert score(np.zeros((0, 10)), np.zeros(0)).accuracy == 0.0


@pytest.mark.parametrize("changes, chance", [
    ([0.1], 0.5), ([0.1] * 5, 1 / 32), ([0.1] * 6, 1 / 64),
    ([0.1, 0.2, -0.05], 2 / 8),                 # ranks 2, 3 up, 1 down: sums >= 5 of 8 equally likely signings
    ([-0.1, -0.2], 1.0), ([], 1.0), ([0.0, 0.0], 1.0),
    ([0.5, -0.01, -0.01, -0.01, -0.01], 27 / 32),  # ranks 5 up, 2.5 x 4 down: five signings of 32 sum lower
])
def test_signed_rank(changes, chance):
    assert signed_rank(changes) == pytest.approx(chance)


def test_signed_rank_matches_scipys_exact_test():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (6, 12, 30):
        d = rng.normal(0.2, 1, n)
        assert signed_rank(d) == pytest.approx(scipy_stats.wilcoxon(d, alternative="greater", method="exact").pvalue)


def test_the_fewest_samples_that_can_show_a_help_are_those_that_unlock_the_fine_tune():
    assert Recipe().fewest_to_show() == Recipe().min_samples == 5
    assert signed_rank([0.2] * 4) > Recipe().max_chance >= signed_rank([0.2] * 5)


def _p(truth_p, labels):
    """(N, 10) probabilities with the given probability of each true label, the rest on the next digit."""
    labels = np.asarray(labels)
    out = np.zeros((len(labels), 10), np.float32)
    out[np.arange(len(labels)), labels] = truth_p
    out[np.arange(len(labels)), (labels + 1) % 10] = 1 - np.asarray(truth_p)
    return out


def test_compare_counts_fixed_broken_surer_and_less_sure():
    y = np.array([0, 1, 2, 3, 4])
    before = _p([0.3, 0.9, 0.6, 0.95, 0.9995], y)
    after = _p([0.8, 0.4, 0.7, 0.90, 0.9999], y)  # fixed, broken, surer, less sure, unchanged (within 1e-3)
    e = compare(before, after, y)
    assert (e.judged, e.fixed, e.broken, e.surer, e.less_sure) == (5, 1, 1, 2, 2)
    changes = (after - before)[np.arange(5), y]
    changes[4] = 0.0  # within 1e-3: no change
    assert e.chance == signed_rank(changes) and 0.3 < e.chance < 0.7  # two up, two down: no evidence


def _ev(changes, fixed=0, broken=0) -> Evidence:
    """The Evidence of these changes of the right digit's probability, one per sample."""
    changes = np.asarray(changes, float)
    return Evidence(len(changes), fixed, broken, int((changes > 0).sum()), int((changes < 0).sum()),
                    signed_rank(changes))


BEFORE = Score(correct=6, count=10, mean_p=0.55)
SURE = _ev([0.1] * 10, fixed=3)
# A writer the shipped model misreads (UNIPEN rkt-dig19, 5 samples a digit): 4 fixed, 1 broken, many sure readings a
# little less sure: surer on fewer than half the samples that changed would not count, the sizes do.
FIXES = _ev([0.5, 0.45, 0.4, 0.35, -0.3] + [0.02] * 20 + [-0.01] * 25, fixed=4, broken=1)


@pytest.mark.parametrize("before, after, evidence, mnist_after, activate, reason", [
    (BEFORE, Score(9, 10, 0.9), SURE, 0.9950, True, "helps"),             # better for the person, MNIST -0.04 point
    (BEFORE, Score(9, 10, 0.9), SURE, 0.9934, True, "helps"),             # exactly the 0.2 point allowed
    (BEFORE, Score(10, 10, 0.99), SURE, 0.9930, False, "mnist_cost"),     # better, but the test set -0.24 point
    (BEFORE, Score(5, 10, 0.6), _ev([0.1] * 8 + [-0.1] * 2, broken=1), 0.9954, False, "no_help"),  # misreads more
    (BEFORE, Score(6, 10, 0.50), _ev([0.1] * 3 + [-0.1] * 7), 0.9960, False, "no_help"),           # less sure
    # Surer on 7 of 10 by as much as the 3 others fell: may help, not shown.
    (BEFORE, Score(6, 10, 0.70), _ev([0.1] * 7 + [-0.1] * 3), 0.9954, False, "too_few"),
    (BEFORE, Score(6, 10, 0.70), _ev([0.1] * 9 + [-0.1]), 0.9954, True, "helps"),
    (Score(46, 50, 0.89), Score(49, 50, 0.94), FIXES, 0.9965, True, "helps"),
    # The case: one sample judged, read wrong before and after, a little surer: proves nothing.
    (Score(0, 1, 0.1), Score(0, 1, 0.2), _ev([0.1]), 0.9954, False, "too_few"),
    # Five samples, one of them fixed and all five surer: a 1-in-32 chance: evidence.
    (Score(4, 5, 0.7), Score(5, 5, 0.9), _ev([0.4, 0.1, 0.1, 0.05, 0.02], fixed=1), 0.9954, True, "helps"),
    (BEFORE, Score(0, 0, 0.0), _ev([]), 0.9954, False, "no_holdout"),
])
def test_the_activation_rule(before, after, evidence, mnist_after, activate, reason):
    verdict = judge(before, after, evidence, 0.9954, mnist_after)
    assert (verdict.activate, verdict.reason) == (activate, reason)
    assert verdict.mnist_cost == pytest.approx(0.9954 - mnist_after)


def test_the_replay_mixes_in_the_training_writers_pen_digits(tmp_home):
    """A quarter of the replay is the shipped training writers' pen digits (the shipped model's own mix): with MNIST
    alone a fine-tune cost the held-out pen writers 0.9 point."""
    from mnist_core.train.data import MnistData
    from mnist_core.train.personal import replay_digits

    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1000, 28, 28), dtype=np.uint8)  # not pen digits: 0/1 noise
    data = MnistData(x, rng.integers(0, 10, 1000).astype(np.uint8), x[:10], np.zeros(10, np.uint8), "noise")
    rx, ry = replay_digits(data, Recipe(replay=400))
    assert rx.shape == (400, 28, 28) and ry.shape == (400,)
    pen_like = rx.reshape(400, -1).max(axis=1) > 1
    assert pen_like.sum() == 100 and 0 < np.flatnonzero(pen_like).mean() < 400  # shuffled in, not all at the end
    assert replay_digits(data, Recipe(replay=400, pen_share=0.0))[0].max() <= 1
    assert np.array_equal(replay_digits(data, Recipe(replay=400))[1], ry)  # the same draw every time


def test_recipe_is_checked():
    Recipe().validate()
    with pytest.raises(ValueError, match="freeze_blocks"):
        Recipe(freeze_blocks=9).validate()
    with pytest.raises(ValueError, match="replay"):
        Recipe(replay=0).validate()
    with pytest.raises(ValueError, match="folds"):
        Recipe(folds=1).validate()
    with pytest.raises(ValueError, match="min_samples"):
        Recipe(min_samples=2, folds=3).validate()
    with pytest.raises(ValueError, match="max_chance"):
        Recipe(max_chance=0.5).validate()
    with pytest.raises(ValueError, match="pen_share"):
        Recipe(pen_share=1.0).validate()


@pytest.mark.parametrize("n_members", [1, 2])
def test_freeze_keeps_each_nets_stem(n_members):
    """The recipe's stem (first convolution block) is frozen in a single net and in every member of an ensemble."""
    pytest.importorskip("keras")
    from mnist_core.train.nets import build_cnn, build_ensemble, leaf_layers, members
    from mnist_core.train.personal import freeze

    model = build_cnn(16) if n_members == 1 else build_ensemble([build_cnn(16) for _ in range(n_members)])
    recipe = Recipe()
    assert recipe.freeze_blocks == 1
    frozen = freeze(model, recipe)
    for net in members(model):
        layers = [la for la in leaf_layers(net) if la.weights]
        kinds = [type(la).__name__ for la in layers]
        stem = kinds.index("Conv2D", 1)  # the first layer of block 2 (the recipe freezes one block)
        assert all(not la.trainable for la in layers[:stem])
        assert any(la.trainable for la in layers[stem:] if type(la).__name__ == "Conv2D")
    assert frozen == n_members * sum(not la.trainable for la in leaf_layers(members(model)[0]) if la.weights)


# --- a real, tiny personal fine-tune through the CLI (what the Draw tab's button runs) ----------------------


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST_REASON)
def test_a_profiles_finetune_is_judged_and_goes_live_for_that_profile_only(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from mnist_core.config import Paths
    from mnist_core.store.registry import Registry
    from mnist_core.store.samples import SampleStore

    home = tmp_path / "home"
    with np.load(SHARED_MNIST) as f:  # real digits as the person's: 6 of them, each judged by a twin without it
        x, y = f["x_test"][:6].astype(np.float32) / 255, f["y_test"][:6]
    store = SampleStore(Paths(home=home).samples_db)
    for image, label in zip(x, y):
        store.add(int(label), image, profile="alice")
    store.add(1, np.eye(28, dtype=np.float32), profile="bob")  # never trained on for alice
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", *data_arg(), "--finetune", "default",
                           "--samples", str(store.path), "--profile", "alice", "--activate-if-helps", "--limit", "300",
                           "--json", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    info = summary["personal"]
    # Every sample was read by one of two twins trained without it; the version saved is trained on all 6.
    assert summary["profile"] == "alice" and info["samples"] == info["samples_trained"] == info["held_out"] == 6
    assert info["folds"] == 2 and info["judged"].startswith("each sample read by a twin fine-tuned without its fold")
    assert info["before"]["count"] == info["after"]["count"] == info["evidence"]["judged"] == 6
    # The cost is measured on a named test set, the same one before and after.
    assert info["test_set"] == {"key": "mnist_test", "name": "MNIST test (10,000 digits)", "count": 10000}
    assert summary["test_set"] == "MNIST test (10,000 digits)"
    assert 0.98 < info["mnist_after"] <= 1 and info["mnist_before"] > 0.99
    verdict = judge(Score(**{k: info["before"][k] for k in ("correct", "count", "mean_p")}),
                    Score(**{k: info["after"][k] for k in ("correct", "count", "mean_p")}),
                    Evidence(**info["evidence"]), info["mnist_before"], info["mnist_after"], Recipe(**info["recipe"]))
    assert info["verdict"]["activate"] == verdict.activate == summary["activated"]
    registry = Registry(Paths(home=home))
    card = registry.card(summary["version"])
    assert card["profile"] == "alice" and card["parent"] == "default" and card["personal"]["held_out"] == 6
    assert card["data"]["user_samples"] == 6  # distinct samples, not their 96 weighted copies
    assert card["metrics"]["test_set"]["key"] == "mnist_test" and "pen_held_out" in card["tests"]
    assert registry.active() == "default" and registry.active("bob") == "default"  # nobody else's model moved
    assert registry.personal("alice") == (summary["version"] if verdict.activate else None)


def test_the_fits_report_as_one_run():
    """The twins' fits and the fit on every sample show as the parts of one progress bar, each part's time to go
    counting the parts still to come as long as itself."""
    from mnist_core.train.fit import Progress
    from mnist_core.train.personal import part_of

    seen = []
    p = Progress("epoch", epoch=5, epochs=5, step=10, steps=10, loss=0.1, accuracy=0.9, elapsed_s=6.0, eta_s=1.0)
    for i in range(3):
        part_of(seen.append, i, 3)(p)
    assert [(q.epoch, q.epochs, q.eta_s) for q in seen] == [(5, 15, 15.0), (10, 15, 8.0), (15, 15, 1.0)]


def test_a_profile_without_finetune_is_a_usage_error(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "MNIST_STUDIO_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--profile", "alice"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--finetune" in proc.stderr and "Traceback" not in proc.stderr
