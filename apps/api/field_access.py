"""Per-role field permissions and row filters of a resource: the rules, and the functions every path applies them by.

A resource declares, per tenant membership role (TESSERA_API["ROLES"]):

    field_permissions = {"viewer": {"hide": ["description"]}, "member": {"read_only": ["priority"]}}
    row_filters = {"viewer": Q(status="completed")}

A hidden field is never rendered to that role (list, detail, actions, the row renderer), never selected from the
database for it, and cannot be filtered, ordered or searched on (a 400 naming the parameter), written (a 403
naming the field) or asked for with `?fields=` (a 400). A read-only field is rendered but writing it is a 400
naming it. A row filter narrows the rows that role sees, through `scoping.scope_queryset`, so list, detail (404),
actions and writes all follow it.

The role is the caller's membership role in the active tenant, as the tenant resolver found it: an API key acts
with its owner's role. Platform admins are held to no rule, as the scope resolver lets them act in any tenant
whatever their membership there. A caller whose role is not known (no membership, or a surface that does not
resolve one) is held to every role's rules at once, the least any role may: failing closed, not open.

Other surfaces (bulk writes, change events, sockets, exports) call the same functions: `hidden_fields`,
`read_only_fields`, `refuse_forbidden_writes`, `visible_data`, and `scope_queryset`.
"""
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.contrib import admin
from django.core.checks import Error
from django.core.exceptions import FieldError
from django.db.models import Model, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from .conf import api_settings
from .errors import PermissionDenied, ValidationFailed

#: The rules a role's entry in `field_permissions` may hold.
RULES = ("hide", "read_only")

NOTHING: frozenset[str] = frozenset()


class Caller(Protocol):
    """Who reads or writes: a DRF request, a socket's `SocketRequest`, anything with the resolved tenant role."""

    user: Any
    tenant_role: str | None


def roles_of(caller: Caller, declared: Mapping[str, Any]) -> tuple[str, ...]:
    """The roles among `declared` (a resource's rules by role) whose rules bind `caller`: none for a platform
    admin, theirs for a member, every one for a caller whose role is not known."""
    if getattr(getattr(caller, "user", None), "is_platform_admin", False):
        return ()
    role = getattr(caller, "tenant_role", None)
    if role is None:
        return tuple(declared)
    return (role,) if role in declared else ()


def _rule(resource: Any, caller: Caller, rule: str) -> frozenset[str]:
    declared = resource.field_permissions
    if not declared:
        return NOTHING
    return frozenset(name for role in roles_of(caller, declared) for name in declared[role].get(rule, ()))


def hidden_fields(resource: Any, caller: Caller) -> frozenset[str]:
    """The fields of `resource` that `caller` may neither read nor write."""
    return _rule(resource, caller, "hide")


def read_only_fields(resource: Any, caller: Caller) -> frozenset[str]:
    """The fields of `resource` that `caller` reads but may not write (on top of the resource's `read_only`)."""
    return _rule(resource, caller, "read_only")


def filter_rows(queryset: QuerySet, resource: Any, caller: Caller) -> QuerySet:
    """`queryset` narrowed by the row filter of the caller's role; `scope_queryset` applies it to every surface."""
    declared = resource.row_filters
    if not declared:
        return queryset
    for role in roles_of(caller, declared):
        queryset = queryset.filter(declared[role])
    return queryset


def refuse_forbidden_writes(resource: Any, caller: Caller, data: Any) -> None:
    """A 403 naming each hidden field `data` sets, else a 400 naming each read-only one; nothing is written.

    Checked on the body as sent, before validation, because a field the serializer does not offer would be
    silently dropped by DRF, and API.md wants a documented field either to work or to be refused.
    """
    if not resource.field_permissions or not isinstance(data, Mapping):
        return
    sent = set(data)
    hidden = sorted(sent & hidden_fields(resource, caller))
    if hidden:
        raise PermissionDenied(f"Your role may not write {', '.join(hidden)}.",
                               details={name: ["Your role may not write this field."] for name in hidden})
    read_only = sorted(sent & read_only_fields(resource, caller))
    if read_only:
        raise ValidationFailed(f"{', '.join(read_only)} is read-only for your role.",
                               details={name: ["This field is read-only for your role."] for name in read_only})


def visible_data(data: Mapping[str, Any], resource: Any, caller: Caller) -> dict[str, Any]:
    """A row already rendered by the resource's serializer (an event's `data`), less what `caller` may not read."""
    hidden = hidden_fields(resource, caller)
    return {name: value for name, value in data.items() if name not in hidden}


def _root(path: str) -> str:
    """The field a lookup, an ordering term (`-due_date`) or a search field (`^title`, DRF's prefixes) starts at."""
    return path.lstrip("-^=@$").split(LOOKUP_SEP)[0]


def reads_hidden(field: serializers.Field, hidden: frozenset[str]) -> bool:
    """Whether a serializer field shows a hidden field: by its name, or by its source (`tenant.name` shows tenant)."""
    return field.field_name in hidden or bool(field.source_attrs and field.source_attrs[0] in hidden)


