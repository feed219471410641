"""studio.launch: the one `python app.py` launcher of the tests and benchmarks (its happy path runs in
test_replicas, test_reliability and test_api, which start the app through it)."""

from __future__ import annotations

import socket

import pytest

from studio.launch import AppProcess, free_port


def test_free_port_is_a_loopback_port_that_can_be_bound():
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


@pytest.mark.slow
@pytest.mark.parametrize("port_by_env", [False, True])
def test_an_app_that_exits_is_reported_with_its_log_and_a_temporary_home_is_removed(port_by_env):
    """A flag app.py refuses: wait() raises at once with the app's own message, never waits out its timeout."""
    app = AppProcess(None, "--no-such-flag", port_by_env=port_by_env)
    home = app.home
    assert home.is_dir() and app.url == f"http://127.0.0.1:{app.port}"
    with pytest.raises(RuntimeError, match="no-such-flag"):
        app.wait("/healthz", timeout=120)
    assert app.proc.returncode == 2 and not app.answers("/config")
    app.stop()
    assert not home.exists()
