"""The OAuth2 authorization-code flow, driven by requests_oauthlib as the guide drives it, against a live server.

A registered client application sends a signed-in person to `/auth/authorize`; they consent on the page; the
application exchanges the code at `/auth/token` (with its secret, and PKCE when it sent a challenge) and calls the
API with the token it gets, holding no more than the scopes it was granted and the person holds.
"""
import html
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from oauth2_provider.models import get_access_token_model, get_application_model, get_grant_model
from requests_oauthlib import OAuth2Session

from apps.accounts.services import user_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

Application = get_application_model()
REDIRECT_URI = "https://127.0.0.1/callback"  # never fetched: the test reads the redirect the server answers with
CLIENT_SECRET = "reporting-tool-secret-" + "s" * 30


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch):
    """oauthlib insists on HTTPS; the live server here speaks plain HTTP on 127.0.0.1."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def application(admin_user):
    """A confidential client, registered as the operator console registers one (its secret is stored hashed)."""
    return Application.objects.create(
        name="Reporting tool", user=admin_user, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=REDIRECT_URI,
        client_secret=CLIENT_SECRET)


@pytest.fixture
def public_application(admin_user):
    return Application.objects.create(
        name="Desktop app", user=admin_user, client_type=Application.CLIENT_PUBLIC, client_secret="",
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=REDIRECT_URI)


def plain_http(session: requests.Session) -> None:
    """The server sets Secure cookies (production settings); this browser reaches it over plain HTTP on loopback."""
    for cookie in session.cookies:
        cookie.secure = False


def browser_of(server, person) -> requests.Session:
    """The person's browser, signed in through the login page that LOGIN_URL names."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/api-auth/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    plain_http(browser)
    signed_in = browser.post(f"{server.url}/api-auth/login/", allow_redirects=False, data={
        "username": person.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf, "next": "/"})
    assert signed_in.status_code == 302, f"{signed_in.status_code}; the server's log: {server.log()[-3000:]}"
    plain_http(browser)
    return browser


