"""Rate limits as clients meet them: who is counted, what a 429 says, and what happens when Redis is down."""
import logging

import pytest
from django.conf import settings as django_settings

from apps.accounts.services import token_pair_issue
from apps.api.testing import clear_cache, fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from apps.tenants.models import Tenant
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


@pytest.fixture
def anon_rate(settings):
    settings.TESSERA_API = {**settings.TESSERA_API, "ANON_THROTTLE": "3/h"}


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def test_anonymous_traffic_past_its_rate_is_429_with_retry_after(anon_rate, anon_client):
    responses = [anon_client.get("/api/v1/tasks/") for _ in range(4)]

    assert statuses(responses) == [401, 401, 401, 429]
    assert responses[-1].json()["error"]["code"] == "throttled"
    assert 0 < int(responses[-1]["Retry-After"]) <= 3600
    assert responses[-1]["X-RateLimit-Remaining"] == "0"


def test_a_forged_x_forwarded_for_does_not_move_a_client_to_a_fresh_bucket(anon_rate, anon_client):
    responses = [anon_client.get("/api/v1/tasks/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(4)]

    assert statuses(responses)[-1] == 429


def test_behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(settings, anon_rate, anon_client):
    settings.TRUSTED_PROXY_COUNT = 1

    responses = [anon_client.get("/api/v1/tasks/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(4)]

    assert 429 not in statuses(responses)


def test_guessing_bearer_tokens_runs_into_the_anonymous_rate(anon_rate, anon_client):
    responses = [anon_client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Bearer guess-{n}") for n in range(4)]

    assert statuses(responses) == [401, 401, 401, 429]


def test_authenticated_callers_are_counted_per_user(settings, user_client, second_user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "DEFAULT_THROTTLE": "2/h"}

    mine = [user_client.get("/api/v1/tasks/") for _ in range(3)]
    theirs = second_user_client.get("/api/v1/tasks/")

    assert statuses(mine) == [200, 200, 429]
    assert theirs.status_code == 200


def test_an_api_key_is_counted_apart_from_its_owner(settings, user_client, read_only_key_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "DEFAULT_THROTTLE": "1/h"}

    user_client.get("/api/v1/tasks/")
    response = read_only_key_client.get("/api/v1/tasks/")

    assert response.status_code == 200


def serve_tasks(serve_site, resource_class=TaskResource):
    site = fresh_site()
    site.register(Task, resource_class)
    return serve_site(site)


def test_a_per_action_rate_from_settings_limits_only_that_action(settings, serve_site, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"throttles": {"create": "2/h"}}}}
    serve_tasks(serve_site)

    creates = [user_client.post("/api/v1/tasks/", {"title": f"t{n}"}) for n in range(3)]
    listing = user_client.get("/api/v1/tasks/")

    assert statuses(creates) == [201, 201, 429]
    assert listing.status_code == 200
    assert Task.objects.count() == 2


def test_a_per_action_rate_can_be_declared_on_the_resource(serve_site, user_client):
    class LimitedTaskResource(TaskResource):
        throttles = {"destroy": "1/h"}

    serve_tasks(serve_site, LimitedTaskResource)
    first, second = (user_client.post("/api/v1/tasks/", {"title": n}).json()["id"] for n in "ab")

    responses = [user_client.delete(f"/api/v1/tasks/{first}/"), user_client.delete(f"/api/v1/tasks/{second}/")]

    assert statuses(responses) == [204, 429]


def test_a_tenants_rate_covers_all_its_members_together(user_client, second_user_client, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(rate_limit="2/h")

    responses = [user_client.get("/api/v1/tasks/"), second_user_client.get("/api/v1/tasks/"),
                 user_client.get("/api/v1/tasks/")]

    assert statuses(responses) == [200, 200, 429]


def test_a_tenant_rate_that_is_not_a_rate_is_refused(admin_client, tenant):
    response = admin_client.patch(f"/api/v1/tenants/{tenant.pk}/", {"rate_limit": "lots"})

    assert response.status_code == 400
    assert "rate_limit" in response.json()["error"]["details"]


def test_sign_in_attempts_are_limited_per_email(settings, user, anon_client):
    settings.TESSERA_ACCOUNTS = {**settings.TESSERA_ACCOUNTS, "LOGIN_RATE_PER_EMAIL": "3/h"}

    attempts = [anon_client.post(TOKEN_URL, {"email": user.email, "password": "wrong"}) for _ in range(3)]
    with_the_right_password = anon_client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD})
    another_account = anon_client.post(TOKEN_URL, {"email": "someone@example.com", "password": "wrong"})

    assert statuses(attempts) == [401, 401, 401]
    assert with_the_right_password.status_code == 429
    assert another_account.status_code == 401


def test_sign_in_attempts_are_limited_per_address_across_emails(settings, anon_client):
    settings.TESSERA_ACCOUNTS = {**settings.TESSERA_ACCOUNTS, "LOGIN_RATE_PER_IP": "2/h"}

    attempts = [anon_client.post(TOKEN_URL, {"email": f"u{n}@example.com", "password": "x"}) for n in range(3)]

    assert statuses(attempts) == [401, 401, 429]


@pytest.fixture
def redis_down(settings):
    """The cache points at a port where nothing listens: a real connection failure, not a mock."""
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def test_sign_in_fails_closed_with_503_when_redis_is_down(redis_down, user, anon_client):
    response = anon_client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_registration_fails_closed_when_redis_is_down(redis_down, anon_client):
    response = anon_client.post("/api/v1/auth/register", {"email": "new@example.com", "password": PASSWORD})

    assert response.status_code == 503


def test_reads_fail_open_and_log_an_error_when_redis_is_down(redis_down, caplog, task, user_client):
    with caplog.at_level(logging.ERROR, logger="tessera.ratelimit"):
        response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert any("unreachable" in record.getMessage() for record in caplog.records)


@needs_redis
def test_limits_are_shared_by_two_server_processes_through_redis(start_server):
    environment = {"REDIS_URL": django_settings.REDIS_URL, "API_ANON_THROTTLE": "4/h"}  # this run's key prefix
    first, second = start_server(**environment), start_server(**environment)
    clear_cache()

    answers = [server.request("GET", "/api/v1/tasks/")[0] for server in (first, second, first, second, first)]

    assert answers == [401, 401, 401, 401, 429]


@needs_redis
def test_a_users_and_a_keys_limits_are_shared_by_two_server_processes(start_server, user, tenant, read_only_key):
    """Counted in the pipeline that also reads the caller's cached credentials (throttling.RequestRoundTrip)."""
    environment = {"REDIS_URL": django_settings.REDIS_URL, "API_DEFAULT_THROTTLE": "3/h"}
    first, second = start_server(**environment), start_server(**environment)
    token = {"Authorization": f"Bearer {token_pair_issue(user)['access']}", "X-Tenant-ID": str(tenant.pk)}
    key = {"X-API-Key": read_only_key.secret, "X-Tenant-ID": str(tenant.pk)}

    answers = {name: [server.request("GET", "/api/v1/tasks/", headers=headers)[0]
                      for server in (first, second, first, second)]
               for name, headers in (("token", token), ("key", key))}

    assert answers == {"token": [200, 200, 200, 429], "key": [200, 200, 200, 429]}
