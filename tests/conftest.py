"""Shared fixtures: a throwaway data directory, the MNIST file when the shared data is here, markers."""

from __future__ import annotations

from pathlib import Path

import pytest

# The full MNIST for development machines; tests fall back to the offline subset without it.
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (still runs in CI)")
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")


@pytest.fixture
def tmp_home(tmp_path, monkeypatch) -> Path:
    """An empty studio data directory, set as MNIST_STUDIO_HOME for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MNIST_STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def mnist_path() -> str | None:
    """Path of the full MNIST file when ../shared/data has it, else None (the offline subset is used)."""
    return str(SHARED_MNIST) if SHARED_MNIST.exists() else None
