"""The shared cache as the request path uses it: fixed-window counters and cached hashes, many in one round trip.

Every process of every server shares one cache (Redis in production), so whatever is kept here holds for all of
them at once: rate-limit counters, and the authentication and tenant state that `apps.platform.caller_cache` keeps
so a request need not ask the database who its caller is. A request needs several of these at a time; on Redis
`exchange` sends them as one pipeline, one network round trip, instead of one round trip per command.

On any other cache backend (the embedded default's local memory) the same operations go through Django's cache
API, one call each: there is one process then, and round trips cost nothing.

Cached hashes are kept coherent with the database by generations (see `fill` and `invalidate`), so a reader that
read the database before a change can never store what it read after the change was made.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

#: How long an invalidation blocks refills while the change that caused it has not committed (or rolled back).
PENDING_SECONDS = 60
#: How long a generation outlives its hash: longer than any read of the database between a miss and its fill.
GENERATION_SECONDS = 24 * 60 * 60

#: Store a hash's fields only while its generation is still the one the reader saw before it read the database,
#: and no change is pending commit. KEYS: hash, generation, pending. ARGV: generation seen, ttl, field, value, ...
_FILL_SOURCE = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
#: Drop hashes and start their new generations. KEYS: (hash, generation, pending) per hash. ARGV: +1 when a change
#: is made, -1 once it committed; the generations' and the pending marks' lifetimes.
_INVALIDATE_SOURCE = """
for i = 1, #KEYS, 3 do
  redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('EXPIRE', KEYS[i + 1], ARGV[2])
  if redis.call('INCRBY', KEYS[i + 2], ARGV[1]) <= 0 then
    redis.call('DEL', KEYS[i + 2])
  else
    redis.call('EXPIRE', KEYS[i + 2], ARGV[3])
  end
end
return 1
"""


@dataclass(frozen=True)
class HashRead:
    """Fields of one cached hash, read together with the hash's generation (needed to fill what is missing)."""

    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class HashValues:
    """What a HashRead found: each field's bytes (None when missing) and the generation to fill with."""

    values: dict[str, bytes | None]
    generation: bytes


class SharedCache:
    """Counters and hashes over the default cache (`caches["default"]`, so test overrides and outages apply)."""

    def __init__(self) -> None:
        self.backend = caches["default"]
        # Django's RedisCache has no hashes, pipelines or scripts: its own client (and connection pool) does.
        self.redis = self.backend._cache.get_client(write=True) if isinstance(self.backend, RedisCache) else None

    def exchange(self, *, reads: Sequence[HashRead] = (), counts: Sequence[tuple[str, int, int]] = (),
                 uncounts: Iterable[tuple[str, int]] = ()) -> tuple[list[HashValues], list[int]]:
        """Read `reads`, add to each counter of `counts` ((name, expiry, amount), created at zero when absent) and
        take from each of `uncounts` ((name, amount)): one round trip on Redis. Returns the reads and the new counts."""
        if self.redis is None:
            return self._exchange_through_cache_api(reads, counts, uncounts)
        make_key = self.backend.make_key
        pipeline = self.redis.pipeline(transaction=False)
        for read in reads:
            pipeline.hmget(make_key(read.name), read.fields)
            pipeline.get(make_key(f"{read.name}:gen"))
        uncounts = list(uncounts)
        for name, amount in uncounts:  # first, so the counts returned do not include what is given back
            pipeline.decr(make_key(name), amount)
        for name, expiry, amount in counts:
            pipeline.set(make_key(name), 0, ex=expiry, nx=True)
            pipeline.incr(make_key(name), amount)
        results = pipeline.execute()
        found = [HashValues(dict(zip(read.fields, results[2 * number], strict=True)), results[2 * number + 1] or b"")
                 for number, read in enumerate(reads)]
        first_count = 2 * len(reads) + len(uncounts)
        return found, [results[first_count + 2 * number + 1] for number in range(len(counts))]

    def _exchange_through_cache_api(self, reads, counts, uncounts):
        found = []
        for read in reads:
            stored = self.backend.get(read.name) or {}
            found.append(HashValues({field: stored.get(field) for field in read.fields},
                                    str(self.backend.get(f"{read.name}:gen", "")).encode()))
        for name, amount in uncounts:
            try:
                self.backend.decr(name, amount)
            except ValueError:  # expired meanwhile: nothing left to give back
                pass
        numbers = []
        for name, expiry, amount in counts:
            self.backend.add(name, 0, expiry)
            numbers.append(self.backend.incr(name, amount))
        return found, numbers

    def fill(self, name: str, fields: dict[str, bytes], *, generation: bytes, seconds: int) -> bool:
        """Store `fields` in hash `name` unless it was invalidated since `generation` was read, or a change to
        what it caches has not committed yet. Whether it stored them."""
        if self.redis is None:
            if str(self.backend.get(f"{name}:gen", "")).encode() != generation or self.backend.get(f"{name}:pending"):
                return False
            self.backend.set(name, {**(self.backend.get(name) or {}), **fields}, seconds)
            return True
        keys = [self.backend.make_key(f"{name}{part}") for part in ("", ":gen", ":pending")]
        arguments = [generation, seconds, *(item for pair in fields.items() for item in pair)]
        return bool(self.redis.register_script(_FILL_SOURCE)(keys=keys, args=arguments))

    def invalidate(self, names: Sequence[str], *, committed: bool) -> None:
        """Drop hashes `names` and start new generations of them, so no reader can store what it read before.

        Called twice per change (see apps.platform.caller_cache): when the change is made, with `committed` False,
        which also marks it pending so nobody refills from the database until it commits; and once it has
        committed, which clears the mark and drops whatever a reader stored in between.
        """
        if not names:
            return
        step = -1 if committed else 1
        if self.redis is None:
            for name in names:
                self.backend.delete(name)
                self.backend.set(f"{name}:gen", int(self.backend.get(f"{name}:gen", 0)) + 1, GENERATION_SECONDS)
                pending = max(int(self.backend.get(f"{name}:pending", 0)) + step, 0)
                self.backend.set(f"{name}:pending", pending, PENDING_SECONDS)
            return
        make_key = self.backend.make_key
        keys = [make_key(f"{name}{part}") for name in names for part in ("", ":gen", ":pending")]
        self.redis.register_script(_INVALIDATE_SOURCE)(keys=keys, args=[step, GENERATION_SECONDS, PENDING_SECONDS])
