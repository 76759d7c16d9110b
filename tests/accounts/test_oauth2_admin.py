"""Client applications in the operator console: registered there, and no secret of theirs ever shown again."""
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

pytestmark = pytest.mark.django_db

Application = get_application_model()
SECRET = "console-registered-secret-" + "q" * 30


@pytest.fixture
def application(admin_user):
    return Application.objects.create(
        name="Reporting tool", user=admin_user, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris="https://tool.example/cb",
        client_secret=SECRET)


def test_a_client_secret_is_stored_hashed(application):
    application.refresh_from_db()

    assert application.client_secret != SECRET
    assert application.client_secret.startswith(("argon2", "pbkdf2", "md5"))


def test_the_application_pages_never_show_the_secret(console, application):
    for path in ("/admin/oauth2_provider/application/", f"/admin/oauth2_provider/application/{application.pk}/change/"):
        response = console.get(path)

        assert response.status_code == 200
        assert "Reporting tool" in response.content.decode()
        assert SECRET not in response.content.decode()


def test_the_token_pages_never_show_a_token(console, application, user):
    access = get_access_token_model().objects.create(user=user, application=application, token="a" * 40,
                                                     expires=timezone.now() + timedelta(hours=1),
                                                     scope="tasks:read")
    refresh = get_refresh_token_model().objects.create(user=user, application=application, token="r" * 40,
                                                       access_token=access)

    for path in ("/admin/oauth2_provider/accesstoken/", f"/admin/oauth2_provider/accesstoken/{access.pk}/change/",
                 "/admin/oauth2_provider/refreshtoken/", f"/admin/oauth2_provider/refreshtoken/{refresh.pk}/change/"):
        response = console.get(path)

        assert response.status_code == 200, path
        assert "a" * 40 not in response.content.decode() and "r" * 40 not in response.content.decode()


def test_the_console_adds_an_application(console, admin_user):
    page = console.get("/admin/oauth2_provider/application/add/")
    assert page.status_code == 200

    response = console.post("/admin/oauth2_provider/application/add/", {
        "client_id": "console-client", "client_secret": SECRET, "hash_client_secret": "on",
        "name": "Added in the console", "user": admin_user.pk, "client_type": "confidential",
        "authorization_grant_type": "authorization-code", "redirect_uris": "https://tool.example/cb",
        "post_logout_redirect_uris": "", "allowed_origins": "", "algorithm": ""})

    assert response.status_code == 302, response.content.decode()[:3000]
    added = Application.objects.get(client_id="console-client")
    assert added.client_secret != SECRET
