"""`report_security_event()`: hands refusals (403, 429) to the project's audit trail.

The platform must not import the apps built on it, so the receiver is a dotted path in the flat setting
`SECURITY_EVENT_HANDLER`, called as `handler(event, request, details)`. Flat like `TRUSTED_PROXY_COUNT`: it
wires the deployment together rather than configuring the generator.
"""
import logging
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string
from rest_framework.request import Request

logger = logging.getLogger("tessera.security")

PERMISSION_DENIED = "permission_denied"
THROTTLED = "throttled"


def report_security_event(event: str, request: HttpRequest | Request, details: dict[str, Any]) -> None:
    """Pass `event` to the configured handler; a failing handler is logged, never turned into a 500."""
    path = getattr(settings, "SECURITY_EVENT_HANDLER", None)
    if not path:
        return
    try:
        _handler(path)(event, request, details)
    except Exception:
        logger.exception("The security event handler failed on %s", event)


@lru_cache(maxsize=4)
def _handler(path: str):
    return import_string(path)
