"""Turn what people give (canvas strokes, photos, scans, small bitmaps) into MNIST-style 28x28 digits.

MNIST digits were size-normalised into a 20x20 box keeping their aspect ratio (anti-aliased grey levels) and
placed in a 28x28 image with their centre of mass at the centre, ink bright (1.0) on black (0.0). Every path here
ends in `normalize_digit`, which does exactly that; the paths differ only in how they find the ink:

- `canvas_to_mnist`: the sketchpad layers' alpha (so theme and brush colour do not matter), else the composite;
- `photo_to_mnist`: polarity decided from the image, background removed by morphology (uneven light, shadows),
  Otsu threshold, specks, ruled lines and the sheet's edge dropped; small bitmaps (<= 64 px a side: MNIST, USPS)
  take a fast path with no background removal, no splitting and no stroke change;
- `split_digits`: the splitter both use: connected components, pieces of one digit merged, touching digits split,
  reading order (rows top to bottom, left to right in a row).

Arrays in, arrays out: each digit is a `Digit` (28x28 float32 in [0, 1] plus its box in the input's pixel
coordinates), so the app can show a person exactly what the model saw. No TensorFlow here.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_core.config import Limits

__all__ = [
    "ImageError",
    "Digit",
    "PreprocessSettings",
    "load_image",
    "Ink",
    "canvas_to_mnist",
    "canvas_ink",
    "photo_to_mnist",
    "photo_ink",
    "bitmap_to_mnist",
    "split_digits",
    "normalize_digit",
    "most_prominent",
    "to_model_batch",
]


class ImageError(ValueError):
    """An input that cannot be read as an image; the message is meant for the user."""


@dataclass(frozen=True)
class Digit:
    """One digit as the model sees it, and where it was found."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], ink bright, MNIST-normalised
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in the input image's pixels, x1/y1 exclusive


@dataclass(frozen=True)
class Ink:
    """The ink map digits were cut from, for reading whole lines (the number reader): ink bright."""

    image: np.ndarray  # (h, w) uint8 (a canvas's alpha) or float32 in [0, 1] (a photo's marks, background removed)
    sx: float  # input pixels per ink pixel across: a digit's box x / sx is its column in `image`
    sy: float  # the same down
    line: bool = False  # the whole image is one line of writing (a small crop wider than a digit)


@dataclass(frozen=True)
class PreprocessSettings:
    """Knobs of the preprocessing; the defaults reproduce MNIST's normalisation."""

    # MNIST's size-normalisation box (pixels): the longer side of a digit's ink becomes this.
    box: int = 20
    # Output side (pixels).
    size: int = 28
    # Where MNIST puts the centre of mass, in pixel-index coordinates (row and column): measured over the
    # 10,000 test digits as 13.99 and 14.01 (std 0.29), i.e. 14 after MNIST's whole-pixel shift.
    centre: float = 14.0
    # An input no larger than this on both sides (and at most 1.5 times as wide as tall) is one digit: a bitmap
    # (USPS 16x16, MNIST 28x28, a 32x32 icon: fast path, no background removal, no splitting, no stroke change)
    # or a tight crop from a form (its paper and the neighbours' fragments removed, see `bitmap_clean_share`).
    bitmap_max_side: int = 64
    # A canvas is area-downscaled by a whole factor until its longer side is at most this before its components
    # are labelled (800 -> 100: 64x fewer pixels); digits are then cut from the full-resolution alpha.
    canvas_find_side: int = 100
    # A photo is area-downscaled until its longer side is at most this before analysis (12 MP -> 1.9 MP).
    photo_work_side: int = 1600
    # Stroke widths (pixels at the 28x28 scale, 2 * area / perimeter) kept as drawn; canvas and photo strokes
    # outside are redrawn at `stroke_target`. MNIST's widths are 1.4 / 2.2 / 3.5 at its 5th / 50th / 95th
    # percentile, so a thin 5-px brush on a 600-px digit (0.2 px after scaling) or a marker filling the loops
    # is brought back into what the model was trained on.
    stroke_range: tuple[float, float] = (1.6, 3.3)
    # The width strokes outside `stroke_range` are redrawn at: MNIST's median.
    stroke_target: float = 2.2
    # Resolution (longer side, pixels) at which a digit's strokes are measured and redrawn: 4x the box, so that
    # the final area-downscale to 20 gives MNIST-like anti-aliased edges.
    stroke_side: int = 80
    # Canvas alpha (0-255) from which a pixel counts as ink when finding components; fainter pixels are the
    # brush's anti-aliased fringe (they still reach the digit image).
    alpha_threshold: int = 64
    # A small image is a clean bitmap (MNIST, USPS, an icon) when at least this share of its pixels sit at the
    # background level itself (MNIST 81%, USPS 59% at 0, its boldest digits 19%); otherwise it is a crop from
    # paper (a form box, a cheque: noisy and patterned, no level repeated that often) and its paper and
    # neighbours are removed.
    bitmap_clean_share: float = 0.15
    # The paper of such a crop is a grey opening this wide (a fraction of its longer side), wider than any stroke
    # (0.22 broke bold strokes: crops read 73% against 80% at 0.6 and 1.0).
    crop_kernel_frac: float = 0.6
    # Its ink threshold is at least this fraction of the pen's level (the 99th percentile above the paper).
    crop_pen_frac: float = 0.35
    # Ink level (fraction of full ink, 0-1) from which a pixel counts when `split_digits` finds components.
    ink_threshold: float = 0.3
    # Weakest contrast (fraction of the paper's brightness, 0-1) that can be ink; a page whose darkest marks
    # are fainter than this is blank ("no digit found").
    min_contrast: float = 0.15
    # A photo's threshold is at least this fraction of the pen's level (its darkest 2%): a stroke's edge is
    # at half its darkness, while shadows and ruled lines are fainter than the pen.
    pen_level_frac: float = 0.55
    # Photo marks whose mean ink contrast is below this fraction of the darkest digit-sized mark's are not
    # ink (table texture, the tips of shadows, faint ruled lines): one pen wrote the digits.
    relative_contrast: float = 0.6
    # Candidates shorter than this fraction of the tallest candidate are specks, dots or punctuation.
    min_height_frac: float = 0.4
    # Parts of a shadow wider than this (a fraction of the first pass's kernel; then `shadow_flat_strokes` pen
    # widths) that join a wider part are background, even where narrower than the kernel: a shadow's tips.
    shadow_flat_frac: float = 1 / 3
    shadow_flat_strokes: float = 2.0
    # Deepest shadow so given back, as the fraction of the paper's brightness it takes away: deeper regions (a
    # dark table, the ink of a bold digit touching it) never are. Shadows in daylight and room light take
    # 20-50%; ink takes 60-95%.
    shadow_depth: float = 0.55
    # Wide regions deeper than this (same measure) are bold ink or a dark table: the reconstruction neither
    # raises nor crosses them, so a bold digit touching the table beyond the sheet's edge keeps its strokes.
    ink_depth: float = 0.7
    # Longest side (pixels) at which that reconstruction runs: it takes one 3x3 step per pixel of its longest
    # path, ~17 ms at this size against ~100 ms on an 830 px photo at full size.
    shadow_side: int = 320
    # A photo's candidate of at least this many marks, none holding `texture_share` of their ink, is texture
    # (the grain of a table beyond the sheet's edge, a patterned cloth), not a digit: a digit is one to a few
    # strokes, and a broken or grainy one still has a main piece.
    texture_pieces: int = 8
    texture_share: float = 0.5
    # Smallest digit height in pixels at the analysis resolution; shorter marks are dust.
    min_height_px: int = 8
    # A candidate wider than this many times its height may be touching digits: it is split where a single
    # stroke joins them (1.3% of MNIST digits are this wide; the single-stroke rule keeps them whole).
    split_aspect: float = 1.25
    # A candidate wider than this many times its height is certainly several digits (0.05% of MNIST's are).
    sure_split_aspect: float = 1.7


