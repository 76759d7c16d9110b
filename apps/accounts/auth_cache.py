"""Who a caller is and where they may act, cached in the shared cache: a warm request asks no database for it.

Every web process of every server reads the same cache (Redis), never a copy in its own memory, so a change
made through any process holds for the next request in every process. The mechanics (reading a principal's hash
with the request's counters, filling it, dropping it before and after commit) are the platform's
(apps.platform.caller_cache); this module names the principals and knows what changes them.

Layout: one hash per principal, `auth:user:<id>` for a person signed in with tokens and `auth:key:<digest>` for
an API key (the digest of the secret, which the request carries, so no lookup precedes the read). Its fields:

- `user`: the user's snapshot (every column but the password hash and `last_login`, which are loaded when read),
  with the password claim that access tokens carry (simplejwt's CHECK_REVOKE_TOKEN);
- `family:<id>`: present while that sign-in (TokenFamily) is live, in user hashes;
- `key`: the key's snapshot (scopes, expiry, revocation, last use; never its digest), in key hashes;
- fields other apps name per request through `caller_cache.register_field` (the tenants app: the tenant an
  X-Tenant-ID value names and the caller's role in it).

A miss reads the database and fills the fields it read. Whatever changes what a hash holds drops the whole hash
of every principal it concerns (`user_changed`, `key_changed`), from the model signals below (which fire in the
transaction of the change, whoever makes it: a service, the operator console, `manage.py changepassword`), from
the services that change rows with a bulk UPDATE, which sends no signal (ending sign-ins), and from other apps
through `caller_cache.principals_changed` (a membership or a tenant changed), which only this app can answer: a
user's hashes include those of the keys they hold.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.api.errors import Unavailable
from apps.platform import caller_cache

from .models import ApiKey, TokenFamily, User

logger = logging.getLogger(__name__)

#: Columns of a user that change without mattering to authentication and are loaded only when read.
USER_DEFERRED = ("password", "last_login")
#: Changes of only these columns leave the cached state true (the key's is refreshed where it is written).
UNCACHED_CHANGES = {User: {"last_login"}, ApiKey: {"last_used_at"}}


def user_hash(user_id: int) -> str:
    return f"auth:user:{user_id}"


def key_hash(digest: str) -> str:
    return f"auth:key:{digest}"


def family_field(family_id: UUID | str) -> str:

    return f"family:{family_id}"


def invalidate(names: Sequence[str]) -> None:
    """Drop the hashes `names` before and after commit (caller_cache.invalidate), or refuse the change.

    When the cache is unreachable the change fails with a 503 (Unavailable), as sign-in does while it cannot
    count attempts: a revocation the cache might not hear of could be undone, once the cache is back, by the
    state it still holds.
    """
    try:
        caller_cache.invalidate(names)
    except Exception:  # the cache backend's own connection errors
        logger.error("Cannot clear cached credentials; refusing the change", exc_info=True)
        raise Unavailable("The credential cache is unreachable, so this change cannot take effect safely. "
                          "Try again shortly.") from None


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


@receiver(caller_cache.principals_changed)
def _principals_changed(sender, user_ids: Sequence[int], **kwargs) -> None:
    """Another app changed what it caches about these users (a membership, a tenant)."""
    user_changed(*user_ids)
