"""The API docs work with no internet: Swagger UI and ReDoc come from this server (drf-spectacular-sidecar through
WhiteNoise), never a CDN. Headless Chromium, with every request to another host refused, renders the operations,
authorizes with an email and password (the OAuth2 password flow), and "Try it out" on GET /api/v1/auth/me/ answers
200 with the signed-in user. How Chromium is launched: tests/browsers.py.
"""
import pytest

from tests.browsers import chromium_page, require_browser
from tests.conftest import PASSWORD

#: How long the pages may take to draw every operation: ReDoc lays out the whole schema before showing anything,
#: which took 19 s on a quiet 2-core machine once the agent platform and the guide's paths joined it. A wait limit,
#: not a speed claim.
RENDER_TIMEOUT_MS = 90_000
# ReDoc's bundle hard-codes its sidebar credit image to this address and hides the image when it fails to load;
# it is the one outside request the docs may attempt, and nothing depends on it.
REDOC_CREDIT_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
def server(start_server, user):
    return start_server()


def test_the_docs_pages_name_no_other_host(client):
    for path in ("/api/docs/", "/api/redoc/"):
        page = client.get(path).content.decode()
        assert "cdn.jsdelivr.net" not in page and "fonts.googleapis.com" not in page, path
        assert "/static/drf_spectacular_sidecar/" in page, path


def test_swagger_ui_authorizes_with_email_and_password_and_tries_out_me_offline(server, user):
    require_browser()
    from playwright.sync_api import expect

    with chromium_page(local_only=True) as (page, record):
        page.goto(f"{server.url}/api/docs/")
        expect(page.locator(".opblock").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)

        page.click("button.authorize")
        password_flow = page.locator(".dialog-ux .auth-container", has_text="oauth2Password")
        password_flow.locator("input#oauth_username").fill(user.email)
        password_flow.locator("input#oauth_password").fill(PASSWORD)
        password_flow.locator("button.modal-btn.authorize").click()
        expect(password_flow.locator("button.modal-btn", has_text="Logout")).to_be_visible(timeout=10_000)
        page.locator(".dialog-ux button.close-modal").click()

        # Swagger UI draws only the operations in view; a deep link opens one and scrolls to it, and the
        # authorization persists across the reload (persistAuthorization).
        page.goto(f"{server.url}/api/docs/#/auth/auth_me_retrieve")
        page.reload()
        me = page.locator(".opblock-get.is-open",
                          has=page.locator(".opblock-summary-path[data-path='/api/v1/auth/me/']"))
        me.locator("button.try-out__btn").click(timeout=RENDER_TIMEOUT_MS)
        with page.expect_response(lambda response: response.url.endswith("/api/v1/auth/me/")) as answer:
            me.locator("button.execute").click()
        me_status = answer.value.status
        expect(me.locator(".live-responses-table tr.response .response-col_status").first).to_have_text("200", timeout=10_000)
        me_body = me.locator(".live-responses-table tr.response .response-col_description").first.inner_text()

    assert me_status == 200
    assert user.email in me_body
    assert record.blocked == [] and record.errors == []


def test_redoc_renders_the_operations_offline(server):
    require_browser()
    from playwright.sync_api import expect

    with chromium_page(local_only=True) as (page, record):
        page.goto(f"{server.url}/api/redoc/")
        expect(page.locator("h1", has_text="Tessera API")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        expect(page.get_by_text("/api/v1/auth/me/").first).to_be_attached()

    assert [url for url in record.blocked if url != REDOC_CREDIT_LOGO] == []
    assert record.errors == []
