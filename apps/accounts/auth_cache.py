"""Who a caller is and where they may act, cached in the shared cache: a warm request asks no database for it.

Every web process of every server reads the same cache (Redis), never a copy in its own memory, so a change
made through any process holds for the next request in every process.

Layout: one hash per principal, `auth:user:<id>` for a person signed in with tokens and `auth:key:<digest>` for
an API key (the digest of the secret, which the request carries, so no lookup precedes the read). Its fields:

- `user`: the user's snapshot (every column but the password hash and `last_login`, which are loaded when read),
  with the password claim that access tokens carry (simplejwt's CHECK_REVOKE_TOKEN);
- `family:<id>`: present while that sign-in (TokenFamily) is live, in user hashes;
- `key`: the key's snapshot (scopes, expiry, revocation, last use; never its digest), in key hashes;
- fields other apps name per request through `register_field` (the tenants app: the tenant an X-Tenant-ID value
  names and the caller's role in it).

A miss reads the database and fills the fields it read. Whatever changes what a hash holds drops the whole hash
of every principal it concerns (`user_changed`, `key_changed`), from the model signals below (which fire in the
transaction of the change, whoever makes it: a service, the operator console, `manage.py changepassword`) and
from the services that change rows with a bulk UPDATE, which sends no signal (ending sign-ins).

Why twice, before and after commit (`invalidate`): dropping only after commit leaves a moment, between the commit
and the drop, in which another process still reads the old state from the cache; dropping only before leaves a
reader free to fill the cache from the database before the change commits, which it then never sees. So the drop
made with the change also marks the hash pending, which stops every fill until the drop made after commit clears
the mark. And fills are conditional on the hash's generation, which each drop advances: a reader that read the
database before a drop can never store what it read (apps.platform.shared_cache).
"""
from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.api.errors import Unavailable
from apps.platform.shared_cache import HashRead, HashValues, SharedCache

from .models import ApiKey, TokenFamily, User

if TYPE_CHECKING:
    from rest_framework.request import Request

logger = logging.getLogger(__name__)
Model = TypeVar("Model", bound=models.Model)

#: A hash not read for this long expires: it bounds the memory of principals that went quiet.
HASH_SECONDS = 60 * 60
#: Columns of a user that change without mattering to authentication and are loaded only when read.
USER_DEFERRED = ("password", "last_login")
#: Changes of only these columns leave the cached state true (the key's is refreshed where it is written).
UNCACHED_CHANGES = {User: {"last_login"}, ApiKey: {"last_used_at"}}

_request_fields: list[Callable[[Request], str]] = []


def register_field(field_for: Callable[[Request], str]) -> None:
    """Also read the field `field_for(request)` names with each principal's state, in the same round trip."""
    if field_for not in _request_fields:
        _request_fields.append(field_for)


def user_hash(user_id: int) -> str:
    return f"auth:user:{user_id}"


def key_hash(digest: str) -> str:
    return f"auth:key:{digest}"


def family_field(family_id) -> str:
    return f"family:{family_id}"


class CachedState:
    """The fields of one principal's hash that a request read, and a way to fill the ones it had to look up."""

    def __init__(self, name: str, found: HashValues | None) -> None:
        self.name = name
        self.found = found

    def get(self, field: str) -> bytes | None:
        return self.found.values.get(field) if self.found is not None else None

    def store(self, fields: dict[str, bytes]) -> None:
        """Fill `fields` unless the hash changed since it was read (never raises: a miss is only slower)."""
        if self.found is None:
            return  # the cache was unreachable when read: there is no generation to fill against
        try:
            SharedCache().fill(self.name, fields, generation=self.found.generation, seconds=HASH_SECONDS)
        except Exception:  # the cache backend's own errors
            logger.warning("Could not cache the state of %s", self.name, exc_info=True)


