"""Soft delete: `Resource.soft_delete = "deleted_at"` turns DELETE into setting that timestamp.

Reads leave marked rows out at the one chokepoint (`scoping.scope_queryset`), so lists, details, actions, jobs
and sockets agree. `?include_deleted=true` on a list or a detail shows them too, to callers holding the
resource's delete scope: who may delete a row may see what was deleted and put it back. `POST <id>/restore`
(the delete scope) clears the mark; `POST <id>/purge` deletes the row for good and is for the tenant's managers
(`TESSERA_API["PURGE_ROLES"]`, owners and admins by default) and platform admins. The admin page lists every row,
with a filter on the mark and actions to restore, mark and purge.

Uniqueness: a marked row still holds its values, so a unique field would block reusing them. Declare the
uniqueness as `UniqueConstraint(..., condition=Q(deleted_at__isnull=True))` instead; check api.W054 says
which ones do not, and a restore that would collide with a live row is a 409.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .conf import api_settings
from .errors import Conflict, NotFound, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from rest_framework.request import Request

    from .resources import Resource
    from .viewsets import ResourceViewSet

INCLUDE_DELETED = "include_deleted"
#: Spellings `?include_deleted=` accepts, as django-filter's boolean filters do.
TRUTH = {"true": True, "1": True, "false": False, "0": False}
#: The verbs soft delete adds to a resource, with the statuses they answer.
VERBS = ("restore", "purge")
#: A unique violation, as PostgreSQL and as SQLite (the embedded default, which names no constraint) say it.
UNIQUE_VIOLATION = "23505"
SQLITE_UNIQUE = "SQLITE_CONSTRAINT_UNIQUE"


def live(queryset: models.QuerySet, resource: Resource) -> models.QuerySet:
    """The rows of `queryset` that are not marked deleted."""
    return queryset.filter(**{f"{resource.soft_delete}__isnull": True})


def includes_deleted(view: ResourceViewSet) -> bool:
    """Whether this request reads marked rows too: restore and purge always (they act on them), a list or detail
    that asks with `?include_deleted=true` and may, nothing else (a marked row cannot be changed)."""
    resource = view.resource
    if not resource.soft_delete:
        return False
    if view.action in VERBS:
        return True
    if view.action not in ("list", "retrieve"):
        return False
    raw = view.request.query_params.get(INCLUDE_DELETED)
    if raw is None:
        return False
    wanted = TRUTH.get(raw.lower())
    if wanted is None:
        raise ValidationFailed(details={INCLUDE_DELETED: ["Must be true or false."]})
    required = resource.scope_for("destroy")
    if wanted and required not in view.request.scopes:
        raise PermissionDenied(f"?{INCLUDE_DELETED}=true needs the '{required}' scope.")
    return wanted


def auto_now_fields(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if getattr(field, "auto_now", False)]


def mark_deleted(resource: Resource, instance: models.Model) -> None:
    """Set the mark (and the update time) with one conditional UPDATE, so of two concurrent DELETEs one is a 404."""
    now = timezone.now()
    changes = {resource.soft_delete: now, **dict.fromkeys(auto_now_fields(type(instance)), now)}
    marked = live(type(instance)._default_manager.filter(pk=instance.pk), resource).update(**changes)
    if not marked:
        raise NotFound()
    for name, value in changes.items():
        setattr(instance, name, value)


@transaction.atomic
def restore(resource: Resource, instance: models.Model) -> models.Model:
    """Clear the mark of a deleted row. A row that is not deleted is a 409, and so is one whose unique values a live
    row took meanwhile (the partial unique constraints refuse it)."""
    model = type(instance)
    # FOR UPDATE: a restore and a purge or a second restore of the same row must serialize.
    instance = model._default_manager.select_for_update(of=("self",)).get(pk=instance.pk)
    if getattr(instance, resource.soft_delete) is None:
        raise Conflict("This row is not deleted.")
    setattr(instance, resource.soft_delete, None)
    try:
        with transaction.atomic():
            instance.save(update_fields=[resource.soft_delete, *auto_now_fields(model)])
    except IntegrityError:
        raise Conflict("A row that is not deleted already holds one of this row's unique values.") from None
    return instance


def unique_conflict(exc: Exception, view: Any) -> Conflict | None:
    """A 409 for a write a unique constraint refused in the database, naming the resource's fields it covers.

    Partial constraints (`condition=Q(deleted_at__isnull=True)`), and those over the tenant, which no client
    sends, are not checked by DRF's validators; PostgreSQL is then the one that refuses, and that is a conflict
    with the current rows like the ones the validators find (exception_handler.py), not a 500."""
    cause = getattr(exc, "__cause__", None)
    if not isinstance(exc, IntegrityError) or not (getattr(cause, "sqlstate", None) == UNIQUE_VIOLATION
                                                   or getattr(cause, "sqlite_errorname", None) == SQLITE_UNIQUE):
        return None
    resource = getattr(view, "resource", None)
    constraint_name = getattr(getattr(cause, "diag", None), "constraint_name", None)
    fields = next((constraint.fields for constraint in resource.model._meta.constraints
                   if constraint.name == constraint_name), ()) if resource is not None else ()
    message = "A row with this value already exists."
    return Conflict(message, details={name: [message] for name in fields if name in resource.fields})


def may_purge(request: Request) -> bool:
    """Platform admins, and the active tenant's managers (`TESSERA_API["PURGE_ROLES"]`)."""
    return (getattr(request.user, "is_platform_admin", False)
            or getattr(request, "tenant_role", None) in api_settings.PURGE_ROLES)


