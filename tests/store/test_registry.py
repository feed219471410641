"""mnist_core.store.registry: versions on disk, atomic activation, safe loading, id validation."""

import json

import pytest

from mnist_core.config import Paths
from mnist_core.store.registry import DEFAULT_ID, Registry, RegistryError, validate_version_id

keras = pytest.importorskip("keras")
from mnist_core.train.nets import build_mlp  # noqa: E402


@pytest.fixture
def registry(tmp_path):
    return Registry(Paths(home=tmp_path / "home"))


@pytest.mark.parametrize("vid,ok", [
    ("default", True),
    ("20261128-093012-a1b2", True),
    ("../../etc/passwd", False),
    ("20261128-093012-a1b2/../x", False),
    ("/abs/path", False),
    ("20261128-093012-A1B2", False),
    ("", False),
    (None, False),
    (12, False),
])
def test_version_ids(vid, ok):
    if ok:
        assert validate_version_id(vid) == vid
    else:
        with pytest.raises(RegistryError, match="invalid version id"):
            validate_version_id(vid)


def test_fresh_install_serves_the_shipped_default(registry):
    assert registry.active() == DEFAULT_ID
    assert registry.model_path(DEFAULT_ID) == Paths().default_model


def test_save_activate_delete(registry):
    vid = registry.save(build_mlp(), {"arch": "mlp", "metrics": {"accuracy": 0.5}})
    assert registry.card(vid)["arch"] == "mlp" and registry.card(vid)["id"] == vid
    assert registry.load(vid).count_params() == 13_002
    registry.activate(vid)
    assert registry.active() == vid
    assert registry.paths.active.read_text().strip() == vid
    with pytest.raises(RegistryError, match="active model"):
        registry.delete(vid)
    with pytest.raises(RegistryError, match="cannot be deleted"):
        registry.delete(DEFAULT_ID)
    vid2 = registry.save(build_mlp(), {"arch": "mlp"})
    registry.activate(vid2)
    registry.delete(vid)
    assert not registry.exists(vid)
    assert [c["id"] for c in registry.versions()][0] == vid2


def test_leftovers_of_an_interrupted_save_are_ignored(registry):
    vid = registry.save(build_mlp(), {"arch": "mlp"})
    (registry.paths.models / ".tmp-20261128-000000-dead").mkdir()
    ids = [c["id"] for c in registry.versions()]
    assert vid in ids and not any(i.startswith(".") for i in ids)


def test_dangling_pointer_falls_back_to_default(registry):
    registry.paths.home.mkdir(parents=True)
    registry.paths.active.write_text("20990101-000000-beef\n")
    assert registry.active() == DEFAULT_ID
    registry.paths.active.write_text("../../evil\n")
    assert registry.active() == DEFAULT_ID


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04 truncated zip"])
def test_corrupt_model_is_refused_and_never_activated(registry, content):
    vid = registry.save(build_mlp(), {"arch": "mlp"})
    registry.model_path(vid).write_bytes(content)
    with pytest.raises(RegistryError, match="corrupt or not a Keras model"):
        registry.load(vid)
    with pytest.raises(RegistryError):
        registry.activate(vid)
    assert registry.active() == DEFAULT_ID


def test_foreign_model_is_refused(registry, tmp_path):
    inputs = keras.Input((5,))
    foreign = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    vid = registry.save(foreign, {"arch": "?"})
    with pytest.raises(RegistryError, match="not a digit model"):
        registry.load(vid)


