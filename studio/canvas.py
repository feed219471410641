"""The Draw tab's canvas: a plain 2D <canvas> in a gr.HTML component, instead of gr.Sketchpad on the page.

Why: gr.Sketchpad draws through WebGL (PixiJS). Where the browser has no GPU (Chromium falls back to SwiftShader)
every mouse move re-renders its whole viewport, 0.2-0.5 s a move here, and after each stroke it reads its
background, layer and composite back from WebGL, encodes three PNGs and posts them to the server one request
each before the event is even sent (~0.7 s). A 2D canvas draws a segment per move in microseconds, and after a
stroke the page sends the one layer the handler reads, as a PNG data URL (~5-20 KB) inside the event itself.

What it keeps of the Sketchpad: brush in three sizes (6, 12 by default, 20 px on the 400 px canvas), an eraser
(4/3 of the size), undo and redo (buttons; Ctrl+Z, Ctrl+Y / Ctrl+Shift+Z), clear (the trash button; the tool
stays chosen), mouse, pen and touch through pointer events. The exported layer is what the Sketchpad's was:
canvas-sized RGBA, black ink whose alpha is the stroke, transparent elsewhere.

It also records the ink: each brush stroke's points (x, y in canvas pixels, t in ms since the drawing's first point,
pressure), as the ink model reads them. Undo, redo and clear act on strokes, so the ink follows the picture; the
eraser removes the points within its radius of its path, and a stroke it cuts goes on as the pieces either side.

The component's value is None (empty) or {"layer": "data:image/png;base64,...", "ink": {"strokes": [[[x, y, t,
p], ...], ...]}}; `sketch_value` turns it into a Sketchpad value so the Draw tab's handlers (and their API twins,
which keep the gr.Sketchpad input) are one, and `strokes_value` gives its ink (JSON, as /predict_ink takes it).
"""

from __future__ import annotations

import base64
import binascii

from typing import Any

import gradio as gr
from gradio.components.image_editor import EditorData

from mnist_core.digits import ImageError
from studio.i18n import COOKIE, STRINGS

SIZES = (6, 12, 20)  # brush diameters in canvas pixels; the eraser is 4/3 of the chosen one
DEFAULT_SIZE = 12
PREFIX = "data:image/png;base64,"

TEMPLATE = """
<div class="ink-pad">
  <div class="ink-tools" role="toolbar" aria-label="Drawing tools" data-name="canvas_tools">
    <button type="button" data-tool="brush" data-name="canvas_brush" aria-label="Brush" title="Brush" aria-pressed="true">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20l3-1 11-11-2-2L5 17l-1 3zM15 5l2-2 4 4-2 2z"/></svg>
    </button>
    <button type="button" data-tool="eraser" data-name="canvas_eraser" aria-label="Eraser" title="Eraser" aria-pressed="false">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 16l9-9 7 7-6 6H7zM9 20h11"/></svg>
    </button>
    <span class="ink-sep"></span>
    <button type="button" data-size="6" data-name="canvas_thin" aria-label="Thin" title="Thin" aria-pressed="false"><i style="--d:4px"></i></button>
    <button type="button" data-size="12" data-name="canvas_medium" aria-label="Medium" title="Medium" aria-pressed="true"><i style="--d:8px"></i></button>
    <button type="button" data-size="20" data-name="canvas_thick" aria-label="Thick" title="Thick" aria-pressed="false"><i style="--d:13px"></i></button>
    <span class="ink-sep"></span>
    <button type="button" data-act="undo" data-name="canvas_undo" data-keys=" (Ctrl+Z)" aria-label="Undo" title="Undo (Ctrl+Z)" disabled>
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M9 14L4 9l5-5M4 9h10a6 6 0 010 12h-3"/></svg>
    </button>
    <button type="button" data-act="redo" data-name="canvas_redo" data-keys=" (Ctrl+Y)" aria-label="Redo" title="Redo (Ctrl+Y)" disabled>
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M15 14l5-5-5-5M20 9H10a6 6 0 000 12h3"/></svg>
    </button>
    <button type="button" data-act="clear" data-name="canvas_clear" aria-label="Clear canvas" title="Clear canvas">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/></svg>
    </button>
  </div>
  <canvas class="ink-canvas" width="${size}" height="${size}" tabindex="0" data-name="canvas_area" aria-label="Drawing area"></canvas>
</div>
"""

