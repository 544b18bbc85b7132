"""The example shop's SPA in a real browser: headless Chromium (Debian's, never a downloaded one) driven by
Playwright against `lambdakit local`, which serves the site, its SPA fallback and the API on one origin.

Every test records each request, response, console message and page error of its pages and ends by
checking the same things: no preflight (OPTIONS), nothing fetched from another origin, the security
headers on every answer, and no console errors (CSP violations are console errors).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from tests.browsers import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
)
from tests.servers import ROOT, local_server

EXAMPLE_SEED = ROOT / "example_app/shop/seed.json"
PRODUCT = json.loads(EXAMPLE_SEED.read_text())["tables"]["products"][0]  # {"sku": "ANVIL-1", "name": ...}
# seed.json holds no order: the test serves its products plus this one.
ORDER = {
    "order_id": "o-browser-1",
    "sku": PRODUCT["sku"],
    "qty": 3,
    "customer_id": "c-1",
    "created_at": "2024-05-04T12:30:00.000+00:00",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {  # what lk.SecurityHeaders(csp=CSP) promises, spelled out
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": CSP,
}
# Reported as a console error too, so a violation the browser words differently is still caught.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`));
"""


@dataclass
class Record:
    """What the pages of one test did."""

    requests: list[Request] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    loads: int = 0  # full page loads (the `load` event)

    def attach(self, page: Page) -> Page:
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", lambda response: self.responses.append(response))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("load", self._loaded)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} (at {message.location.get('url')})")

    def _loaded(self, page: Page) -> None:
        self.loads += 1

    def api(self) -> list[Response]:
        return [r for r in self.responses if urlsplit(r.url).path.startswith("/api/")]

    def check(self, base: str, allowed_errors: tuple[str, ...] = ()) -> None:
        """The invariants of every page of the site."""
        assert self.requests and self.api(), "the test made no API request"
        assert [r.url for r in self.requests if r.method == "OPTIONS"] == [], "a preflight means a CORS request"
        origin = urlsplit(base)[:2]
        assert [r.url for r in self.requests if urlsplit(r.url)[:2] != origin] == []
        for response in self.responses:
            headers = response.all_headers()
            for name, value in SECURITY_HEADERS.items():
                assert headers.get(name) == value, (response.url, name, headers.get(name))
        allowed = {e.lower() for e in allowed_errors}  # werkzeug's reason phrases are upper case
        assert [e for e in self.errors if e.lower() not in allowed] == []


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser")
    seed = json.loads(EXAMPLE_SEED.read_text())
    seed["tables"]["orders"] = [ORDER]
    (folder / "seed.json").write_text(json.dumps(seed))
    with local_server("example_app.shop", folder / "server.log", "--seed", str(folder / "seed.json")) as url:
        yield url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(5000)
    context.add_init_script(script=REPORT_CSP_VIOLATIONS)
    yield context
    context.close()


def test_the_catalogue_links_to_products_without_reloading_the_page(base: str, context: BrowserContext) -> None:
    record = Record()
    page = record.attach(context.new_page())
    document = page.goto(base + "/")
    assert document is not None and document.status == 200
    assert document.header_value("content-type") == "text/html; charset=utf-8"
    products = page.get_by_role("list", name="Products")
    expect(products.get_by_role("link", name=PRODUCT["name"])).to_be_visible()
    expect(products.get_by_role("listitem")).to_have_count(3)
    assert any(r.url == base + "/api/catalog/products" and r.status == 200 for r in record.api())
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name=PRODUCT["name"]).click()
    page.wait_for_url(f"{base}/products/{PRODUCT['sku']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PRODUCT["name"])
    expect(page.get_by_text("$199.00")).to_be_visible()
    expect(page).to_have_title(f"{PRODUCT['name']} · Shop")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    page.go_back()  # popstate
    page.wait_for_url(base + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(products.get_by_role("link", name=PRODUCT["name"])).to_be_visible()

    assert page.evaluate("window.__sameDocument") is True, "the page was loaded again"
    assert record.loads == 1
    assert [r.url for r in record.requests if r.is_navigation_request()] == [base + "/"]
    assert any(r.url == f"{base}/api/catalog/products/{PRODUCT['sku']}" for r in record.api())
    # index.html loads its hashed assets by absolute path, cached for a year
    assets = [r for r in record.responses if urlsplit(r.url).path.startswith("/assets/app.")]
    assert {urlsplit(r.url).path.rsplit(".", 1)[-1] for r in assets} == {"js", "css"}
    assert {r.header_value("cache-control") for r in assets} == {"public, max-age=31536000, immutable"}
    record.check(base)


def test_a_deep_link_to_an_order_loads_the_app_and_renders_the_order(base: str, context: BrowserContext) -> None:
    record = Record()
    page = record.attach(context.new_page())
    document = page.goto(f"{base}/orders/{ORDER['order_id']}")  # the SPA fallback answers index.html
    assert document is not None and document.status == 200
    assert document.header_value("content-type") == "text/html; charset=utf-8"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {ORDER['order_id']}")
    expect(page.get_by_role("link", name=PRODUCT["name"])).to_have_attribute("href", f"/products/{PRODUCT['sku']}")
    expect(page.get_by_text("$597.00")).to_be_visible()  # 3 x $199.00
    expect(page.locator("time")).to_have_attribute("datetime", str(ORDER["created_at"]))
    order = next(r for r in record.api() if r.url == f"{base}/api/orders/{ORDER['order_id']}")
    assert order.status == 200 and order.json()["qty"] == ORDER["qty"]
    assert order.header_value("content-type") == "application/json"
    record.check(base)


def test_an_api_error_shows_its_message(base: str, context: BrowserContext) -> None:
    record = Record()
    page = record.attach(context.new_page())
    page.goto(base + "/products/NOPE")
    expect(page.get_by_role("heading", level=1)).to_have_text("Product not found")
    expect(page.get_by_role("alert")).to_contain_text("no product NOPE")
    expect(page.get_by_role("alert")).to_contain_text("Error 404")
    missing = next(r for r in record.api() if r.url == base + "/api/catalog/products/NOPE")
    assert missing.status == 404 and missing.json()["error"]["code"] == "not_found"
    # Chromium logs every failed fetch; that one is expected, nothing else is.
    failed = "console: Failed to load resource: the server responded with a status of 404 (Not Found)"
    record.check(base, allowed_errors=(f"{failed} (at {base}/api/catalog/products/NOPE)",))


def test_an_unknown_path_is_the_apps_not_found_page(base: str, context: BrowserContext) -> None:
    record = Record()
    page = record.attach(context.new_page())
    page.goto(base + "/products")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.get_by_role("link", name="See all products.").click()
    page.wait_for_url(base + "/")
    expect(page.get_by_role("link", name=PRODUCT["name"])).to_be_visible()
    assert record.loads == 1
    record.check(base)
