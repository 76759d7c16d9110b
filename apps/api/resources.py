"""`Resource`: the declaration a developer writes once per model, in the spirit of `ModelAdmin`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from rest_framework.request import Request

from .actions import ActionSpec
from .soft_delete import mark_deleted

if TYPE_CHECKING:
    from .sites import ResourceSite

#: The generated CRUD operations, in DRF's names; `update` covers PUT and PATCH.
ALL_OPERATIONS = ("list", "create", "retrieve", "update", "destroy")

#: Which scope verb each generated operation needs.
OPERATION_VERBS = {"list": "read", "retrieve": "read", "create": "write", "update": "write",
                   "partial_update": "write", "destroy": "delete",
                   # soft delete's verbs (soft_delete.py), routed only on a resource with `soft_delete`
                   "restore": "delete", "purge": "delete"}


@dataclass(frozen=True)
class Admin:
    """Options for the generated Django admin page; each left empty is derived from the resource."""

    list_display: tuple = ()
    list_filter: tuple = ()
    search_fields: tuple = ()
    readonly_fields: tuple = ()
    extra: dict = field(default_factory=dict)


class Resource:
    """Declares how one model is exposed: fields, filters, scoping, verbs. Subclass it in an app's `api.py`.

    The class docstring of a subclass is the OpenAPI description of its endpoints: write it for API users.
    Ordering on a field with choices follows the order the choices are declared in (so priority orders by
    severity), and every ordering ends with the primary key so pages never overlap.
    """

    #: URL prefix and router basename (`/api/v1/<name>/`); defaults to the model's plural verbose name.
    name: str | None = None
    #: Scope prefix: the resource needs `<scope>:read`, `:write` and `:delete`. Defaults to `name`.
    scope: str | None = None
    #: Foreign key to the tenant: rows are filtered to, and stamped with, the active tenant. Never writable.
    tenant_field: str | None = None
    #: Foreign key to the user: rows are filtered to, and stamped with, request.user. Never writable.
    owner_field: str | None = None
    #: Serialized fields, an explicit allow-list ("__all__" is refused by check api.E013).
    fields: tuple = ()
    #: Fields shown but never written by clients.
    read_only: tuple = ()
    #: Per tenant membership role (TESSERA_API["ROLES"]), fields it may not read or write ("hide": never rendered,
    #: a 403 when written) or only read ("read_only": a 400 when written), e.g. `{"viewer": {"hide":
    #: ["description"]}, "member": {"read_only": ["priority"]}}`. Platform admins are held to none (field_access.py).
    field_permissions: dict = {}
    #: Per tenant membership role, a `Q` the rows must also match for that role to see (or change) them.
    row_filters: dict = {}
    #: Query parameter -> ORM lookup (`{"due_before": "due_date__lte"}`); nothing else is filterable.
    filters: dict = {}
    #: Fields `?search=` looks in (case-insensitive containment).
    search: tuple = ()
    #: Fields `?ordering=` accepts (prefix `-` for descending); anything else is a 400.
    ordering: tuple = ()
    #: Ordering when the client asks for none.
    default_ordering: tuple = ("-pk",)
    #: Relations fetched with the rows, so serializing a page costs a constant number of queries.
    select_related: tuple = ()
    #: Which generated operations exist (subset of list, create, retrieve, update, destroy).
    operations: tuple = ALL_OPERATIONS
    #: Only platform admins hold this resource's scopes (user management, for example).
    admin_only: bool = False
    #: For the person signed in (JWT, session), never for API keys whatever scopes they hold (a 403): the
    #: resource manages the account itself, as API keys do.
    personal: bool = False
    #: A named visibility policy `fn(queryset, *, request)` replacing the tenant/owner filter (see scoping.py).
    visibility = None
    #: How a detail URL names a row: `fn(value) -> filter kwargs`, with `lookup_value_regex` the URL part it
    #: accepts; by default the numeric id. (Tenants take their id or slug, as X-Tenant-ID does.)
    lookup = None
    lookup_value_regex: str = "[0-9]+"
    #: The name of that URL part, in paths and in the OpenAPI schema (`/migrations/{session_id}/`).
    lookup_url_kwarg: str = "id"
    #: Escape hatch: a hand-written serializer class to use instead of the generated one.
    serializer_class = None
    #: Render list and detail GETs from rows with orjson wherever that is byte for byte the serializer's JSON
    #: (apps/api/rendering.py says when); False keeps the serializer for every read.
    fast_render: bool = True
    #: Options for the generated admin page; `False` skips the admin registration.
    admin: Admin | bool = Admin()
    #: Rows per page unless `TESSERA_API["RESOURCES"][name]["page_size"]` says otherwise.
    page_size: int | None = None
    #: Request rate per user or API key for all of this resource's endpoints, e.g. "200/m", or several rates that
    #: all hold, e.g. ("60/m", "1000/h") (on top of TESSERA_API["DEFAULT_THROTTLE"], which counts every endpoint
    #: together).
    throttle: str | tuple | None = None
    #: Rates per action, e.g. {"create": "10/m", "list": "30/m", "destroy": "5/m"} (DRF's action names).
    throttles: dict = {}
    #: Bulk writes: which of "create", "update" (partial, as PATCH) and "delete" `POST /<name>/bulk` accepts, each
    #: item going through the same validation, hooks, scopes and rate limits as its single write (apps/api/bulk.py).
    bulk: tuple = ()
    #: Most operations one bulk request may carry; None means TESSERA_API["BULK_MAX_ITEMS"].
    bulk_max_items: int | None = None
    #: Whether POSTs honour `Idempotency-Key` (apps/api/idempotency.py). A replay re-sends the stored response, so a
    #: resource whose create shows a secret once turns it off: the header is then refused (400), never ignored.
    idempotent: bool = True
    #: Whether the resource is routed at all (settings can switch it off without code).
    enabled: bool = True
    #: A nullable DateTimeField: DELETE sets it instead of deleting the row, reads leave such rows out, and
    #: `restore` and `purge` (hard delete) appear (apps/api/soft_delete.py). List it in read_only to show it.
    soft_delete: str | None = None
    #: Strong ETags on detail, weak ones on lists, 304 for `If-None-Match`, 412 for a stale `If-Match` on PUT,
    #: PATCH and DELETE (apps/api/conditional.py). Off costs nothing; settings may switch it per resource.
    etags: bool = False
    #: A DateTimeField the server updates on every change (`auto_now`): detail GETs send it as `Last-Modified`
    #: and honour `If-Modified-Since`, when `etags` is on.
    last_modified: str | None = None
    #: Change events (apps/events): True announces every change the resource can (created, updated, deleted,
    #: each detail action by its name, each lifecycle event), or list the ones wanted. Each is written in the
    #: change's own transaction and delivered after commit as `{id, type, tenant, occurred_at, data}`.
    events: bool | tuple = False
    #: The first part of event types, "<event_name>.<event>"; defaults to `name` ("tasks.created").
    event_name: str | None = None
    #: Events the app's services announce for state changes that are neither a write nor an action, with
    #: `api.events.emit(row, "started")` (a job starting, a migration completing).
    lifecycle_events: tuple = ()
    #: Declared verbs by attribute name; filled in from `@api.action` methods when the class is defined.
    actions: dict[str, ActionSpec] = {}

    def __init__(self, model: type[models.Model], site: ResourceSite) -> None:
        self.model = model
        self.site = site
        self.name = self.name or str(model._meta.verbose_name_plural).replace(" ", "-")
        self.scope = self.scope or self.name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.actions = {
            attr: value.action_spec
            for klass in reversed(cls.__mro__)
            for attr, value in vars(klass).items()
            if isinstance(getattr(value, "action_spec", None), ActionSpec)
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def basename(self) -> str:
        return self.name.replace("/", "-")

    # --- scopes -------------------------------------------------------------------------------
    def scope_for(self, action_name: str) -> str | None:
        """The scope an operation or declared action needs."""
        if action_name in self.actions:
            return self.actions[action_name].scope
        if action_name == "bulk":  # the scope to send one; a bulk with deletes also needs :delete (bulk.py)
            return f"{self.scope}:{'write' if {'create', 'update'} & set(self.bulk) else 'delete'}"
        verb = OPERATION_VERBS.get(action_name)
        return f"{self.scope}:{verb}" if verb else None

    def declared_scopes(self) -> set[str]:
        verbs = {OPERATION_VERBS[op] for op in self.operations}
        return {f"{self.scope}:{verb}" for verb in verbs} | {spec.scope for spec in self.actions.values() if spec.scope}

    # --- hooks (same names and timing as DRF's, but they receive validated data) -----------------
    def get_queryset(self, request: Request) -> models.QuerySet[Any]:
        """Rows before scoping. Override to narrow or annotate; scoping is applied after, always."""
        queryset = self.model._default_manager.all()
        # select_related() without arguments would follow every foreign key, so only call it with names.
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def perform_create(self, request: Request, data: dict[str, Any]) -> models.Model:
        """Create a row from validated data, stamped with the active tenant and the current user."""
        data = {**data, **self.stamps(request)}
        many_to_many = {f.name: data.pop(f.name) for f in self.model._meta.many_to_many if f.name in data}
        instance = self.model._default_manager.create(**data)
        for name, values in many_to_many.items():
            getattr(instance, name).set(values)
        return instance

    def perform_update(self, request: Request, instance: models.Model, data: dict[str, Any]) -> models.Model:
        """Apply validated data and save only the fields that changed (plus auto_now timestamps)."""
        many_to_many = {f.name: data.pop(f.name) for f in self.model._meta.many_to_many if f.name in data}
        for name, value in data.items():
            setattr(instance, name, value)
        auto_now = [f.name for f in self.model._meta.concrete_fields if getattr(f, "auto_now", False)]
        instance.save(update_fields=[*data, *auto_now])
        for name, values in many_to_many.items():
            getattr(instance, name).set(values)
        return instance

    def perform_destroy(self, request: Request, instance: models.Model) -> None:
        """Delete the row, or mark it deleted when the resource has `soft_delete`."""
        if self.soft_delete:
            mark_deleted(self, instance)
        else:
            instance.delete()

    def stamps(self, request: Request) -> dict[str, Any]:
        """The server-side values every new row gets: its tenant and its owner."""
        stamps = {}
        if self.tenant_field:
            stamps[self.tenant_field] = request.tenant
        if self.owner_field:
            stamps[self.owner_field] = request.user
        return stamps