def hide_fields(serializer: serializers.BaseSerializer, hidden: frozenset[str]) -> None:
    """Drop from `serializer` (or a list serializer's child) every output field that shows a hidden field."""
    if not hidden:
        return
    fields = serializer.child.fields if isinstance(serializer, serializers.ListSerializer) else serializer.fields
    for name in [name for name, field in fields.items() if reads_hidden(field, hidden)]:
        del fields[name]


def mark_read_only(serializer: serializers.BaseSerializer, names: frozenset[str]) -> None:
    """Make `names` read-only in `serializer`, so its forms (browsable API, OPTIONS) offer only what may be written."""
    if not names or isinstance(serializer, serializers.ListSerializer):
        return
    for name in names & set(serializer.fields):
        field = serializer.fields[name]
        field.read_only, field.required = True, False


def hidden_in_output(resource: Any, output_class: Any, caller: Caller) -> frozenset[str]:
    """What `caller` may not read in an action's output: the rules of the resource of the model it renders, if any."""
    model = getattr(getattr(output_class, "Meta", None), "model", None)
    if model is None:
        return NOTHING
    if model is not resource.model:
        if not resource.site.is_registered(model):
            return NOTHING
        resource = resource.site.get_resource(model)
    return hidden_fields(resource, caller)


def refuse_hidden_lookups(resource: Any, query_params: Mapping[str, Any], hidden: frozenset[str],
                          search_fields: Iterable[str]) -> list[str]:
    """A 400 for a filter or an ordering on a hidden field (its values would show through the rows that match);
    returns the search fields left once hidden ones are dropped (a search with none left is a 400 too)."""
    errors = {parameter: ["Your role cannot filter on this field."] for parameter, lookup in resource.filters.items()
              if parameter in query_params and _root(lookup) in hidden}
    ordering = [term.strip() for term in str(query_params.get("ordering") or "").split(",") if term.strip()]
    blocked = [term for term in ordering if _root(term) in hidden]
    if blocked:
        errors["ordering"] = [f"Your role cannot order by {', '.join(blocked)}."]
    searchable = [name for name in search_fields if _root(name) not in hidden]
    if query_params.get("search") and not searchable:
        errors["search"] = ["Your role cannot search this resource."]
    if errors:
        raise ValidationError(errors)
    return searchable


# --- declaration, documentation and admin -------------------------------------------------------------------------
def declared_rules(resource: Any) -> dict[str, dict[str, list[str]]]:
    """The declaration as plain data, per role: {"viewer": {"hide": [...], "read_only": [...]}} (the OpenAPI
    extension `x-field-permissions`)."""
    return {role: {rule: list(entry.get(rule, ())) for rule in RULES if entry.get(rule)}
            for role, entry in resource.field_permissions.items()}


def describe(resource: Any) -> str:
    """Markdown for the OpenAPI description: what each role cannot read or write, and which roles see fewer rows."""
    lines = []
    for role, entry in declared_rules(resource).items():
        parts = []
        if entry.get("hide"):
            parts.append(f"cannot read or write `{'`, `'.join(entry['hide'])}`")
        if entry.get("read_only"):
            parts.append(f"cannot write `{'`, `'.join(entry['read_only'])}`")
        if parts:
            lines.append(f"- **{role}** {' and '.join(parts)}.")
    if resource.row_filters:
        lines.append(f"- Rows are narrowed for: {', '.join(f'**{role}**' for role in resource.row_filters)}.")
    if not lines:
        return ""
    return "**Field permissions by tenant role** (platform admins are held to none):\n\n" + "\n".join(lines)


