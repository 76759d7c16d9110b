"""Test helpers: an API client that acts as a user in a tenant, a fresh ResourceSite for generator tests, and a
cache reset that leaves other runs sharing the Redis database alone."""
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import caches
from django.http import HttpResponse
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from apps.platform.metrics import metrics_store

from .sites import ResourceSite


class TenantAPIClient(APIClient):
    """An APIClient that authenticates like a real client (a JWT or an API key) and can pin a tenant."""

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_header = str(tenant.pk) if tenant is not None else None

    def as_user(self, user: AbstractBaseUser) -> "TenantAPIClient":
        from apps.accounts.services import token_pair_issue  # a real sign-in, so its token family is live

        self.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user)['access']}")
        return self

    def with_api_key(self, secret: str) -> "TenantAPIClient":
        self.credentials(HTTP_X_API_KEY=secret)
        return self

    def request(self, **kwargs: Any) -> HttpResponse:

        if self.tenant_header is not None:
            kwargs.setdefault("HTTP_X_TENANT_ID", self.tenant_header)
        return super().request(**kwargs)


def fresh_site() -> ResourceSite:
    """An empty registry, so a generator test declares exactly the resources it needs."""
    return ResourceSite()


def clear_cache(alias: str = "default") -> None:
    """Delete this run's keys in Redis: the cache's and the metrics' (both under the cache's `KEY_PREFIX`, which
    is `settings.REDIS_KEY_PREFIX`).

    Django's `RedisCache.clear()` flushes the whole Redis database, which would take the job queue, channel groups
    and rate-limit counters of any other run sharing that database with it. Other backends are cleared as usual.
    The metrics this process gathered but has not written yet are written first, so none lands after the reset.
    """
    metrics_store().flush()
    backend = caches[alias]
    if not isinstance(backend, RedisCache) or not backend.key_prefix:
        backend.clear()
        return
    client = backend._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
