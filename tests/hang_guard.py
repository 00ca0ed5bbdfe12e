"""A bound on every test item's whole run: fixture setup, the test, fixture teardown.

pytest-timeout (signal method) did not stop an async fixture's teardown that hung after a
failure, and the suite hung with it. This guard does not depend on where the hang is: a
thread started with each item writes which item overran, dumps every thread's stack and ends
the process when the item's setup + call + teardown exceed the bound. A hang becomes a
failed run with the stacks that show it. ``faulthandler``'s own timer is a backstop for a
hang that holds the GIL (the thread could not run then; the C-level timer still does).

The bound is ``TOOLWIRE_TEST_WATCHDOG_S`` (default 300 s), or a test's own
``@pytest.mark.timeout(n)`` plus a minute when that is longer.
"""

from __future__ import annotations

import faulthandler
import os
import threading
from collections.abc import Generator

import pytest

ENV = "TOOLWIRE_TEST_WATCHDOG_S"
DEFAULT_S = 300.0
BACKSTOP_S = 30.0  # faulthandler's timer fires this much later, should the thread not run
EXIT_CODE = 70  # what a run ended by the guard exits with (pytest's own codes are 0-5)


class HangGuard:
    def __init__(self, fd: int, seconds: float) -> None:
        self.fd = fd  # a copy of the real stderr, taken before pytest captures it
        self.seconds = seconds

    def bound(self, item: pytest.Item) -> float:
        marker = item.get_closest_marker("timeout")
        if marker is not None and marker.args and float(marker.args[0]) + 60 > self.seconds:
            return float(marker.args[0]) + 60
        return self.seconds

    def fire(self, nodeid: str, bound: float) -> None:
        message = f"\n+++ hang guard: {nodeid} ran over {bound:g} s (setup + call + teardown)"
        os.write(self.fd, (message + "; every thread's stack:\n").encode())
        faulthandler.dump_traceback(file=self.fd, all_threads=True)
        os.write(self.fd, b"+++ hang guard: ending the test process\n")
        os._exit(EXIT_CODE)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        bound = self.bound(item)
        timer = threading.Timer(bound, self.fire, (item.nodeid, bound))
        timer.daemon = True
        timer.start()
        faulthandler.dump_traceback_later(bound + BACKSTOP_S, exit=True, file=self.fd)
        try:
            yield
        finally:
            timer.cancel()
            faulthandler.cancel_dump_traceback_later()


def install(config: pytest.Config) -> None:
    """Register the guard (from ``pytest_configure``: capture is suspended then, so fd 2 is
    the terminal or CI log, which is where the stacks must go)."""
    seconds = float(os.environ.get(ENV) or DEFAULT_S)
    config.pluginmanager.register(HangGuard(os.dup(2), seconds), "toolwire-hang-guard")
