"""Headless Debian Chromium driven by Playwright, for the tests that need a real browser (watch page, API docs).

Chromium is Debian's package (`.ci/run` installs it when missing); Playwright drives it through `executable_path`,
because Playwright's own browser download cannot work on machines without internet. Without Chromium a browser test
is skipped on a developer's machine, and fails on CI, where it must run.
"""
import json
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def require_browser():
    """Chromium and Playwright, or a skip on a developer's machine and a loud failure on CI."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian's chromium package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (requirements-dev.txt)")
    if not missing:
        return
    reason = f"The browser tests need {' and '.join(missing)}."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} CI must run them: .ci/run installs Chromium when apt is available.", pytrace=False)
    pytest.skip(reason)


class BrowserRecord:
    """What a page did besides drawing: script errors, the WebSockets it opened with the messages received, and
    the requests refused because they left this machine."""

    def __init__(self, page):
        self.errors, self.socket_urls, self.messages, self.blocked = [], [], [], []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("websocket", self._follow)

    def _follow(self, socket):
        self.socket_urls.append(socket.url)
        socket.on("framereceived", lambda payload: self.messages.append(json.loads(payload)))

    def refuse_non_local(self, route):
        """Playwright route handler: a request to any host but this machine fails as it would air-gapped."""
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


@contextmanager
def chromium_page(*, local_only: bool = False):
    """A page of headless Debian Chromium, and its record; `local_only` refuses every request that leaves this
    machine. No ORM calls inside: Playwright's sync API runs an event loop in this thread, and Django refuses to
    query from one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 720})
            record = BrowserRecord(page)
            if local_only:
                page.route("**/*", record.refuse_non_local)
            yield page, record
        finally:
            browser.close()
