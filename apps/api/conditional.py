"""Conditional requests (RFC 9110, section 13) on resources with `etags = True`: caching and optimistic concurrency.

The ETag is a hash (BLAKE2b, 128 bits) of the representation as DRF's JSONRenderer writes it, compact: the
bytes the fast render path (rendering.py) sends, so it costs one hash of the body already rendered, and no
column or query of its own. It changes whenever anything the caller sees changes, and only then, whichever code
changed the row. It is strong on a detail (a byte-exact validator, sent with GET, PUT and PATCH answers) and weak
(`W/`) on a list page, whose `next`/`previous` links and count make it a view, not a resource. Other formats of
the same data (the browsable API, `indent=`) carry the ETag of that JSON, so a client's If-Match never depends on
how it asked to see the row.

- GET or HEAD with `If-None-Match` naming the current ETag (weak comparison, or `*`) is a 304 with no body;
  without it, a detail's `If-Modified-Since` at or after `Last-Modified` (the resource's `last_modified` field) is.
- PUT, PATCH or DELETE with `If-Match`: the row is read `FOR UPDATE` inside the write's transaction and its
  current ETag compared (strong comparison; `*` matches any row). A stale one is a 412 `precondition_failed` and
  writes nothing; of two writers holding the same ETag, the second waits for the first's lock, then sees the new
  row and gets the 412. Without `If-Match` a write takes no lock and no transaction of its own.

A resource without `etags` pays one attribute test per response.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import blake2b
from typing import TYPE_CHECKING

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.http import HttpResponseBase, HttpResponseNotModified
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer

from .errors import PreconditionFailed
from .rendering import RowsResponse

if TYPE_CHECKING:
    from rest_framework.request import Request

    from .viewsets import ResourceViewSet

#: The actions whose 200 answers carry an ETag, and those that honour If-Match.
TAGGED = ("list", "retrieve", "update", "partial_update")
GUARDED = ("update", "partial_update", "destroy")
#: Headers a 304 keeps (RFC 9110, 15.4.5), beside the ones our middleware adds later (X-Request-ID).
NOT_MODIFIED_KEEPS = ("ETag", "Last-Modified", "Cache-Control", "Vary", "Expires", "Content-Location",
                      "X-RateLimit-Limit", "X-RateLimit-Remaining")


def etag_of(content: bytes, *, weak: bool = False) -> str:
    tag = f'"{blake2b(content, digest_size=16).hexdigest()}"'
    return f"W/{tag}" if weak else tag


def canonical_json(response) -> bytes:
    """The compact JSON of the response's data: its own body when that is what it sends (rendered now, once)."""
    renderer = getattr(response, "accepted_renderer", None)
    if isinstance(response, RowsResponse) or (
            type(renderer) is JSONRenderer and renderer.get_indent(response.accepted_media_type, {}) is None):
        response.render()  # Django renders a response once; this is that time
        return response.content
    return JSONRenderer().render(response.data)


def current_etag(view: ResourceViewSet, instance: models.Model) -> str:
    """The strong ETag a GET of `instance` would carry for this caller now."""
    return etag_of(JSONRenderer().render(view.get_serializer(instance).data))


def last_modified_of(view: ResourceViewSet) -> float | None:
    """The detail's `last_modified` time as a POSIX timestamp, or None."""
    instance = getattr(view, "current_object", None)
    if view.resource.last_modified is None or instance is None:
        return None
    value = getattr(instance, view.resource.last_modified)
    return value.timestamp() if value is not None else None


def finalize(view: ResourceViewSet, request: Request, response: HttpResponseBase) -> HttpResponseBase:
    """Tag a 200 answer of a list, detail or update; answer a GET or HEAD the client already holds with a 304."""
    if response.status_code != 200 or view.action not in TAGGED or not hasattr(response, "data"):
        return response
    etag = etag_of(canonical_json(response), weak=view.action == "list")
    response["ETag"] = etag
    modified = last_modified_of(view) if view.detail else None
    if modified is not None:
        try:
            response["Last-Modified"] = http_date(modified)
        except (ValueError, OverflowError, OSError):  # past year 9999 an HTTP date cannot say it: no validator, no 304
            modified = None
    if request.method not in ("GET", "HEAD") or not _not_modified(request, etag, modified):
        return response
    not_modified = HttpResponseNotModified()
    for header in NOT_MODIFIED_KEEPS:
        if response.has_header(header):
            not_modified[header] = response[header]
    return not_modified


