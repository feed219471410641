"""mnist_core.train.personal: profile names, the held-out samples, the rule that activates a personal model."""

from __future__ import annotations

import numpy as np
import pytest

from _shared import HAVE_MNIST, NO_MNIST_REASON, ROOT, SHARED_MNIST, data_arg
from mnist_core.store.profiles import validate_profile
from mnist_core.train.personal import Recipe, Score, held_out, judge, score


def test_profile_names():
    assert validate_profile(" me ") == "me" and validate_profile("小明_2") == "小明_2"
    for bad in ("", "-x", "a.b", "../", "x" * 33, None):
        with pytest.raises(ValueError, match="profile"):
            validate_profile(bad)


def test_one_sample_in_five_is_held_out_oldest_first():
    assert np.flatnonzero(held_out(12, 5)).tolist() == [4, 9]
    assert not held_out(4, 5).any()
    # 5 samples of each digit saved digit by digit: the 5th of each is held out, 4 of each train.
    y = np.repeat(np.arange(10), 5)
    assert np.bincount(y[held_out(50, 5)]).tolist() == [1] * 10


def test_score():
    probs = np.eye(10, dtype=np.float32)[[1, 2, 3]] * 0.9 + 0.01
    s = score(probs, np.array([1, 2, 4]))
    assert (s.correct, s.count) == (2, 3) and s.mean_p == pytest.approx((0.91 + 0.91 + 0.01) / 3)
    assert score(np.zeros((0, 10)), np.zeros(0)).accuracy == 0.0


BEFORE = Score(correct=6, count=10, mean_p=0.55)


@pytest.mark.parametrize("after, mnist_after, activate, reason", [
    (Score(9, 10, 0.9), 0.9950, True, "helps"),            # better for the person, MNIST -0.04 point
    (Score(9, 10, 0.9), 0.9934, True, "helps"),            # exactly the 0.2 point allowed
    (Score(10, 10, 0.99), 0.9930, False, "mnist_cost"),    # much better for the person, but MNIST -0.24 point
    (Score(5, 10, 0.6), 0.9954, False, "no_help"),         # worse for the person
    (Score(6, 10, 0.50), 0.9960, False, "no_help"),        # as many right, less sure: no help
    (Score(6, 10, 0.70), 0.9954, True, "helps"),           # as many right, surer of the right digits
    (Score(0, 0, 0.0), 0.9954, False, "no_holdout"),       # nothing held out to judge by
])
def test_the_activation_rule(after, mnist_after, activate, reason):
    verdict = judge(BEFORE, after, 0.9954, mnist_after)
    assert (verdict.activate, verdict.reason) == (activate, reason)
    assert verdict.mnist_cost == pytest.approx(0.9954 - mnist_after)


def test_recipe_is_checked():
    Recipe().validate()
    with pytest.raises(ValueError, match="freeze_blocks"):
        Recipe(freeze_blocks=9).validate()
    with pytest.raises(ValueError, match="replay"):
        Recipe(replay=0).validate()


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
    with np.load(SHARED_MNIST) as f:  # real digits as the person's: 6 of them (the 5th is held out)
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
    # The held-out 6th sample judged a twin trained on the other 5; the version saved is trained on all 6.
    assert summary["profile"] == "alice" and info["samples_trained"] == 6 and info["held_out"] == 1
    assert info["judged"].startswith("a twin trained without the held-out samples")
    assert info["before"]["count"] == info["after"]["count"] == 1
    assert 0.98 < info["mnist_after"] <= 1 and info["mnist_before"] > 0.99
    verdict = judge(Score(**{k: info["before"][k] for k in ("correct", "count", "mean_p")}),
                    Score(**{k: info["after"][k] for k in ("correct", "count", "mean_p")}),
                    info["mnist_before"], info["mnist_after"])
    assert info["verdict"]["activate"] == verdict.activate == summary["activated"]
    registry = Registry(Paths(home=home))
    card = registry.card(summary["version"])
    assert card["profile"] == "alice" and card["parent"] == "default" and card["personal"]["held_out"] == 1
    assert registry.active() == "default" and registry.active("bob") == "default"  # nobody else's model moved
    assert registry.personal("alice") == (summary["version"] if verdict.activate else None)


def test_two_fits_report_as_one_run():
    """The judged twin's fit and the refit on every sample show as the two halves of one progress bar."""
    from mnist_core.train.run import half_of_two as _half_of_two
    from mnist_core.train.fit import Progress

    seen = []
    p = Progress("epoch", epoch=5, epochs=5, step=10, steps=10, loss=0.1, accuracy=0.9, elapsed_s=6.0, eta_s=0.0)
    _half_of_two(seen.append, second=False)(p)
    _half_of_two(seen.append, second=True)(p)
    assert [(q.epoch, q.epochs, q.eta_s) for q in seen] == [(5, 10, 6.0), (10, 10, 0.0)]


def test_a_profile_without_finetune_is_a_usage_error(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "MNIST_STUDIO_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "train", "--profile", "alice"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--finetune" in proc.stderr and "Traceback" not in proc.stderr
