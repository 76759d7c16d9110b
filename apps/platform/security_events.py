"""`report_security_event()`: hands refusals the generator makes (403, 429) to the project's audit trail.

The generator must not import the apps built on it, so the receiver is a dotted path in
`TESSERA_API["SECURITY_EVENT_HANDLER"]`, called as `handler(event, request, details)`.
"""
import logging
from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string
from rest_framework.request import Request

from apps.api.conf import api_settings

logger = logging.getLogger("tessera.security")

PERMISSION_DENIED = "permission_denied"
THROTTLED = "throttled"


def report_security_event(event: str, request: HttpRequest | Request, details: dict[str, Any]) -> None:
    """Pass `event` to the configured handler; a failing handler is logged, never turned into a 500."""
    path = api_settings.SECURITY_EVENT_HANDLER
    if not path:
        return
    try:
        _handler(path)(event, request, details)
    except Exception:
        logger.exception("The security event handler failed on %s", event)


@lru_cache(maxsize=4)
def _handler(path: str):
    return import_string(path)
