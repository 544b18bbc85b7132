"""Site sign-in in a real browser: headless Chromium (Debian's, never a downloaded one) driven by Playwright
against `lambdakit local` serving an app whose members' area needs a Cognito sign-in.

The local site runs the shipped edge handler on the protected behavior's origin request; the sign-in form is
the local stand-in for Cognito's hosted sign-in (moto's pool, the seeded demo user).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lambdakit.local.pools import DEMO_PASSWORD, DEMO_USER
from tests.apps import write_package
from tests.browsers import Browser, BrowserContext, ConsoleMessage, Page, expect
from tests.servers import local_server

CSP = "default-src 'self'; frame-ancestors 'none'"
APP = f"""
import lambdakit as lk

service = lk.Service("club")
users = lk.Cognito("club-users")
site = lk.Frontend("web", headers=lk.SecurityHeaders(csp="{CSP}"), auth={{"/members": users}})
"""
HOME = '<!doctype html><html lang="en"><title>Club</title><h1>Club</h1><a href="/members/">Members</a></html>'
MEMBERS = (
    '<!doctype html><html lang="en"><title>Members</title><h1>Members only</h1>'
    '<a href="/members/_auth/signout">Sign out</a></html>'
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("club")
    files = {"__init__.py": APP, "web/index.html": HOME, "web/members/index.html": MEMBERS}
    package = write_package(root, files, name="club_site")
    with local_server(package, root / "server.log", path=root) as url:
        yield url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(5000)
    yield context
    context.close()


def errors_of(page: Page) -> list[str]:
    """Console errors and uncaught exceptions (CSP violations are console errors); the browser's own favicon
    request, which the test sites do not serve, is not one."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        if message.type == "error" and not where.endswith("/favicon.ico"):
            found.append(f"{message.text} (at {where})")

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"uncaught: {error}"))
    return found


def sign_in(page: Page, password: str = DEMO_PASSWORD) -> None:
    page.get_by_label("Email").fill(DEMO_USER)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_members_sign_in_come_back_signed_in_and_sign_out(base: str, context: BrowserContext) -> None:
    page = context.new_page()
    errors = errors_of(page)
    page.goto(base + "/members/")
    page.wait_for_url(f"{base}/_lambdakit/signin/oauth2/authorize?*")  # sent to the pool's sign-in
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    sign_in(page)
    page.wait_for_url(base + "/members/")  # back where the visit began
    expect(page.get_by_role("heading", level=1)).to_have_text("Members only")
    session = {c["name"]: c for c in context.cookies()}
    assert {"lk_id", "lk_access", "lk_refresh"} <= set(session)
    for name in ("lk_id", "lk_access", "lk_refresh"):
        assert session[name]["httpOnly"] and session[name]["secure"] and session[name]["sameSite"] == "Lax", name
    assert session["lk_refresh"]["path"] == "/members/_auth/"
    assert page.evaluate("document.cookie") == ""  # nothing a script can read

    page.reload()  # the session holds: no sign-in again
    expect(page.get_by_role("heading", level=1)).to_have_text("Members only")

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url(base + "/")  # through the pool's logout, back to the public home
    expect(page.get_by_role("heading", level=1)).to_have_text("Club")
    assert not {"lk_id", "lk_access", "lk_refresh"} & {c["name"] for c in context.cookies()}

    page.goto(base + "/members/")  # signed out: sent to sign in again
    page.wait_for_url(f"{base}/_lambdakit/signin/oauth2/authorize?*")
    assert errors == []


def test_a_deep_link_comes_back_to_itself_and_a_wrong_password_is_said(base: str, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(base + "/members/events/2024")
    sign_in(page, password="not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    sign_in(page)
    page.wait_for_url(base + "/members/events/2024")  # a client-side route of the area: its own index.html
    expect(page.get_by_role("heading", level=1)).to_have_text("Members only")


def test_the_public_site_needs_no_sign_in(base: str, context: BrowserContext) -> None:
    page = context.new_page()
    answer = page.goto(base + "/")
    assert answer is not None and answer.status == 200
    assert answer.header_value("content-security-policy") == CSP
    expect(page.get_by_role("heading", level=1)).to_have_text("Club")
    assert context.cookies() == []
