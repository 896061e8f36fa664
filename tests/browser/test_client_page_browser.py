"""The client page in a real browser: Debian's Chromium, driven by Playwright for Python.

The demo is synced at two report days (so the page carries the trend chart), a share link is
made with the CLI, and the page is loaded from the real HTTP server `syncbot run` uses. At a
phone's 390 px and a laptop's 1280 px: the milestone table is visible, every milestone is
listed, the chart image loaded (the CSP allows it), and nothing is wider than the window.
Screenshots are saved under test-artifacts/browser/ (listed at the end of the run).

Without a browser the test skips, saying why; SYNCBOT_TEST_REQUIRE_BROWSER=1 (.ci/run) makes
that a failure. SYNCBOT_TEST_CHROMIUM names another Chromium than /usr/bin/chromium.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from support.cli import ok

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.run import Runtime
from syncbot.settings import Settings
from syncbot.store import Store
from syncbot.web import HttpServer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo" / "syncbot.toml"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (390, 1280)

pytestmark = pytest.mark.browser

# Elements sticking out of the window (a page wider than a phone scrolls sideways).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .map((e) => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right));
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


def chromium() -> Path:
    """The browser, or skip (fail under SYNCBOT_TEST_REQUIRE_BROWSER=1) saying what is missing."""
    path = Path(os.environ.get("SYNCBOT_TEST_CHROMIUM") or "/usr/bin/chromium")
    problem = None
    if not path.exists():
        problem = f"{path} not found (apt-get install chromium; .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("SYNCBOT_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " and SYNCBOT_TEST_REQUIRE_BROWSER=1")
        pytest.skip(problem)
    return path


@pytest.fixture
def page_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", db)
    for day in ("2026-02-24", "2026-03-03", "2026-03-10"):
        ok(["sync", "--config", str(DEMO), "--as-of", day])
    path = ok(["share", "--config", str(DEMO), "--client", "acme"]).strip()
    settings = Settings(_env_file=None, database_url=db, slack_signing_secret=SecretStr("s"))  # type: ignore[call-arg]
    store = Store(db)
    app = Syncbot(load_config(DEMO), settings, store, lambda: NOW)
    server = HttpServer(Runtime(app, settings).router, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}{path}"
    finally:
        server.close()
        thread.join(timeout=10)
        store.close()


def test_the_client_page_fits_a_phone_and_a_laptop(page_url: str, record_property: Any) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(executable),
            headless=True,
            args=FLAGS,  # and a fresh profile: Playwright gives each launch a new one
        )
        try:
            for width in WIDTHS:
                record_property("screenshot", str(look_at(browser, page_url, width)))
        finally:
            browser.close()


def look_at(browser: Any, url: str, width: int) -> Path:
    """Load the page `width` px wide, check it, save a full-page screenshot."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    refused: list[str] = []  # what the CSP refused, and failed loads of the page's own
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.on(
        "response",
        lambda r: (
            refused.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert page.locator("#milestone-table").is_visible()
    assert page.locator("#milestone-table tbody tr").count() == 9
    assert page.get_by_text("Claims data pipeline operational").first.is_visible()
    # The chart loaded: the CSP let it through and it has its natural size.
    chart = page.locator("figure img")
    assert chart.is_visible()
    assert chart.evaluate("(img) => img.complete && img.naturalWidth") == 960
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow["scroll"] <= width, overflow
    assert overflow["wide"] == [], overflow
    assert refused == [], refused
    shot = ARTIFACTS / f"client-page-{width}px.png"
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    return shot
