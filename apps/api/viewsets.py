"""`ResourceViewSet`, the one hand-written base every generated viewset subclasses, and `ApiView` for hand-written routes."""
from collections.abc import Mapping
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpResponseBase
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, mixins
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.relations import ManyRelatedField, RelatedField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from . import bulk, conditional, events, field_access, idempotency, soft_delete, sparse
from .errors import DomainError
from .ordering import ResourceOrderingFilter
from .pagination import ResourcePagination
from .permissions import Access, HasScope
from .rates import rates_of
from .rendering import RowRenderer, RowsResponse
from .scoping import AccessContext, require_tenant, resolve_access, scope_queryset
from .serializers import refuse_null_characters
from .throttling import RateLimitThrottle, RequestRoundTrip


def bind_tenant_and_scopes(request: Request) -> None:
    """Attach the active tenant, the membership role and the effective scopes to an authenticated request.

    Runs after authentication and before permission checks: with JWT and API keys the user is only
    known inside DRF, not in middleware. A tenant the user may not enter is a 403 from the resolver.

    The outcome, refusal included, is resolved once per HTTP request and kept on the Django request:
    the browsable API checks permissions again on clones of the DRF request to draw its forms, and a
    second resolution would audit a cross-tenant attempt a second time.
    """
    outcome = getattr(request._request, "tenant_resolution", None)
    if outcome is None:
        try:
            outcome = resolve_access(AccessContext.of(request))
        except DomainError as refusal:
            outcome = refusal
        request._request.tenant_resolution = outcome
    if isinstance(outcome, Exception):
        raise outcome
    request.tenant = request._request.tenant = outcome.tenant
    request.tenant_role = outcome.role
    request.scopes = outcome.scopes


class TenantContextMixin:
    """What generated and hand-written views share: tenant and scopes resolved between authentication and
    permissions, and rate limits (`throttling.py`) that also count failed authentication attempts."""

    throttle_classes = [RateLimitThrottle]
    #: Answer 503 rather than skip the limits when the rate-limit store is down (views that authenticate).
    rate_limit_fail_closed = False

    def declared_rates(self) -> list[tuple[str, str]]:
        """(group, rate) pairs this view adds for authenticated callers."""
        return []

    def extra_limits(self, request: Request) -> list:
        """Further `throttling.Limit`s for any caller (the login view limits attempts per email)."""
        return []

    def rate_weight(self, request: Request, group: str) -> int:
        """How many requests this one counts as in `group` (a bulk write counts its operations)."""
        return 1

    def perform_authentication(self, request: Request) -> None:
        # Authenticators read the caller's cached state through it, with this request's counters (throttling.py).
        request.round_trip = RequestRoundTrip(request, self)
        try:
            super().perform_authentication(request)
        except AuthenticationFailed:
            # Bad credentials count as anonymous traffic, so guessing tokens or keys runs into a 429.
            self.check_throttles(request)
            raise

    def check_permissions(self, request: Request) -> None:
        if request.user.is_authenticated:
            bind_tenant_and_scopes(request)
        else:
            request.tenant, request.tenant_role, request.scopes = None, None, frozenset()
        # Counted before permissions (DRF counts after), so refused requests (401, 403) use up the rate too.
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        if getattr(request, "rate_limits_counted", False):
            return  # DRF calls it again after permissions; each request is counted once
        request.rate_limits_counted = True
        super().check_throttles(request)

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any,
                          **kwargs: Any) -> HttpResponseBase:
        usage = getattr(request, "rate_limit_usage", None)
        if usage:
            response["X-RateLimit-Limit"] = str(usage["limit"])
            response["X-RateLimit-Remaining"] = str(max(usage["limit"] - usage["count"], 0))
        return super().finalize_response(request, response, *args, **kwargs)


