"""The Draw tab: a canvas read on every stroke by the chosen profile's model and, from the strokes themselves, by
the ink model (the two answers fused), the 28x28 inputs the model saw with what each model said, "Wrong? It's
a …", and the profile's fine-tune panel (studio.personalize).

The page draws on studio.canvas's light 2D canvas, which sends its stroke layer and its ink inside the event; the
API endpoints (/predict_drawing, /save_sample, ...) keep taking a Sketchpad value, through a hidden gr.Sketchpad,
/predict_drawing with the strokes as an optional "strokes" key of it, and /predict_ink takes strokes alone."""

from __future__ import annotations

import gradio as gr
import numpy as np

from mnist_core.digits import Digit, ImageError, Ink, canvas_ink
from mnist_core.numbers.tiles import Tile, number_of
from mnist_core.ink.canvas import on_canvas
from studio import personalize
from studio.actions import explained, predict, read, real_digits, save_sample
from studio.canvas import StrokesSketchpad, ink_canvas, sketch_value, strokes_value
from studio.i18n import say, ui, use_language
from studio.requests import fail, image_error, ink_of, pick, profile_of, read_image, session_of
from studio.services import Page, services
from studio.views import DIGIT_CHOICES, UI, digits_html, empty_digits, headline, png


def _canvas(value: dict | None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The Sketchpad's value (preprocess off) -> (RGBA layers, composite or None); only what is needed is decoded.

    Gradio sends the canvas either as uploaded files ({layers: [FileData], composite: FileData}) or as an
    id of blobs it received beforehand ({id: ...}); the layers' alpha is the ink, so the composite is only
    decoded when there are no layers (API clients may send just an image as the composite).
    """
    if not value:
        return [], None
    if not isinstance(value, dict):
        raise ImageError("the canvas must be a Sketchpad value: {background, layers, composite}")
    blobs = services().canvas_blobs
    _trim(blobs)
    if value.get("id"):
        stored = blobs.pop(value["id"], None)
        if stored is None:
            return [], None
        layers = [b for b in (stored.layers or []) if b]
        composite = stored.composite
    else:
        layers = [x for x in (value.get("layers") or []) if x]
        composite = value.get("composite")
    limits = services().config.limits
    decoded = [read_image(layer, limits, exif=False) for layer in layers]  # a browser's canvas PNG has no EXIF
    decoded = [a for a in decoded if a.ndim == 3 and a.shape[2] == 4]
    if decoded:
        return decoded, None
    return [], (read_image(composite, limits) if composite else None)


def _trim(blobs: dict) -> None:
    """Drop the oldest canvas blobs beyond UI.canvas_blobs (Gradio stores one set per stroke)."""
    for key in list(blobs)[: max(0, len(blobs) - UI.canvas_blobs)]:
        blobs.pop(key, None)


def _drawn(sketch: dict | None) -> tuple[list[Digit], Ink | None, list[np.ndarray], np.ndarray | None]:
    """The digits on the canvas (a dot or a speck is none: it was read as "0" at 83%), the ink (alpha) they were
    cut from, and the decoded layers and composite."""
    try:
        layers, composite = _canvas(sketch)
        digits, alpha = canvas_ink(layers or None, composite)
    except ImageError as e:
        raise image_error(e) from None
    return real_digits(digits, alpha), alpha, layers, composite


def drawing_digits(sketch: dict | None) -> tuple[list[Digit], list[np.ndarray], np.ndarray | None]:
    """The digits on the canvas (MNIST-style 28x28), with the decoded layers and composite they came from."""
    digits, _, layers, composite = _drawn(sketch)
    return digits, layers, composite


def drawing_ink(sketch: dict | None) -> tuple[list[Digit], Ink | None]:
    """The digits on the canvas and the ink (alpha) they were cut from, for the number reader."""
    return _drawn(sketch)[:2]


def predict_drawing(sketch: dict | None, request: gr.Request = None):
    """Sketchpad value, optionally with the drawing's strokes under "strokes" (JSON ink, in the canvas's pixels) ->
    (the answer: one digit's top 3 or, for several, the number read; the number read; a tile per digit read, its
    28x28 input with what each model said). One input, so that clients which send the image alone keep working,
    over HTTP too."""
    return _answer(sketch, request)[:3]


def _answer(sketch: dict | None, request):
    """predict_drawing's three outputs, and how many tiles they show."""
    use_language(request)
    tiles, reading, layers, composite = _read_tiles(sketch, request)
    model = services().model
    shown = [t.digit for t in tiles]
    probs = np.stack([t.probs for t in tiles]) if tiles else np.zeros((0, 10), np.float32)
    model.remember("draw", session_of(request), shown, probs)  # for the page's "Why?" view and tile picks
    if not tiles:  # nothing drawn, or only marks too small to be a digit
        drawn = any(np.any(layer[..., 3]) for layer in layers) or composite is not None
        return {}, "", empty_digits("not_a_digit" if drawn else "nothing_drawn"), 0
    strip = digits_html(shown, probs, "", reading, [t.source for t in tiles], pickable=len(tiles) > 1)
    return headline(tiles), number_of(tiles), strip, len(tiles)


