"""Creating an account through auth/register."""
import pytest

from apps.accounts.models import User
from apps.tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/register"
STRONG_PASSWORD = "correct-horse-battery-staple"


def test_registration_creates_a_user_with_the_user_role(anon_client):
    response = anon_client.post(URL, {"email": "new@example.com", "password": STRONG_PASSWORD,
                                      "full_name": "New Person"})

    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["full_name"], body["role"], body["is_active"]) == (
        "new@example.com", "New Person", "user", True)
    assert "password" not in body


def test_registration_lowercases_the_email(anon_client):
    response = anon_client.post(URL, {"email": "Mixed.Case@Example.COM", "password": STRONG_PASSWORD})

    assert response.status_code == 201
    assert response.json()["email"] == "mixed.case@example.com"


def test_registration_ignores_role_staff_and_tenant_fields_in_the_body(anon_client, tenant):
    response = anon_client.post(URL, {"email": "sneaky@example.com", "password": STRONG_PASSWORD,
                                      "role": "admin", "is_staff": True, "is_superuser": True,
                                      "tenant": tenant.pk})

    assert response.status_code == 201
    created = User.objects.get(email="sneaky@example.com")
    assert (created.role, created.is_staff, created.is_superuser) == ("user", False, False)
    assert not Membership.objects.filter(user=created, tenant=tenant).exists()


def test_registration_creates_a_personal_tenant_owned_by_the_new_user(anon_client):
    response = anon_client.post(URL, {"email": "solo@example.com", "password": STRONG_PASSWORD,
                                      "full_name": "Solo"})

    membership = Membership.objects.select_related("tenant").get(user_id=response.json()["id"])
    assert membership.role == "owner"
    assert (membership.tenant.name, membership.tenant.slug) == ("Solo's workspace", "solo")


def test_personal_tenants_of_users_with_the_same_local_part_get_distinct_slugs(anon_client):
    anon_client.post(URL, {"email": "sam@one.example", "password": STRONG_PASSWORD})

    anon_client.post(URL, {"email": "sam@two.example", "password": STRONG_PASSWORD})

    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["sam", "sam-2"]


def test_registering_a_taken_email_is_a_conflict(anon_client, user):
    response = anon_client.post(URL, {"email": "USER@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert User.objects.filter(email__iexact="user@example.com").count() == 1


@pytest.mark.parametrize("password", ["short", "1234567890123", "password1234"])
def test_a_weak_password_is_a_validation_error_on_password(anon_client, password):
    response = anon_client.post(URL, {"email": "weak@example.com", "password": password})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["password"]


def test_a_rejected_registration_writes_nothing(anon_client):
    anon_client.post(URL, {"email": "weak@example.com", "password": "short"})

    assert not User.objects.filter(email="weak@example.com").exists()
    assert not Tenant.objects.exists()


def test_an_invalid_email_is_a_validation_error_on_email(anon_client):
    response = anon_client.post(URL, {"email": "not-an-email", "password": STRONG_PASSWORD})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "email" in response.json()["error"]["details"]


def test_a_registered_user_can_log_in(anon_client):
    anon_client.post(URL, {"email": "fresh@example.com", "password": STRONG_PASSWORD})

    response = anon_client.post("/api/v1/auth/token", {"email": "fresh@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 200
