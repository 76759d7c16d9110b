"""Admin actions for generated admins (`Admin(extra={"actions": [...]})`) that call a resource's services.

Each selected row is operated on by itself, so a row in the wrong state does not stop the others, and every
row is reported as a message: done, or why the service refused (its `DomainError`, with the fields it names).
"""
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .errors import DomainError


def refusal_text(refusal: DomainError) -> str:
    """The refusal's message and what it says about each field (a ValidationFailed's message is generic)."""
    reasons = [f"{field}: {reason}" for field, reasons in refusal.details.items()
               for reason in (reasons if isinstance(reasons, list) else [reasons])]
    return " ".join([refusal.message, *reasons])


def admin_action(name: str, description: str, service: Callable[..., Any], *, done: str, operator: str | None = None,
                 **arguments: Any) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], None]:
    """An action named `name` that calls `service(row, **arguments)` on each selected row, with the signed-in
    staff user as the keyword argument `operator` names (`started_by`), and reports "<row>: <done>." or the
    refusal per row. It needs the model's change permission."""

    def action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        by = {operator: request.user} if operator else {}
        for row in queryset.order_by("pk"):
            try:
                service(row, **arguments, **by)
            except DomainError as refusal:
                model_admin.message_user(request, f"{row}: {refusal_text(refusal)}", messages.WARNING)
            except queryset.model.DoesNotExist:  # deleted through the API since the list was shown
                model_admin.message_user(request, f"{row}: no longer exists.", messages.WARNING)
            else:
                model_admin.message_user(request, f"{row}: {done}.", messages.SUCCESS)

    action.__name__ = action.__qualname__ = name
    return admin.action(description=description, permissions=["change"])(action)