def _read_tiles(sketch: dict | None, request) -> tuple[list[Tile], object, list[np.ndarray], np.ndarray | None]:
    """The drawing read (by both models when its strokes came along) -> one tile per digit of the number read, as
    the answer shows them and a correction saves them; the ops.serving.Reading (None when nothing is drawn); the
    decoded layers and composite (decoded once: a canvas sent as blobs can be read only once)."""
    strokes = ink_of(sketch.get("strokes") if isinstance(sketch, dict) else None)  # bad ink is refused, drawn or not
    digits, alpha, layers, composite = _drawn(sketch)
    if not digits:
        return [], None, layers, composite
    reading = read(digits, strokes, profile_of(request), session_of(request))
    return services().model.number_tiles(digits, reading.probs, alpha, strokes), reading, layers, composite


def predict_strokes(strokes, request: gr.Request = None) -> dict:
    """JSON ink alone (a pen client's strokes: x, y, t per point) -> {"number", "digits": [{"digit",
    "confidence", "box", "image", "ink"}]}: the strokes drawn on the canvas as the page would, read by both models
    (and by the client's hand, "hand" on a digit it changed: ops.serving.ModelServer.with_hand)."""
    use_language(request)
    ink = ink_of(strokes, required=True)
    placed, layer = on_canvas(ink, services().config.canvas)  # scaled into the canvas as a person writes there
    digits, alpha = canvas_ink([layer], None)
    digits = real_digits(digits, alpha)  # as the page: a dot is no digit
    reading = read(digits, placed, profile_of(request), session_of(request)) if digits else None
    if reading is None:
        return {"number": "", "digits": []}
    out = services().model.read_number(digits, reading.probs, alpha, placed)
    out["digits"] = [_per_model(d, reading, i) for i, d in enumerate(digits)]
    return out


def _per_model(digit: Digit, reading, i: int) -> dict:
    """One digit of /predict_ink's answer: the fused reading, then each model's own."""
    def one(p):
        return None if p is None or np.isnan(p).any() else {"digit": int(p.argmax()), "confidence": float(p.max())}
    by_hand = {"hand": reading.hand} if reading.by_hand is not None and reading.by_hand[i] else {}
    return {**one(reading.probs[i]), "box": [int(v) for v in digit.box], "image": one(reading.image[i]),
            "ink": one(None if reading.ink is None else reading.ink[i]), **by_hand}


def _sketch(ink: dict | None) -> dict | None:
    """The page canvas's value (studio.canvas) as a Sketchpad value; gr.Error for one that is not an image."""
    try:
        return sketch_value(ink, services().config.limits.max_upload_bytes)
    except ImageError as e:
        raise image_error(e) from None


def _page_sketch(ink: dict | None) -> dict | None:
    """The page canvas's value as a Sketchpad value with its strokes under "strokes", as /predict_drawing takes."""
    sketch = _sketch(ink)
    if sketch is not None:
        sketch["strokes"] = strokes_value(ink)
    return sketch


def _fix_box(tiles: int, clear: bool = False):
    """The "Wrong? It's a …" choice for a drawing of ``tiles`` digits: with several, it says a tile is picked first;
    ``clear`` also empties the digit chosen (after a save). Its value is left alone otherwise."""
    extra = {"value": None} if clear else {}
    return gr.Radio(label=ui("wrong_its"), info=ui("wrong_info") if tiles > 1 else None, **extra)


def predict_canvas(ink: dict | None, request: gr.Request = None):
    """The page's canvas after each stroke (its layer and its strokes) -> what predict_drawing answers, with no
    tile picked (the new drawing's tiles are not the old one's) (page only)."""
    label, number, strip, tiles = _answer(_page_sketch(ink), request)
    return label, number, strip, 0, _fix_box(tiles)


