"""Reading images: `load_image` decodes a file or its bytes (any format PIL knows, EXIF-rotated, 16-bit scaled)
into a uint8 array, with the pixel cap checked from the header before decoding; `ImageError` carries a message
meant for the user; `check_array` validates an array given directly."""

from __future__ import annotations

import io
import os
import re

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_core.config import Limits
from mnist_core.digits.arrays import to_uint8


class ImageError(ValueError):
    """An input that cannot be read as an image; the message is meant for the user."""


_MIN_SIDE = 8  # a smaller image cannot hold a digit worth reading (USPS's 16x16 is the smallest real one)


_MIN_THIN = 3  # a tight crop of a 1 from a 16-px form box is 3-6 px wide; digits stand upright, so height stays 8


def _too_small(width: int, height: int) -> ImageError | None:
    """The error for an image too small to hold a digit, else None."""
    if height < _MIN_SIDE or width < _MIN_THIN:
        return ImageError(f"image too small: {width}x{height}; a digit needs at least {_MIN_SIDE} pixels of height "
                          f"and {_MIN_THIN} of width (a tight crop of a 1)")
    return None


def _too_large(width: int, height: int, max_pixels: int) -> ImageError:
    return ImageError(
        f"image too large: {width}x{height} = {width * height:,} pixels > limit {max_pixels:,}"
    )


def _png_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, or None; for the decompression-bomb message."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return None


def load_image(source: str | os.PathLike | bytes, max_pixels: int = Limits().max_pixels, exif: bool = True) -> np.ndarray:
    """Decode an image file or its bytes into uint8 grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4), EXIF-rotated.

    ``exif=False`` (canvas layers, which a browser writes without EXIF) lets an 8-bit PNG be decoded by
    OpenCV instead of PIL: about 25% less time for the 800x800 RGBA layer of every stroke.
    """
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            if not data:
                raise ImageError("not an image file (0 bytes)")
            fp: io.BytesIO | str | os.PathLike = io.BytesIO(data)
            head = data[:32]
            name = "the upload"
        elif isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise ImageError(f"no such image file: {path}")
            if os.path.getsize(path) == 0:
                raise ImageError(f"not an image file (0 bytes): {path}")
            with open(path, "rb") as f:
                head = f.read(32)
            fp, name = path, os.path.basename(path)
        else:
            raise ImageError(f"not an image: expected a file path or bytes, got {type(source).__name__}")
        try:
            im = Image.open(fp)  # reads the header only
        except Image.DecompressionBombError as e:
            # PIL's own guard (2 x 89 MP) fired before we could see the size: say it in our words.
            size = _png_size(head)
            if size:
                raise _too_large(size[0], size[1], max_pixels) from None
            m = re.search(r"\((\d+) pixels\)", str(e))
            pixels = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
            raise ImageError(f"image too large: {pixels} > limit {max_pixels:,}") from None
        except UnidentifiedImageError:
            raise ImageError(f"not an image file (unknown format: {name})") from None
        with im:
            width, height = im.size
            if width * height > max_pixels:  # checked from the header, before decoding a single pixel
                raise _too_large(width, height, max_pixels)
            if (err := _too_small(width, height)) is not None:
                raise err
            if not exif and im.format == "PNG" and im.mode in ("L", "RGB", "RGBA"):
                fast = _png_by_opencv(data if isinstance(fp, io.BytesIO) else fp, im.mode, (height, width))
                if fast is not None:
                    return fast
            im.seek(0)  # animated GIF / APNG / multi-page TIFF: the first frame
            im.load()  # a truncated or corrupt file fails here
            orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
            if orientation not in (None, 1):
                im = ImageOps.exif_transpose(im)
            return _pil_to_array(im)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as e:
        reason = str(e) or type(e).__name__
        damaged = any(w in reason.lower() for w in ("truncated", "broken", "damaged"))
        if damaged or isinstance(e, (EOFError, SyntaxError)):
            raise ImageError(f"damaged or truncated image file ({reason})") from None
        raise ImageError(f"cannot read the image ({reason})") from None


def _png_by_opencv(source, mode: str, shape: tuple[int, int]) -> np.ndarray | None:
    """An 8-bit PNG decoded by OpenCV as PIL would give it (RGB order); None if OpenCV cannot (PIL then says why)."""
    flag = cv2.IMREAD_GRAYSCALE if mode == "L" else cv2.IMREAD_UNCHANGED
    if isinstance(source, bytes):
        arr = cv2.imdecode(np.frombuffer(source, np.uint8), flag)
    else:
        arr = cv2.imread(os.fspath(source), flag)
    channels = {"L": 0, "RGB": 3, "RGBA": 4}[mode]
    if arr is None or arr.dtype != np.uint8 or arr.shape[:2] != shape or (arr.shape[2] if arr.ndim == 3 else 0) != channels:
        return None
    if channels == 3:
        return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    if channels == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _pil_to_array(im: Image.Image) -> np.ndarray:
    """A loaded PIL image -> uint8 (H, W), (H, W, 3) or (H, W, 4)."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(im, dtype=np.uint8).copy()
    if mode == "1":
        return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return to_uint8(np.asarray(im))
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8).copy()
    if mode in ("LA", "La", "RGBa", "RGBX"):
        return np.asarray(im.convert("RGBA" if mode != "RGBX" else "RGB"), dtype=np.uint8).copy()
    # CMYK (PIL undoes Adobe's inverted CMYK JPEGs), YCbCr, LAB, HSV, ...
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def check_array(image: np.ndarray, what: str) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{what} must be an image array, not {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageError(f"{what} must be (H, W), (H, W, 3) or (H, W, 4), not shape {image.shape}")
    if not (np.issubdtype(image.dtype, np.number) or image.dtype == np.bool_):
        raise ImageError(f"{what} must hold numbers, not {image.dtype}")
    h, w = image.shape[:2]
    if (err := _too_small(w, h)) is not None:
        raise err
    return image