def consent(browser: requests.Session, authorization_url: str, *, allow: bool = True) -> requests.Response:
    """Open the consent page and answer it as the person would; returns the server's answer to the form."""
    page = browser.get(authorization_url, allow_redirects=False)
    assert page.status_code == 200, page.text
    plain_http(browser)
    fields = {name: html.unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    if allow:
        fields["allow"] = "Authorize"
    return browser.post(authorization_url, data=fields, allow_redirects=False)


def redirect_parameters(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(REDIRECT_URI)
    return {name: values[0] for name, values in parse_qs(urlparse(response.headers["Location"]).query).items()}


def test_the_guides_oauth2_example_gets_a_token_that_works(server, application, user, tenant):
    browser = browser_of(server, user)
    # The guide's code, unchanged but for its placeholders.
    oauth = OAuth2Session(client_id=application.client_id)
    authorization_url, state = oauth.authorization_url(f"{server.url}/auth/authorize")
    authorization_response = consent(browser, authorization_url).headers["Location"]
    token = oauth.fetch_token(f"{server.url}/auth/token", authorization_response=authorization_response,
                              client_secret=CLIENT_SECRET)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    response = requests.get(f"{server.url}/api/v1/migrations/", headers=headers)

    assert response.status_code == 200, response.text
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0 and token["refresh_token"]
    assert "tasks:write" in token["scope"]  # without `scope`, every scope the person holds
    assert requests.get(f"{server.url}/auth/me", headers=headers).json()["email"] == user.email
    refreshed = oauth.refresh_token(f"{server.url}/auth/token", client_id=application.client_id,
                                    client_secret=CLIENT_SECRET)
    assert refreshed["access_token"] != token["access_token"]
    again = requests.get(f"{server.url}/auth/me", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert again.status_code == 200


def test_with_pkce_the_token_holds_only_the_scopes_granted(server, application, user, tenant):
    browser = browser_of(server, user)
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI, scope=["tasks:read"], pkce="S256")
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")
    assert "code_challenge=" in authorization_url
    code_response = consent(browser, authorization_url).headers["Location"]
    token = oauth.fetch_token(f"{server.url}/auth/token", authorization_response=code_response,
                              client_secret=CLIENT_SECRET)
    headers = {"Authorization": f"Bearer {token['access_token']}", "X-Tenant-ID": str(tenant.pk)}

    assert token["scope"] == ["tasks:read"]
    assert requests.get(f"{server.url}/api/v1/tasks/", headers=headers).status_code == 200
    assert requests.post(f"{server.url}/api/v1/tasks/", json={"title": "x"}, headers=headers).status_code == 403
    # A program acting for the person: account self-service is not for it, whatever it holds.
    assert requests.get(f"{server.url}/auth/api-keys", headers=headers).status_code == 403


def test_a_public_client_must_use_pkce(server, public_application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(public_application.client_id, redirect_uri=REDIRECT_URI)
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")

    refused = redirect_parameters(browser.get(authorization_url, allow_redirects=False))

    assert refused["error"] == "invalid_request"
    assert "challenge" in refused["error_description"].lower()


def test_a_public_client_with_pkce_needs_no_secret(server, public_application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(public_application.client_id, redirect_uri=REDIRECT_URI, pkce="S256")
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")
    code_response = consent(browser, authorization_url).headers["Location"]

    token = oauth.fetch_token(f"{server.url}/auth/token", authorization_response=code_response,
                              include_client_id=True)

    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{server.url}/auth/me", headers=headers).status_code == 200


def test_a_wrong_code_verifier_gets_no_token(server, public_application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(public_application.client_id, redirect_uri=REDIRECT_URI, pkce="S256")
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")
    code = redirect_parameters(consent(browser, authorization_url))["code"]

    response = requests.post(f"{server.url}/auth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "client_id": public_application.client_id, "code_verifier": "w" * 64})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not get_access_token_model().objects.exists()


def test_a_scope_the_person_does_not_hold_is_refused(server, application, viewer):
    browser = browser_of(server, viewer)
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI, scope=["tasks:read", "tasks:write"])
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")

    refused = redirect_parameters(browser.get(authorization_url, allow_redirects=False))

    assert refused["error"] == "invalid_scope"
    assert "tasks:write" in refused["error_description"]
    assert not get_grant_model().objects.exists()


def test_a_redirect_uri_the_application_did_not_register_is_never_redirected_to(server, application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(application.client_id, redirect_uri="https://127.0.0.1/evil")
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")

    response = browser.get(authorization_url, allow_redirects=False)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not get_grant_model().objects.exists()


def test_a_person_who_declines_grants_nothing(server, application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI)
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")

    declined = redirect_parameters(consent(browser, authorization_url, allow=False))

    assert declined["error"] == "access_denied"
    assert not get_grant_model().objects.exists()


def test_a_wrong_client_secret_gets_no_token(server, application, user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI)
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")
    code = redirect_parameters(consent(browser, authorization_url))["code"]

    response = requests.post(f"{server.url}/auth/token", auth=(application.client_id, "not-the-secret"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_deactivating_the_person_ends_the_applications_token(server, application, user, admin_user):
    browser = browser_of(server, user)
    oauth = OAuth2Session(application.client_id, redirect_uri=REDIRECT_URI)
    authorization_url, _ = oauth.authorization_url(f"{server.url}/auth/authorize")
    token = oauth.fetch_token(f"{server.url}/auth/token", client_secret=CLIENT_SECRET,
                              authorization_response=consent(browser, authorization_url).headers["Location"])
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{server.url}/auth/me", headers=headers).status_code == 200

    user_update(user=user, changed_by=admin_user, is_active=False)

    assert requests.get(f"{server.url}/auth/me", headers=headers).status_code == 401
