"""The studio's web face: one module per tab (its layout, thin handlers and event wiring, like a Gradio demo) over
studio.services (the model server and stores behind them), studio.requests (profile, image, refusals),
studio.views (HTML and PNG renderers) and studio.actions (what several tabs do).

Importing the package sets Gradio's environment, which Gradio reads when it is imported: so ``app.py``
imports this package before Gradio.
"""

import os
import tempfile
from pathlib import Path

# Gradio keeps uploads in GRADIO_TEMP_DIR: a folder of our own, emptied by delete_cache and at exit.
os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / f"mnist-studio-{os.getuid()}"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home; the studio runs offline
# Timings of the last N events, kept for Gradio's /monitoring page only (default 10,000, ~0.5 KiB each).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "256")
