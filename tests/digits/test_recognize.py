"""mnist_core.digits.recognize: the fast paths give the same answers as a plain model call; swaps are clean."""

import threading

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from mnist_core.train.nets import build_cnn, build_mlp  # noqa: E402
from mnist_core.digits.recognize import Recognizer, as_batch  # noqa: E402


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(1)
    return build_cnn()


@pytest.fixture(scope="module")
def recognizers(cnn):
    """One recognizer per compiled path (TF Lite conversion takes seconds: done once)."""
    return {False: Recognizer(cnn, lite=False), True: Recognizer(cnn, lite=True)}


@pytest.mark.parametrize("lite,path", [(False, "tf.function"), (True, "tflite")])
@pytest.mark.parametrize("n", [1, 7, 600])
def test_same_predictions_as_plain_model_call(cnn, recognizers, n, lite, path):
    x = np.random.default_rng(n).random((n, 28, 28, 1), dtype=np.float32)
    expected = np.asarray(cnn(x, training=False))
    rec = recognizers[lite]
    assert rec.compiled == path
    np.testing.assert_allclose(rec.predict(x), expected, atol=1e-5)


@pytest.mark.parametrize("lite", [False, True])
def test_chunked_batches_agree_with_one_batch(recognizers, lite, monkeypatch):
    from mnist_core.config import Limits

    rec = recognizers[lite]
    x = np.random.default_rng(0).random((50, 28, 28), dtype=np.float32)
    whole = rec.predict(x)
    monkeypatch.setattr(rec, "limits", Limits(max_batch=8))
    chunked = rec.predict(x)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    singles = np.concatenate([rec.predict(x[i]) for i in range(5)])
    np.testing.assert_allclose(singles, whole[:5], atol=1e-5)


def test_background_compilation_takes_over(cnn):
    import time

    rec = Recognizer(cnn)  # serves through tf.function at once, TF Lite when built
    first = rec.predict(np.zeros((1, 28, 28)))
    for _ in range(300):
        if rec.compiled == "tflite":
            break
        time.sleep(0.1)
    assert rec.compiled == "tflite"
    np.testing.assert_allclose(rec.predict(np.zeros((1, 28, 28))), first, atol=1e-5)


@pytest.mark.parametrize("bad,words", [
    (np.full((1, 28, 28), np.nan, np.float32), "NaN"),
    (np.full((1, 28, 28), np.inf, np.float32), "NaN or infinite"),
    (np.zeros((1, 27, 28), np.float32), "must be"),
    (np.array(["a"] * 784).reshape(1, 28, 28), "numeric"),
])
def test_bad_arrays_are_refused(bad, words):
    with pytest.raises(ValueError, match=words):
        as_batch(bad)


def test_uint8_and_out_of_range_are_normalised():
    assert as_batch(np.full((28, 28), 255, np.uint8)).max() == 1.0
    assert as_batch(np.full((2, 28, 28), 7.0, np.float32)).max() == 1.0


def test_empty_batch():
    assert Recognizer(build_mlp()).predict(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


@pytest.mark.slow
def test_swap_while_serving_never_mixes_models(cnn):
    """Threads predict while the model is swapped back and forth; every answer matches one whole model."""
    mlp = build_mlp()
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    answers = {"a": np.asarray(cnn(x, training=False)), "b": np.asarray(mlp(x, training=False))}
    rec = Recognizer(cnn, "a", lite=False)
    errors, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            got = rec.predict(x)
            if not any(np.allclose(got, ref, atol=1e-5) for ref in answers.values()):
                errors.append(got)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(6):
        rec.swap(mlp if i % 2 == 0 else cnn, "b" if i % 2 == 0 else "a")
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert rec.version == "a"


# --- the stored TF Lite copy (served without TensorFlow) ---------------------------------------------------


def test_stored_lite_copy_gives_the_models_answers(cnn, tmp_path):
    from mnist_core.config import Paths
    from mnist_core.digits.recognize import checked_lite
    from mnist_core.store.registry import Registry

    reg = Registry(Paths(home=tmp_path / "home"))
    vid = reg.save(cnn, {"arch": "cnn"}, {"model.tflite": checked_lite(cnn)})
    reg.activate(vid)
    rec = Recognizer.from_registry(reg)
    assert rec.compiled == "tflite" and rec.model is None and rec.version == vid
    x = np.random.default_rng(5).random((300, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(rec.predict(x), np.asarray(cnn(x, training=False)), atol=1e-5)


def test_refresh_switches_between_stored_lite_and_keras_versions(cnn, tmp_path):
    from mnist_core.config import Paths
    from mnist_core.digits.recognize import checked_lite
    from mnist_core.store.registry import Registry

    reg = Registry(Paths(home=tmp_path / "home"))
    mlp = build_mlp()
    with_lite = reg.save(cnn, {"arch": "cnn"}, {"model.tflite": checked_lite(cnn)})
    without = reg.save(mlp, {"arch": "mlp"})
    reg.activate(with_lite)
    rec = Recognizer.from_registry(reg)
    x = np.random.default_rng(6).random((5, 28, 28, 1), dtype=np.float32)
    reg.activate(without)
    assert rec.refresh(reg) and rec.version == without and rec.model is not None
    np.testing.assert_allclose(rec.predict(x), np.asarray(mlp(x, training=False)), atol=1e-5)
    reg.activate(with_lite)
    assert rec.refresh(reg) and rec.version == with_lite and rec.compiled == "tflite" and rec.model is None
    np.testing.assert_allclose(rec.predict(x), np.asarray(cnn(x, training=False)), atol=1e-5)


def test_shipped_lite_copy_matches_the_shipped_model():
    """models/default.tflite must be the TF Lite form of models/default.keras: same probabilities."""
    from _shared import small_mnist
    from mnist_core.store.registry import DEFAULT_ID, Registry, load_model_file

    reg = Registry()
    content = reg.lite_content(DEFAULT_ID)
    assert content is not None, "models/default.tflite is missing or its card's lite_of names another model file"
    model = load_model_file(reg.model_path(DEFAULT_ID))
    x = np.asarray(small_mnist().x_test[:500], np.float32)[..., None] / 255.0  # (500, 28, 28, 1) in [0, 1]
    lite = Recognizer.from_lite(content).predict(x)
    np.testing.assert_allclose(lite, np.asarray(model(x, training=False)), atol=1e-4)
    assert (lite.argmax(1) == np.asarray(model(x, training=False)).argmax(1)).all()
