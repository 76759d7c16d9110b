"""Bulk writes: `POST /<resource>/bulk` runs many creates, updates and deletes, each as its single write would run.

The body is `{"atomic": true, "operations": [{"op": "create", "data": {...}}, {"op": "update", "id": 7, "data":
{...}}, {"op": "delete", "id": 9}]}`: one list, so every result and every error is named by the position of its
operation. An update changes only the fields it sends (as PATCH). Rows are named by id and looked up in one query
through the scoping chokepoint, so another tenant's or another user's row is a 404 for that operation.

Each operation runs through the viewset's own per-item path, the one DRF's create, partial_update and destroy run:
`get_serializer` (validation), then `perform_create` / `perform_update` / `perform_destroy` (the resource's hooks and
services, stamping), then the serializer's output, with `view.action` set to that operation's action meanwhile.
Whatever applies to a single write there applies to each operation here. Rows are written one by one for that
reason (a per-row hook, an event, a service may run for each), inside one transaction when `atomic`.

- `atomic` (the default): every operation is validated first; if any fails, nothing is written and the answer is a
  400 whose `details` name each failure by path (`operations.2.data.title`, `operations.4`). Otherwise all are
  written in one transaction (a failure while writing rolls all back, the same 400) and the answer is 200.
- `atomic: false`: each operation is validated and written in its own transaction; the answer is 207 with one
  result per operation, `{index, status, data}` or `{index, status, error}` (the error envelope's inner object).

Scopes and rate limits are those of the single writes: a bulk with deletes also needs `<scope>:delete`, and every
operation counts against the caller's limits as the request it stands for (`item_counts`).
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Any, NoReturn

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import IntegerField
from django.http import Http404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action as drf_action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.platform.error_envelope import ErrorDetail

from .conf import api_settings
from .errors import Conflict, PermissionDenied, ValidationFailed

#: The operations a bulk request may carry, and the DRF action each one runs as (its scope, rates and hooks).
ACTIONS = {"create": "create", "update": "partial_update", "delete": "destroy"}
#: The generated operation (Resource.operations) each bulk operation needs.
OPERATIONS = {"create": "create", "update": "update", "delete": "destroy"}
#: The keys an operation object may hold, per operation.
KEYS = {"create": {"op", "data"}, "update": {"op", "id", "data"}, "delete": {"op", "id"}}
#: What an operation that fails answers as (everything the exception handler maps to a 4xx).
ITEM_ERRORS = (APIException, Http404, DjangoValidationError, DjangoPermissionDenied)


def max_items(resource) -> int:
    return resource.bulk_max_items or api_settings.BULK_MAX_ITEMS


def item_counts(request: Request, resource) -> Counter:
    """How many operations of each action (create, partial_update, destroy) the body carries, for rate limits.

    Read leniently and once per request: a body that is not a bulk the handler would run counts as one request
    (the handler answers it with a 400), so a malformed or oversized body cannot spend a caller's whole rate.
    """
    if not hasattr(request, "bulk_item_counts"):
        counts = Counter()
        operations = request.data.get("operations") if isinstance(request.data, dict) else None
        if isinstance(operations, list) and len(operations) <= max_items(resource):
            counts.update(ACTIONS[item["op"]] for item in operations
                          if isinstance(item, dict) and item.get("op") in resource.bulk)
        request.bulk_item_counts = counts
    return request.bulk_item_counts


class _Envelope(serializers.Serializer):
    atomic = serializers.BooleanField(default=True)
    operations = serializers.ListField(child=serializers.JSONField(), allow_empty=False)


class _Operation:
    """One parsed operation: its position, what it does, the row it names and the data it sends."""

    def __init__(self, index: int, raw: Any, resource) -> None:
        self.index, self.instance, self.serializer = index, None, None
        if not isinstance(raw, dict):
            raise ValidationError({"op": ["Each operation is an object with an `op`."]})
        self.op = raw.get("op")
        if self.op not in resource.bulk:
            raise ValidationError({"op": [f"Choose among: {', '.join(resource.bulk)}."]})
        unknown = sorted(set(raw) - KEYS[self.op])
        if unknown:
            raise ValidationError({name: [f"Not a key of a bulk {self.op}."] for name in unknown})
        self.id = None
        if "id" in KEYS[self.op]:
            value = raw.get("id")
            try:  # a number or a string of one; true and 1.5 are not ids, though int() would take them
                self.id = None if value is None or isinstance(value, (bool, float)) else resource.model._meta.pk.to_python(value)
            except DjangoValidationError:
                pass
            if self.id is None:
                raise ValidationError({"id": [f"A bulk {self.op} names its row by id."]})
        self.data = raw.get("data")
        if "data" in KEYS[self.op] and not isinstance(self.data, dict):
            raise ValidationError({"data": ["An object of the row's fields."]})


@contextmanager
def _acting_as(view, action: str):
    """Run one operation as the single write it stands for: code that reads `view.action` (serializer context,
    field rules) sees `create`, `partial_update` or `destroy`, as it would on that write's own request."""
    bulk_action, view.action = view.action, action
    try:
        yield
    finally:
        view.action = bulk_action