def pick_tile(evt: gr.EventData, request: gr.Request = None):
    """A click on a digit's tile -> that digit is the one a correction saves, and the choice says which (page only)."""
    use_language(request)
    shown, probs = services().model.recalled("draw", session_of(request))
    try:
        i = int(getattr(evt, "tile", 0))
    except (TypeError, ValueError):
        i = 0
    if not 1 <= i <= len(shown):
        return 0, _fix_box(len(shown))
    guess = int(np.argmax(probs[i - 1]))
    return i, gr.Radio(label=say("wrong_tile", i=i, guess=guess), info=None)


def explain_drawing(sketch: dict | None, request: gr.Request = None) -> str:
    """Sketchpad value -> HTML with each digit's heat map: which strokes pushed the model to its answer."""
    use_language(request)
    digits, _, _ = drawing_digits(sketch)
    profile = profile_of(request)
    probs = predict(digits, profile) if digits else np.zeros((0, 10), np.float32)
    return explained(digits, probs, "nothing_drawn", profile)


def why_drawing(on: bool, request: gr.Request = None):
    """The "Why?" view of the page's last drawing: computed only while the box is ticked, else hidden."""
    use_language(request)
    if not on:  # after every stroke: nothing is computed unless asked for
        return gr.HTML(value="", visible=False)
    shown = services().model.recalled("draw", session_of(request))
    return gr.HTML(value=explained(*shown, "nothing_drawn", profile_of(request)), visible=True)


def noop_drawing(sketch: dict | None):
    """Does nothing and returns a constant: the floor that /predict_drawing's latency is measured against.

    Wired to the same Sketchpad, with the same preprocessing (none) and concurrency as /predict_drawing.
    """
    return {"0": 1.0}, "", ""


def save_drawing_sample(sketch: dict | None, digit: float | None, label, request: gr.Request = None):
    """Save digit number ``digit`` (1-based, of the digits read, as the answer's tiles show them; default: the
    most prominent) of the drawing with ``label``."""
    use_language(request)
    tiles, _, layers, composite = _read_tiles(sketch, request)
    if not tiles:
        raise fail("err_draw_first")
    chosen = tiles[pick([t.digit for t in tiles], digit)].digit
    strokes = layers[0] if layers else composite
    return save_sample(chosen, label, png(strokes) if strokes is not None else None, "draw", profile_of(request))


def save_ink_sample(ink: dict | None, digit: float | None, label, request: gr.Request = None):
    """The page's "Save as a sample": save_drawing_sample on the page canvas's value; once saved, the label and
    the tile picked are cleared, so that the next drawing is not saved under them."""
    message = save_drawing_sample(_page_sketch(ink), digit, label, request)
    return message, 0, _fix_box(0, clear=True)


def clear_drawing(request: gr.Request = None):
    """Empty canvas and outputs."""
    use_language(request)
    return None, {}, "", empty_digits("nothing_drawn"), ""


# The strip's script: a click (or Enter) on a digit's tile marks it and sends its number to pick_tile. Listening on
# the strip's own element, so that it keeps working as each answer replaces the tiles.
TILE_PICK_JS = """
const pick = (fig) => {
  element.querySelectorAll('figure.studio-digit').forEach((f) => {
    f.style.outline = f === fig ? '3px solid var(--color-accent, #f97316)' : '';
    f.setAttribute('aria-pressed', f === fig ? 'true' : 'false');
  });
  trigger('click', {tile: Number(fig.dataset.i)});
};
element.addEventListener('click', (e) => {
  const fig = e.target.closest('figure.studio-digit[role=button]');
  if (fig && element.contains(fig)) pick(fig);
});
element.addEventListener('keydown', (e) => {
  const fig = e.target.closest('figure.studio-digit[role=button]');
  if (fig && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); pick(fig); }
});
"""