DEFAULT = PreprocessSettings()


# ----------------------------------------------------------------------------------------------------------
# Loading files
# ----------------------------------------------------------------------------------------------------------

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


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Any numeric image array -> uint8, 16-bit scaled by 1/257 and floats in [0, 1] by 255."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        a = np.nan_to_num(arr.astype(np.float32))
        peak = float(a.max()) if a.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0 if peak <= 255.0 else 255.0 / peak  # [0, 1], [0, 255] or beyond
        return np.clip(a * scale + 0.5, 0, 255).astype(np.uint8)
    a = arr.astype(np.int64)
    peak = int(a.max()) if a.size else 0
    if arr.dtype == np.uint16 or peak > 255:  # 16-bit samples (PIL gives "I;16" or "I" for 16-bit PNGs)
        return np.clip((a + 128) // 257, 0, 255).astype(np.uint8)
    return np.clip(a, 0, 255).astype(np.uint8)


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
        return _to_uint8(np.asarray(im))
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8).copy()
    if mode in ("LA", "La", "RGBa", "RGBX"):
        return np.asarray(im.convert("RGBA" if mode != "RGBX" else "RGB"), dtype=np.uint8).copy()
    # CMYK (PIL undoes Adobe's inverted CMYK JPEGs), YCbCr, LAB, HSV, ...
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


# ----------------------------------------------------------------------------------------------------------
# Arrays
# ----------------------------------------------------------------------------------------------------------


def _check_array(image: np.ndarray, what: str) -> np.ndarray:
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


def _to_unit(arr: np.ndarray) -> np.ndarray:
    """Any numeric array -> float32 in [0, 1] (uint8 / 255, uint16 / 65535, floats in [0, 1] or [0, 255])."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1 / 255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) * np.float32(1 / 65535)
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    a = np.nan_to_num(arr.astype(np.float32))
    peak = float(a.max()) if a.size else 0.0
    if peak <= 1.0:
        return np.clip(a, 0.0, 1.0)
    return np.clip(a / (255.0 if peak <= 255.0 else 65535.0 if peak <= 65535.0 else peak), 0.0, 1.0)


def _grey(image: np.ndarray) -> np.ndarray:
    """(H, W[, 3|4]) any dtype -> (H, W) float32 in [0, 1]; alpha composited over white (paper)."""
    a = _to_unit(image)
    if a.ndim == 2:
        return a
    rgb = a[:, :, :3]
    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if a.shape[2] == 4:
        alpha = a[:, :, 3]
        g = g * alpha + (1.0 - alpha)
    return g


def _pct(a: np.ndarray, q: float) -> float:
    """The q-th percentile (nearest rank) of a 1-D or any array; np.percentile's overhead dominates on bitmaps."""
    a = a.ravel()
    k = min(a.size - 1, max(0, int(round(q / 100.0 * (a.size - 1)))))
    return float(np.partition(a, k)[k])


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


# ----------------------------------------------------------------------------------------------------------
# One digit -> MNIST 28x28
# ----------------------------------------------------------------------------------------------------------


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the True/non-zero pixels of a 2-D array, x1/y1 exclusive; None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _perimeter(mask: np.ndarray) -> float:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return float(sum(cv2.arcLength(c, True) for c in contours))


