"""A real Chromium (Debian's package) driven by Playwright, for tests marked `browser`.

Loaded for every test folder by tests/conftest.py (pytest_plugins).

Playwright's own browser downloads are not used: the project runs the distribution's
chromium, which `.ci/run` installs. Without it a browser test is skipped locally, but CI
sets LOOKOUT_REQUIRE_BROWSER=1 so a missing browser fails the run instead of passing
silently.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("LOOKOUT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent / "e2e" / "screenshots"

# Quiet and self-contained: no GPU, no sandbox (CI runs as root), no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# True when neither the page nor any box in it that scrolls on its own (unfold wraps a
# changelist's table in one) is wider than what shows: `assert page.evaluate(NO_SIDEWAYS_SCROLL)`.
NO_SIDEWAYS_SCROLL = """() => [document.documentElement, ...document.querySelectorAll('*')].every(e => {
  const overflow = getComputedStyle(e).overflowX;
  const scrolls = e === document.documentElement || overflow === 'auto' || overflow === 'scroll';
  return !scrolls || e.scrollWidth <= e.clientWidth + 1;
})"""


@pytest.fixture
def browser_page(tmp_path, monkeypatch):
    """A page in a fresh Chromium profile; closed (with the browser) after the test."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if os.environ.get("LOOKOUT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread, which makes Django refuse
    # ORM calls from the test body. The test thread only sets up data before and reads
    # after each page action, never concurrently with the loop's work.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            # Passed ourselves in CHROMIUM_ARGS, so Playwright must not add its own.
            headless=False,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        # Generous waits: a busy CI machine renders slowly, and a wait ends as soon as it can.
        context.set_default_timeout(15_000)
        expect.set_options(timeout=15_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@pytest.fixture
def screenshot_path():
    """Where a test saves what it saw; the folder is git-ignored."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def path_for(name: str) -> Path:
        return SCREENSHOTS / f"{name}.png"

    return path_for
