"""`webhooks_settings`: TESSERA_WEBHOOKS, the delivery knobs, with their defaults."""
from apps.api.conf import AppSettings

webhooks_settings = AppSettings("TESSERA_WEBHOOKS", check_id="webhooks.E001", defaults={
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
    # The most retries a subscription's retry policy may ask for.
    "MAX_RETRIES": 10,
})