class ApiView(TenantContextMixin, APIView):
    """Base for the few hand-written endpoints (auth flows): same tenant, scope and error handling as resources.

    Each one declares who it is for (check api.E018): a `scope`, which API keys must hold too, or an
    `access` (`permissions.Access`), for the whole view or per HTTP method. Without a scope API keys are
    refused, except where the access is `Access.CALLER`.
    """

    #: Scope the view needs, or None when `access` says who the view is for.
    scope: str | None = None
    #: An `Access`, or {"get": Access.CALLER, "patch": Access.PERSONAL} per method (a method left out refuses keys).
    access: Access | Mapping | None = None
    # HasScope here, not only on ResourceViewSet: without it `scope` above would be silently ignored.
    permission_classes = [IsAuthenticated, HasScope]

    def access_for(self, method: str) -> Access | None:
        if isinstance(self.access, Mapping):
            return self.access.get(method.lower())
        return self.access

    def get_permissions(self) -> list[BasePermission]:
        if self.access_for(self.request.method) is Access.PUBLIC:
            return [AllowAny()]
        return super().get_permissions()

    def required_scope(self) -> str | None:
        return self.scope

    def refuses_keys(self) -> bool:
        return self.scope is None and self.access_for(self.request.method) is not Access.CALLER

    def validated(self, serializer_class: type[BaseSerializer]) -> dict:
        """The request body validated by `serializer_class` (a 400 with field errors when it does not fit)."""
        serializer = serializer_class(data=self.request.data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        refuse_null_characters(serializer.validated_data)
        return serializer.validated_data


class ResourceViewSet(TenantContextMixin, GenericViewSet):
    """Generated CRUD: forwards to the resource's hooks and applies the scoping chokepoint to every queryset.

    The factory subclasses it with the mixins of the resource's `operations` and fills in `resource`,
    `serializer_class`, `filterset_class`, search and ordering. It holds no state between requests.
    """

    resource = None
    #: Renders list and retrieve from rows where that gives the serializer's bytes exactly (rendering.py), or None.
    row_renderer: RowRenderer | None = None
    permission_classes = [IsAuthenticated, HasScope]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, ResourceOrderingFilter]
    pagination_class = ResourcePagination
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"

    @property
    def page_size(self) -> int | None:
        return self.resource.page_size

    def declared_rates(self) -> list[tuple[str, str]]:
        """The resource's rate for all its endpoints, and its rate for this action, from code or settings (for a
        bulk, also the rates of the single writes it carries: `rate_weight` counts each of its operations)."""
        own = rates_of(self.resource.throttle)  # one counter per rate: "60/m" and "1000/h" both hold
        rates = [(self.resource.name if len(own) == 1 else f"{self.resource.name}@{rate}", rate) for rate in own]
        actions = [self.action, *(bulk.ACTIONS[op] for op in self.resource.bulk)] if self.action == "bulk" else [
            self.action]
        for action in actions:
            action_rate = (self.resource.throttles or {}).get(action)
            if action_rate:
                rates.append((f"{self.resource.name}:{action}", action_rate))
        return rates

    def rate_weight(self, request: Request, group: str) -> int:
        """A bulk counts as the single writes it carries: as many as its operations for the caller's, the tenant's
        and the resource's rates, as many as its creates for the rate of creates, and so on (an update counts as the
        PATCH it is, `partial_update`)."""
        if self.action != "bulk" or group == f"{self.resource.name}:bulk":
            return 1
        counts = bulk.item_counts(request, self.resource)
        action = group.removeprefix(f"{self.resource.name}:")
        return counts[action] if action in bulk.ACTIONS.values() else max(sum(counts.values()), 1)

    def required_scope(self) -> str | None:
        return self.resource.scope_for(self.action)

    def renders_rows(self, request: Request) -> bool:
        return self.row_renderer is not None and self.row_renderer.accepts(request)

    def refuses_keys(self) -> bool:
        """Keys are refused on a personal resource, and wherever no scope is needed (OPTIONS)."""
        return self.resource.personal or self.required_scope() is None

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if self.resource.tenant_field:
            require_tenant(request)

    # --- Idempotency-Key on POSTs (idempotency.py): claimed once the caller is known, settled with the response.
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        fingerprint = idempotency.fingerprint_of(request)  # before the body is parsed; None without the header
        super().initial(request, *args, **kwargs)
        if fingerprint is not None:
            request.idempotency_claim = idempotency.claim(request, fingerprint, allowed=self.resource.idempotent)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any,
                          **kwargs: Any) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.resource.etags:
            response = conditional.finalize(self, request, response)
        claim = getattr(request, "idempotency_claim", None)
        if claim is not None:  # after the ETag, so a replay carries it too
            idempotency.settle(claim, response)
        return response

    def get_queryset(self) -> QuerySet:
        queryset = self.resource.get_queryset(self.request)
        queryset = scope_queryset(queryset, request=self.request, resource=self.resource,
                                  include_deleted=soft_delete.includes_deleted(self))
        names = self.output_fields() if self.action in sparse.SPARSE_ACTIONS else None
        if names is not None:  # and the update time that Last-Modified reads, in the same query
            also = (self.resource.last_modified,) if self.resource.etags and self.resource.last_modified else ()
            queryset = sparse.only_columns(queryset, self.get_serializer_class(), names, also=also)
        return conditional.lock(self, queryset)

    def output_fields(self) -> frozenset[str] | None:
        """The fields this response renders, or None for all the serializer's: less those the caller's role hides
        (field_access.py), narrowed by `?fields=` on list and detail (sparse.py). Read once per request."""
        if not hasattr(self, "_output_fields"):
            if getattr(self, "swagger_fake_view", False):  # schema generation documents every field
                self._output_fields = None
            else:
                query_params = self.request.query_params if self.action in sparse.SPARSE_ACTIONS else None
                self._output_fields = sparse.output_fields(
                    self.get_serializer_class(), primary_key=self.resource.model._meta.pk.name,
                    hidden=field_access.hidden_fields(self.resource, self.request), query_params=query_params)
        return self._output_fields

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer:
        # The body as sent: the serializer below no longer offers a hidden field, and DRF would drop it silently.
        if "data" in kwargs:
            field_access.refuse_forbidden_writes(self.resource, self.request, kwargs["data"])
        serializer = super().get_serializer(*args, **kwargs)
        names = self.output_fields()
        if names is not None:
            sparse.keep_only(serializer, names)
        field_access.mark_read_only(serializer, field_access.read_only_fields(self.resource, self.request))
        # The schema generator builds serializers for a request that names no caller: nothing to confine to.
        if self.request.method not in SAFE_METHODS and not getattr(self, "swagger_fake_view", False):
            self.confine_relations(serializer)
        return serializer

    def narrowed_row_renderer(self) -> RowRenderer:
        names = self.output_fields()
        return self.row_renderer if names is None else self.row_renderer.narrowed(names)

    def get_object(self) -> Model:
        """The row the detail URL names: by id, or through the resource's own `lookup` (still scoped); under an
        `If-Match` it is locked and must be the version the client names (conditional.py)."""
        if self.resource.lookup is None:
            instance = super().get_object()
        else:
            queryset = self.filter_queryset(self.get_queryset())
            instance = get_object_or_404(queryset, **self.resource.lookup(self.kwargs[self.lookup_url_kwarg]))
            self.check_object_permissions(self.request, instance)
        if self.resource.etags:
            conditional.check_if_match(self, instance)
            self.current_object = instance  # its update time is the answer's Last-Modified
        return instance

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Filters, search and ordering shape lists. A detail URL names one row, so unlike DRF's default they
        # do not apply to it (a stray ?status= cannot turn a visible row into a 404), and cost nothing there.
        if self.detail:
            return queryset
        hidden = field_access.hidden_fields(self.resource, self.request)
        if hidden:  # the rows a filter, an ordering or a search matches would show the hidden values
            self.search_fields = field_access.refuse_hidden_lookups(self.resource, self.request.query_params, hidden,
                                                                    self.search_fields)
        return super().filter_queryset(queryset)

    def confine_relations(self, serializer: BaseSerializer) -> None:
        """A writable relation to a registered model (in the resource's serializer or an action's input) accepts only
        rows the caller sees through that model's own resource: naming another tenant's or another owner's row is
        the same 400 as naming a missing one."""
        for field in getattr(serializer, "child", serializer).fields.values():
            relation = field.child_relation if isinstance(field, ManyRelatedField) else field
            if field.read_only or not isinstance(relation, RelatedField) or relation.queryset is None:
                continue
            model = relation.queryset.model
            if self.resource.site.is_registered(model):
                relation.queryset = scope_queryset(relation.queryset, request=self.request,
                                                   resource=self.resource.site.get_resource(model))

    # Here rather than in the generated serializer, so a resource's own `serializer_class` is covered too.
    # A write the resource announces an event for shares one transaction with it (api/events.py).
    def perform_create(self, serializer: BaseSerializer) -> None:
        refuse_null_characters(serializer.validated_data)
        with events.atomic_if_announced(self.resource, "created"):
            serializer.instance = self.resource.perform_create(self.request, serializer.validated_data)
            events.announce(self.resource, "created", serializer.instance)

    def perform_update(self, serializer: BaseSerializer) -> None:
        refuse_null_characters(serializer.validated_data)
        with events.atomic_if_announced(self.resource, "updated"):
            serializer.instance = self.resource.perform_update(self.request, serializer.instance,
                                                               serializer.validated_data)
            events.announce(self.resource, "updated", serializer.instance)
        self.current_object = serializer.instance

    def perform_destroy(self, instance: Model) -> None:
        if not events.announces(self.resource, "deleted"):
            self.resource.perform_destroy(self.request, instance)
            return
        data = events.render(self.resource, instance)  # while the row still has its id
        with events.atomic_if_announced(self.resource, "deleted"):
            self.resource.perform_destroy(self.request, instance)
            # A row that outlives its destroy (an API key is revoked, not deleted) is announced as it is now.
            events.announce(self.resource, "deleted", instance, data=data if instance.pk is None else None)