def build_actions(resource: Resource, serializer_class: type) -> dict[str, Any]:
    """The DRF actions `restore` and `purge` of a soft-delete resource, documented for OpenAPI."""
    from drf_spectacular.utils import extend_schema
    from rest_framework.decorators import action
    from rest_framework.response import Response

    def restore_handler(self, request, **kwargs):
        return Response(self.get_serializer(restore(self.resource, self.get_object())).data)

    def purge_handler(self, request, **kwargs):
        if not may_purge(request):
            raise PermissionDenied("Only the tenant's owners and admins can purge rows.")
        self.get_object().delete()
        return Response(status=204)

    operation = resource.basename.replace("-", "_")
    restore_handler.__name__, purge_handler.__name__ = VERBS
    restore_doc = (f"Put back a deleted row (needs `{resource.scope_for('restore')}`); it shows in lists again. "
                   "A row that is not deleted is 409, and so is one whose unique values another row now holds.")
    purge_doc = (f"Delete a row for good, deleted or not (needs `{resource.scope_for('purge')}` and the owner or "
                 "admin role in the tenant); 204. This cannot be undone.")
    return {
        "restore": extend_schema(description=restore_doc, operation_id=f"{operation}_restore", request=None,
                                 responses={200: serializer_class})(
            action(detail=True, methods=["post"])(restore_handler)),
        "purge": extend_schema(description=purge_doc, operation_id=f"{operation}_purge", request=None,
                               responses={204: None})(action(detail=True, methods=["post"])(purge_handler)),
    }


# --- the operator console -----------------------------------------------------------------------------------------
def admin_options(resource: Resource) -> dict[str, Any]:
    """What the generated admin page adds for a soft-delete resource: the mark as a column and a filter, and
    actions to restore, mark and purge (Django's own "delete selected", with its confirmation page)."""
    field = resource.soft_delete

    class DeletedFilter(admin.SimpleListFilter):
        title = "deleted"
        parameter_name = "deleted"

        def lookups(self, request, model_admin):
            return [("no", "Not deleted"), ("yes", "Deleted")]

        def queryset(self, request, queryset):
            if self.value() in ("yes", "no"):
                return queryset.filter(**{f"{field}__isnull": self.value() == "no"})
            return queryset

    @admin.action(description="Restore selected", permissions=["change"])
    def restore_selected(model_admin, request, queryset):
        restored = 0
        for instance in queryset.filter(**{f"{field}__isnull": False}):
            try:
                restore(resource, instance)
                restored += 1
            except Conflict as refusal:
                model_admin.message_user(request, f"{instance}: {refusal.message}", messages.ERROR)
        model_admin.message_user(request, f"Restored {restored} row(s).")

    @admin.action(description="Mark selected deleted (soft delete)", permissions=["change"])
    def mark_selected_deleted(model_admin, request, queryset):
        now = timezone.now()
        changes = {field: now, **dict.fromkeys(auto_now_fields(queryset.model), now)}
        count = queryset.filter(**{f"{field}__isnull": True}).update(**changes)
        model_admin.message_user(request, f"Marked {count} row(s) deleted.")

    def get_actions(model_admin, request):
        found = admin.ModelAdmin.get_actions(model_admin, request)
        if "delete_selected" in found:
            function, name, _ = found["delete_selected"]
            found["delete_selected"] = (function, name, "Purge selected (delete for good)")
        return found

    return {"list_filter": [DeletedFilter], "actions": [restore_selected, mark_selected_deleted],
            "get_actions": get_actions}


