"""Domain errors that services raise, each carrying its API.md envelope code (apps/platform/error_envelope.py)
and HTTP status."""
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

from apps.platform.error_envelope import (
    CONFLICT,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PERMISSION_DENIED,
    PRECONDITION_FAILED,
    UNAVAILABLE,
    VALIDATION_ERROR,
)


class DomainError(APIException):
    """A business rule said no. Services raise it; the exception handler renders the envelope.

    It is a DRF `APIException` so that DRF's own code treats it as a refusal: the browsable API re-runs
    the permission checks to decide which forms to draw and only catches `APIException`; anything else
    raised there (a tenant refusal) turned a 403 page into a 500.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    code = VALIDATION_ERROR
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None,
                 security_event: str | None = None, security_details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        #: A security event more specific than a plain refusal (a cross-tenant attempt), named by the code that
        #: refused (a selector, which only reads) for the access chokepoint to report once with
        #: `security_details` (scoping.resolve_access); the exception handler then leaves this refusal alone.
        self.security_event = security_event
        self.security_details = security_details or {}
        super().__init__(self.message, code=self.code)


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule; `details` maps field names to messages, like DRF."""

    default_message = "Invalid input."


class PermissionDenied(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = PERMISSION_DENIED
    default_message = "You do not have permission to perform this action."


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = NOT_FOUND
    default_message = "Not found."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = CONFLICT
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(DomainError):
    """An `If-Match` named a version of the row that is no longer current (conditional.py)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    code = PRECONDITION_FAILED
    default_message = "The row changed since you read it; read it again and retry."


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = PAYLOAD_TOO_LARGE
    default_message = "The request body is too large."


class Unavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = UNAVAILABLE
    default_message = "A service this request needs is unavailable. Try again shortly."
