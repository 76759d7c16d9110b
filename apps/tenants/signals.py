"""Membership and tenant changes clear the cached state of every user they concern.

The tenant a request acts in and the caller's role there are cached with the caller's state
(apps.platform.caller_cache, tenants.selectors.tenant_for_access). Model signals rather than calls in the
services, so the operator console's membership inline and tenant form clear it too; they fire inside the
transaction of the change, which the cache needs to clear the state both before and after the commit.
`caller_cache.users_changed` says only whose state changed: which hashes a user has (their API keys') is
the accounts app's to know, and tenants imports nothing from accounts, which builds on it.
"""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.platform import caller_cache

from .models import Membership, Tenant


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender, instance: Membership, created: bool = False, **kwargs) -> None:
    """A role change or a removal narrows the member at once. Joining changes nothing cached: refusals are not
    cached, and a new membership is the member's last, so their first tenant stays the one cached."""
    if not created:
        caller_cache.users_changed(instance.user_id)


@receiver(post_save, sender=Tenant)
def _tenant_changed(sender, instance: Tenant, created: bool = False, **kwargs) -> None:
    """A deactivation, a new rate limit or slug holds for every member at once (a deleted tenant's memberships
    go with it, each clearing its member)."""
    if not created:
        caller_cache.users_changed(*instance.memberships.values_list("user_id", flat=True))