CSS = """
.ink-pad { display: flex; flex-direction: column; align-items: center; gap: 8px; padding: 8px 0; }
.ink-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; }
.ink-tools button { display: inline-flex; align-items: center; justify-content: center; width: 34px; height: 34px;
  padding: 0; border: 1px solid var(--border-color-primary, #ddd); border-radius: 6px; cursor: pointer;
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #222); }
.ink-tools button[aria-pressed="true"] { border-color: var(--color-accent, #f97316);
  color: var(--color-accent, #f97316); box-shadow: inset 0 0 0 1px var(--color-accent, #f97316); }
.ink-tools button:disabled { opacity: 0.4; cursor: default; }
.ink-tools svg { width: 18px; height: 18px; fill: none; stroke: currentColor; stroke-width: 2;
  stroke-linecap: round; stroke-linejoin: round; }
.ink-tools i { display: block; width: var(--d); height: var(--d); border-radius: 50%; background: currentColor; }
.ink-sep { width: 1px; height: 22px; margin: 0 4px; background: var(--border-color-primary, #ddd); }
.ink-canvas { width: min(100%, ${size}px); aspect-ratio: 1; background: #fff; border: 1px solid #ccc;
  border-radius: 4px; touch-action: none; cursor: crosshair; user-select: none; -webkit-user-select: none; }
.ink-pad[data-tool="eraser"] .ink-canvas { cursor: cell; }
"""

