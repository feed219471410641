"""Test data shared by the core tests (the full MNIST when ../shared has it, else the offline subset), and a
polling helper."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
SHARED_USPS = ROOT.parent / "shared" / "data" / "usps.npz"
HAVE_MNIST = SHARED_MNIST.is_file()
NO_MNIST_REASON = f"the full MNIST is not at {SHARED_MNIST} (only on development machines)"


@lru_cache(maxsize=1)
def small_mnist():
    """Full MNIST if present, else the 5,000-digit offline subset (cached per session)."""
    from mnist_core.train.data import load_mnist, load_subset

    return load_mnist(SHARED_MNIST) if HAVE_MNIST else load_subset()


def data_arg() -> list[str]:
    """CLI arguments that point training at the full MNIST when present."""
    return ["--data", str(SHARED_MNIST)] if HAVE_MNIST else []


def wait_until(predicate, timeout: float, what: str, every: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s (a bound on hangs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# A stand-in for `python -m mnist_core train-ink --request FILE` (like conftest's fake trainer, for ink jobs): reads the
# ink request, records it in <job>/argv.json, logs start (kind "ink"), progress and epochs, honours the cancel file
# (env FAKE_MODE "slow": 0.5 s a step), and ends with a done event naming ink version 20990101-000000-1234.
FAKE_INK_TRAINER = '''
import json, os, sys, time
from pathlib import Path
from mnist_core.ops import protocol
args = sys.argv[1:]
path = Path(args[args.index("--request") + 1])
request = protocol.read_request(path, kind="ink")
job, ink = Path(request.job_dir), request.job
(job / "argv.json").write_text(json.dumps({"argv": args, "request": json.loads(path.read_text())}))
log = protocol.JobLog(job)
epochs, steps = ink.settings.epochs, 3
log.write(protocol.START, settings={"epochs": epochs}, data="fake pen digits", pid=os.getpid(), kind="ink")
for epoch in range(1, epochs + 1):
    for step in range(1, steps + 1):
        if protocol.cancel_requested(job):
            log.write(protocol.CANCELLED, epochs_done=epoch - 1)
            sys.exit(protocol.EXIT_CANCELLED)
        time.sleep(0.5 if os.environ.get("FAKE_MODE") == "slow" else 0.02)
        log.write(protocol.PROGRESS, epoch=epoch, epochs=epochs, step=step, steps=steps, loss=1.0 / step,
                  accuracy=0.5, eta_s=1.0, elapsed_s=0.1)
    log.write(protocol.EPOCH, epoch=epoch, epochs=epochs, step=steps, steps=steps, loss=0.5, accuracy=0.8,
              val_accuracy=0.7)
card = {"id": "20990101-000000-1234", "kind": "ink", "train_seconds": 1.0, "test_set": "fake writers",
        "metrics": {"accuracy": 0.97, "count": 100}, "fusion": {"w_image": 0.7, "w_ink": 1.3}}
log.write(protocol.DONE, kind="ink", version=card["id"], card=card, active_before="default", active_accuracy=0.98,
          activated=False, profile=None, personal=None)
'''


def fake_ink_trainer(folder: Path) -> list[str]:
    """The command of the fake ink trainer (FAKE_INK_TRAINER), written into ``folder``."""
    import sys

    script = Path(folder) / "fake_ink_trainer.py"
    script.write_text(FAKE_INK_TRAINER)
    return [sys.executable, str(script)]