def _not_modified(request: Request, etag: str, modified: float | None) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        wanted = parse_etags(if_none_match)
        return "*" in wanted or _opaque(etag) in {_opaque(tag) for tag in wanted}  # weak comparison
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return modified is not None and since is not None and int(modified) <= since


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


@contextmanager
def guarded_write(view: ResourceViewSet) -> Iterator[None]:
    """Around a PUT, PATCH or DELETE: with `If-Match`, one transaction in which `view.get_object()` locks the row and
    `check_if_match` compares it; without, nothing at all."""
    header = view.request.headers.get("If-Match") if view.resource.etags else None
    if header is None:
        yield
        return
    with transaction.atomic():
        view.if_match = parse_etags(header)
        yield


def lock(view: ResourceViewSet, queryset: models.QuerySet) -> models.QuerySet:
    """FOR UPDATE of the resource's own rows only (a nullable join cannot be locked) while a write is guarded."""
    if getattr(view, "if_match", None) is None:
        return queryset
    return queryset.select_for_update(of=("self",))


def check_if_match(view: ResourceViewSet, instance: models.Model) -> None:
    """412 unless the locked row's current ETag is one the client named (strong comparison, so never a weak one)."""
    wanted = getattr(view, "if_match", None)
    if wanted is None or "*" in wanted:
        return
    current = current_etag(view, instance)
    if current not in wanted:
        raise PreconditionFailed(details={"If-Match": [f"The row changed: its ETag is now {current}."]})


# --- OpenAPI ------------------------------------------------------------------------------------------------------
def openapi_parameters(view: ResourceViewSet) -> list[OpenApiParameter]:
    """The request and response headers of a conditional operation."""
    resource, action = view.resource, getattr(view, "action", None)
    if not resource.etags:
        return []
    parameters = []
    if action in ("list", "retrieve"):
        parameters.append(OpenApiParameter(
            "If-None-Match", str, OpenApiParameter.HEADER, required=False,
            description="ETags you hold; when one is current the answer is 304 with no body."))
    if action == "retrieve" and resource.last_modified:
        parameters.append(OpenApiParameter(
            "If-Modified-Since", str, OpenApiParameter.HEADER, required=False,
            description="An HTTP date; 304 when the row has not changed since (ignored with If-None-Match)."))
    if action in GUARDED:
        parameters.append(OpenApiParameter(
            "If-Match", str, OpenApiParameter.HEADER, required=False,
            description="The ETag of the row as you last read it: if the row changed since, nothing is written "
                        "and the answer is 412 `precondition_failed` (optimistic concurrency). `*` matches any."))
    if action in TAGGED:
        kind = "weak (`W/`), of this page" if action == "list" else "strong, of this row as you see it"
        parameters.append(OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304],
                                           description=f"Validator, {kind}."))
    if action in ("retrieve", "update", "partial_update") and resource.last_modified:
        parameters.append(OpenApiParameter("Last-Modified", str, OpenApiParameter.HEADER, response=[200, 304],
                                           description="When the row last changed (HTTP date)."))
    return parameters


def openapi_statuses(view: ResourceViewSet) -> dict[int, str | None]:
    """Extra answers: 304 (no body) for a conditional read, 412 (the error envelope) for a guarded write."""
    action = getattr(view, "action", None)
    if not view.resource.etags:
        return {}
    if action in ("list", "retrieve"):
        return {304: "Not Modified: the ETag you sent in If-None-Match is current. No body."}
    if action in GUARDED:
        return {412: None}
    return {}


# --- system checks (api.E055-E057) --------------------------------------------------------------------------------
def check(resource) -> list[checks.CheckMessage]:
    owner = type(resource)
    errors = []
    if not isinstance(resource.etags, bool):
        errors.append(checks.Error(f"{owner.__name__}.etags is {resource.etags!r}; it must be True or False.",
                                   obj=owner, id="api.E055", hint="Set etags = True to send ETags."))
    name = resource.last_modified
    if name:
        try:
            field = resource.model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if not isinstance(field, models.DateTimeField):
            errors.append(checks.Error(
                f"{owner.__name__}.last_modified names {name!r}, which is not a DateTimeField of "
                f"{resource.model.__name__}.", obj=owner, id="api.E056",
                hint="Name the update time, a DateTimeField(auto_now=True) such as 'updated_at'."))
        elif not field.auto_now:
            errors.append(checks.Error(
                f"{owner.__name__}.last_modified names {name!r}, which is not set on every save (auto_now).",
                obj=owner, id="api.E057", hint="A Last-Modified that lags behind changes makes clients keep "
                                               "stale rows: use a DateTimeField(auto_now=True)."))
    return errors
