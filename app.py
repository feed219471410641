"""MNIST studio: draw or photograph digits, correct the model, retrain it and manage its versions.

    python app.py                      # http://127.0.0.1:7860 (env MNIST_STUDIO_HOST / MNIST_STUDIO_PORT)
    python app.py --host 0.0.0.0       # admin actions then need MNIST_STUDIO_ADMIN_PASSWORD

Reads top to bottom: the Blocks built from the tab modules in studio/ (each holds its tab's layout, handlers
and events; every event says its api_name: a stable name where a client would call it, False for the page's own
events), over one set of services (studio.services, with the core's ModelServer), then the launcher. The page speaks English and 简体中文
(studio/i18n.py). TensorFlow is imported only when the model is first needed (a background warm-up starts it
at launch), never at import. Training runs in a separate process (mnist_core.ops.jobs), so prediction keeps
answering while it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal

# First: importing the studio package sets the environment that Gradio reads when it is imported.
from studio import draw, models_tab, photo, retrain, samples  # isort: skip
import gradio as gr
from mnist_core.store.samples import is_database_url
from studio.services import Page, StudioConfig, new_services, services
from studio.header import follow_language, header
from studio.server import UPLOADS_KEPT_S, launch_options, queue, sweep_uploads

log = logging.getLogger("mnist_studio")


def build_app(config: StudioConfig | None = None) -> gr.Blocks:
    """The studio's Blocks over fresh services for ``config`` (nothing slow happens here)."""
    here = new_services(config)
    with gr.Blocks(title="MNIST studio", analytics_enabled=False, delete_cache=(120, UPLOADS_KEPT_S)) as demo:
        password, language, profile = header(demo, here)
        page = Page(demo=demo, services=here, password=password, profile=profile)
        with gr.Tabs():
            tabs = [draw.tab(page), photo.tab(page), retrain.tab(page), models_tab.tab(page), samples.tab(page)]
        follow_language(demo, language, tabs)
    queue(demo)
    return demo


def stop_on_ctrl_c() -> None:
    """Ctrl+C and `kill -INT` stop the studio however it was started: a shell starts a script's background jobs
    with SIGINT ignored, and Python then leaves it ignored (a studio started so ran on after `kill -INT`)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> None:
    """Parse flags, build the app, warm the model in the background, serve."""
    parser = argparse.ArgumentParser(description="MNIST studio: draw, photograph, retrain, manage models.")
    parser.add_argument("--host", default=os.environ.get("MNIST_STUDIO_HOST", "127.0.0.1"),
                        help="address to bind (env MNIST_STUDIO_HOST; default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MNIST_STUDIO_PORT", "7860")),
                        help="port (env MNIST_STUDIO_PORT; default 7860)")
    parser.add_argument("--data", default=None, help="MNIST .npz file for retraining (default: the core's choice)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (needs internet)")
    parser.add_argument("--no-spare-trainer", action="store_true",
                        default=os.environ.get("MNIST_STUDIO_SPARE_TRAINER", "1") == "0",
                        help="do not keep a trainer waiting with TensorFlow imported (it starts a training 4-5 s "
                             "sooner and holds ~0.7 GB of memory; env MNIST_STUDIO_SPARE_TRAINER=0)")
    args = parser.parse_args(argv)
    stop_on_ctrl_c()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = StudioConfig(host=args.host, data=args.data, spare_trainer=not args.no_spare_trainer)
    if config.paths.database and not is_database_url(config.paths.database):
        parser.exit(2, "MNIST_STUDIO_DB must be a postgresql://user:password@host:port/dbname URL (unset: SQLite)\n")
    sweep_uploads()  # what a killed server left behind
    demo = build_app(config)
    here = services()
    if config.paths.database:  # PostgreSQL: its schema created or migrated now, a server out of reach said now
        try:
            here.samples.prepare()
        except Exception as e:
            parser.exit(2, f"cannot open the samples ({here.samples.describe()}): {e}\n")
    log.info("samples: %s", here.samples.describe())
    if here.admin_mode == "disabled":
        log.warning("admin actions are disabled: set MNIST_STUDIO_ADMIN_PASSWORD to allow them on %s", args.host)
    options = launch_options(config)
    options["share"] = args.share
    demo.launch(server_name=args.host, server_port=args.port, prevent_thread_lock=True, **options)
    # Only now: importing TensorFlow holds the GIL for seconds, and launch() gives up on a server
    # that does not answer its own health check within 3 s. The spare trainer starts once the model is loaded; once
    # it is, the model server follows the registry's active pointer (another replica's Activate is served here
    # within a second).
    here.warm()
    demo.block_thread()


if __name__ == "__main__":
    main()
