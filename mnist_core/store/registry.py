"""Model versions on disk: models/<version>/{model.keras, card.json}, one of them active.

Every write lands in a temporary name first and is renamed into place, so a crash or a
kill leaves either the old state or the new one, never half a model or no model. The
shipped model (``models/default.keras`` in the repository) is the version "default",
used whenever no other version is active.

A profile (a person sharing the studio, see mnist_core.train.personal) may have its own active version:
``profiles/<name>/active`` beside the global ``active``, replaced atomically the same way. A profile without
one is served the global active version.

``Registry(paths, kind="ink")`` keeps the ink nets (mnist_core.ink) the same way, apart: versions in
``ink-models/<version>/``, the pointer ``ink-active``, the shipped default ``models/ink.{keras,tflite,json}``
beside ``models/default.*``; an ink net maps (N, points, channels) to (N, 10). Ink versions are for everyone
(no profile's own).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from mnist_core.config import Paths
from mnist_core.store.profiles import validate_profile

DEFAULT_ID = "default"
# The kinds of model kept: "image" (28x28 digits: Paths.models, Paths.active, Paths.default_model) and "ink"
# (stroke nets: the folder and pointer below in the data directory, the shipped stem beside models/default.keras).
KINDS = ("image", "ink")
INK_FOLDER, INK_POINTER, INK_STEM = "ink-models", "ink-active", "ink"
# 20261128-093012-a1b2: sortable by creation time, no path characters possible.
_ID_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


# TensorFlow's first import is not thread-safe: two threads importing it at once (the app's model warm-up and
# a request that loads a model) leave it broken for the whole process ("Registering two gradient with name
# ..." on every later try). The imports that can happen in a server's threads (here and in recognize) hold it.
TF_IMPORT_LOCK = threading.Lock()


class RegistryError(Exception):
    """A version is unknown, invalid, broken, or cannot be written; the message says which."""


def validate_version_id(vid: object) -> str:
    """Return `vid` if it is a well-formed version id ("default" or 20261128-093012-a1b2), else raise."""
    if isinstance(vid, str) and (vid == DEFAULT_ID or _ID_RE.fullmatch(vid)):
        return vid
    shown = repr(vid)[:60]
    raise RegistryError(f"invalid version id {shown}: expected 'default' or one like 20261128-093012-a1b2")


def new_version_id() -> str:
    """A fresh id from the UTC time and 16 random bits."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and os.replace (readers see old or new)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (a 1.7 MB model: about 2 ms)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_model_shape(model, where: str, kind: str = "image") -> None:
    """Raise RegistryError unless `model` maps (N, 28, 28, 1) to (N, 10) (an "ink" net: (N, points, channels))."""
    what = "an ink" if kind == "ink" else "a digit"
    try:
        ins, outs = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    except Exception as e:  # subclassed or odd objects
        raise RegistryError(f"{where}: not {what} model ({e})") from None
    if kind == "ink":
        ok, expected = len(ins) == 2 and all(isinstance(n, int) and n > 0 for n in ins), "(points, channels)"
    else:
        ok, expected = ins in ((28, 28, 1), (28, 28)), "(28, 28, 1)"
    if not ok or outs != (10,):
        raise RegistryError(f"{where}: not {what} model (input {ins}, output {outs}; expected {expected} -> (10,))")


def load_model_file(path: str | os.PathLike, kind: str = "image"):
    """Load a .keras file in Keras' safe mode, checking it is a 28x28 -> 10 model (or an ink net, `kind` "ink")."""
    with TF_IMPORT_LOCK:
        import keras  # noqa: PLC0415  (slow import, only when a model is needed)

    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"{path}: no such model file")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise RegistryError(f"{path}: corrupt or not a Keras model file ({first})") from None
    check_model_shape(model, str(path), kind)
    return model


def owner_of(card: dict) -> str | None:
    """The profile a version belongs to: its personal fine-tune's, unless an admin shared it since; None for a
    shared version (what every profile may see, and the only kind that may be made the shared active model)."""
    profile = card.get("profile")
    return profile if isinstance(profile, str) and profile and not card.get("shared") else None


