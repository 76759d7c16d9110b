"""The API summary's tenant management at its paths, `/auth/tenants` and `/auth/tenants/{id}`: the tenants
resource mounted at the root. Platform admins see and create every tenant; others see their own."""
import pytest

from apps.tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_a_platform_admin_sees_every_tenant(admin_client, tenant, other_tenant):
    response = admin_client.get("/auth/tenants")

    assert response.status_code == 200
    assert {row["slug"] for row in response.json()["results"]} >= {"acme", "globex"}


def test_a_member_sees_only_their_tenants(user_client, tenant, other_tenant):
    response = user_client.get("/auth/tenants")

    assert [row["slug"] for row in response.json()["results"]] == ["acme"]


def test_a_platform_admin_creates_a_tenant_and_owns_it(admin_client, admin_user):
    response = admin_client.post("/auth/tenants", {"name": "Initech"})

    assert response.status_code == 201, response.content
    tenant = Tenant.objects.get(pk=response.json()["id"])
    assert tenant.slug == "initech"
    assert Membership.objects.get(tenant=tenant).user == admin_user


def test_others_cannot_create_tenants(user_client):
    response = user_client.post("/auth/tenants", {"name": "Initech"})

    assert response.status_code == 403
    assert not Tenant.objects.filter(name="Initech").exists()


@pytest.mark.parametrize("name", ["id", "slug"])
def test_a_tenant_is_read_by_id_or_slug(user_client, tenant, name):
    response = user_client.get(f"/auth/tenants/{tenant.pk if name == 'id' else tenant.slug}")

    assert response.status_code == 200
    assert response.json()["name"] == "Acme"


def test_another_tenant_is_404_to_a_member_and_visible_to_an_admin(user_client, admin_client, other_tenant):
    assert user_client.get(f"/auth/tenants/{other_tenant.pk}").status_code == 404
    assert admin_client.get(f"/auth/tenants/{other_tenant.pk}").status_code == 200


def test_a_missing_name_is_a_400_naming_it(admin_client):
    response = admin_client.post("/auth/tenants", {})

    assert response.status_code == 400
    assert "name" in response.json()["error"]["details"]