# --- system checks (api.E050-E054) --------------------------------------------------------------------------------
def check(resource: Resource) -> list[checks.CheckMessage]:
    name = resource.soft_delete
    if not name:
        return []
    model, owner = resource.model, type(resource)
    label = f"{owner.__name__}.soft_delete"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return [checks.Error(f"{label} names {name!r}, which is not a field of {model.__name__}.", obj=owner,
                             id="api.E050", hint=f"Add `{name} = models.DateTimeField(null=True, blank=True, "
                                                 "editable=False)` to the model, with a migration.")]
    if not isinstance(field, models.DateTimeField) or not field.null:
        return [checks.Error(f"{label} names {name!r}, which is not a nullable DateTimeField.", obj=owner,
                             id="api.E051", hint="The mark is a time, and NULL means live: use "
                                                 "models.DateTimeField(null=True, blank=True, editable=False).")]
    errors = []
    if name in resource.fields and name not in resource.read_only:
        errors.append(checks.Error(f"{label}: {name!r} is writable; clients delete with DELETE and restore with "
                                   "restore.", obj=owner, id="api.E052", hint=f"Add {name!r} to read_only."))
    clashes = [verb for verb in VERBS if verb in resource.actions]
    if clashes:
        errors.append(checks.Error(f"{label}: the resource declares actions named {clashes}, which soft delete "
                                   "adds itself.", obj=owner, id="api.E053", hint="Rename those actions."))
    errors += [checks.Warning(f"{label}: {what} of {model.__name__} counts deleted rows too, so a deleted row "
                              "blocks its values for good.", obj=owner, id="api.W054",
                              hint=f"Declare it as models.UniqueConstraint(fields=[...], "
                                   f"condition=Q({name}__isnull=True), name=...).")
               for what in unconditional_uniques(model)]
    return errors


def unconditional_uniques(model: type[models.Model]) -> list[str]:
    """The unique fields, `unique_together` sets and unconditional unique constraints of `model`."""
    found = [f"the unique field {field.name!r}" for field in model._meta.concrete_fields
             if field.unique and not field.primary_key]
    found += [f"unique_together {tuple(names)}" for names in model._meta.unique_together]
    found += [f"the constraint {constraint.name!r}" for constraint in model._meta.constraints
              if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None]
    return found


# --- OpenAPI ------------------------------------------------------------------------------------------------------
#: The description of DELETE on a soft-delete resource.
DESTROY_TEXT = "Marks the row deleted (204): lists and details leave it out from now on, and `restore` puts it back."


def openapi_parameters(view: ResourceViewSet) -> list:
    """`?include_deleted=` on the list and the detail of a soft-delete resource."""
    from drf_spectacular.utils import OpenApiParameter

    resource = view.resource
    if not resource.soft_delete or getattr(view, "action", None) not in ("list", "retrieve"):
        return []
    return [OpenApiParameter(INCLUDE_DELETED, bool, OpenApiParameter.QUERY, required=False,
                             description=f"Deleted rows too (their `{resource.soft_delete}` is set). Needs the "
                                         f"`{resource.scope_for('destroy')}` scope (403 without).")]
