"""Shared fixtures: a throwaway data directory, the MNIST file when the shared data is here, a fake trainer,
images for the app's tests (canvases, photos, broken and hostile files). Markers are in pytest.ini."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

# The full MNIST for development machines; tests fall back to the offline subset without it.
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, through Playwright, no downloads), one a test module; a failure when missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def tmp_home(tmp_path, monkeypatch) -> Path:
    """An empty studio data directory, set as MNIST_STUDIO_HOME for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MNIST_STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def mnist_path() -> str | None:
    """Path of the full MNIST file when ../shared/data has it, else None (the offline subset is used)."""
    return str(SHARED_MNIST) if SHARED_MNIST.exists() else None


# A stand-in for `python -m mnist_core train --request FILE`: reads the job manager's request file and writes the
# job-log events through mnist_core.ops.protocol, honours the cancel file, in milliseconds and without TensorFlow.
# It records its argv, environment and request in <job>/argv.json. Env FAKE_MODE: "ok", "fail" (failed event),
# "crash" (exit 5, no event), "stubborn" (ignores the cancel file: SIGTERM stops it), "slow" (1 s a step). A personal
# fine-tune (a profile) ends with the card's "personal" block; env FAKE_VERDICT: "helps" (default), "no_help",
# "mnist_cost".
FAKE_TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from mnist_core.ops import protocol
    args = sys.argv[1:]
    path = Path(args[args.index("--request") + 1])
    request = protocol.read_request(path)
    job, train = Path(request.job_dir), request.job
    epochs = train.settings.epochs
    mode = os.environ.get("FAKE_MODE", "ok")
    (job / "argv.json").write_text(json.dumps({"argv": args, "env": sorted(os.environ),
                                               "request": json.loads(path.read_text())}))
    log = protocol.JobLog(job)
    emit = log.write
    profile = train.profile
    emit(protocol.START, settings={"epochs": epochs, "arch": "cnn"}, data="fake data", pid=os.getpid(),
         profile=profile)
    if mode == "crash":
        print("Traceback: something broke", flush=True)
        sys.exit(5)
    steps = 4
    pause = 1.0 if mode in ("slow", "stubborn") else 0.02
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            if protocol.cancel_requested(job) and mode != "stubborn":
                emit(protocol.CANCELLED)
                sys.exit(protocol.EXIT_CANCELLED)
            time.sleep(pause)
            emit(protocol.PROGRESS, epoch=epoch, epochs=epochs, step=step, steps=steps,
                 loss=1.0 / (epoch * step), accuracy=0.5, eta_s=1.0, elapsed_s=0.1)
        emit(protocol.EPOCH, epoch=epoch, loss=1.0 / epoch, accuracy=0.8, val_loss=1.2 / epoch, val_accuracy=0.7)
    if mode == "fail":
        log.failed("the data went missing")
        sys.exit(protocol.EXIT_ERROR)
    verdict = os.environ.get("FAKE_VERDICT", "helps")
    personal = None if profile is None else {
        "profile": profile, "held_out": 2, "before": {"correct": 1, "count": 2, "mean_p": 0.4, "accuracy": 0.5},
        "after": {"correct": 2, "count": 2, "mean_p": 0.9, "accuracy": 1.0}, "mnist_before": 0.9954,
        "mnist_after": 0.9925 if verdict == "mnist_cost" else 0.9950,
        "verdict": {"activate": verdict == "helps", "reason": verdict,
                    "mnist_cost": 0.0029 if verdict == "mnist_cost" else 0.0004},
        "wall_seconds": 19.6}
    emit(protocol.DONE, version="20990101-000000-abcd", card={"id": "20990101-000000-abcd", "train_seconds": 1.5},
         active_before="default", active_accuracy=0.9,
         activated=personal is not None and verdict == "helps" and train.activate == "if_helps",
         profile=profile, personal=personal)
    """
)


@pytest.fixture
def fake_trainer(tmp_path) -> list[str]:
    """The command of a fake trainer (see FAKE_TRAINER), for JobManager(command=...)."""
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    return [sys.executable, str(script)]


def ink_layer(text: str, size: int = 400, thickness: int = 28) -> np.ndarray:
    """A Sketchpad-like layer: ``text`` in thick strokes as alpha on transparent, (size, size, 4) uint8."""
    import cv2

    alpha = np.zeros((size, size), np.uint8)
    scale = 9.0 if len(text) == 1 else 12.6 / len(text)
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.putText(alpha, text, ((size - w) // 2, (size + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    layer = np.zeros((size, size, 4), np.uint8)
    layer[..., 3] = alpha
    return layer


def paper_photo(text: str, size: tuple[int, int] = (900, 600)) -> np.ndarray:
    """A photo-like RGB image: dark ``text`` written on slightly uneven light paper."""
    import cv2

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    paper = (215 + 25 * xx / w - 10 * yy / h).astype(np.uint8)
    img = np.dstack([paper, paper, paper - 8]).copy()
    scale = 12.0 / max(len(text), 2)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 22)
    cv2.putText(img, text, ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (40, 40, 60), 22, cv2.LINE_AA)
    return img


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, Path]:
    """Image files for the app's tests: canvases, photos, and broken or hostile uploads."""
    import io

    from PIL import Image

    d = tmp_path_factory.mktemp("images")
    out: dict[str, Path] = {}

    def save(name: str, array_or_image, **kw) -> None:
        im = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
        im.save(d / name, **kw)
        out[name] = d / name

    for text in ("3", "7", "42", "305"):
        save(f"layer_{text}.png", ink_layer(text))
    save("layer_empty.png", np.zeros((400, 400, 4), np.uint8))
    composite = np.full((400, 400, 3), 255, np.uint8)
    composite[ink_layer("7")[..., 3] > 127] = 0
    save("composite_7.png", composite)
    save("photo_2024.jpg", paper_photo("2024"), quality=90)
    save("photo_blank.jpg", paper_photo(""), quality=90)
    save("one_pixel.png", np.zeros((1, 1), np.uint8))
    grey16 = (paper_photo("58")[..., 0].astype(np.uint16) * 257)
    save("photo_16bit.png", Image.fromarray(grey16, mode="I;16"))
    save("photo_cmyk.jpg", Image.fromarray(paper_photo("58")).convert("CMYK"), quality=90)
    frames = [Image.fromarray(paper_photo(t)) for t in ("58", "13")]
    frames[0].save(d / "anim.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    out["anim.gif"] = d / "anim.gif"
    (d / "not_an_image.png").write_bytes(b"this is plain text, not a PNG at all\n" * 20)
    out["not_an_image.png"] = d / "not_an_image.png"
    (d / "empty.png").write_bytes(b"")
    out["empty.png"] = d / "empty.png"
    full = io.BytesIO()
    Image.fromarray(paper_photo("58")).save(full, format="PNG")
    (d / "truncated.png").write_bytes(full.getvalue()[: len(full.getvalue()) // 3])
    out["truncated.png"] = d / "truncated.png"
    full = io.BytesIO()
    Image.fromarray(paper_photo("58")).save(full, format="JPEG")
    (d / "truncated.jpg").write_bytes(full.getvalue()[: len(full.getvalue()) // 3])
    out["truncated.jpg"] = d / "truncated.jpg"
    out["bomb.png"] = _bomb_png(d / "bomb.png")
    return out


def _bomb_png(path: Path, side: int = 30000) -> Path:
    """A small PNG whose header claims side x side grey pixels (900 MP): a decompression bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * side
    body = zlib.compress(row * 64, 9)  # only the first rows: the header alone must be refused
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


# --- PostgreSQL ---------------------------------------------------------------------------------------------
# The tests of the PostgreSQL sample store and of replicas over it need a server: env MNIST_STUDIO_TEST_PG, a
# postgresql:// URL of a database the user may create schemas in (.ci/run starts Debian's PostgreSQL and sets it).
# Each test gets a schema of its own in that database, dropped afterwards.
TEST_PG_ENV = "MNIST_STUDIO_TEST_PG"


@pytest.fixture
def pg_url() -> str:
    """A postgresql:// URL whose tables land in a fresh schema of the test database (skip without a server)."""
    import os
    import secrets

    base = os.environ.get(TEST_PG_ENV)
    if not base:
        pytest.skip(f"no PostgreSQL server for the tests: set {TEST_PG_ENV}=postgresql://user:pw@host:port/db "
                    "(.ci/run starts one)")
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:  # unreachable: fails, not skips
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
