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
    for path in sorted(root.rglob("*"), reverse=True) if root.is_dir() else []:  # files before their folders
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            continue  # in use by another studio process, or already gone
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
    the page's strings in English and 简体中文 (the browser translates them: gr.I18n is a launch option), and
    GET /healthz (a route given to Gradio's FastAPI app through ``app_kwargs``)."""
    limits = (config or services().config).limits
    routes = [APIRoute("/healthz", healthz, methods=["GET"], include_in_schema=False)]
    return dict(max_file_size=limits.max_upload_bytes, share=False, ssr_mode=False, show_error=False,
                state_session_capacity=STATE_SESSIONS_KEPT, i18n=I18N, app_kwargs={"routes": routes})
