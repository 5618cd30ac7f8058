"""The offline API docs page in a real browser: headless Chromium loads /docs from a live server,
Swagger UI renders every operation of /openapi.json, nothing is fetched from anywhere but
127.0.0.1, and "Try it out" on GET /healthz gets a 200.

Needs Debian's `chromium` and `chromium-driver` packages (/usr/bin/chromium,
/usr/bin/chromedriver); skipped without them. Selenium is pointed at both explicitly, so
Selenium Manager never downloads anything, and the browser is cut off from every host but
127.0.0.1 (a dead proxy plus a resolver that fails every other name).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from config import load_config
from telehealth import create_app
from telehealth.extensions import db
from tests.databases import temporary_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HOST = "127.0.0.1"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
WAIT_SECONDS = 60
# The operation block whose summary shows GET /healthz.
HEALTHZ_BLOCK = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' opblock-get ')]"
    "[.//*[@data-path='/healthz']]"
)

_missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
pytestmark = pytest.mark.skipif(
    bool(_missing),
    reason=(
        f"browser test needs Chromium and its driver; missing {', '.join(_missing)} "
        "(on Debian: apt-get install chromium chromium-driver)"
    ),
)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The app, on a fresh migrated database, served on a free port of 127.0.0.1."""
    with temporary_database(prefix="telehealth_browser") as database_url:
        app = create_app(load_config("test", DATABASE_URL=database_url))
        with app.app_context():
            upgrade()
        server = make_server(HOST, 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="docs-server", daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=WAIT_SECONDS)
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def driver() -> Iterator[WebDriver]:
    """Headless Chromium with a throwaway profile, no route off this machine, and the
    DevTools network events kept in the "performance" log."""
    profile = tempfile.mkdtemp(prefix="telehealth-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1280,1024",
        f"--user-data-dir={profile}",
        # Every host but loopback goes to a proxy that is not there, and no name resolves.
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1;localhost",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    browser = None
    try:
        browser = webdriver.Chrome(options=options, service=service)
        browser.set_page_load_timeout(WAIT_SECONDS)
        yield browser
    finally:
        if browser is not None:
            browser.quit()
        else:
            service.stop()
        shutil.rmtree(profile, ignore_errors=True)


def fetch_spec(base_url: str) -> dict[str, Any]:
    # No proxies from the environment: the request must go straight to the local server.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base_url}/openapi.json", timeout=WAIT_SECONDS) as response:
        spec: dict[str, Any] = json.load(response)
    return spec


def spec_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) once per tag, as Swagger UI lists it (untagged: once, under "default")."""
    return sorted(
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for _ in operation.get("tags") or ["default"]
    )


def rendered_operations(browser: WebDriver) -> list[tuple[str, str]]:
    pairs = browser.execute_script(
        """
        return Array.from(document.querySelectorAll('.opblock')).map(block => [
            (block.querySelector('.opblock-summary-method') || {}).textContent || '',
            (block.querySelector('[data-path]') || {dataset: {}}).dataset.path || '',
        ]);
        """
    )
    return sorted((method.strip().lower(), path) for method, path in pairs)


def requested_urls(browser: WebDriver) -> set[str]:
    """Every URL the page asked for: DevTools network events plus resource timing."""
    urls: set[str] = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls.add(params["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            urls.add(params["url"])
    urls.update(
        browser.execute_script(
            "return performance.getEntriesByType('navigation')"
            ".concat(performance.getEntriesByType('resource')).map(entry => entry.name);"
        )
    )
    # data: and blob: URLs are read from memory; nothing goes over the network for them.
    return {url for url in urls if not url.startswith(("data:", "blob:"))}


def test_docs_page_renders_the_spec_offline_and_try_it_out_works(
    base_url: str, driver: WebDriver
) -> None:
    expected = spec_operations(fetch_spec(base_url))
    assert ("get", "/healthz") in expected
    wait = WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.25,
        ignored_exceptions=(
            NoSuchElementException,
            StaleElementReferenceException,
            ElementClickInterceptedException,
            ElementNotInteractableException,
        ),
    )

    # The start-up tab may show Chromium's own new-tab page (chrome:// resources); leave it,
    # then drop the events so far: from here on, only the docs page's requests are logged.
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get(f"{base_url}/docs")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title")))
    # On a timeout, the comparison below says what was rendered instead.
    with contextlib.suppress(TimeoutException):
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected))
    errors = driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .errors-wrapper")
    assert not errors, f"Swagger UI reported errors: {[e.text for e in errors]}"
    assert rendered_operations(driver) == expected

    def in_healthz(selector: str) -> WebElement:
        """An element inside the GET /healthz block, looked up afresh (React re-renders)."""
        block = driver.find_element(By.XPATH, HEALTHZ_BLOCK)
        return block.find_element(By.CSS_SELECTOR, selector)

    def click_in_healthz(selector: str) -> None:
        """Click it once it is there and clickable; a click that raised did not happen."""

        def clicked(_: WebDriver) -> bool:
            element = in_healthz(selector)
            if not (element.is_displayed() and element.is_enabled()):
                return False
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
            element.click()
            return True

        wait.until(clicked, f"could not click {selector} in GET /healthz")

    click_in_healthz(".opblock-summary-control")
    click_in_healthz("button.try-out__btn")
    click_in_healthz("button.execute")
    status = wait.until(
        lambda _: in_healthz(".live-responses-table .response .response-col_status").text.strip()
    )
    assert status == "200", f"Try it out on GET /healthz answered {status!r}"

    urls = requested_urls(driver)
    assert f"{base_url}/docs" in urls
    assert f"{base_url}/openapi.json" in urls
    assert f"{base_url}/healthz" in urls
    outside = sorted(url for url in urls if not url.startswith(f"{base_url}/"))
    assert not outside, f"requests left {HOST}: {outside}"
