"""Signing in with GitHub against the local stand-in of GitHub's OAuth and REST endpoints."""
import pytest

from apps.accounts.models import User
from apps.github.models import GitHubAccount
from apps.tenants.models import Membership
from tests.github.standin import github  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/github/login"
CALLBACK = "/api/v1/auth/github/callback"


def octocat(github, *, code="code-1", emails=None, github_id=583231):
    github.codes[code] = f"token-{code}"
    github.users[f"token-{code}"] = {
        "user": {"id": github_id, "login": "octocat", "name": "The Octocat"},
        "emails": emails if emails is not None else [
            {"email": "unverified@example.com", "verified": False, "primary": False},
            {"email": "Octocat@Example.com", "verified": True, "primary": True}],
    }


def start(client) -> str:
    response = client.post(LOGIN)
    assert response.status_code == 200, response.json()
    return response.json()["state"]


def test_login_redirects_to_github_with_a_state_it_also_sets_as_a_cookie(anon_client, github):
    response = anon_client.get(LOGIN)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{github.url}/login/oauth/authorize?client_id=client-1&")
    state = response.cookies["tessera_github_state"]
    assert f"state={state.value}" in response["Location"]
    assert state["httponly"] and state["samesite"] == "Lax"


def test_a_first_sign_in_creates_the_account_from_the_verified_primary_email(anon_client, github):
    octocat(github)
    state = start(anon_client)

    response = anon_client.get(CALLBACK, {"code": "code-1", "state": state})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["created"] is True and body["access"] and body["refresh"]
    user = User.objects.get(pk=body["user_id"])
    assert (user.email, user.full_name, user.role, user.has_usable_password()) == (
        "octocat@example.com", "The Octocat", "user", False)
    assert Membership.objects.filter(user=user, role="owner").exists()
    assert GitHubAccount.objects.get(user=user).github_id == 583231
    me = anon_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "octocat@example.com"
    exchange = [r for r in github.requests if r[1] == "/login/oauth/access_token"]
    assert exchange[0][2]["client_secret"] == "client-secret-1"


def test_the_next_sign_in_uses_the_linked_account(anon_client, github):
    octocat(github)
    first = anon_client.get(CALLBACK, {"code": "code-1", "state": start(anon_client)}).json()
    octocat(github, code="code-2", emails=[])  # even with no verified email now, the link stands

    second = anon_client.get(CALLBACK, {"code": "code-2", "state": start(anon_client)}).json()

    assert (second["user_id"], second["created"]) == (first["user_id"], False)


def test_an_existing_account_with_a_verified_email_is_linked(anon_client, github, user):
    octocat(github, emails=[{"email": user.email, "verified": True, "primary": True}])

    body = anon_client.get(CALLBACK, {"code": "code-1", "state": start(anon_client)}).json()

    assert (body["user_id"], body["created"]) == (user.pk, False)


def test_an_unverified_email_never_links_to_an_existing_account(anon_client, github, user):
    octocat(github, emails=[{"email": user.email, "verified": False, "primary": True}])

    response = anon_client.get(CALLBACK, {"code": "code-1", "state": start(anon_client)})

    assert response.status_code == 400
    assert not GitHubAccount.objects.exists()


@pytest.mark.parametrize("forge", ["wrong", "missing", "no-cookie", "replayed"])
def test_a_wrong_state_is_refused_before_any_code_is_exchanged(anon_client, github, forge):
    octocat(github)
    state = start(anon_client)
    if forge == "replayed":
        anon_client.get(CALLBACK, {"code": "code-1", "state": state})
        octocat(github, code="code-2")
        github.requests.clear()
    if forge == "no-cookie":
        anon_client.cookies.clear()
    query = {"code": "code-2" if forge == "replayed" else "code-1"}
    if forge != "missing":
        query["state"] = "forged-state" if forge == "wrong" else state

    response = anon_client.get(CALLBACK, query)

    assert response.status_code == 400
    assert "state" in response.json()["error"]["details"]
    assert not [r for r in github.requests if r[1] == "/login/oauth/access_token"]


def test_a_code_github_does_not_accept_is_refused(anon_client, github):
    response = anon_client.get(CALLBACK, {"code": "not-issued", "state": start(anon_client)})

    assert response.status_code == 400
    assert "code" in response.json()["error"]["details"]
    assert not User.objects.exists()


def test_a_deactivated_account_cannot_sign_in_with_github(anon_client, github, user):
    octocat(github, emails=[{"email": user.email, "verified": True, "primary": True}])
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = anon_client.get(CALLBACK, {"code": "code-1", "state": start(anon_client)})

    assert response.status_code == 403
    assert "access" not in response.json()


def test_without_an_oauth_app_github_sign_in_is_unavailable(anon_client, settings):
    settings.TESSERA_GITHUB = {"CLIENT_ID": ""}

    assert anon_client.post(LOGIN).status_code == 503


def test_the_gateway_summarys_root_paths_serve_the_same_flow(anon_client, github):
    octocat(github)
    state = anon_client.post("/auth/github/login").json()["state"]

    response = anon_client.get("/auth/github/callback", {"code": "code-1", "state": state})

    assert response.status_code == 200, response.json()
    refreshed = anon_client.post("/auth/refresh", {"refresh": response.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200 and refreshed.json()["access"]
