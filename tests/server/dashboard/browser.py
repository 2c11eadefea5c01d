"""Headless Chromium (Debian's package) driven by Playwright, with a watch on everything that must not happen.

Never ``playwright install``: the browser is /usr/bin/chromium from apt
(scripts/test-deps-browser.sh). Each page gets an init script that records
CSP violations, so a test can assert that the page needed no inline code,
and a watch that records dialogs (an executed XSS payload would open one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
MOBILE = {"width": 390, "height": 844}
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Watch:
    """What a page did that it should not have."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def csp_violations(page: Any) -> list[str]:
    found: list[str] = page.evaluate("window.__csp || []")
    return found


@contextmanager
def logged_in_page(chromium: Any, url: str, username: str, password: str) -> Iterator[Any]:
    """A desktop page of a new browser context, logged in as ``username``; on exit the context closes and the
    page must have opened no dialog and thrown no error."""
    context = chromium.new_context(viewport=DESKTOP)
    context.add_init_script(WATCH)
    tab = context.new_page()
    watch = Watch()
    watch.attach(tab)
    tab.goto(url + "/login/")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    with tab.expect_navigation(wait_until="load"):
        tab.click("button[type=submit]")
    yield tab
    context.close()
    assert watch.dialogs == [] and watch.errors == [], (watch.dialogs, watch.errors)
