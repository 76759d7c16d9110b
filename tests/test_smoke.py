import pytest

pytestmark = pytest.mark.django_db


def test_health(client):
    assert client.get("/health").json()["status"] == "ok"
