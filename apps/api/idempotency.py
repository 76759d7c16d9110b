"""`Idempotency-Key` on generated POSTs (create, actions, bulk), as the IETF draft and Stripe define it.

A client that sends the header may retry the same request safely: the first request claims the key, runs, and
its response (status, the headers that describe it, body) is kept for `IDEMPOTENCY_TTL_SECONDS`; a retry with
the same key and the same request (method, path and body) gets that response again, marked
`Idempotent-Replayed: true`, and nothing runs twice. The same key with another request is 422; a retry while the
first one still runs is 409. Keys belong to the caller (user or API key) in the active tenant, so another caller's
identical key is another key. A 5xx is not kept (the key is released, so a retry runs again, as Stripe does);
4xx answers are kept, since the same request would fail the same way.

State lives in the shared cache (Redis in production), never in a process: the claim is one atomic add (SET NX),
so two servers racing on one key let exactly one through. A request without the header asks nothing of the cache.
Should a process die mid-request, its claim expires after `IDEMPOTENCY_LOCK_SECONDS`; a response not stored
because the cache failed after the work committed leaves the key to expire likewise (logged).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import caches
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from .conf import api_settings
from .errors import Conflict, Unavailable, Unprocessable, ValidationFailed
from .throttling import principal

logger = logging.getLogger("tessera.idempotency")

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: Sent with a replayed response (Stripe's name), so a client can tell a replay from a first answer.
REPLAYED_HEADER = "Idempotent-Replayed"
#: The response headers a replay repeats: those that describe the stored result. Request ids, rate-limit counts
#: and Vary belong to the request that gets the replay and are set afresh on it.
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Location", "ETag", "Last-Modified", "Link")


class Replay(Exception):
    """Raised where the work would start: the stored response answers instead (ResourceViewSet.handle_exception)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("idempotent replay")
        self.response = response


@dataclass(frozen=True)
class Claim:
    """A request holding a key while it runs: what to store its response under, and what it claimed with."""

    cache_key: str
    fingerprint: str


def fingerprint_of(request: Request) -> tuple[str, str] | None:
    """(the key as sent, a digest of method, path with query and body) of a POST carrying the header, else None.

    Taken before anything parses the body, while Django still holds its raw bytes; the key is checked by `claim`,
    once the caller is known (so a bad key from an unauthenticated caller is still their 401).
    """
    if request.method != "POST" or HEADER not in request.headers:
        return None
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request._request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return request.headers[HEADER], digest.hexdigest()


def _parse_key(raw: str) -> str:
    # The draft sends the key as a structured-field string ("..."); Stripe's clients send it bare. Both work.
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        advice = f"Send 1 to {MAX_KEY_LENGTH} printable ASCII characters, such as a UUID, or leave the header out."
        raise ValidationFailed(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
                               details={HEADER: [advice]})
    return key


def claim(request: Request, fingerprint: tuple[str, str], *, allowed: bool) -> Claim:
    """Claim the request's key for this request, or answer from what the key already holds.

    Raises Replay (the stored response), Unprocessable (the key was used for another request), Conflict (a request
    with this key is still running), or Unavailable when the cache cannot be reached (the promise to run once
    cannot be kept). Call after authentication and tenant resolution: the key is scoped by both.
    """
    if not allowed:
        raise ValidationFailed(f"This endpoint does not accept {HEADER}: its response is shown once.",
                               details={HEADER: ["Retry without this header."]})
    key, body_digest = _parse_key(fingerprint[0]), fingerprint[1]
    tenant = getattr(request, "tenant", None)
    scope = f"{principal(request)}\n{getattr(tenant, 'pk', '-')}\n{key}"
    cache_key = f"idem:{hashlib.sha256(scope.encode()).hexdigest()}"
    mine = Claim(cache_key, body_digest)
    cache = caches["default"]
    try:
        for _ in range(2):  # a stored entry may expire between the add and the get: then claim again
            if cache.add(cache_key, {"fingerprint": body_digest},
                         api_settings.IDEMPOTENCY_LOCK_SECONDS):
                return mine
            held = cache.get(cache_key)
            if held is not None:
                break
    except Exception as error:  # the cache backend's own connection errors
        logger.error("Idempotency store unreachable", exc_info=error)
        raise Unavailable(f"{HEADER} cannot be honoured right now; retry shortly.") from None
    if held is None:
        raise Conflict(f"A request with this {HEADER} is still running; retry after it finishes.")
    if held["fingerprint"] != body_digest:
        raise Unprocessable(f"This {HEADER} was used for a different request (method, path or body).",
                            details={HEADER: ["Use a new key for a new request."]})
    if "status" not in held:
        raise Conflict(f"A request with this {HEADER} is still running; retry after it finishes.")
    raise Replay(_replayed(held))


def settle(claim: Claim, response: HttpResponseBase) -> None:
    """Store the finished response for replays, or release the key when it is a 5xx (the work may be retried)."""
    cache = caches["default"]
    try:
        if response.status_code >= 500 or response.streaming:  # a stream (a download) cannot be kept: run again
            cache.delete(claim.cache_key)
            return
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        stored = {"fingerprint": claim.fingerprint, "status": response.status_code,
                  "headers": [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)],
                  "body": bytes(response.content)}
        cache.set(claim.cache_key, stored, api_settings.IDEMPOTENCY_TTL_SECONDS)
    except Exception:  # the work is done and answered; a retry before the claim expires gets a 409
        logger.exception("Could not store the response of an idempotent request")


def _replayed(stored: dict) -> HttpResponse:
    response = HttpResponse(stored["body"], status=stored["status"])
    for name, value in stored["headers"]:
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response