# Runs once when the component mounts (gr.HTML's js_on_load: element, trigger, props, watch are given).
JS = r"""
const canvas = element.querySelector('canvas');
const pad = element.querySelector('.ink-pad');
const ctx = canvas.getContext('2d');
const strokes = [], undone = [];
let tool = 'brush', size = 12, live = null;

const width = (s) => s.tool === 'eraser' ? Math.round(s.size * 4 / 3) : s.size;
function paint(s, from) {  // a stroke's segments from point `from` on (a dot when it is one point)
  ctx.save();
  ctx.globalCompositeOperation = s.tool === 'eraser' ? 'destination-out' : 'source-over';
  ctx.strokeStyle = ctx.fillStyle = '#000';
  ctx.lineWidth = width(s); ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  const p = s.points;
  if (p.length === 1) {
    ctx.beginPath(); ctx.arc(p[0][0], p[0][1], width(s) / 2, 0, 2 * Math.PI); ctx.fill();
  } else {
    ctx.beginPath(); ctx.moveTo(p[Math.max(0, from - 1)][0], p[Math.max(0, from - 1)][1]);
    for (let i = Math.max(1, from); i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
    ctx.stroke();
  }
  ctx.restore();
}
function redraw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const s of strokes) paint(s, 0);
}
function buttons() {
  element.querySelector('[data-act="undo"]').disabled = strokes.length === 0;
  element.querySelector('[data-act="redo"]').disabled = undone.length === 0;
  for (const b of element.querySelectorAll('[data-tool]'))
    b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
  for (const b of element.querySelectorAll('[data-size]'))
    b.setAttribute('aria-pressed', String(Number(b.dataset.size) === size));
  pad.dataset.tool = tool;
}
// The ink: each brush stroke's points (x, y in canvas pixels, t in ms since the drawing began, pressure), what the
// eraser left of them. A point within the eraser's radius of its path is gone, and a stroke the eraser cuts
// becomes the pieces on either side (each its own stroke, in drawing order), as the picture shows them.
function near(q, e, r) {  // point q within r of eraser stroke e's path
  const p = e.points;
  for (let i = 0; i < p.length; i++) {
    const a = p[i], b = p[Math.min(i + 1, p.length - 1)];
    const dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
    const u = l2 ? Math.max(0, Math.min(1, ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / l2)) : 0;
    const x = a[0] + u * dx - q[0], y = a[1] + u * dy - q[1];
    if (x * x + y * y <= r * r) return true;
  }
  return false;
}
function ink() {
  let kept = [];
  for (const s of strokes) {
    if (s.tool === 'brush') { kept.push(s.points); continue; }
    const r = width(s) / 2, cut = [];
    for (const pts of kept) {
      let piece = [];
      for (const q of pts) {
        if (near(q, s, r)) { if (piece.length) cut.push(piece); piece = []; } else piece.push(q);
      }
      if (piece.length) cut.push(piece);
    }
    kept = cut;
  }
  const r1 = (v) => Math.round(v * 10) / 10;
  return kept.map(pts => pts.map(q => [r1(q[0]), r1(q[1]), r1(q[2]), Math.round(q[3] * 100) / 100]));
}
function send() {  // the stroke layer, as the Sketchpad's, and the ink; gr.HTML fires "change" when its value changes
  const lines = ink();
  props.value = lines.length ? {layer: canvas.toDataURL('image/png'), ink: {strokes: lines}} : null;
}
let t0 = null, last_t = 0;  // the drawing's clock: ms since its first point; strictly increasing
function point(e) {
  const r = canvas.getBoundingClientRect();
  if (t0 === null) t0 = e.timeStamp;
  const t = Math.max(e.timeStamp - t0, last_t + 0.1);
  last_t = t;
  // A mouse reports 0.5 while pressed; a pen or finger its pressure (0 where the device has none).
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height, t,
          e.pressure || 0];
}
function far(p, q) {  // worth a new point: a pixel or more from the last one kept
  const dx = p[0] - q[0], dy = p[1] - q[1];
  return dx * dx + dy * dy >= 1;
}
canvas.addEventListener('pointerdown', (e) => {
  if (live || (e.pointerType === 'mouse' && e.button !== 0)) return;
  e.preventDefault();  // no text selection, no scrolling; it also keeps the browser from focusing the canvas,
  canvas.focus({preventScroll: true});  // so focus it: Ctrl+Z / Ctrl+Y then reach the keydown handler below
  canvas.setPointerCapture(e.pointerId);
  live = {id: e.pointerId, stroke: {tool, size, points: [point(e)]}};
  strokes.push(live.stroke); undone.length = 0;
  paint(live.stroke, 0);
});
canvas.addEventListener('pointermove', (e) => {
  if (!live || e.pointerId !== live.id) return;
  e.preventDefault();
  const p = live.stroke.points, from = p.length;
  for (const c of (e.getCoalescedEvents ? e.getCoalescedEvents() : [])) {
    const q = point(c);
    if (far(q, p[p.length - 1])) p.push(q);
  }
  if (p.length === from) { const q = point(e); if (far(q, p[p.length - 1])) p.push(q); }
  if (p.length === from) return;
  if (from === 1) redraw(); else paint(live.stroke, from);  // the first move replaces the dot with a line
});
const end = (e) => {
  if (!live || e.pointerId !== live.id) return;
  live = null; buttons(); send();
};
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

function act(what) {
  if (what === 'undo' && strokes.length) undone.push(strokes.pop());
  else if (what === 'redo' && undone.length) strokes.push(undone.pop());
  else if (what === 'clear' && strokes.length) { strokes.length = 0; undone.length = 0; t0 = null; last_t = 0; }
  else return;
  redraw(); buttons(); send();
}
element.addEventListener('click', (e) => {
  const b = e.target.closest('button');
  if (!b || !element.contains(b)) return;
  if (b.dataset.tool) tool = b.dataset.tool;
  if (b.dataset.size) size = Number(b.dataset.size);
  if (b.dataset.act) act(b.dataset.act); else buttons();
});
function keys(e) {
  if (!(e.ctrlKey || e.metaKey)) return;
  const k = e.key.toLowerCase();
  if (k === 'z') { e.preventDefault(); act(e.shiftKey ? 'redo' : 'undo'); }
  else if (k === 'y') { e.preventDefault(); act('redo'); }
}
element.addEventListener('keydown', keys);
// Keys pressed with nothing focused (the page's body, e.g. after the window lost focus) go to the canvas too;
// in a text box they stay the box's own undo.
document.addEventListener('keydown', (e) => {
  if (document.activeElement === document.body && !e.defaultPrevented) keys(e);
});
// The server emptied the value (the app's Clear button): empty the canvas too, keeping the tool.
// Labels in the page's language (the switch's cookie, else the browser's), renewed whenever the toolbar is
// pointed at or focused, so a language chosen since is followed.
function speak() {
  const m = document.cookie.match(/(?:^|;\s*)COOKIE=([^;]+)/);
  const zh = (m ? decodeURIComponent(m[1]) : (navigator.language || '')).toLowerCase().startsWith('zh');
  for (const el of element.querySelectorAll('[data-name]')) {
    const pair = (props.names || {})[el.dataset.name];
    if (!pair) continue;
    el.setAttribute('aria-label', pair[zh ? 1 : 0]);
    if (el.tagName === 'BUTTON') el.title = pair[zh ? 1 : 0] + (el.dataset.keys || '');
  }
}
element.addEventListener('pointerover', speak);
element.addEventListener('focusin', speak);
speak();
watch('value', () => {
  if (!props.value && strokes.length) { strokes.length = 0; undone.length = 0; t0 = null; last_t = 0; redraw(); buttons(); }
});
buttons();
"""