def state_read(request: Request | None, *, name: str, fields: Sequence[str], presumed: str) -> CachedState:
    """The cached `fields` of principal hash `name`, with those every registered field names for `request`.

    Within a generated view, the read travels with the request's rate-limit counters for `presumed` (the
    principal the credentials claim) in one round trip (apps.api.throttling.RequestRoundTrip). The state is also
    left on the request as `cached_state`, which the tenant resolver reads (apps.api.scoping.AccessContext).
    """
    fields = [*fields, *(field_for(request) for field_for in _request_fields)] if request is not None else fields
    read = HashRead(name, tuple(dict.fromkeys(fields)))
    round_trip = getattr(request, "round_trip", None)
    if round_trip is not None:
        found = round_trip.read([read], presumed=presumed)
        found = found[0] if found else None
    else:
        try:
            found = SharedCache().exchange(reads=[read])[0][0]
        except Exception:  # unreachable: the database answers instead
            logger.warning("Could not read the state of %s", name, exc_info=True)
            found = None
    state = CachedState(name, found)
    if request is not None:
        request.cached_state = state
    return state


def snapshot(instance: models.Model, *, exclude: Iterable[str] = (), extra=None) -> bytes:
    """A model instance's column values (but `exclude`), and `extra`, as bytes to cache."""
    excluded = set(exclude)
    names = [field.attname for field in instance._meta.concrete_fields if field.attname not in excluded]
    return pickle.dumps((names, [getattr(instance, name) for name in names], extra), pickle.HIGHEST_PROTOCOL)


def from_snapshot(model: type[Model], data: bytes) -> tuple[Model, object]:
    """(instance, extra) from `snapshot`: an instance as the database would have built it, whose columns left out
    are deferred (loaded when first read, and never written back by `save()`)."""
    names, values, extra = pickle.loads(data)
    return model.from_db("default", names, values), extra


def invalidate(names: Sequence[str]) -> None:
    """Drop the hashes `names` now, marked pending, and again once the transaction commits (see the module).

    When the cache is unreachable the drop made now fails the change with a 503 (Unavailable), as sign-in does
    while it cannot count attempts: a revocation the cache might not hear of could be undone, once the cache is
    back, by the state it still holds. The drop after commit only logs a failure: the hash is already gone and
    the pending mark expires by itself (shared_cache.PENDING_SECONDS), after which readers fill from the
    committed state.
    """
    if not names:
        return
    names = list(names)
    try:
        SharedCache().invalidate(names, committed=False)
    except Exception:  # the cache backend's own connection errors
        logger.error("Cannot clear cached credentials; refusing the change", exc_info=True)
        raise Unavailable("The credential cache is unreachable, so this change cannot take effect safely. "
                          "Try again shortly.") from None
    transaction.on_commit(lambda: SharedCache().invalidate(names, committed=True), robust=True)


def user_changed(*user_ids: int) -> None:
    """Everything cached about these users changed: their own hashes and those of every key they hold."""
    if not user_ids:
        return
    digests = ApiKey.objects.filter(user_id__in=user_ids).values_list("digest", flat=True)
    invalidate([*map(user_hash, user_ids), *map(key_hash, digests)])


def key_changed(key: ApiKey) -> None:
    invalidate([key_hash(key.digest)])


def _matters(sender, update_fields) -> bool:
    return not (update_fields and set(update_fields) <= UNCACHED_CHANGES.get(sender, set()))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_row_changed(sender, instance: User, created: bool = False, update_fields=None, **kwargs) -> None:
    """A password, activation, role or profile change (nothing is cached about a user created just now)."""
    if not created and _matters(sender, update_fields):
        user_changed(instance.pk)


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def _key_row_changed(sender, instance: ApiKey, created: bool = False, update_fields=None, **kwargs) -> None:
    if not created and _matters(sender, update_fields):
        key_changed(instance)


@receiver(post_save, sender=TokenFamily)
@receiver(post_delete, sender=TokenFamily)
def _family_row_changed(sender, instance: TokenFamily, created: bool = False, **kwargs) -> None:
    """A sign-in ended (a new one changes nothing cached: its field is simply not there yet)."""
    if not created:
        user_changed(instance.user_id)