def test_unsafe_lambda_model_is_refused_by_safe_mode(registry):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2)(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    vid = registry.save(model, {"arch": "lambda"})
    with pytest.raises(RegistryError):
        registry.load(vid)


def test_save_failure_leaves_nothing(registry, monkeypatch):
    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    model = build_mlp()
    monkeypatch.setattr(model, "save", boom)
    with pytest.raises(RegistryError, match="No space left"):
        registry.save(model, {"arch": "mlp"})
    assert registry.versions() == [c for c in registry.versions() if c["id"] == DEFAULT_ID]
    assert not any(p.name.startswith(".tmp") for p in registry.paths.models.iterdir())


def test_permission_error_while_saving_is_reported(registry, monkeypatch):
    # Root ignores file modes, so the failing rename is simulated; the path it takes is the real one.
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("mnist_core.store.registry.os.rename", denied)
    with pytest.raises(RegistryError, match="could not save.*Permission denied"):
        registry.save(build_mlp(), {})
    monkeypatch.undo()
    assert [c["id"] for c in registry.versions()] in ([], [DEFAULT_ID])
    assert registry.active() == DEFAULT_ID


def test_card_is_json_on_disk(registry):
    vid = registry.save(build_mlp(), {"arch": "mlp", "metrics": {"accuracy": 0.9}},
                        artifacts={"curves.png": b"\x89PNG"})
    folder = registry.model_path(vid).parent
    assert json.loads((folder / "card.json").read_text())["metrics"]["accuracy"] == 0.9
    assert (folder / "curves.png").read_bytes() == b"\x89PNG"
    with pytest.raises(RegistryError, match="bad artifact"):
        registry.save(build_mlp(), {}, artifacts={"../x.png": b""})


def test_lite_copy_is_served_only_for_the_model_file_it_was_made_from(registry):
    lite = b"TFL3 stand-in bytes"
    vid = registry.save(build_mlp(), {"arch": "mlp"}, {"model.tflite": lite})
    card = registry.card(vid)
    assert len(card["lite_of"]) == 64  # sha256 of this version's model.keras
    assert registry.lite_content(vid) == lite
    # The model file replaced behind the registry's back: its old TF Lite copy must not be served.
    registry.model_path(vid).write_bytes(registry.model_path(vid).read_bytes() + b"\0")
    assert registry.lite_content(vid) is None
    plain = registry.save(build_mlp(), {"arch": "mlp"})
    assert "lite_of" not in registry.card(plain) and registry.lite_content(plain) is None


@pytest.mark.parametrize("name", ["model.tflite.exe", "../model.tflite", "x.keras"])
def test_artifact_names_are_checked(registry, name):
    with pytest.raises(RegistryError, match="bad artifact name"):
        registry.save(build_mlp(), {"arch": "mlp"}, {name: b"x"})


def test_a_profile_has_its_own_active_version_and_others_keep_the_shared_one(registry):
    shared = registry.save(build_mlp(), {"arch": "mlp"})
    registry.activate(shared)
    mine = registry.save(build_mlp(), {"arch": "mlp", "profile": "alice"})
    assert registry.active("alice") == shared and registry.personal("alice") is None
    registry.activate(mine, profile="alice")
    assert registry.active("alice") == mine and registry.personal("alice") == mine
    assert registry.active() == shared and registry.active("me") == shared  # nobody else's changes
    assert registry.personal_pointers() == {"alice": mine}
    with pytest.raises(RegistryError, match="profile alice"):
        registry.delete(mine)  # a profile's live model is never deleted
    registry.forget_personal("alice")
    assert registry.active("alice") == shared
    registry.delete(mine)
    with pytest.raises(RegistryError, match="profile"):
        registry.activate(shared, profile="../etc")


def test_a_profiles_pointer_to_a_missing_version_falls_back_to_the_shared_one(registry):
    pointer = registry.paths.home / "profiles" / "alice" / "active"
    pointer.parent.mkdir(parents=True)
    pointer.write_text("20990101-000000-dead\n")
    assert registry.active("alice") == DEFAULT_ID and registry.personal("alice") is None


# --- the ink model's versions: Registry(paths, kind="ink") -------------------------------------------------------

@pytest.fixture
def ink_registry(tmp_path):
    return Registry(Paths(home=tmp_path / "home"), kind="ink")


def tiny_ink_net():
    from mnist_core.ink.net import build_ink_net

    return build_ink_net(points=16, width=4)


def test_ink_versions_keep_their_own_folder_pointer_and_shipped_default(ink_registry):
    home = ink_registry.paths.home
    assert ink_registry.active() == DEFAULT_ID
    assert ink_registry.model_path(DEFAULT_ID) == Paths().default_model.with_name("ink.keras")
    vid = ink_registry.save(tiny_ink_net(), {"kind": "ink", "metrics": {"accuracy": 0.5}})
    assert (home / "ink-models" / vid / "model.keras").is_file() and ink_registry.card(vid)["kind"] == "ink"
    ink_registry.activate(vid)
    assert ink_registry.active() == vid and (home / "ink-active").read_text().strip() == vid
    image = Registry(ink_registry.paths)
    assert image.active() == DEFAULT_ID and vid not in [c["id"] for c in image.versions()]  # apart from the image's
    assert [c["id"] for c in ink_registry.versions()] == [vid, DEFAULT_ID]
    with pytest.raises(RegistryError, match="active model"):
        ink_registry.delete(vid)
    with pytest.raises(RegistryError, match="cannot be deleted"):
        ink_registry.delete(DEFAULT_ID)
    ink_registry.activate(DEFAULT_ID)  # the shipped ink net loads and passes the ink shape check
    ink_registry.delete(vid)
    assert not ink_registry.exists(vid) and ink_registry.active() == DEFAULT_ID


@pytest.mark.parametrize("kind, model, words", [
    ("ink", build_mlp, "not an ink model"),
    ("image", tiny_ink_net, "not a digit model"),
])
def test_each_kind_refuses_the_other_kinds_model(tmp_path, kind, model, words):
    registry = Registry(Paths(home=tmp_path / "home"), kind=kind)
    vid = registry.save(model(), {})
    with pytest.raises(RegistryError, match=words):
        registry.activate(vid)
    assert registry.active() == DEFAULT_ID


def test_ink_versions_are_for_everyone(ink_registry):
    assert ink_registry.personal("alice") is None and ink_registry.personal_pointers() == {}
    assert ink_registry.active("alice") == DEFAULT_ID
    with pytest.raises(RegistryError, match="for everyone"):
        ink_registry.activate(DEFAULT_ID, profile="alice")
    with pytest.raises(ValueError, match="kind"):
        Registry(ink_registry.paths, kind="audio")