def tab(page: Page) -> gr.Tab:
    """The Draw tab's layout and events."""
    size = page.services.config.canvas
    with gr.Tab(ui("tab_draw"), id="draw") as draw_tab:
        with gr.Row():
            with gr.Column(scale=3):
                ink = ink_canvas(size, ui("draw_canvas"), elem_id="sketch")
                clear = gr.Button(ui("draw_clear"), elem_id="clear-drawing")
            with gr.Column(scale=2):
                label = gr.Label(num_top_classes=3, label=ui("draw_answer"), elem_id="draw-label")
                read = gr.Textbox(label=ui("number_read"), interactive=False, elem_id="draw-number")
                # The first value is the page's: static text the browser translates (handlers answer in words).
                strip = gr.HTML(f'<p class="studio-empty">{ui("nothing_drawn")}</p>', elem_id="draw-digits",
                                label=ui("model_saw"), js_on_load=TILE_PICK_JS)
                with gr.Group():
                    fix = gr.Radio(DIGIT_CHOICES, label=ui("wrong_its"), elem_id="draw-fix")
                    # The tile picked (1-based; 0: the only or the most prominent digit): set by a click on a tile.
                    which = gr.Number(0, label=ui("draw_which"), precision=0, visible=False, elem_id="draw-which")
                    save = gr.Button(ui("save_sample"), elem_id="draw-save")
                saved = gr.Markdown(elem_id="draw-saved")
                why = gr.Checkbox(label=ui("why_show"), info=ui("why_info"), elem_id="draw-why")
                why_view = gr.HTML(label=ui("why_view"), visible=False, elem_id="draw-why-view")
                tune_out = personalize.panel(page, page.profile) if page.profile is not None else None
        # The API's input: a Sketchpad value, as before the page had its own canvas (never shown).
        sketch = StrokesSketchpad(canvas_size=(size, size), image_mode="RGBA", type="numpy", layers=False,
                                  transforms=(), visible=False, elem_id="sketch-api")
        # /predict_ink's strokes (JSON ink or InkML) and its answer.
        strokes = gr.JSON(None, visible=False)
        ink_api = gr.Button(visible=False)  # API-only: /predict_ink, strokes alone
        ink_answer = gr.JSON(visible=False)
        noop = gr.Button(visible=False)  # API-only twin of /predict_drawing for latency floors
        save_api = gr.Button(visible=False)  # API-only: /save_sample with a Sketchpad value
        explain = gr.Button(visible=False)  # API-only: /explain_drawing

    page.services.canvas_blobs = sketch.blob_storage
    fast = dict(preprocess=False, concurrency_limit=None, show_progress="hidden")
    out = [label, read, strip]
    # The page: each stroke's layer comes with the event (no uploads); a slow answer is replaced by the newest.
    stroke = ink.change(predict_canvas, ink, [*out, which, fix], api_name=False, trigger_mode="always_last", **fast)
    sketch.change(predict_drawing, sketch, out, api_name="predict_drawing", trigger_mode="always_last", **fast)
    ink_api.click(predict_strokes, strokes, ink_answer, api_name="predict_ink", **fast)
    # The "Why?" view follows each answer from what predict_drawing kept for this page (the canvas is not sent
    # again); with the box unticked it returns at once. Not queued: a tick box's state is all it carries.
    quick = dict(queue=False, show_progress="hidden")
    stroke.success(why_drawing, why, why_view, api_name=False, **quick)
    why.change(why_drawing, why, why_view, api_name=False, **quick)
    # One batch of up to 170 copies a digit: bounded like the photo tab's heavier work.
    explain.click(explain_drawing, sketch, why_view, api_name="explain_drawing", preprocess=False,
                  concurrency_limit=2, concurrency_id="explain", show_progress="hidden")
    noop.click(noop_drawing, sketch, out, api_name="noop_drawing", **fast)
    # A click on a digit's tile picks it for the correction (the strip's script sends the tile's number).
    strip.click(pick_tile, None, [which, fix], api_name=False, queue=False, show_progress="hidden")
    saving = save.click(save_ink_sample, [ink, which, fix], [saved, which, fix], api_name=False, preprocess=False)
    save_api.click(save_drawing_sample, [sketch, which, fix], saved, api_name="save_sample", preprocess=False)
    if tune_out is not None:  # a sample saved may be the one that makes the fine-tune worth offering
        saving.success(personalize.personal_status, page.profile, tune_out, api_name=False, preprocess=False,
                       show_progress="hidden")
    # Emptying the canvas's value empties the drawing; the chosen tool stays.
    clear.click(clear_drawing, None, [ink, *out, saved], api_name="clear_drawing", queue=False).then(
        lambda: (0, _fix_box(0)), None, [which, fix], api_name=False, queue=False, show_progress="hidden")
    return draw_tab
