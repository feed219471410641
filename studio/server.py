"""Serving concerns: the launch options every launch uses, a bounded Gradio queue, uploads a killed server left,
GET /healthz for load balancers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gradio as gr
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from studio.i18n import I18N
from studio.services import StudioConfig, services

# Seconds an upload stays in Gradio's cache (checked every 2 minutes); all go when the server stops.
UPLOADS_KEPT_S = 900
# The page's own CSS (a launch option in Gradio 6). On a phone (up to 640 px wide, portrait) the header is two short
# rows (the title; the profile and language boxes side by side, their help text and the intro left out), the Draw
# tab's answer comes right under the canvas (its two columns become one list: canvas, top 3, number read, then the
# rest) and the canvas's tools stay on one row, so that on 390x844 a stroke and its answer share the first screen
# (tests/studio/test_browser_phone.py). Wider screens: the profile and language boxes side by side, filling their
# group (Gradio sizes the group to the two boxes' min-widths but wraps the second under the first, so half of it
# was an empty grey box); My samples' captions under their digit, not over its corner, and the gallery's first row
# under its floating label (tests/studio/test_browser_layout.py). The canvas's own CSS is scoped to its component:
# !important wins over it and over Gradio's inline min-widths.
CSS = """
@media (max-width: 640px) {
  #page-header { gap: 6px; }
  #page-title { flex: 1 1 100% !important; min-width: 100% !important; }
  #page-title h1 { font-size: 1.35rem; margin: 0; }
  #page-intro { display: none; }
  #page-header > .form { flex: 1 1 100% !important; min-width: 0 !important; flex-wrap: nowrap; }
  #profile { flex: 1 1 40% !important; min-width: 0 !important; padding: 6px 8px; }
  #language { flex: 1 1 60% !important; min-width: 0 !important; padding: 6px 8px; }
  #profile [data-testid="block-info"], #language [data-testid="block-info"] { display: block; font-size: 0.8rem;
    white-space: nowrap; overflow: hidden; text-overflow: ellipsis; margin-bottom: 4px; }
  #profile .info-text { display: none; }
  #language .wrap { flex-wrap: nowrap; gap: 4px; }
  #language label { padding: 4px 6px; white-space: nowrap; font-size: 0.85rem; }
  .row:has(> .column > #sketch) { flex-direction: column; flex-wrap: nowrap; gap: 8px; }
  .row:has(> .column > #sketch) > .column { display: contents; }
  .row:has(> .column > #sketch) > .column > * { order: 3; }
  .row:has(> .column > #sketch) > .column > #sketch { order: 1; }
  .row:has(> .column > #sketch) > .column > #draw-label,
  .row:has(> .column > #sketch) > .column > .form:has(> #draw-number) { order: 2; }
  #sketch { padding: 0 8px !important; }
  #sketch > label[data-testid="block-label"] { display: none; }
  #sketch .html-container { padding: 4px 0 !important; }
  #draw-label h2.output-class { padding: 8px 16px 4px !important; }
  #sketch .ink-pad { padding: 4px 0; gap: 6px; }
  #sketch .ink-tools { flex-wrap: nowrap !important; gap: 2px !important; }
  #sketch .ink-tools button { width: 30px !important; height: 30px !important; flex: 0 0 auto; }
  #sketch .ink-sep { margin: 0 2px !important; }
  #sketch .ink-canvas { width: min(100%, 300px) !important; }
}
@media (min-width: 641px) {
  #page-header > .form { flex-wrap: nowrap; }
  #page-header > .form > .block { flex: 1 1 0 !important; min-width: 0 !important; }
}
#samples-gallery .grid-wrap { padding-top: 34px; }
#samples-gallery .thumbnail-item { aspect-ratio: auto !important; height: auto !important; display: flex;
  flex-direction: column; }
#samples-gallery .thumbnail-item > img { aspect-ratio: 1 / 1; width: 100% !important; height: auto !important; }
#samples-gallery .thumbnail-item > .caption-label { position: static !important; max-width: 100%; text-align: center;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
"""
# Sessions whose server-side component state Gradio keeps (oldest dropped first). Every API call without a
# session_hash (curl, scripts) is a new session of ~185 KiB here; Gradio's default of 10,000 let memory grow by
# ~1.8 GB before levelling off. The app keeps no per-session data of its own (no gr.State): nothing is lost.
STATE_SESSIONS_KEPT = 256


class PendingEventIds(dict):
    """Gradio's Queue.pending_event_ids_session (session -> ids of its events not yet delivered), kept bounded.

    Gradio never removes a session's entry after a /gradio_api/call/ stream has delivered its last event, and
    every call without a session_hash (curl, scripts) is a new session: one empty set per call, forever. Entries
    are only added on the event loop (Queue.push), so pruning here races with nothing. Only empty sets of sessions
    whose message queue Gradio has already dropped (its LRU keeps 2,000) go, every 256 new sessions.
    """

    def __init__(self, messages, items=()):
        super().__init__(items)
        self._messages = messages
        self._prune_at = len(self) + 256

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if len(self) >= self._prune_at:
            for k in [k for k, ids in self.items() if not ids and k != key and k not in self._messages]:
                del self[k]
            self._prune_at = len(self) + 256


def queue(demo: gr.Blocks) -> None:
    """Turn on the queue: up to 4 events at a time unless an event says otherwise, session bookkeeping bounded."""
    demo.queue(default_concurrency_limit=4)  # Gradio's default is 1: one by one
    q = getattr(demo, "_queue", None)
    if isinstance(getattr(q, "pending_event_ids_session", None), dict):
        q.pending_event_ids_session = PendingEventIds(q.pending_messages_per_session, q.pending_event_ids_session)


def sweep_uploads(root: str | Path | None = None, older_than_s: float = UPLOADS_KEPT_S) -> int:
    """Delete cached uploads older than ``older_than_s`` left by a server that was killed; returns how many."""
    root = Path(root or os.environ["GRADIO_TEMP_DIR"])
    now, removed = time.time(), 0
    # os.walk, not Path.rglob: another replica sweeping the same folder may remove a directory mid-walk, and
    # rglob raises FileNotFoundError for it while os.walk skips it. Bottom-up: files before their folders.
    for folder, dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder, name)
            try:
                if now - path.stat().st_mtime > older_than_s:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # in use by another studio process, or already gone
        if folder != str(root):
            try:
                os.rmdir(folder)  # only succeeds when empty
            except OSError:
                pass
    return removed


def healthz() -> JSONResponse:
    """GET /healthz: {"status": "ok" | "starting", "active_version" (the version this replica serves),
    "test_accuracy" (its card's, MNIST's test set), "uptime_s", "training" (whether a training runs, here or on
    another replica), "samples" ("sqlite" | "postgresql"), "pid"}; 200 once the model is loaded, 503 before.

    A plain FastAPI route on Gradio's app, run in its thread pool: never through the queue, so a load balancer
    or an orchestrator gets its answer even while every queue slot is busy."""
    body, ready = services().health()
    return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


def launch_options(config: StudioConfig | None = None) -> dict:
    """demo.launch() keywords every launch uses: the upload cap, bounded session state, no share link, no SSR,
    the page's strings in English and 简体中文 (the browser translates them: gr.I18n is a launch option), the
    page's CSS (`CSS`: the phone layout), and
    GET /healthz (a route given to Gradio's FastAPI app through ``app_kwargs``)."""
    limits = (config or services().config).limits
    routes = [APIRoute("/healthz", healthz, methods=["GET"], include_in_schema=False)]
    return dict(max_file_size=limits.max_upload_bytes, share=False, ssr_mode=False, show_error=False,
                state_session_capacity=STATE_SESSIONS_KEPT, i18n=I18N, css=CSS, app_kwargs={"routes": routes})