def build_bulk_action(resource, serializer_class: type[serializers.Serializer]) -> dict:
    """The `bulk` route of a resource that declares `bulk`, documented with request and response shapes of its own
    (`<Model>BulkRequest`, one `<Model>Bulk<Op>` per operation it takes, `<Model>BulkResponse`)."""

    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return run(self, request)

    handler = drf_action(detail=False, methods=["post"], url_path="bulk")(bulk)
    request_class, response_class = _schema_classes(resource, serializer_class)
    return {"bulk": extend_schema(request=request_class, responses={200: response_class, 207: response_class})(handler)}


def _schema_classes(resource, serializer_class):
    model = resource.model.__name__
    module = type(resource).__module__
    is_integer = isinstance(resource.model._meta.pk, IntegerField)
    row_id = serializers.IntegerField if is_integer else serializers.CharField
    shapes = {
        "create": {"data": serializer_class(help_text="The new row's fields, as for a single create.")},
        "update": {"id": row_id(help_text="The row's id."),
                   "data": serializer_class(partial=True, help_text="The fields to change, as for a PATCH.")},
        "delete": {"id": row_id(help_text="The row's id.")},
    }
    operations = {
        op: type(f"{model}Bulk{op.title()}", (serializers.Serializer,), {
            "op": serializers.CharField(help_text=f'"{op}"'), **shapes[op], "__module__": module})
        for op in resource.bulk if op in shapes}
    request_class = type(f"{model}Bulk", (serializers.Serializer,), {
        "atomic": serializers.BooleanField(default=True, help_text=(
            "All or nothing (the default): any failure writes nothing and answers 400 naming each failure by "
            "its path. False: each operation is applied on its own and the answer is 207 with one result each.")),
        "operations": PolymorphicProxySerializer(
            component_name=f"{model}BulkOperation", serializers=operations, resource_type_field_name="op", many=True,
            help_text=f"Up to {max_items(resource)} operations, applied in order."),
        "__module__": module})
    result_class = type(f"{model}BulkResult", (serializers.Serializer,), {
        "index": serializers.IntegerField(help_text="The operation's position in `operations`."),
        "status": serializers.IntegerField(help_text="What its single write would answer: 201, 200, 204, 4xx."),
        "data": serializer_class(required=False, help_text="The row as written (creates and updates)."),
        "error": ErrorDetail(required=False, help_text="Why the operation failed (per-item requests only)."),
        "__module__": module})
    response_class = type(f"{model}BulkResponse", (serializers.Serializer,), {
        "results": result_class(many=True), "__module__": module})
    return request_class, response_class


def run(self, request: Request) -> Response:
    """The bulk handler; `self` is the resource's viewset."""
    envelope = _Envelope(data=request.data)
    envelope.is_valid(raise_exception=True)
    unknown = sorted(set(request.data) - {"atomic", "operations"})
    if unknown:
        raise ValidationError({name: ["Not a key of a bulk request; send `atomic` and `operations`."]
                               for name in unknown})
    raw_operations, atomic = envelope.validated_data["operations"], envelope.validated_data["atomic"]
    if len(raw_operations) > max_items(self.resource):
        raise ValidationError({"operations": [f"At most {max_items(self.resource)} operations per request."]})

    operations, failures = _parse(self, raw_operations)
    _require_scopes(self, request, operations)
    _load_rows(self, operations, failures)
    if atomic:
        return _run_atomically(self, operations, failures)
    return _run_each(self, operations, failures)


def _parse(view, raw_operations) -> tuple[list[_Operation], dict[int, Exception]]:
    operations, failures, named = [], {}, {}
    for index, raw in enumerate(raw_operations):
        try:
            operation = _Operation(index, raw, view.resource)
            if operation.id is not None and operation.id in named:
                raise ValidationError({"id": [f"Operation {named[operation.id]} names this row already."]})
        except ValidationError as error:
            failures[index] = error
            continue
        if operation.id is not None:
            named[operation.id] = index
        operations.append(operation)
    return operations, failures


def _require_scopes(view, request: Request, operations: list[_Operation]) -> None:
    """The bulk route needs one scope to be reached; each operation it carries needs its single write's."""
    for op in sorted({operation.op for operation in operations}):
        scope = view.resource.scope_for(ACTIONS[op])
        if scope not in request.scopes:
            raise PermissionDenied(f"A bulk {op} needs the '{scope}' scope.")


