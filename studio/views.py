"""What the pages show, rendered: sizes, PNG bytes, the top-3 label, each digit's 28x28 input with its probability
bars, and the "Why?" heat maps. Plain functions of arrays to HTML or images: no services, no requests."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_core.digits.explain import heat_image
from mnist_core.digits import Digit
from studio.i18n import say

# The answers a person can give to "Wrong? It's a …" (and the samples' labels).
DIGIT_CHOICES = [str(d) for d in range(10)]


@dataclass(frozen=True)
class UiLimits:
    """Sizes of what the pages show."""

    # Side of each 28x28 preview in the page, in CSS pixels (nearest-neighbour: crisp pixels).
    preview_px: int = 84
    # Longest side of the boxed photo sent back.
    photo_px: int = 1024
    # Samples shown per gallery page.
    gallery: int = 120
    # Canvas uploads kept for events still to consume them; older ones are dropped (Gradio never frees them).
    canvas_blobs: int = 64
    # Probability bars: height of the tallest, width of each (CSS pixels).
    bar_px: int = 36
    bar_width_px: int = 8
    # The heat map's enlargement (28 -> 112 px), drawn with crisp pixels.
    heat_scale: int = 4


UI = UiLimits()


def png(array: np.ndarray) -> bytes:
    """An image array as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def png_file(path: Path):
    """An RGB array of the PNG at ``path``, or None when it is missing or unreadable."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def top3(probs: np.ndarray) -> dict[str, float]:
    """The three likeliest digits and their probabilities, for a gr.Label."""
    order = np.argsort(probs)[::-1][:3]
    return {str(int(d)): float(probs[d]) for d in order}


def _data_uri(pixels: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(pixels)).decode()


def prob_bars(p: np.ndarray) -> str:
    """All ten probabilities of one digit as a small HTML bar chart (the answer's bar in the accent colour)."""
    guess = int(np.argmax(p))
    total = float(np.sum(p)) or 1.0
    cols = []
    for d in range(10):
        share = float(p[d]) / total  # the bars of one digit sum to 1 even after float32 rounding
        colour = "var(--color-accent, #f97316)" if d == guess else "#9ca3af"
        cols.append(
            f'<span title="{d}: {share:.1%}" style="display:inline-flex;flex-direction:column;align-items:center;'
            f'width:{UI.bar_width_px + 2}px">'
            f'<span style="display:flex;align-items:flex-end;height:{UI.bar_px}px;width:{UI.bar_width_px}px;'
            f'border-bottom:1px solid #888">'
            f'<span class="studio-bar" data-digit="{d}" data-p="{share:.6f}" '
            f'style="display:block;width:100%;height:{share * 100:.1f}%;background:{colour}"></span></span>'
            f'<span style="font-size:9px;line-height:1.2">{d}</span></span>'
        )
    label = say("bars_alt", guess=guess)
    return (f'<div class="studio-probs" role="img" aria-label="{label}" '
            f'style="display:flex;justify-content:center;margin-top:4px">' + "".join(cols) + "</div>")


def headline(tiles) -> dict[str, float]:
    """The answer of a reading's tiles (``numbers.tiles.Tile``s) for a gr.Label: one digit's top three or, for
    several, the number read with its least sure digit's confidence (the number is only as sure as that)."""
    if len(tiles) == 1:
        return top3(tiles[0].probs)
    number = "".join(str(int(np.argmax(t.probs))) for t in tiles)
    return {number: min(float(np.max(t.probs)) for t in tiles)}


def digits_html(digits: list[Digit], probs: np.ndarray, empty: str, reading=None, sources=None,
                pickable: bool = False) -> str:
    """Each digit's 28x28 input, enlarged with crisp pixels, with its guess, confidence and all ten bars; with a
    ``reading`` (ops.serving.Reading) whose ink came along, also what the image and the ink model said apart
    (``sources[i]``: the reading's index of digit i, None for one it did not read apart). ``pickable`` tiles
    carry a hint that a click picks them (the Draw tab's correction)."""
    if not digits:
        return f'<p class="studio-empty">{empty}</p>'
    cells = []
    hint = f' title="{say("tile_title")}" role="button" tabindex="0"' if pickable else ""
    cursor = "cursor:pointer;" if pickable else ""
    for i, (digit, p) in enumerate(zip(digits, probs), start=1):
        guess = int(np.argmax(p))
        uri = _data_uri(np.clip(digit.image * 255.0 + 0.5, 0, 255).astype(np.uint8))  # white ink on black, as seen
        source = i - 1 if sources is None else sources[i - 1]
        cells.append(
            f'<figure class="studio-digit" data-i="{i}" data-guess="{guess}"{hint} '
            f'style="margin:0;padding:2px;text-align:center;{cursor}">'
            f'<img src="{uri}" alt="{say("alt_digit", i=i)}" width="{UI.preview_px}" height="{UI.preview_px}" '
            f'style="image-rendering:pixelated;border:1px solid #888;background:#000">'
            f"<figcaption>#{i}: <b>{guess}</b> ({float(p[guess]):.0%})</figcaption>{prob_bars(p)}"
            f"{'' if source is None else _each_model(reading, source)}</figure>"
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:12px">' + "".join(cells) + "</div>"


def _each_model(reading, i: int) -> str:
    """What the image model and the ink model said of digit ``i`` apart (empty without ink for it)."""
    if reading is None or reading.ink is None or np.isnan(reading.ink[i]).any():
        return ""
    parts = []
    for key, p in (("model_image", reading.image[i]), ("model_ink", reading.ink[i])):
        d = int(np.argmax(p))
        parts.append(f'<span data-model="{key[6:]}" data-digit="{d}" data-p="{float(p[d]):.4f}">'
                     f'{say(key)} <b>{d}</b> ({float(p[d]):.0%})</span>')
    if reading.by_hand is not None and reading.by_hand[i]:  # the page's hand changed this digit (ink.hand)
        d = int(np.argmax(reading.probs[i]))
        parts.append(f'<span data-model="hand" data-digit="{d}">{say("model_hand")} '
                     f'<b>{d}</b></span>')
    return f'<div class="studio-models" style="font-size:0.8em;line-height:1.3">{"<br>".join(parts)}</div>'


def empty_digits(message_key: str) -> str:
    """The digits' strip when there are none: a message saying why."""
    return digits_html([], np.zeros((0, 10)), say(message_key))


def why_html(digits: list[Digit], probs: np.ndarray, maps: np.ndarray, empty: str) -> str:
    """Each digit's heat map over its 28x28 input: red where the ink argued for the answer, blue against."""
    if not digits:
        return f'<p class="studio-empty">{empty}</p>'
    side = 28 * UI.heat_scale
    cells = []
    for i, (digit, p, heat) in enumerate(zip(digits, probs, maps), start=1):
        guess = int(np.argmax(p))
        uri = _data_uri(heat_image(digit.image, heat, UI.heat_scale))
        cells.append(
            f'<figure class="studio-why" data-guess="{guess}" style="margin:0;text-align:center">'
            f'<img src="{uri}" alt="{say("alt_why", i=i, guess=guess)}" width="{side}" height="{side}" '
            f'style="image-rendering:pixelated;border:1px solid #888">'
            f"<figcaption>#{i}: <b>{guess}</b></figcaption></figure>"
        )
    legend = f'<p style="margin:6px 0 0;font-size:0.9em">{say("why_legend")}</p>'
    return '<div style="display:flex;flex-wrap:wrap;gap:12px">' + "".join(cells) + "</div>" + legend
