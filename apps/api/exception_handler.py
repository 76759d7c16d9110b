"""Renders every error, DRF's, Django's and our own, in the one envelope API.md fixes."""
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings as drf_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from apps.platform import error_envelope as codes
from apps.platform.error_envelope import envelope
from apps.platform.security_events import PERMISSION_DENIED, THROTTLED, report_security_event

from . import errors
from .soft_delete import unique_conflict

logger = logging.getLogger("tessera.errors")

_CODES_BY_EXCEPTION = [
    (InvalidToken, codes.TOKEN_INVALID),
    (exceptions.ValidationError, codes.VALIDATION_ERROR),
    (exceptions.ParseError, codes.VALIDATION_ERROR),
    (exceptions.NotAuthenticated, codes.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, codes.AUTHENTICATION_FAILED),
    (exceptions.PermissionDenied, codes.PERMISSION_DENIED),
    (exceptions.NotFound, codes.NOT_FOUND),
    (exceptions.MethodNotAllowed, codes.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, codes.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, codes.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, codes.THROTTLED),
]

#: Refusals the audit trail hears about (settings.SECURITY_EVENT_HANDLER), by envelope code.
_SECURITY_EVENTS_BY_CODE = {codes.PERMISSION_DENIED: PERMISSION_DENIED, codes.THROTTLED: THROTTLED}

_MESSAGES_BY_CODE = {
    codes.VALIDATION_ERROR: "Invalid input.",
    codes.SERVER_ERROR: "An unexpected error occurred. It has been logged; quote the request id when reporting it.",
}


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: maps the exception to an envelope; anything unknown becomes a logged 500."""
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when DRF first reads request.body; DRF has no exception of its own for 413.
        exc = errors.PayloadTooLarge()
    exc = unique_conflict(exc, context.get("view")) or exc
    if isinstance(exc, errors.DomainError):
        if exc.security_event is None:
            _report_refusal(exc.code, exc.message, context)
        return envelope(exc.code, exc.message, status_code=exc.status_code, details=exc.details)
    exc = _as_drf_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context["view"].__class__.__name__, exc_info=exc)
        return envelope(codes.SERVER_ERROR, _MESSAGES_BY_CODE[codes.SERVER_ERROR],
                        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)
    code = _code_for(exc)
    details = _details_for(exc)
    _report_refusal(code, _flatten_message(exc.detail), context, retry_after=getattr(exc, "wait", None))
    if _only_uniqueness_failed(exc):
        # A value someone else already holds is a conflict with the current state, not malformed input (API.md:
        # a duplicate email is a 409), whichever resource's unique field it is.
        return envelope(codes.CONFLICT, "A row with this value already exists.",
                        status_code=status.HTTP_409_CONFLICT, details=details)
    message = _MESSAGES_BY_CODE.get(code) if details else None
    return envelope(code, message or _flatten_message(exc.detail), status_code=response.status_code,
                    details=details, headers=_passthrough_headers(response))


def _report_refusal(code: str, message: str, context, **extra) -> None:
    """Tell the security event handler about a 403 or 429; the message is ours, never the client's input."""
    event = _SECURITY_EVENTS_BY_CODE.get(code)
    request = context.get("request")
    if event is None or request is None:
        return
    details = {"reason": message, "method": request.method, "view": type(context["view"]).__name__}
    details.update({name: value for name, value in extra.items() if value is not None})
    report_security_event(event, request, details)


def _only_uniqueness_failed(exc) -> bool:
    if not isinstance(exc, exceptions.ValidationError):
        return False
    codes = set(_leaves(exc.get_codes()))
    return codes == {"unique"}


def _leaves(codes):
    if isinstance(codes, dict):
        codes = codes.values()
    if isinstance(codes, (list, tuple)) or hasattr(codes, "__iter__") and not isinstance(codes, str):
        for item in codes:
            yield from _leaves(item)
    else:
        yield codes


def _as_drf_exception(exc):
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, TokenError):
        return InvalidToken(str(exc))
    return exc


def _code_for(exc) -> str:
    for exception_class, code in _CODES_BY_EXCEPTION:
        if isinstance(exc, exception_class):
            return code
    return getattr(exc, "default_code", codes.SERVER_ERROR)


def _details_for(exc) -> dict:
    """Field errors for validation failures; nothing for the rest (their message says it all)."""
    if not isinstance(exc, exceptions.ValidationError):
        return {}
    if isinstance(exc.detail, dict):
        return exc.detail
    return {drf_settings.NON_FIELD_ERRORS_KEY: exc.detail if isinstance(exc.detail, list) else [exc.detail]}


def _flatten_message(detail) -> str:
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return str(detail)


def _passthrough_headers(response) -> dict:
    return {name: response[name] for name in ("Retry-After", "WWW-Authenticate", "Allow") if response.has_header(name)}