def _load_rows(view, operations: list[_Operation], failures: dict[int, Exception]) -> None:
    """The rows updates and deletes name, in one query through the scoping chokepoint; a row the caller cannot
    see is that operation's 404, as on its single write."""
    named = [operation for operation in operations if operation.id is not None]
    if not named:
        return
    rows = view.get_queryset().in_bulk([operation.id for operation in named])
    for operation in named:
        operation.instance = rows.get(operation.id)
        try:
            if operation.instance is None:
                raise NotFound()
            view.check_object_permissions(view.request, operation.instance)
        except ITEM_ERRORS as error:
            failures[operation.index] = error


def _validate(view, operation: _Operation) -> None:
    with _acting_as(view, ACTIONS[operation.op]):
        if operation.op == "delete":
            return
        operation.serializer = view.get_serializer(operation.instance, data=operation.data,
                                                   partial=operation.op == "update")
        if not operation.serializer.is_valid():
            raise ValidationError({"data": operation.serializer.errors})


def _perform(view, operation: _Operation) -> dict:
    with _acting_as(view, ACTIONS[operation.op]):
        if operation.op == "delete":
            view.perform_destroy(operation.instance)
            return {"index": operation.index, "status": status.HTTP_204_NO_CONTENT}
        if operation.op == "create":
            view.perform_create(operation.serializer)
            return {"index": operation.index, "status": status.HTTP_201_CREATED, "data": operation.serializer.data}
        view.perform_update(operation.serializer)
        return {"index": operation.index, "status": status.HTTP_200_OK, "data": operation.serializer.data}


def _run_atomically(view, operations: list[_Operation], failures: dict[int, Exception]) -> Response:
    for operation in operations:
        if operation.index not in failures:
            try:
                _validate(view, operation)
            except ITEM_ERRORS as error:
                failures[operation.index] = error
    if failures:
        _refuse(view, failures, len({operation.index for operation in operations} | set(failures)))
    results, current = [], None
    try:
        with transaction.atomic():
            for current in operations:
                results.append(_perform(view, current))
    except (*ITEM_ERRORS, IntegrityError) as error:
        _refuse(view, {current.index: _as_item_error(error)}, len(operations))
    return Response({"results": results}, status=status.HTTP_200_OK)


def _run_each(view, operations: list[_Operation], failures: dict[int, Exception]) -> Response:
    results = {index: _failure(view, index, error) for index, error in failures.items()}
    for operation in operations:
        if operation.index in failures:
            continue
        try:
            with transaction.atomic():
                _validate(view, operation)
                results[operation.index] = _perform(view, operation)
        except (*ITEM_ERRORS, IntegrityError) as error:
            results[operation.index] = _failure(view, operation.index, _as_item_error(error))
    return Response({"results": [results[index] for index in sorted(results)]}, status=status.HTTP_207_MULTI_STATUS)


def _as_item_error(error: Exception) -> Exception:
    # Two operations of one bulk may collide on a unique value only each of them passed: the database says so.
    return Conflict("A row with this value already exists.") if isinstance(error, IntegrityError) else error


def _rendered(view, error: Exception) -> tuple[int, dict]:
    """(status, the envelope's inner error) the exception handler gives `error`, as for a single write."""
    response = view.get_exception_handler()(error, view.get_exception_handler_context())
    return response.status_code, dict(response.data["error"])


def _failure(view, index: int, error: Exception) -> dict:
    status_code, detail = _rendered(view, error)
    return {"index": index, "status": status_code, "error": {**detail, "details": _paths(detail["details"])}}


def _refuse(view, failures: dict[int, Exception], total: int) -> NoReturn:
    """The atomic answer when any operation fails: a 400 naming each failure by its path, nothing written."""
    details = {}
    for index in sorted(failures):
        _, detail = _rendered(view, failures[index])
        details.update(_paths(detail["details"], f"operations.{index}") or {f"operations.{index}": [detail["message"]]})
    raise ValidationFailed(f"No operation was applied: {len(failures)} of {total} failed.", details=details)


def _paths(details: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested field errors as the envelope's flat `path -> messages` (`data.title`, `operations.2.data.title`)."""
    if isinstance(details, dict):
        found = {}
        for name, value in details.items():
            found.update(_paths(value, f"{prefix}.{name}" if prefix else str(name)))
        return found
    if isinstance(details, list) and details and all(isinstance(item, str) for item in details):
        return {prefix: [str(item) for item in details]}
    if isinstance(details, list):
        found = {}
        for number, value in enumerate(details):
            found.update(_paths(value, f"{prefix}.{number}" if prefix else str(number)))
        return found
    return {prefix: [str(details)]} if details else {}