def _shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-downscale (H, W) to size=(w, h): by a whole factor first (OpenCV's fast path; a fractional area
    resize costs ~0.5 ms whatever the size), then linearly by less than 2x to the exact size."""
    h, w = img.shape
    k = min(h // size[1], w // size[0])
    if k >= 2:
        ph, pw = -h % k, -w % k  # pad to a multiple of k with paper
        if ph or pw:
            img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        img = cv2.resize(img, (img.shape[1] // k, img.shape[0] // k), interpolation=cv2.INTER_AREA)
    if img.shape[::-1] == tuple(size):
        return img
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if k < 2 else cv2.INTER_LINEAR)


def _fit_box(ink: np.ndarray, box: int) -> np.ndarray:
    """Resize a tight crop so its longer side is `box`, keeping the aspect ratio (anti-aliased)."""
    h, w = ink.shape
    s = max(h, w)
    if s == box:
        return ink
    nh, nw = max(1, int(round(h * box / s))), max(1, int(round(w * box / s)))
    interp = cv2.INTER_AREA if s > box else cv2.INTER_LINEAR
    return cv2.resize(ink, (nw, nh), interpolation=interp)


def _place(img: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """Paste a size-normalised digit into size x size with its centre of mass at `s.centre` (whole pixels)."""
    out = np.zeros((s.size, s.size), np.float32)
    h, w = img.shape
    total = float(img.sum())
    if total <= 0:
        return out
    cy = float(img.sum(axis=1) @ np.arange(h, dtype=np.float32)) / total
    cx = float(img.sum(axis=0) @ np.arange(w, dtype=np.float32)) / total
    top, left = int(round(s.centre - cy)), int(round(s.centre - cx))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, s.size), min(left + w, s.size)
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = img[y0 - top : y1 - top, x0 - left : x1 - left]
    return out


def _restroke(ink: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """A tight crop of one digit's ink (float in [0, 1] or uint8 alpha) -> float32 at `stroke_side`, its strokes
    within MNIST's range."""
    h, w = ink.shape
    k = s.stroke_side / max(h, w)
    nh, nw = max(1, int(round(h * k))), max(1, int(round(w * k)))
    # ink coverage per mid-res pixel
    cov = _shrink(ink, (nw, nh)) if k < 1 else cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_LINEAR)
    # uint8 (canvas alpha) is resized first and converted after: 4x less memory to read than float32.
    cov = cov.astype(np.float32) * np.float32(1 / 255) if cov.dtype == np.uint8 else np.clip(cov, 0.0, 1.0)
    pad = s.stroke_side // 4  # room for thickening without touching the border
    cov = cv2.copyMakeBorder(cov, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    area = float(cov.sum())
    connected = cov >= 0.2  # a low level keeps sub-pixel strokes in one piece
    perim = _perimeter(connected)
    if area <= 0 or perim <= 0:
        return cov
    px28 = s.box / s.stroke_side  # one mid-res pixel at the 28x28 scale
    width = 2.0 * area / perim * px28  # stroke width at the 28x28 scale; exact for long strokes, any thinness
    lo, hi = s.stroke_range
    if lo <= width <= hi:
        return cov
    target = s.stroke_target / px28  # in mid-res pixels
    if width < lo:
        base = connected.astype(np.uint8)
        cur = 2.0 * float(base.sum()) / max(_perimeter(base), 1.0)
        d = int(round(target - cur)) + 1
        if d <= 1:
            return cov
        out = cv2.dilate(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
    else:
        # Thick: thinned by an erosion, plus the strokes' middle line (the ridge of the distance to the paper)
        # redrawn with the target pen, which keeps the thinner parts of a bold digit (a 3's upper arc).
        # An erosion keeps a filled loop as a smaller blob, which the model reads better than its centre line.
        base = (cov >= 0.5).astype(np.uint8)
        cur = 2.0 * float(base.sum()) / max(_perimeter(base), 1.0)
        d = int(round(cur - target)) + 1
        if d <= 1:
            return cov
        out = cv2.erode(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
        dist = cv2.distanceTransform(base, cv2.DIST_L2, 3)
        ridge = ((dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)).astype(np.uint8)
        pen = max(3, int(round(target)))
        out |= cv2.dilate(ridge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    return out.astype(np.float32)


def _normalize(
    ink: np.ndarray, s: PreprocessSettings, adjust_stroke: bool
) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """(28, 28) float32 digit and the ink's box within `ink` (None and zeros when there is no ink)."""
    box = _bbox(ink > 0)
    if box is None:
        return np.zeros((s.size, s.size), np.float32), None
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(ink[y0:y1, x0:x1])  # float32 in [0, 1], or uint8 canvas alpha
    if adjust_stroke:
        crop = _restroke(crop, s)
        inner = _bbox(crop > 0)
        if inner is None:
            return np.zeros((s.size, s.size), np.float32), None
        crop = np.ascontiguousarray(crop[inner[1] : inner[3], inner[0] : inner[2]])
    elif crop.dtype != np.float32:
        crop = _to_unit(crop)
    img = np.clip(_fit_box(crop, s.box), 0.0, 1.0)
    return _place(img, s), box


def normalize_digit(
    ink: np.ndarray, adjust_stroke: bool = False, settings: PreprocessSettings = DEFAULT
) -> np.ndarray:
    """One digit's ink (any size, ink bright, zero background) -> (28, 28) float32, MNIST's box and centre of mass.

    `adjust_stroke` redraws strokes outside MNIST's width range (what the canvas and photo paths do).
    """
    ink = _to_unit(np.asarray(ink))
    if ink.ndim != 2:
        raise ImageError(f"a digit's ink must be (H, W), not shape {ink.shape}")
    return _normalize(ink, settings, adjust_stroke)[0]


# ----------------------------------------------------------------------------------------------------------
# Finding digits: components -> candidates (merged pieces, split touching digits) in reading order
# ----------------------------------------------------------------------------------------------------------


@dataclass
class _Cand:
    x0: int
    y0: int
    x1: int
    y1: int
    ids: tuple[int, ...]  # component labels belonging to this digit

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    def union(self, o: _Cand) -> _Cand:
        return _Cand(min(self.x0, o.x0), min(self.y0, o.y0), max(self.x1, o.x1), max(self.y1, o.y1), self.ids + o.ids)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Length of the overlap of [a0, a1) and [b0, b1); negative: the gap between them."""
    return min(a1, b1) - max(a0, b0)


def _same_digit(a: _Cand, b: _Cand) -> bool:
    """Whether two pieces of ink are parts of one digit (a broken 4, 5 or 7; a stroke drawn apart)."""
    h = max(a.h, b.h)
    ox = _overlap(a.x0, a.x1, b.x0, b.x1)
    oy = _overlap(a.y0, a.y1, b.y0, b.y1)
    u = a.union(b)
    minor, major = (a, b) if a.h < b.h else (b, a)
    # A minor piece reaching into a major one's box from the side: a 2's long tail, a 4 drawn in two strokes.
    if minor.h <= 0.7 * major.h and oy >= 0.6 * minor.h and ox > 0 and u.w <= 1.6 * u.h:
        return True
    if _open_four(a, b) or _open_four(b, a):
        return True
    if u.w > 1.1 * u.h:  # otherwise the union would be wider than one digit
        return False
    # Stacked: one above the other, mostly overlapping in x, a small vertical gap (5's flag, 7's bar).
    if ox >= 0.5 * min(a.w, b.w) and oy >= -0.25 * h:
        return True
    # Side by side: a minor piece beside a major one, touching or nearly.
    return minor.h <= 0.7 * major.h and oy >= 0.6 * minor.h and ox >= -0.08 * h


def _open_four(left: _Cand, stem: _Cand, thin: bool = True) -> bool:
    """A 4 drawn in two strokes: an L (or a U, a V) whose bar ends at or just short of an upright stem to its right,
    the stem reaching on below the bar. Two digits of a number stand on one baseline, so a piece that ends well
    above its right neighbour's foot while starting near its top is not a digit of its own. `thin`: the stem is a
    piece of its own (not the right half of a cut, which keeps the end of a bar that crosses it)."""
    u = left.union(stem)
    return ((stem.w <= 0.6 * stem.h or not thin) and left.x0 < stem.x0
            and _overlap(left.x0, left.x1, stem.x0, stem.x1) >= -0.12 * stem.h    # the bar reaches the stem
            and left.y1 <= stem.y1 - 0.12 * stem.h                               # the stem goes on below the bar
            and left.y1 >= stem.y0 + 0.15 * stem.h                               # the bar is at the stem
            and left.y0 <= stem.y0 + 0.35 * stem.h                               # the L starts near the top
            and left.h >= 0.3 * stem.h and u.w <= (1.2 if thin else 1.7) * u.h)


def _holes(mask: np.ndarray, close: int) -> np.ndarray:
    """(H, W) bool: background that the ink encloses once gaps up to `close` px are closed (a loop's inside)."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
    m = np.pad(m, 1)  # a fresh array: filled in place
    outside = np.zeros((m.shape[0] + 2, m.shape[1] + 2), np.uint8)
    cv2.floodFill(m, outside, (0, 0), 1)  # the background reachable from the border
    return (m == 0)[1:-1, 1:-1]


def _merge(cands: list[_Cand]) -> list[_Cand]:
    merged = True
    while merged and len(cands) > 1:
        merged = False
        cands.sort(key=lambda c: c.x0)
        for i in range(len(cands)):
            for j in range(i + 1, len(cands)):
                if cands[j].x0 > cands[i].x1 + max(cands[i].h, cands[j].h):
                    break  # sorted by x0: the rest are further right
                if _same_digit(cands[i], cands[j]):
                    cands[i] = cands[i].union(cands[j])
                    del cands[j]
                    merged = True
                    break
            if merged:
                break
    return cands


def _split_wide(c: _Cand, mask: np.ndarray, s: PreprocessSettings) -> list[_Cand]:
    """Cut a candidate much wider than tall (touching digits) where one stroke joins them, recursively.

    The cost of a cut is the number of strokes it crosses (the joint of two touching digits is one stroke, while a
    cut through a digit crosses two or three), then the ink it cuts, then its distance from the middle. Below
    `sure_split_aspect` a cut crossing more than one stroke is not made: that is one wide digit.
    """
    if c.w <= s.split_aspect * c.h:
        return [c]
    sub = mask[c.y0 : c.y1, c.x0 : c.x1] > 0
    runs = sub[0].astype(np.int32) + np.count_nonzero(sub[1:] & ~sub[:-1], axis=0)  # strokes crossing each column
    lo, hi = int(0.25 * c.w), int(0.75 * c.w) + 1
    xs = np.arange(lo, hi)
    cost = runs[lo:hi] + 0.5 * sub[:, lo:hi].sum(axis=0) / c.h + np.abs(xs - c.w / 2) / c.w
    cut = lo + int(np.argmin(cost))
    # A joint is one short stroke across the cut; the side of a bold 0 is one long one.
    joint = runs[cut] <= 1 and sub[:, cut].sum() <= 0.35 * c.h
    if not joint and c.w <= s.sure_split_aspect * c.h:
        return [c]
    halves = []
    for a, b in ((0, cut), (cut, c.w)):
        bb = _bbox(sub[:, a:b])
        if bb is not None:
            halves.append(_Cand(c.x0 + a + bb[0], c.y0 + bb[1], c.x0 + a + bb[2], c.y0 + bb[3], c.ids))
    # Digits of one number are about as tall as each other; a short piece is a tail (a 2's, a 7's), not a digit.
    if len(halves) < 2 or min(p.h for p in halves) < 0.6 * c.h:
        return [c]
    if _loop_across(sub, cut):
        return [c]  # a flat 0, or one not closed where the cut would go: the cut would cross its one loop
    if _open_four(halves[0], halves[1], thin=False):
        return [c]  # a 4 whose bar crosses its stem: the L stands above the stem's foot
    return [q for p in halves for q in _split_wide(p, mask, s)]


def _loop_across(sub: np.ndarray, cut: int) -> bool:
    """Whether column `cut` of a candidate's ink crosses one enclosed loop that reaches a quarter of the width to
    each side (a wide, flat 0; a 0 whose ends do not meet, closed here across a gap of a fifth of its height),
    rather than running between two digits' loops (00 touching)."""
    h, w = sub.shape
    holes = _holes(sub, max(3, int(0.2 * h)) | 1)
    if not holes[:, cut].any():
        return False
    n, lab = cv2.connectedComponents(holes.astype(np.uint8), connectivity=4)
    for i in np.unique(lab[:, cut][holes[:, cut]]):
        xs = np.flatnonzero((lab == i).any(axis=0))
        if xs.min() <= cut - 0.25 * w and xs.max() >= cut + 0.25 * w:
            return True
    return False


def _reading_order(cands: list[_Cand]) -> list[_Cand]:
    """Rows top to bottom (a digit joins a row it overlaps by half its height), left to right within a row."""
    rows: list[tuple[list[_Cand], int, int]] = []
    for c in sorted(cands, key=lambda c: (c.y0 + c.y1) / 2):
        for i, (members, r0, r1) in enumerate(rows):
            if _overlap(c.y0, c.y1, r0, r1) >= 0.5 * min(c.h, r1 - r0):
                members.append(c)
                rows[i] = (members, min(r0, c.y0), max(r1, c.y1))
                break
        else:
            rows.append(([c], c.y0, c.y1))
    rows.sort(key=lambda r: (r[1] + r[2]) / 2)
    return [c for members, _, _ in rows for c in sorted(members, key=lambda c: c.x0)]


def _porous(c: _Cand, area: np.ndarray, s: PreprocessSettings) -> bool:
    """Whether a candidate is many marks of which none holds a large share of the ink: texture, not writing."""
    a = area[np.asarray(c.ids) - 1]
    return len(c.ids) >= s.texture_pieces and int(a.max()) < s.texture_share * int(a.sum())


def _candidates(
    mask: np.ndarray, s: PreprocessSettings, min_px: int, ink: np.ndarray | None = None
) -> tuple[np.ndarray, list[_Cand]]:
    """Label a binary mask (H, W) uint8 and group its components into digits in reading order.

    Given the photo's `ink` map, components touching the border (the sheet's edge, the table, a shadow's rim)
    are dropped first, unless nothing else is left, and so are marks much fainter than the darkest one of
    digit size (table texture, shadows' tips, faint lines): one pen wrote the digits. Groups of many small marks
    with no main one are texture and go too, unless nothing else is left.
    """
    drop_edges = ink is not None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return labels, []
    H, W = mask.shape
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    keep = np.flatnonzero((w >= 2) | (h >= 2))
    if drop_edges and keep.size:
        # People frame what they photograph: marks touching the frame are the sheet's edge, the table, a
        # shadow's rim or the next line of writing. They go while a digit-sized mark stays clear of the frame;
        # otherwise only those spanning most of the frame go.
        touches = (x[keep] == 0) | (y[keep] == 0) | (x[keep] + w[keep] == W) | (y[keep] + h[keep] == H)
        inner = keep[~touches]
        # A small strip (at most 160 px tall, at least as wide) is a tight crop of a line of digits (a cheque's
        # amount, a form's box), not a photo with a frame: its digits touch its edges and span its height; only a
        # thin mark across most of its width (a ruled line) is not writing.
        if H <= 160 and W >= H:
            edge = touches & (w[keep] > 0.85 * W) & (h[keep] < 0.3 * H)
            if not edge.all():
                keep = keep[~edge]
        elif inner.size and int(h[inner].max()) >= min_px:
            # Except a mark in the row of a digit clear of the frame and of that digit's height (a digit, or
            # several touching; not a line across the picture nor a sheet's edge down it).
            big = inner[h[inner] >= min_px]
            edge = keep[touches]
            ov = np.minimum((y[edge] + h[edge])[:, None], (y[big] + h[big])[None]) - np.maximum(y[edge][:, None], y[big][None])
            ratio = h[edge][:, None] / h[big][None]
            in_row = ((ov >= 0.6 * np.minimum(h[edge][:, None], h[big][None])) & (ratio >= 0.5) & (ratio <= 1.4)).any(axis=1)
            shaped = (w[edge] <= 0.85 * W) & (h[edge] <= 0.6 * H)
            keep = np.sort(np.concatenate([inner, edge[in_row & shaped]]))
        else:
            edge = touches & ((w[keep] > 0.6 * W) | (h[keep] > 0.6 * H))
            if not edge.all():
                keep = keep[~edge]
    if keep.size > 400:  # a page of noise: look at the largest marks only
        keep = keep[np.argsort(area[keep])[-400:]]
    if keep.size == 0:
        return labels, []
    if ink is not None:
        mean = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=n)[1:] / np.maximum(area, 1)
        big = keep[h[keep] >= max(min_px, 0.25 * int(h[keep].max()))]
        ref = float(mean[big].max()) if big.size else float(mean[keep].max())
        keep = keep[mean[keep] >= s.relative_contrast * ref]
        if keep.size == 0:
            return labels, []
    # Dust and specks: much smaller than the tallest mark in both directions (before they can merge with a digit).
    tallest = int(h[keep].max())
    keep = keep[np.maximum(w[keep], h[keep]) >= max(2, 0.15 * tallest)]
    cands = [_Cand(int(x[i]), int(y[i]), int(x[i] + w[i]), int(y[i] + h[i]), (int(i) + 1,)) for i in keep]
    cands = _merge(cands)
    if ink is not None:  # a photo: grain and pattern (a wooden table, a cloth) are marks in clusters
        solid = [c for c in cands if not _porous(c, area, s)]
        if solid:
            cands = solid
    cands = [p for c in cands for p in _split_wide(c, mask, s)]
    if not cands:
        return labels, []
    tallest = max(c.h for c in cands)
    cands = [c for c in cands if c.h >= max(min_px, s.min_height_frac * tallest)]
    return labels, _reading_order(cands)


def _cut(
    src: np.ndarray,
    labels: np.ndarray,
    c: _Cand,
    f: float,
    s: PreprocessSettings,
    adjust_stroke: bool,
    gain: float = 1.0,
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """One candidate's ink from `src` (f times the labels' resolution): its 28x28 and box in `src` pixels."""
    H, W = src.shape
    m = int(np.ceil(f)) + 1  # margin: the anti-aliased fringe below the threshold used for labelling
    X0, Y0 = max(int(c.x0 * f) - m, 0), max(int(c.y0 * f) - m, 0)
    X1, Y1 = min(int(np.ceil(c.x1 * f)) + m, W), min(int(np.ceil(c.y1 * f)) + m, H)
    crop = src[Y0:Y1, X0:X1]
    lab = labels[c.y0 : c.y1, c.x0 : c.x1]
    mine = np.isin(lab, c.ids)
    if (lab[~mine] > 0).any():  # another digit's ink reaches into this box: keep only this digit's pixels
        full = np.zeros(labels.shape, np.uint8)
        full[c.y0 : c.y1, c.x0 : c.x1] = mine
        ly0, lx0 = int(Y0 / f), int(X0 / f)
        ly1, lx1 = int(np.ceil(Y1 / f)), int(np.ceil(X1 / f))
        sub = full[ly0:ly1, lx0:lx1]
        sub = cv2.dilate(sub, np.ones((3, 3), np.uint8))
        size = (int(round((lx1 - lx0) * f)), int(round((ly1 - ly0) * f)))
        sub = cv2.resize(sub, size, interpolation=cv2.INTER_NEAREST)
        oy, ox = Y0 - int(round(ly0 * f)), X0 - int(round(lx0 * f))
        sub = sub[oy : oy + crop.shape[0], ox : ox + crop.shape[1]]
        if sub.shape != crop.shape:
            sub = cv2.resize(sub, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_NEAREST)
        crop = crop * sub.astype(crop.dtype)
    if crop.dtype not in (np.uint8, np.float32):
        crop = _to_unit(crop)
    if gain != 1.0:
        crop = np.clip(_to_unit(crop) * np.float32(gain), 0.0, 1.0)
    img, bb = _normalize(crop, s, adjust_stroke)
    if bb is None:
        return None
    return img, (X0 + bb[0], Y0 + bb[1], X0 + bb[2], Y0 + bb[3])


def split_digits(ink: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """(H, W) ink in [0, 1], ink bright -> its digits in reading order (boxes in `ink`'s pixels); [] when none."""
    s = settings
    ink = _to_unit(np.asarray(ink))
    if ink.ndim != 2:
        raise ImageError(f"ink must be (H, W), not shape {ink.shape}")
    mask = (ink >= s.ink_threshold).astype(np.uint8)
    labels, cands = _candidates(mask, s, s.min_height_px)
    digits = []
    for c in cands[: Limits().max_digits]:
        got = _cut(ink, labels, c, 1.0, s, adjust_stroke=True)
        if got is not None:
            digits.append(Digit(got[0], got[1]))
    return digits


# ----------------------------------------------------------------------------------------------------------
# Canvas
# ----------------------------------------------------------------------------------------------------------


def _alpha_ink(layers: list[np.ndarray]) -> np.ndarray | None:
    """The union of the layers' alpha, (H, W) uint8; None when no layer has an alpha channel."""
    ink = None
    for layer in layers:
        if layer is None:
            continue
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[2] != 4:
            continue
        if layer.dtype == np.uint8:
            a = cv2.extractChannel(np.ascontiguousarray(layer), 3)
        else:
            a = _to_uint8(layer[:, :, 3])
        ink = a if ink is None else (np.maximum(ink, a) if ink.shape == a.shape else ink)
    return ink


def _digits_from_alpha(alpha: np.ndarray, s: PreprocessSettings) -> list[Digit]:
    """(H, W) uint8 ink (alpha) -> digits; components found on an area-downscaled copy for speed."""
    H, W = alpha.shape
    f = max(1, int(np.ceil(max(H, W) / s.canvas_find_side)))
    small = cv2.resize(alpha, (max(1, W // f), max(1, H // f)), interpolation=cv2.INTER_AREA) if f > 1 else alpha
    # A thin stroke averages down to a faint line at 1/f: scale the threshold with the downscale.
    thr = max(8, s.alpha_threshold // f)
    mask = (small >= thr).astype(np.uint8)
    min_px = max(2, s.min_height_px // f)
    labels, cands = _candidates(mask, s, min_px)
    digits = []
    for c in cands[: Limits().max_digits]:
        got = _cut(alpha, labels, c, float(f), s, adjust_stroke=True)
        if got is not None:
            digits.append(Digit(got[0], got[1]))
    return digits


def _composite_ink(composite: np.ndarray, s: PreprocessSettings) -> np.ndarray:
    """A flattened canvas (any theme, any brush colour) -> (H, W) uint8 ink: distance from the background colour."""
    a = _to_uint8(composite)
    if a.ndim == 2:
        a = a[:, :, None]
    rgb = a[:, :, : min(3, a.shape[2])].astype(np.int16)
    step = max(1, max(rgb.shape[:2]) // 100)
    bg = np.median(rgb[::step, ::step].reshape(-1, rgb.shape[2]), axis=0).astype(np.int16)
    dist = np.abs(rgb - bg).max(axis=2).astype(np.float32)  # any colour on any background
    peak = float(np.percentile(dist[dist > 0], 99)) if (dist > 0).any() else 0.0
    if peak < 255 * s.min_contrast:
        return np.zeros(a.shape[:2], np.uint8)
    return np.clip(dist * (255.0 / peak), 0, 255).astype(np.uint8)


def canvas_to_mnist(
    layers: list[np.ndarray] | None, composite: np.ndarray | None = None, settings: PreprocessSettings = DEFAULT
) -> list[Digit]:
    """The sketchpad's strokes (RGBA layers, else the composite) -> digits in reading order; [] when nothing drawn."""
    return canvas_ink(layers, composite, settings)[0]


def canvas_ink(
    layers: list[np.ndarray] | None, composite: np.ndarray | None = None, settings: PreprocessSettings = DEFAULT
) -> tuple[list[Digit], Ink | None]:
    """`canvas_to_mnist`'s digits and the ink (alpha) they were cut from; ([], None) when nothing was given."""
    s = settings
    alpha = _alpha_ink(list(layers)) if layers else None
    if alpha is not None:
        _check_array(alpha, "the canvas")
        return _digits_from_alpha(alpha, s), Ink(alpha, 1.0, 1.0)
    if composite is None:
        return [], None
    composite = _check_array(np.asarray(composite), "the canvas")
    if composite.ndim == 3 and composite.shape[2] == 4:
        a = _to_uint8(composite[:, :, 3])
        if int(a.min()) < 250 and float((a > 127).mean()) < 0.5:  # strokes on transparent: alpha is the ink
            a = np.ascontiguousarray(a)
            return _digits_from_alpha(a, s), Ink(a, 1.0, 1.0)
    ink = _composite_ink(composite, s)
    return _digits_from_alpha(ink, s), Ink(ink, 1.0, 1.0)


# ----------------------------------------------------------------------------------------------------------
# Photos, scans and bitmaps
# ----------------------------------------------------------------------------------------------------------


def _is_bitmap(shape: tuple[int, ...], s: PreprocessSettings) -> bool:
    h, w = shape[:2]
    # Any height to width (a tight crop of a 1 is 3-6 times taller than wide); wider than 1.5x: several digits.
    return max(h, w) <= s.bitmap_max_side and w <= 1.5 * h


def bitmap_to_mnist(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """A small image of one digit (16x16, 28x28, 32x32; either polarity) -> [it, as MNIST made it]; [] if blank."""
    s = settings
    image = _check_array(np.asarray(image), "the image")
    if image.ndim == 3 and image.shape[2] == 4:
        a = _to_unit(image[:, :, 3])
        if float(a.min()) < 0.98 and float((a > 0.5).mean()) < 0.5:  # a transparent PNG: the alpha is the ink
            g = a
        else:
            g = _grey(image)
    else:
        g = _grey(image)
    # Polarity from the border: a digit may cover half of a 16x16 USPS bitmap, but the rim is mostly background.
    rim = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < s.min_contrast:
        return []
    if _pct(rim, 50) > (lo + hi) / 2:  # dark ink on light paper
        g, rim, lo, hi = 1.0 - g, 1.0 - rim, 1.0 - hi, 1.0 - lo
    bg = min(_pct(rim, 50), _pct(g, 25))
    # Paper noise: the spread of the rim's background pixels (zero for MNIST and USPS, whose background is 0).
    quiet = rim[rim < bg + 0.3 * (hi - bg)]
    floor = bg + (max(0.0, _pct(quiet - bg, 90)) if quiet.size else 0.0)
    if hi - floor < s.min_contrast:
        return []
    if float(np.mean(g <= lo + 2 / 255)) < s.bitmap_clean_share:
        # Not a clean bitmap: a crop from paper (a form box, a cheque), with its pattern, ruled line and the
        # neighbours' fragments at the edges.
        ink = _crop_ink(g, s)
        if ink is None:
            return []
        img, box = _normalize(ink, s, adjust_stroke=True)
    else:
        above = g[g > floor]
        peak = _pct(above, 98) if above.size > 4 else hi
        ink = np.clip((g - floor) / max(peak - floor, 1e-3), 0.0, 1.0).astype(np.float32)
        img, box = _normalize(ink, s, adjust_stroke=False)
    if box is None:
        return []
    return [Digit(img, box)]


def _crop_ink(g: np.ndarray, s: PreprocessSettings) -> np.ndarray | None:
    """A small crop's grey levels (ink bright, on paper with texture) -> the one digit's ink in [0, 1], or None.

    The paper (its level, a printed pattern) is a grey opening wider than the strokes; the ink is what stands
    above it, thresholded by Otsu and at least `crop_pen_frac` of the pen's level; ruled lines go; of the marks,
    the digit is the largest near the middle, and marks at the left or right edge outside its columns are the
    neighbours' fragments.
    """
    h, w = g.shape
    k = _odd(max(3.0, s.crop_kernel_frac * max(h, w)))
    ink = g - cv2.morphologyEx(g, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ink = np.clip(ink, 0.0, 1.0)
    level = _pct(ink, 99)
    if level < s.min_contrast:
        return None
    u8 = (ink * (255.0 / level)).clip(0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(otsu / 255.0 * level, s.crop_pen_frac * level)
    mask = _remove_lines((ink > thr).astype(np.uint8), frac=0.6, min_len=8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    x, y, cw, ch, area = (stats[1:, i] for i in range(5))
    central = 1.0 - np.abs(cents[1:, 0] - w / 2) / w  # 1 in the middle, 0.5 at the edges
    main = int(np.argmax(area * central))
    mx0, mx1 = x[main], x[main] + cw[main]
    keep = []
    for i in range(n - 1):
        if max(cw[i], ch[i]) < 0.15 * ch[main]:
            continue  # specks
        inside = min(x[i] + cw[i], mx1) - max(x[i], mx0)  # columns shared with the digit
        at_side = x[i] == 0 or x[i] + cw[i] == w
        if i == main or (inside >= 0.5 * cw[i]) or (not at_side and area[i] >= 0.2 * area[main]):
            keep.append(i + 1)
    sel = np.isin(labels, keep).astype(np.uint8)
    sel = cv2.dilate(sel, np.ones((3, 3), np.uint8))  # the anti-aliased fringe below the threshold
    return (np.clip(ink / level, 0.0, 1.0) * sel).astype(np.float32)


def _polarity_dark_ink(grey: np.ndarray) -> bool:
    """Whether the ink is darker than the paper.

    Three cues, the first clear one decides. (1) Mass at the two ends of the range: the ink is the small end (a
    few % of the picture), the paper the large one, whatever the shadows in between. (2) The frame: people leave
    a margin around what they photograph, so the border is paper (or board), nearer the paper's end. (3) Local
    contrast: a large median filter gives the paper's level around each pixel (under shadows too), and the ink
    is the side where pixels stand out from it most, beyond the noise.
    """
    H, W = grey.shape
    t = max(1, int(max(H, W) / 512))
    thumb = cv2.resize(grey, (max(1, W // t), max(1, H // t)), interpolation=cv2.INTER_AREA) if t > 1 else grey
    lo, hi = _pct(thumb, 0.1), _pct(thumb, 99.9)
    band = 0.25 * (hi - lo)
    dark_end, light_end = float((thumb <= lo + band).mean()), float((thumb >= hi - band).mean())
    if max(dark_end, light_end) > 3.0 * min(dark_end, light_end):
        return dark_end < light_end
    rim = _pct(np.concatenate([thumb[0], thumb[-1], thumb[:, 0], thumb[:, -1]]), 50)
    to_light, to_dark = hi - rim, rim - lo
    if max(to_light, to_dark) > 1.5 * min(to_light, to_dark):
        return to_light < to_dark
    u8 = np.clip(thumb * 255 + 0.5, 0, 255).astype(np.uint8)
    paper = cv2.medianBlur(u8, min(255, _odd(max(u8.shape) / 7)))
    r = u8.astype(np.int16) - paper.astype(np.int16)
    noise = 3.0 * 1.4826 * float(np.median(np.abs(r))) + 2.0
    dark = float(np.clip(-r - noise, 0, None).sum())
    bright = float(np.clip(r - noise, 0, None).sum())
    return dark >= bright


def _reconstruct(marker: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Grey-level reconstruction by dilation of `marker` under `mask` (both (H, W) float32, marker <= mask).

    Every plateau of `mask` joined to where `marker` is high is raised to the lower of the two along the way.
    A 3x3 dilation per step; the steps are bounded by the longest path, at most the picture's perimeter.
    """
    kernel = np.ones((3, 3), np.uint8)
    cur = np.minimum(marker, mask)
    for step in range(2 * sum(mask.shape)):
        nxt = np.minimum(cv2.dilate(cur, kernel), mask)
        if step % 8 == 7 and np.array_equal(nxt, cur):
            break
        cur = nxt
    return cur


def _ink_map(g: np.ndarray, k: int, flat: float = 0.0, s: PreprocessSettings = DEFAULT) -> np.ndarray:
    """(H, W) ink-bright grey in [0, 1] -> (H, W) float32 ink contrast in [0, 1] with the background removed.

    The background is a grey-level opening with a k x k square: it removes every bright structure narrower than
    k (strokes) and keeps the light field, shadows and the table beyond the sheet's edge (an opening keeps step
    edges). Computed at a reduced scale, where a square kernel stays cheap. A hard-edged shadow's tip is
    narrower than k and would pass as a stroke; with `flat` (pixels, wider than the pen), every part of the
    picture wider than `flat` that joins the background is background too, up to `shadow_depth` and never
    through what is deeper than `ink_depth` (reconstruction of the opening under an opening by `flat`): the
    tip goes, strokes stay.
    """
    H, W = g.shape
    d = max(1, min(int(max(H, W) / 400), k // 9))
    small = cv2.resize(g, (max(1, W // d), max(1, H // d)), interpolation=cv2.INTER_AREA) if d > 1 else g
    ks = _odd(k / d)
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (ks, ks)))
    # At most `shadow_side` pixels a side: a shadow's edge a few pixels off costs nothing here.
    r = max(d, int(np.ceil(max(H, W) / s.shadow_side)))
    fs = _odd(flat / r) if flat else 0
    if 3 <= fs < ks * d / r:
        rs = (max(1, W // r), max(1, H // r))
        coarse = cv2.resize(g, rs, interpolation=cv2.INTER_AREA) if r > d else small  # r == d: the same image
        wide = cv2.morphologyEx(coarse, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (fs, fs)))
        paper = 1.0 - _pct(coarse, 10)  # the paper's brightness (ink is bright here, paper dark)
        under = np.minimum(wide, np.float32(1.0 - (1.0 - s.shadow_depth) * paper))
        under[wide > 1.0 - (1.0 - s.ink_depth) * paper] = 0.0  # bold ink and a dark table: never crossed
        seed = cv2.resize(bg, rs, interpolation=cv2.INTER_AREA) if r > d else bg
        raised = _reconstruct(seed, under)
        if r > d:
            raised = cv2.resize(raised, (bg.shape[1], bg.shape[0]), interpolation=cv2.INTER_LINEAR)
        bg = np.maximum(bg, raised)
    if d > 1:
        bg = cv2.resize(bg, (W, H), interpolation=cv2.INTER_LINEAR)
    gs = cv2.GaussianBlur(g, (0, 0), 0.8)  # paper grain and sensor noise
    # Divided by the paper's brightness, floored at half of white so that the texture of a dark table is not
    # amplified into ink.
    return np.clip((gs - bg) / np.maximum(1.0 - bg, 0.5), 0.0, 1.0).astype(np.float32)


def _threshold(ink: np.ndarray, s: PreprocessSettings) -> float | None:
    """The ink level separating strokes from paper (Otsu, kept above `min_contrast`); None for a blank page."""
    peak = float(np.percentile(ink, 99.98))
    if peak < 2 * s.min_contrast:
        return None
    u8 = np.clip(ink * 255, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(np.clip(otsu / 255.0, s.min_contrast, 0.5 * peak))


def _remove_lines(mask: np.ndarray, frac: float = 1 / 3, min_len: int = 20) -> np.ndarray:
    """Drop ruled and squared paper's lines from a binary mask (H, W) uint8.

    A line is a run along `frac` of the picture or more, at least `min_len` pixels (tilted a little: it is
    thickened across first), thinner than the pen's strokes; where a stroke crosses it, the stroke's pixels stay.
    """
    H, W = mask.shape
    found = []
    for horizontal in (True, False):
        length = int((W if horizontal else H) * frac)
        if length < min_len:
            continue
        across = np.ones((5, 1) if horizontal else (1, 5), np.uint8)  # (rows, cols)
        along = np.ones((1, length) if horizontal else (length, 1), np.uint8)
        lines = cv2.morphologyEx(cv2.dilate(mask, across), cv2.MORPH_OPEN, along)
        lines = cv2.bitwise_and(lines, mask)
        if lines.any():
            found.append((horizontal, lines))
    if not found:
        return mask
    any_line = np.zeros_like(mask)
    for _, lines in found:
        any_line |= lines
    rest = cv2.bitwise_and(mask, 1 - any_line)
    stroke = _stroke_px(rest) if rest.any() else 0.0
    out = mask.copy()
    for horizontal, lines in found:
        n, lab, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        extent = stats[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT].astype(np.float32)
        thickness = stats[1:, cv2.CC_STAT_AREA] / np.maximum(extent, 1.0)
        thin = np.flatnonzero(thickness <= max(2.0, 0.6 * stroke)) + 1  # thinner than the pen: paper, not ink
        if thin.size == 0:
            continue
        cross = int(np.ceil(2 * float(thickness[thin - 1].max()))) + 2
        crossing = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((cross, 1) if horizontal else (1, cross), np.uint8))
        out[np.isin(lab, thin) & (crossing == 0)] = 0
    return out


def _stroke_px(mask: np.ndarray) -> float:
    """Mean stroke width (pixels) of a binary mask: 2 * area / perimeter."""
    return 2.0 * float(np.count_nonzero(mask)) / max(_perimeter(mask), 1.0)


def photo_to_mnist(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> list[Digit]:
    """A photo, scan or bitmap (grey/RGB/RGBA; uint8, uint16 or float) -> digits in reading order; [] when no ink."""
    return photo_ink(image, settings)[0]


def photo_ink(image: np.ndarray, settings: PreprocessSettings = DEFAULT) -> tuple[list[Digit], Ink | None]:
    """`photo_to_mnist`'s digits and the ink they were cut from (None for a small bitmap no wider than a digit)."""
    s = settings
    image = _check_array(np.asarray(image), "the image")
    if _is_bitmap(image.shape, s):
        digits = bitmap_to_mnist(image, s)
        h, w = image.shape[:2]
        if digits and w >= 1.2 * h:  # wider than a digit: maybe two ("06" cut from a cheque), for the reader
            g = _grey(image)
            g = 1.0 - g if _polarity_dark_ink(g) else g
            lo, hi = _pct(g, 5), _pct(g, 99.5)  # the paper's level and the ink's
            ink = np.clip((g - lo) / max(hi - lo, 1e-3), 0, 1).astype(np.float32)
            _, mask = cv2.threshold((ink * 255).astype(np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            ink *= _remove_lines(mask, frac=0.6, min_len=8)  # the paper and a ruled line out, as for one digit
            return digits, Ink(ink, 1.0, 1.0, line=True)
        return digits, None
    if image.ndim == 3 and image.shape[2] == 4:
        a = _to_uint8(image[:, :, 3])
        if int(a.min()) < 250 and float((a > 127).mean()) < 0.5:  # strokes on transparent: alpha is the ink
            a = np.ascontiguousarray(a)
            return _digits_from_alpha(a, s), Ink(a, 1.0, 1.0)
    H, W = image.shape[:2]
    grey = _grey(image)
    sc = min(1.0, s.photo_work_side / max(H, W))
    if sc < 1.0:
        grey = cv2.resize(grey, (max(1, int(W * sc)), max(1, int(H * sc))), interpolation=cv2.INTER_AREA)
    g = 1.0 - grey if _polarity_dark_ink(grey) else grey  # ink bright from here on
    h, w = g.shape
    # Pass 1: a kernel a seventh of the picture (no stroke is wider) finds the digits and their stroke width;
    # pass 2: a kernel three strokes wide (and 0.3 of the digit's height), so that shadows and the table fit in
    # it and stay background. In both, shadows' tips wider than `flat` are background too.
    k = _odd(max(h, w) / 7)
    flat = s.shadow_flat_frac * k
    for final in (False, True):
        ink = _ink_map(g, k, flat, s)
        thr = _threshold(ink, s)
        if thr is None:
            return [], None
        # The pen's own level (the darkest 2% of what passed) raises the threshold over shadows' tips and faint
        # lines touching the digit, which a global threshold keeps when they are a large part of the picture.
        level = float(np.percentile(ink[ink > thr], 98))
        thr = max(thr, s.pen_level_frac * level)
        mask = _remove_lines((ink > thr).astype(np.uint8))
        labels, cands = _candidates(mask, s, s.min_height_px, ink)
        if not cands:
            return [], None
        if final:
            break
        tallest = max(cands, key=lambda c: c.h)  # the digit whose strokes set the second kernel
        strokes = np.isin(labels[tallest.y0 : tallest.y1, tallest.x0 : tallest.x1], tallest.ids)
        stroke = _stroke_px(strokes.astype(np.uint8))
        k2 = _odd(max(3.0 * stroke, 0.3 * tallest.h, 9))
        if k2 >= 0.7 * k:
            break
        k, flat = k2, s.shadow_flat_strokes * stroke
    hy, wx = H / h, W / w
    kept = np.where(np.isin(labels, [i for c in cands for i in c.ids]), ink, 0.0).astype(np.float32)
    digits = []
    for c in cands[: Limits().max_digits]:
        sel = np.isin(labels[c.y0 : c.y1, c.x0 : c.x1], c.ids)
        vals = ink[c.y0 : c.y1, c.x0 : c.x1][sel]
        level = float(np.percentile(vals, 90)) if vals.size else 1.0  # this digit's full ink
        got = _cut(kept, labels, c, 1.0, s, adjust_stroke=True, gain=1.0 / max(level, 1e-3))
        if got is None:
            continue
        x0, y0, x1, y1 = got[1]
        box = (int(x0 * wx), int(y0 * hy), min(W, int(np.ceil(x1 * wx))), min(H, int(np.ceil(y1 * hy))))
        digits.append(Digit(got[0], box))
    return digits, Ink(kept, wx, hy)


# ----------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------


def most_prominent(digits: list[Digit]) -> int | None:
    """Index of the digit to report when one answer is wanted: the tallest box (then the largest); None for []."""
    if not digits:
        return None
    keys = [((d.box[3] - d.box[1]), (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])) for d in digits]
    return max(range(len(digits)), key=lambda i: keys[i])


def to_model_batch(digits: list[Digit]) -> np.ndarray:
    """Digits -> the model's input, (N, 28, 28, 1) float32 in [0, 1]; (0, 28, 28, 1) for []."""
    if not digits:
        return np.zeros((0, 28, 28, 1), np.float32)
    return np.stack([d.image for d in digits]).astype(np.float32)[..., None]
