"""Tests of mnist_core.digits.images: decoding files and bytes, size caps, bad input. No TensorFlow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from _shared import ROOT
from digit_inputs import DIGIT, png_bytes
from mnist_core import digits as pp
from mnist_core.digits import ImageError


# ------------------------------------------------------------------------------------------------------------
# load_image
# ------------------------------------------------------------------------------------------------------------


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG whose header says width x height (1-bit grey) with a few KB of IDAT: refused before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (4 * 1024 * 1024), 9)  # the first rows only; never read
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_bytes(arr: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()




@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "0 bytes"),
        (b"hello, this is text and not a picture" * 10, "not an image"),
        (png_bytes(np.full((64, 64), 200, np.uint8))[:60], "truncated"),
        (jpeg_bytes(np.full((64, 64, 3), 200, np.uint8))[:300], "truncated"),
        (png_bytes(np.zeros((1, 1), np.uint8)), "too small"),
        (bomb_png(), "30000x30000 = 900,000,000 pixels > limit 40,000,000"),
    ],
    ids=["0-bytes", "not-an-image", "truncated-png", "truncated-jpeg", "1x1", "bomb-30000x30000"],
)
def test_load_image_refuses_bad_input_with_one_clear_error(data, words):
    with pytest.raises(ImageError) as e:
        pp.load_image(data)
    assert words in str(e.value)
    assert isinstance(e.value, ValueError)  # callers may catch ValueError


def test_bomb_is_small_on_disk_and_refused_from_a_path(tmp_path):
    data = bomb_png()
    assert len(data) < 20_000  # a few KB that would decode to 900 MP
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="too large"):
        pp.load_image(path)


def test_pixel_limit_is_a_setting():
    data = png_bytes(np.zeros((100, 100), np.uint8))
    assert pp.load_image(data).shape == (100, 100)
    with pytest.raises(ImageError, match="100x100 = 10,000 pixels > limit 5,000"):
        pp.load_image(data, max_pixels=5000)


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="no such image file"):
        pp.load_image(tmp_path / "nope.png")


def gif_two_frames() -> bytes:
    first = Image.fromarray(np.where(DIGIT > 0, 255, 0).astype(np.uint8)).convert("P")
    second = Image.fromarray(np.full((40, 40), 128, np.uint8)).convert("P")
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    return buf.getvalue()


def cmyk_jpeg() -> bytes:
    rgb = np.repeat(255 - DIGIT[..., None], 3, axis=2)
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, "JPEG", quality=95)
    return buf.getvalue()


def png16() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(DIGIT.astype(np.uint16) * 257).save(buf, "PNG")  # mode I;16
    return buf.getvalue()


def palette_png_with_transparency() -> bytes:
    im = Image.fromarray(DIGIT).convert("P")
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=0)
    return buf.getvalue()


def la_png() -> bytes:
    la = np.stack([255 - DIGIT, np.full_like(DIGIT, 255)], axis=2)
    return png_bytes(la, mode="LA")


@pytest.mark.parametrize(
    "make, shape",
    [
        (png16, (40, 40)),
        (cmyk_jpeg, (40, 40, 3)),
        (gif_two_frames, (40, 40, 3)),
        (palette_png_with_transparency, (40, 40, 4)),
        (la_png, (40, 40, 4)),
    ],
    ids=["16-bit-png", "cmyk-jpeg", "animated-gif", "palette-png", "la-png"],
)
def test_load_image_reads_awkward_formats_as_uint8(make, shape):
    arr = pp.load_image(make())
    assert arr.shape == shape and arr.dtype == np.uint8
    # Every one of them still holds the "7": the ink region differs from the rest.
    grey = arr if arr.ndim == 2 else arr[..., :3].mean(axis=2)
    ink = DIGIT > 128
    assert abs(float(grey[ink].mean()) - float(grey[~ink].mean())) > 100


def test_16_bit_png_is_scaled_not_clipped():
    arr = pp.load_image(png16())
    assert arr.max() == 255 and set(np.unique(arr)) <= set(np.unique(DIGIT))


def test_animated_gif_gives_the_first_frame():
    arr = pp.load_image(gif_two_frames())
    assert arr[DIGIT > 128].mean() > 200 and arr[DIGIT == 0].mean() < 50  # not the flat grey second frame


def test_exif_rotation_is_applied():
    tall = np.zeros((60, 30, 3), np.uint8)
    tall[:10] = 255  # a white band at the top
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    arr = pp.load_image(jpeg_bytes(tall, exif=exif, quality=95))
    assert arr.shape == (30, 60, 3)
    assert arr[:, -10:].mean() > 200 and arr[:, :40].mean() < 30  # the band is now on the right




@pytest.mark.parametrize(
    "bad",
    [np.zeros((1, 1), np.uint8), np.zeros((5, 100), np.uint8), np.zeros((30, 30, 2), np.uint8), "not an array"],
    ids=["1x1", "too-thin", "two-channels", "string"],
)
def test_bad_arrays_raise_image_error(bad):
    with pytest.raises(ImageError):
        pp.photo_to_mnist(bad)


def test_no_tensorflow_import():
    # In a fresh interpreter: other test files in the same session import TensorFlow themselves.
    import subprocess
    import sys

    code = ("import sys, mnist_core.digits as d, mnist_core.digits.photo, mnist_core.digits.recognize; "
            "[getattr(d, n) for n in d.__all__]; print('tensorflow' in sys.modules, 'gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.stdout.split() == ["False", "False"], out.stderr[-500:]


def test_importing_the_package_loads_no_module():
    # The public names are imported on first use: `import mnist_core.digits` alone loads neither OpenCV nor PIL.
    import subprocess
    import sys

    code = "import sys, mnist_core.digits as d; print('cv2' in sys.modules, 'PIL' in sys.modules, d.split_digits.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.stdout.split() == ["False", "False", "mnist_core.digits.segment"], out.stderr[-500:]


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L"])
def test_png_fast_path_decodes_like_pil_and_still_refuses_truncated_files(mode):
    """load_image(exif=False) decodes 8-bit PNGs with OpenCV (the canvas layer of every stroke): same pixels."""
    import io

    from PIL import Image

    rng = np.random.default_rng(7)
    channels = {"RGBA": (4,), "RGB": (3,), "L": ()}[mode]
    arr = rng.integers(0, 256, (123, 77) + channels, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG")
    data = buf.getvalue()
    fast, slow = pp.load_image(data, exif=False), pp.load_image(data)
    assert fast.shape == slow.shape == arr.shape and np.array_equal(fast, slow) and np.array_equal(fast, arr)
    with pytest.raises(pp.ImageError, match="truncated|damaged|cannot read"):
        pp.load_image(data[: len(data) // 2], exif=False)
