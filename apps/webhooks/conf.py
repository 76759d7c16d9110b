"""`webhooks_settings`: TESSERA_WEBHOOKS, the delivery knobs, with their defaults."""
import ipaddress
from typing import Any

from apps.api.conf import AppSettings
from apps.platform.encryption import key_problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(values: list[str]) -> tuple[Network, ...]:
    """ALLOWED_NETWORKS as networks: CIDR (`10.0.0.0/8`, `fd00::/8`), a bare address being its own network and
    host bits being ignored (`127.0.0.1/8` is 127.0.0.0/8). ValueError or TypeError for anything else."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def networks_problem(values: Any) -> str | None:
    """What is wrong with an ALLOWED_NETWORKS value (check webhooks.E002), or None."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        return f"is {values!r}; it must be a list of networks in CIDR notation, like ['10.0.0.0/8']."
    bad = []
    for value in values:
        try:
            networks([value])
        except (TypeError, ValueError):
            bad.append(value)
    return f"has {bad!r}, which are not networks in CIDR notation, like '10.0.0.0/8'." if bad else None


webhooks_settings = AppSettings("TESSERA_WEBHOOKS", check_id="webhooks.E001", validators={
    "ALLOWED_NETWORKS": ("webhooks.E002", networks_problem),
    "SECRETS_KEY": ("webhooks.E003", key_problem),
}, defaults={
    # Networks (CIDR) a target may resolve into although they are loopback, private, link-local or reserved: an
    # in-house receiver, or the tests' local server. Empty: only public addresses are delivered to.
    "ALLOWED_NETWORKS": [],
    # Seconds one attempt may take to connect and answer before it counts as a timeout (and is retried).
    "TIMEOUT_SECONDS": 10.0,
    # A subscription whose deliveries failed this many times in a row (retries exhausted) is switched off.
    "DISABLE_AFTER_FAILURES": 20,
    # Backoffs up to this many seconds are waited out by the worker that made the attempt; longer ones are
    # handed to the django-q2 scheduler, which starts due tasks within about 30 s.
    "INLINE_RETRY_MAX_SECONDS": 10.0,
    # How much of a receiver's answer each attempt keeps (characters); the rest is cut and flagged.
    "RESPONSE_EXCERPT_CHARS": 1000,
    # Deliveries of one queued batch made at once, each on a thread of the worker (they mostly wait on the network).
    "CONCURRENCY": 8,
    # A pending delivery whose attempt is this many seconds overdue lost its task (the queue was down when it was
    # handed over, or a worker died holding it): the sweep, every minute, queues it again.
    "REQUEUE_AFTER_SECONDS": 120,
    # The most retries a subscription's retry policy may ask for.
    "MAX_RETRIES": 10,
    # Fernet key that encrypts the subscriptions' signing secrets at rest; empty: one derived from SECRET_KEY.
    "SECRETS_KEY": "",
})
