"""The browsable API refuses exactly what the JSON API refuses, with the same status and envelope, and audits once.

DRF's HTML renderer builds its forms by running the view's permission checks again; those checks must
treat our own refusals as refusals (not crash the page) and must not record a second audit row.
"""
import pytest

from apps.accounts.models import AuditLog
from apps.tenants.selectors import tenant_for_access
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}


def cross_tenant_attempts():
    return AuditLog.objects.filter(event=AuditLog.Event.CROSS_TENANT_ATTEMPT)


resolutions = []


def counting_tenant_resolver(access):
    """The project's tenant resolver, counting its calls (installed through TESSERA_API["TENANT_RESOLVER"])."""
    resolutions.append(access.path)
    return tenant_for_access(access)


@pytest.fixture
def count_resolutions(settings):
    settings.TESSERA_API = {**settings.TESSERA_API,
                            "TENANT_RESOLVER": f"{__name__}.counting_tenant_resolver"}
    resolutions.clear()
    return resolutions


@pytest.mark.parametrize("path", ["/api/v1/tasks/", "/api/v1/notes/", "/api/v1/jobs/", "/api/v1/auth/me"])
def test_naming_a_foreign_tenant_in_the_browsable_api_is_the_403_page(user, other_tenant, path):
    client = client_for(user, other_tenant)

    response = client.get(path, **HTML)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "permission_denied" in response.content.decode()


def test_the_format_parameter_gives_the_same_403_as_json(user, other_tenant):
    client = client_for(user, other_tenant)

    page = client.get("/api/v1/tasks/?format=api")
    as_json = client.get("/api/v1/tasks/")

    assert (page.status_code, as_json.status_code) == (403, 403)
    assert as_json.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_cross_tenant_attempt_is_audited_once_whatever_renders_the_answer(user, other_tenant, accept):
    client = client_for(user, other_tenant)

    client.get("/api/v1/tasks/", HTTP_ACCEPT=accept)

    assert cross_tenant_attempts().count() == 1


@pytest.mark.parametrize("member", [True, False], ids=["member", "foreign tenant"])
def test_the_tenant_is_resolved_once_per_request_however_many_forms_the_page_draws(
        count_resolutions, user, tenant, other_tenant, member):
    client = client_for(user, tenant if member else other_tenant)

    client.get("/api/v1/tasks/", **HTML)

    assert count_resolutions == ["/api/v1/tasks/"]


def test_a_user_without_any_tenant_gets_the_403_page_not_a_crash(admin_user):
    client = client_for(admin_user)

    response = client.get("/api/v1/tasks/", **HTML)

    assert response.status_code == 403


def test_a_member_still_gets_the_browsable_page_with_its_forms(user_client, task):
    response = user_client.get("/api/v1/tasks/", **HTML)

    assert response.status_code == 200
    assert task.title in response.content.decode()
