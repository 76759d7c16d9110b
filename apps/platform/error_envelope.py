"""The one error envelope of docs/API.md, `{"error": {"code", "message", "details", "request_id"}}`: its codes,
its responses, and its OpenAPI component.

Every endpoint answers errors in it: the generator's (through its exception handler and domain errors,
apps/api/errors.py) and the platform's own (readiness, the 404 and 500 handlers), so it lives below both.
"""
from typing import Any

from django.http import JsonResponse
from rest_framework import serializers
from rest_framework.response import Response

from .request_context import current_request_id

#: The envelope codes of API.md, in one place.
VALIDATION_ERROR = "validation_error"
NOT_AUTHENTICATED = "not_authenticated"
AUTHENTICATION_FAILED = "authentication_failed"
TOKEN_INVALID = "token_invalid"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
NOT_ACCEPTABLE = "not_acceptable"
CONFLICT = "conflict"
PRECONDITION_FAILED = "precondition_failed"
PAYLOAD_TOO_LARGE = "payload_too_large"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
UNPROCESSABLE = "unprocessable"
THROTTLED = "throttled"
SERVER_ERROR = "server_error"
UNAVAILABLE = "unavailable"


def envelope(code: str, message: str, *, status_code: int, details: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Response:
    """A DRF response in the API.md error envelope."""
    body = {"error": {"code": code, "message": message, "details": details or {},
                      "request_id": current_request_id()}}
    return Response(body, status=status_code, headers=headers)


def envelope_json(code: str, message: str, *, status_code: int) -> JsonResponse:
    """The same envelope outside DRF (Django's 404/500 handlers, middleware)."""
    body = {"error": {"code": code, "message": message, "details": {}, "request_id": current_request_id()}}
    return JsonResponse(body, status=status_code)


class ErrorDetail(serializers.Serializer):
    code = serializers.ChoiceField(choices=[
        VALIDATION_ERROR, NOT_AUTHENTICATED, AUTHENTICATION_FAILED, TOKEN_INVALID, PERMISSION_DENIED, NOT_FOUND,
        METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, CONFLICT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNPROCESSABLE,
        THROTTLED, SERVER_ERROR, UNAVAILABLE,
        PRECONDITION_FAILED])
    message = serializers.CharField()
    details = serializers.DictField(help_text="Field name -> list of messages, for validation errors.")
    request_id = serializers.CharField()


class ErrorEnvelope(serializers.Serializer):
    """Every error response has this shape (API.md)."""

    error = ErrorDetail()
