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
