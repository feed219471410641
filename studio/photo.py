"""The Photo tab: digits on paper found, boxed and read; corrections saved like the Draw tab's."""

from __future__ import annotations

import cv2
import gradio as gr
import numpy as np

from mnist_core.digits import Digit, ImageError, Ink, most_prominent, photo_ink
from studio.actions import explained, predict, save_sample
from studio.i18n import ui, use_language
from studio.requests import fail, image_error, pick, profile_of, read_image, session_of, source
from studio.services import Page, services
from studio.views import DIGIT_CHOICES, UI, digits_html, empty_digits, png, top3


def _boxed(image: np.ndarray, digits: list[Digit], probs: np.ndarray) -> np.ndarray:
    """The photo (RGB, at most UI.photo_px a side) with each digit boxed and labelled with its guess."""
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    scale = min(1.0, UI.photo_px / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    thick = max(2, round(max(rgb.shape[:2]) / 300))
    for i, (digit, p) in enumerate(zip(digits, probs), start=1):
        x0, y0, x1, y1 = (round(v * scale) for v in digit.box)
        cv2.rectangle(rgb, (x0, y0), (x1, y1), (255, 0, 80), thick)
        # Just the digit's number: its guess and confidence are listed under the photo, by that number.
        cv2.putText(rgb, str(i), (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.25 * thick, (255, 0, 80), max(1, thick // 2))
    return rgb


def _photo(photo) -> tuple[np.ndarray, list[Digit]]:
    image, digits, _ = _photo_ink(photo)
    return image, digits


def _photo_ink(photo) -> tuple[np.ndarray, list[Digit], Ink | None]:
    """The uploaded image, its digits and the ink they were cut from (for the number reader)."""
    if source(photo) is None:
        raise fail("no_photo")
    try:
        image = read_image(photo, services().config.limits)
        return (image, *photo_ink(image))
    except ImageError as e:
        raise image_error(e) from None


def predict_photo(photo, request: gr.Request = None):
    """Image file -> (gr.Label of the most prominent digit, the number read, the photo boxed, each digit's input)."""
    use_language(request)
    none = np.zeros((0, 10), np.float32)
    model, session = services().model, session_of(request)
    if source(photo) is None:  # the photo was removed
        model.remember("photo", session, [], none)
        return {}, "", None, empty_digits("no_photo")
    image, digits, ink = _photo_ink(photo)
    if not digits:
        model.remember("photo", session, [], none)
        return {}, "", _boxed(image, [], none), empty_digits("no_digits")
    probs = predict(digits, profile_of(request))
    model.remember("photo", session, digits, probs)  # for the page's "Why?" view
    number = model.read_number(digits, probs, ink)
    read = number["number"]
    # Several digits: the answer is the number, as sure as its least sure digit (never one digit of it).
    answer = ({read: min(d["confidence"] for d in number["digits"])} if len(read) > 1
              else top3(probs[most_prominent(digits)]))
    return answer, read, _boxed(image, digits, probs), digits_html(digits, probs, "")


def read_number(photo, request: gr.Request = None) -> str:
    """Image file -> the number written on it, rows top to bottom, separators left out ("" when none)."""
    return read_number_details(photo, request)["number"]


def read_number_details(photo, request: gr.Request = None) -> dict:
    """Image file -> {"number", "digits": [{"digit", "confidence", "box"}]}, the CLI's `predict --number --json`."""
    use_language(request)
    _, digits, ink = _photo_ink(photo)
    if not digits:
        return {"number": "", "digits": []}
    return services().model.read_number(digits, predict(digits, profile_of(request)), ink)


def explain_photo(photo, request: gr.Request = None) -> str:
    """Image file -> HTML with each digit's heat map: which strokes pushed the model to its answer."""
    use_language(request)
    _, digits = _photo(photo)
    profile = profile_of(request)
    probs = predict(digits, profile) if digits else np.zeros((0, 10), np.float32)
    return explained(digits, probs, "no_digits", profile)


def why_photo(on: bool, request: gr.Request = None):
    """The "Why?" view of the page's last photo: computed only while the box is ticked, else hidden."""
    use_language(request)
    if not on:
        return gr.HTML(value="", visible=False)
    shown = services().model.recalled("photo", session_of(request))
    return gr.HTML(value=explained(*shown, "no_digits", profile_of(request)), visible=True)


def save_photo_sample(photo, digit: float | None, label, request: gr.Request = None):
    """Save digit number ``digit`` (1-based; default: the most prominent) of the photo with ``label``."""
    use_language(request)
    image, digits = _photo(photo)
    chosen = digits[pick(digits, digit)]
    x0, y0, x1, y1 = chosen.box
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    return save_sample(chosen, label, png(crop) if crop.size else None, "photo", profile_of(request))


def tab(page: Page) -> gr.Tab:
    """The Photo tab's layout and events."""
    with gr.Tab(ui("tab_photo"), id="photo") as photo_tab:
        with gr.Row():
            with gr.Column():
                photo = gr.Image(label=ui("photo_input"), sources=["upload", "webcam", "clipboard"], type="filepath",
                                 elem_id="photo")
                read_btn = gr.Button(ui("photo_read"), variant="primary")
            with gr.Column():
                label = gr.Label(num_top_classes=3, label=ui("draw_answer"))
                read = gr.Textbox(label=ui("number_read"), interactive=False, elem_id="photo-number")
                boxed = gr.Image(label=ui("photo_found"), interactive=False, format="jpeg", elem_id="photo-found")
        strip = gr.HTML(label=ui("model_saw"))
        with gr.Group():
            with gr.Row():
                which = gr.Number(label=ui("photo_which"), precision=0)
                fix = gr.Radio(DIGIT_CHOICES, label=ui("wrong_its"))
            save = gr.Button(ui("save_sample"))
        saved = gr.Markdown()
        why = gr.Checkbox(label=ui("why_show"), info=ui("why_info"), elem_id="photo-why")
        why_view = gr.HTML(label=ui("why_view"), visible=False, elem_id="photo-why-view")
        read_number_btn = gr.Button(visible=False)  # API-only: /read_number, /read_number_details
        details = gr.JSON(visible=False)
        explain = gr.Button(visible=False)  # API-only: /explain_photo

    out = [label, read, boxed, strip]
    heavy = dict(preprocess=False, concurrency_limit=2, concurrency_id="photo")
    # input: an upload, a webcam shot, a paste, or the photo removed. "always_last": a change made while a photo is
    # being read runs once that read ends (Gradio's default drops it), so a photo removed mid-read leaves no results.
    quick = dict(queue=False, show_progress="hidden")  # the tick box's state is all it carries
    for read_event in (photo.input(predict_photo, photo, out, api_name="predict_photo", trigger_mode="always_last",
                                   **heavy),
                       read_btn.click(predict_photo, photo, out, api_name=False, **heavy)):
        read_event.success(why_photo, why, why_view, api_name=False, **quick)
    why.change(why_photo, why, why_view, api_name=False, **quick)
    explain.click(explain_photo, photo, why_view, api_name="explain_photo", **heavy)
    read_number_btn.click(read_number, photo, read, api_name="read_number", **heavy)
    read_number_btn.click(read_number_details, photo, details, api_name="read_number_details", **heavy)
    save.click(save_photo_sample, [photo, which, fix], saved, api_name="save_photo_sample", **heavy)
    return photo_tab