class ListMixin(mixins.ListModelMixin):
    """DRF's list; the page is read as rows of the needed columns and rendered without the serializer when the
    viewset `renders_rows` (same filters, scoping, ordering, pagination and queries, only no instances)."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self.renders_rows(request):
            return super().list(request, *args, **kwargs)
        renderer = self.narrowed_row_renderer()
        queryset = renderer.select(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        if page is None:
            return RowsResponse(renderer.rows(queryset))
        return RowsResponse(self.get_paginated_response(renderer.rows(page)).data)


class RetrieveMixin(mixins.RetrieveModelMixin):
    """DRF's retrieve; the object is fetched as DRF does (lookup, object permissions) and rendered without the
    serializer when the viewset `renders_rows`."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self.renders_rows(request):
            return super().retrieve(request, *args, **kwargs)
        return RowsResponse(self.narrowed_row_renderer().instance(self.get_object()))


class UpdateMixin(mixins.UpdateModelMixin):
    """DRF's update (PUT and PATCH); with `If-Match` it runs in one transaction holding the row's lock."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with conditional.guarded_write(self):
            return super().update(request, *args, **kwargs)


class DestroyMixin(mixins.DestroyModelMixin):
    """DRF's destroy; with `If-Match` it runs in one transaction holding the row's lock."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with conditional.guarded_write(self):
            return super().destroy(request, *args, **kwargs)


#: The DRF mixin that provides each generated operation.
OPERATION_MIXINS = {
    "list": ListMixin,
    "create": mixins.CreateModelMixin,
    "retrieve": RetrieveMixin,
    "update": UpdateMixin,
    "destroy": DestroyMixin,
}