class Registry:
    """Versioned models of one kind ("image" digits, or "ink" nets) in the data directory, plus the shipped default."""

    def __init__(self, paths: Paths | None = None, kind: str = "image"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.paths = paths or Paths()
        self.kind = kind

    @property
    def root(self) -> Path:
        """Folder of this kind's versions: <home>/models (image) or <home>/ink-models."""
        return self.paths.home / INK_FOLDER if self.kind == "ink" else self.paths.models

    @property
    def pointer(self) -> Path:
        """File holding this kind's active version id: <home>/active (image) or <home>/ink-active."""
        return self.paths.home / INK_POINTER if self.kind == "ink" else self.paths.active

    @property
    def default_model(self) -> Path:
        """The shipped model of this kind: models/default.keras, or models/ink.keras beside it."""
        d = self.paths.default_model
        return d.with_name(INK_STEM + ".keras") if self.kind == "ink" else d

    # -- reading --------------------------------------------------------------------------
    def _dir(self, vid: str) -> Path:
        return self.root / validate_version_id(vid)

    def model_path(self, vid: str) -> Path:
        """Path of a version's model.keras (the shipped file for "default")."""
        if validate_version_id(vid) == DEFAULT_ID:
            return self.default_model
        return self._dir(vid) / "model.keras"

    def lite_path(self, vid: str) -> Path:
        """Path of a version's TF Lite copy (model.tflite; models/default.tflite for "default")."""
        return self.model_path(vid).with_suffix(".tflite")

    def lite_content(self, vid: str) -> bytes | None:
        """The version's TF Lite copy, only if its card says it was made from this very model file.

        The card's "lite_of" is the sha256 of the model.keras the copy was converted (and checked)
        from: a model file replaced by hand, or a copy left from another model, is never served.
        """
        path = self.lite_path(vid)
        try:
            want = self.card(vid).get("lite_of") if path.is_file() else None
            if want and want == file_sha256(self.model_path(vid)):
                return path.read_bytes()
        except (OSError, RegistryError):
            pass
        return None

    def exists(self, vid: str) -> bool:
        """Whether the version's model file is present."""
        return self.model_path(vid).is_file()

    def card(self, vid: str) -> dict:
        """A version's card (raises RegistryError if unknown or unreadable)."""
        validate_version_id(vid)
        path = self.default_model.with_suffix(".json") if vid == DEFAULT_ID else self._dir(vid) / "card.json"
        if not self.model_path(vid).is_file():
            raise RegistryError(f"no model version {vid!r}")
        try:
            card = json.loads(path.read_text())
        except FileNotFoundError:
            card = {}
        except (OSError, ValueError) as e:
            raise RegistryError(f"version {vid}: unreadable card ({e})") from None
        card["id"] = vid
        return card

    def versions(self) -> list[dict]:
        """Cards of every version, newest first, the shipped default last; broken ones flagged."""
        out = []
        if self.root.is_dir():
            for d in sorted(self.root.iterdir(), reverse=True):
                if not _ID_RE.fullmatch(d.name):
                    continue  # temporary folders of interrupted saves, stray files
                try:
                    out.append(self.card(d.name))
                except RegistryError as e:
                    out.append({"id": d.name, "broken": str(e)})
        if self.default_model.is_file():
            out.append(self.card(DEFAULT_ID))
        return out

    def _pointer(self, profile: str | None) -> Path:
        """The file holding the active version id: the global one, or ``profile``'s own."""
        if profile is None:
            return self.pointer
        if self.kind != "image":
            raise RegistryError(f"{self.kind} versions are for everyone: a profile has no {self.kind} version of "
                                "its own")
        try:
            name = validate_profile(profile)
        except ValueError as e:
            raise RegistryError(str(e)) from None
        return self.paths.home / "profiles" / name / "active"

    def _read_pointer(self, path: Path) -> str | None:
        try:
            vid = path.read_text().strip()
            if vid and self.exists(validate_version_id(vid)):
                return vid
        except (OSError, RegistryError):
            pass
        return None

    def active(self, profile: str | None = None) -> str:
        """The active version id (``profile``'s own when it has one); "default" when none is set or the pointer
        names a missing version."""
        if profile is not None:
            own = self.personal(profile)
            if own is not None:
                return own
        return self._read_pointer(self.pointer) or DEFAULT_ID

    def personal(self, profile: str) -> str | None:
        """The version activated for ``profile`` alone, or None (it is served the global active version)."""
        if self.kind != "image":
            return None  # ink versions are for everyone
        return self._read_pointer(self._pointer(profile))

    def personal_pointers(self) -> dict[str, str]:
        """Every profile that has its own active version: {profile: version id}."""
        root = self.paths.home / "profiles"
        out = {}
        if self.kind == "image" and root.is_dir():
            for d in sorted(root.iterdir()):
                try:
                    vid = self.personal(d.name)
                except RegistryError:
                    continue  # a folder that is not a profile's
                if vid is not None:
                    out[d.name] = vid
        return out

    def load(self, vid: str):
        """Load a version's model (Keras safe mode)."""
        if not self.exists(vid):
            raise RegistryError(f"no model version {vid!r}")
        return load_model_file(self.model_path(vid), self.kind)

    # -- writing --------------------------------------------------------------------------
    def save(self, model, card: dict, artifacts: dict[str, bytes] | None = None) -> str:
        """Register `model` with `card` (+ small files such as plots); returns the new version id.

        An artifact "model.tflite" is the model's checked TF Lite copy: the card then records which
        model file it belongs to ("lite_of"). Written into a temporary folder and renamed into place:
        a crash leaves no partial version.
        """
        vid = new_version_id()
        final = self._dir(vid)
        tmp = self.root / f".tmp-{vid}"
        card = {**card, "id": vid, "created": card.get("created") or datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            tmp.mkdir(parents=True, exist_ok=False)
            model.save(tmp / "model.keras")
            if "model.tflite" in (artifacts or {}):
                card["lite_of"] = file_sha256(tmp / "model.keras")
            (tmp / "card.json").write_text(json.dumps(card, indent=2))
            for name, data in (artifacts or {}).items():
                if not re.fullmatch(r"[a-z0-9_]+\.(png|json|tflite)", name):
                    raise RegistryError(f"bad artifact name {name!r}")
                (tmp / name).write_bytes(data)
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            os.rename(tmp, final)
            _fsync_dir(self.root)
        except RegistryError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except Exception as e:  # disk full, permissions, a model that cannot be serialised
            shutil.rmtree(tmp, ignore_errors=True)
            raise RegistryError(f"could not save the model: {e}") from None
        return vid

    def activate(self, vid: str, profile: str | None = None) -> None:
        """Make `vid` the active version, for everyone or for ``profile`` alone (checked loadable first; atomic
        pointer update)."""
        pointer = self._pointer(profile)
        self.load(vid)  # refuse a corrupt or foreign model before it can go live
        pointer.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_atomic(pointer, (vid + "\n").encode())
        except OSError as e:
            raise RegistryError(f"could not activate {vid}: {e}") from None

    def forget_personal(self, profile: str) -> None:
        """``profile`` goes back to the global active version (its own versions stay listed)."""
        pointer = self._pointer(profile)
        try:
            pointer.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise RegistryError(f"could not reset {profile}'s model: {e}") from None

    def share(self, vid: str) -> dict:
        """Make a profile's personal version a shared one: its card gains ``shared`` (when; the profile it came from
        stays in ``profile``), rewritten atomically. Returns the card; activating it is the caller's next step."""
        card = self.card(vid)
        if owner_of(card) is None:
            raise RegistryError(f"{vid} is not a profile's personal version: it is shared already")
        path = self._dir(vid) / "card.json"
        try:
            stored = json.loads(path.read_text())
            stored["shared"] = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "from": card["profile"]}
            write_atomic(path, json.dumps(stored, indent=2).encode())
        except (OSError, ValueError) as e:
            raise RegistryError(f"could not share {vid}: {e}") from None
        return self.card(vid)

    def delete(self, vid: str) -> None:
        """Delete a version (never the shipped default, never the active one)."""
        validate_version_id(vid)
        if vid == DEFAULT_ID:
            raise RegistryError(f"the shipped default {'ink ' if self.kind == 'ink' else ''}model cannot be deleted")
        if vid == self.active():
            raise RegistryError(f"{vid} is the active model; activate another version first")
        users = [name for name, own in self.personal_pointers().items() if own == vid]
        if users:
            raise RegistryError(f"{vid} is the active model of profile {', '.join(users)}; activate another "
                                "version for it first")
        d = self._dir(vid)
        if not d.is_dir():
            raise RegistryError(f"no model version {vid!r}")
        # Rename first so a crash mid-delete leaves no half-deleted version in the list.
        trash = self.root / f".del-{vid}"
        os.rename(d, trash)
        shutil.rmtree(trash, ignore_errors=True)