class FieldPermissionsAdmin(admin.ModelAdmin):
    """The generated admin of a resource with field permissions or row filters.

    The operator console acts across tenants, with no membership role to pick a rule by. Superusers see and
    edit everything, as platform admins do in the API. Any other staff member is held, as an API caller of
    unknown role is, to every role's rules at once, the least any tenant role is allowed field by field: fields
    hidden from some role are hidden (form, columns, search, filters), fields read-only for some role are
    read-only, and every row filter applies.
    Every form field a rule covers says so in its help text, so the declaration is visible to all operators.
    """

    #: The resource's `field_permissions` and `row_filters`, set by `factories.build_admin`.
    api_field_permissions: dict = {}
    api_row_filters: dict = {}

    def _union(self, rule: str) -> frozenset[str]:
        """What a caller of unknown role is held to (`roles_of`): every role's rule at once."""
        return frozenset(name for entry in self.api_field_permissions.values() for name in entry.get(rule, ()))

    def _restricted(self, request: HttpRequest) -> bool:
        return not request.user.is_superuser

    def _hidden(self, request: HttpRequest) -> frozenset[str]:
        return self._union("hide") if self._restricted(request) else NOTHING

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if self._restricted(request):
            for condition in self.api_row_filters.values():
                queryset = queryset.filter(condition)
        return queryset

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [*(super().get_exclude(request, obj) or ()), *sorted(self._hidden(request))]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        hidden = self._hidden(request)
        names = list(super().get_readonly_fields(request, obj))
        if self._restricted(request):
            names += sorted(self._union("read_only") - set(names))
        return [name for name in names if name not in hidden]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        hidden = self._hidden(request)
        return [name for name in super().get_list_display(request) if name not in hidden]

    def get_list_filter(self, request: HttpRequest) -> list[str]:
        hidden = self._hidden(request)
        names = [(entry, entry if isinstance(entry, str) else entry[0] if isinstance(entry, tuple) else None)
                 for entry in super().get_list_filter(request)]
        return [entry for entry, name in names if name is None or _root(name) not in hidden]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        hidden = self._hidden(request)
        return [name for name in super().get_search_fields(request) if _root(name) not in hidden]

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        for name, field in form.base_fields.items():
            note = self._rule_note(name)
            if note:
                field.help_text = f"{field.help_text} {note}".strip()
        return form

    def _rule_note(self, name: str) -> str:
        roles = {rule: [role for role, entry in self.api_field_permissions.items() if name in entry.get(rule, ())]
                 for rule in RULES}
        notes = []
        if roles["hide"]:
            notes.append(f"hidden from {', '.join(roles['hide'])}")
        if roles["read_only"]:
            notes.append(f"read-only for {', '.join(roles['read_only'])}")
        return f"API: {'; '.join(notes)}." if notes else ""


# --- system checks (api.E030-E036) ------------------------------------------------------------------------------------
def check_rules(resource: Any) -> list[Error]:
    """What is wrong with a resource's `field_permissions` and `row_filters`, each error naming the attribute."""
    errors = _check_field_permissions(resource)
    if not isinstance(resource.row_filters, Mapping):
        return errors + [_error(resource, "row_filters", "must be a dict of role -> Q.", "E034",
                                hint='Like row_filters = {"viewer": Q(status="published")}.')]
    for role, condition in resource.row_filters.items():
        errors += _check_role(resource, "row_filters", role)
        if not isinstance(condition, Q):
            errors.append(_error(resource, "row_filters", f"[{role!r}] is {condition!r}, not a Q.", "E034",
                                 hint="Wrap the condition in django.db.models.Q(...)."))
            continue
        try:
            resource.model._default_manager.filter(condition)  # resolves the names at once, runs nothing
        except (FieldError, ValueError, TypeError) as error:
            errors.append(_error(resource, "row_filters", f"[{role!r}] does not resolve on "
                                 f"{resource.model.__name__}: {error}", "E035",
                                 hint=f"Use fields of {resource.model.__name__} and lookups they support."))
    return errors


def _check_field_permissions(resource: Any) -> list[Error]:
    permissions = resource.field_permissions
    shape = 'Like field_permissions = {"viewer": {"hide": ["description"]}, "member": {"read_only": ["priority"]}}.'
    if not isinstance(permissions, Mapping):
        return [_error(resource, "field_permissions", "must be a dict of role -> rules.", "E030", hint=shape)]
    errors = []
    for role, entry in permissions.items():
        errors += _check_role(resource, "field_permissions", role)
        unknown = set(entry) - set(RULES) if isinstance(entry, Mapping) else None
        if unknown is None or unknown:
            errors.append(_error(resource, "field_permissions", f"[{role!r}] must map only {' and '.join(RULES)} to "
                                 f"lists of field names, not {entry!r}.", "E030", hint=shape))
            continue
        for rule in RULES:
            names = entry.get(rule, ())
            if isinstance(names, str) or not all(isinstance(name, str) for name in names):
                errors.append(_error(resource, "field_permissions", f"[{role!r}][{rule!r}] must be a list of field "
                                     "names.", "E030", hint=shape))
                continue
            for name in names:
                if name not in resource.fields:
                    errors.append(_error(resource, "field_permissions", f"[{role!r}][{rule!r}] names {name!r}, which "
                                         "is not in fields.", "E032", hint="Name a field the resource declares."))
                elif rule == "hide" and name == resource.model._meta.pk.name:
                    errors.append(_error(resource, "field_permissions", f"[{role!r}] hides the primary key {name!r}.",
                                         "E033", hint="Rows must stay identifiable; narrow them with row_filters."))
    return errors


def _check_role(resource: Any, attribute: str, role: Any) -> list[Error]:
    if role in api_settings.ROLES:
        return []
    return [_error(resource, attribute, f"names the role {role!r}, which is not a tenant role.", "E031",
                   hint=f"Choose among: {', '.join(api_settings.ROLES)} (TESSERA_API['ROLES']).")]


def _error(resource: Any, attribute: str, message: str, code: str, *, hint: str) -> Error:
    return Error(f"{type(resource).__name__}.{attribute} {message}", hint=hint, obj=type(resource), id=f"api.{code}")
