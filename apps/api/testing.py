"""Test helpers of the generator: a fresh ResourceSite for generator tests, and a cache reset that leaves other runs
sharing the Redis database alone. (The API client that signs in like a real client is `apps.accounts.testing`.)"""
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from apps.platform.metrics import metrics_store

from .sites import ResourceSite


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