def ink_canvas(size: int, label, elem_id: str = "sketch") -> gr.HTML:
    """The canvas component (value None or {"layer": PNG data URL}); `size` is its side in canvas pixels."""
    names = {key: list(pair) for key, pair in STRINGS.items() if key.startswith("canvas_")}
    return gr.HTML(None, label=label, show_label=True, container=True, html_template=TEMPLATE, css_template=CSS,
                   js_on_load=JS.replace("COOKIE", COOKIE), elem_id=elem_id, size=int(size), names=names)


def sketch_value(value, max_bytes: int) -> dict | None:
    """The canvas's value -> a Sketchpad value whose one layer is the PNG's bytes (None when empty).

    ImageError for anything else: not a dict with a PNG data URL, or a PNG over ``max_bytes``.
    """
    if not value:
        return None
    layer = value.get("layer") if isinstance(value, dict) else None
    if not isinstance(layer, str) or not layer.startswith(PREFIX):
        raise ImageError("the canvas must be sent as {layer: a PNG data URL}")
    if (len(layer) - len(PREFIX)) * 3 // 4 > max_bytes:
        raise ImageError(f"the canvas is over {max_bytes // (1024 * 1024)} MB")
    try:
        data = base64.b64decode(layer[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the canvas's data URL is not base64") from None
    return {"background": None, "layers": [data], "composite": None}


def strokes_value(value) -> dict | None:
    """The ink the canvas sent with its layer ({"strokes": [...]}), or None (nothing drawn, or a page without it)."""
    ink = value.get("ink") if isinstance(value, dict) else None
    return ink or None


class EditorDataWithStrokes(EditorData):
    """A Sketchpad value that may also carry the drawing's strokes (JSON ink), which Gradio would otherwise drop."""

    strokes: Any = None


class StrokesSketchpad(gr.Sketchpad):
    """The API's hidden Sketchpad input, whose value may carry "strokes": /predict_drawing keeps one input, so that
    clients sending the image alone (gradio_client or plain HTTP) work as before."""

    data_model = EditorDataWithStrokes

    def get_block_name(self) -> str:
        return "imageeditor"  # the frontend's module, as gr.Sketchpad's own (never shown: it only names the input)
