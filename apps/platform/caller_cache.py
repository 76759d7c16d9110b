"""The cached state of a request's caller: one hash per principal in the shared cache, read in one round trip.

This is the model-agnostic half of the caller cache, below every app that keeps something in it. The accounts app
names the principals (`auth:user:<id>`, `auth:key:<digest>`), caches who they are and drops their hashes when
users, keys or sign-ins change (apps.accounts.auth_cache); other apps add fields to the same hashes per request
through `register_field` (tenants: the tenant an X-Tenant-ID value names and the caller's role in it) and say when
what they added changed through `users_changed`.

Why a signal for that: dropping everything about a user means dropping the hashes of the API keys they hold,
and only accounts knows a user's keys. Sending `principals_changed` from here lets any app that caches a field
(tenants now, the later domains too) clear its users without importing accounts, which builds on them, and lets
accounts keep the one receiver that knows which hashes a user has.

Why the drop is made twice, before and after commit (`invalidate`): dropping only after commit leaves a moment,
between the commit and the drop, in which another process still reads the old state from the cache; dropping only
before leaves a reader free to fill the cache from the database before the change commits, which it then never
sees. So the drop made with the change also marks the hash pending, which stops every fill until the drop made
after commit clears the mark. And fills are conditional on the hash's generation, which each drop advances: a
reader that read the database before a drop can never store what it read (apps.platform.shared_cache).
"""
from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from django.db import models, transaction
from django.dispatch import Signal

from .shared_cache import HashRead, HashValues, SharedCache

if TYPE_CHECKING:
    from rest_framework.request import Request

logger = logging.getLogger(__name__)
Model = TypeVar("Model", bound=models.Model)

#: A hash not read for this long expires: it bounds the memory of principals that went quiet.
HASH_SECONDS = 60 * 60

#: Everything cached about the users `user_ids` changed; sent inside the transaction of the change.
#: The accounts app receives it and drops their hashes and those of their keys (a receiver's error fails the
#: change: a revocation the cache might not hear of must not commit).
principals_changed = Signal()

_request_fields: list[Callable[[Request], str]] = []


def register_field(field_for: Callable[[Request], str]) -> None:
    """Also read the field `field_for(request)` names with each principal's state, in the same round trip."""
    if field_for not in _request_fields:
        _request_fields.append(field_for)


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


def snapshot(instance: models.Model, *, exclude: Iterable[str] = (), extra: object = None) -> bytes:
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

    The drop made now raises the cache backend's own error when the cache is unreachable, for the caller to
    refuse the change (accounts answers 503). The drop after commit only logs a failure: the hash is already gone
    and the pending mark expires by itself (shared_cache.PENDING_SECONDS), after which readers fill from the
    committed state.
    """
    if not names:
        return
    names = list(names)
    SharedCache().invalidate(names, committed=False)
    transaction.on_commit(lambda: SharedCache().invalidate(names, committed=True), robust=True)


def users_changed(*user_ids: int) -> None:
    """Everything cached about these users changed: drop their hashes and their keys' (`principals_changed`)."""
    if user_ids:
        principals_changed.send(sender=None, user_ids=user_ids)
