"""Sparse fieldsets: `?fields=id,title` on a list or a detail renders, and reads from the database, only those fields.

The names are checked against the fields the caller may read (the serializer's, less those their role hides,
field_access.py): an unknown or hidden name is a 400 naming it, the same answer for both, so the parameter
cannot probe what is hidden. The primary key is always included, so every rendered row can still be named.
The rows are read with only the columns behind the chosen fields (`values_list` on the row-rendering path,
`.only()` on the serializer's), unless a chosen field is computed from other columns.

Not drf-flex-fields: it ignores names it does not know, knows nothing of per-role hidden fields, and narrows
serializers only, while generated lists are rendered from rows (rendering.py).
"""
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from .field_access import reads_hidden
from .rendering import _column_for

#: The query parameter.
PARAMETER = "fields"
#: The generated operations it applies to.
SPARSE_ACTIONS = frozenset({"list", "retrieve"})


def requested_names(query_params: Mapping[str, Any]) -> list[str] | None:
    """The names `?fields=` asks for (comma-separated, repeatable), or None when it is absent."""
    if PARAMETER not in query_params:
        return None
    names = [name.strip() for value in query_params.getlist(PARAMETER) for name in value.split(",") if name.strip()]
    if not names:
        raise ValidationError({PARAMETER: ["Name at least one field, like fields=id,title."]})
    return names


@lru_cache(maxsize=512)
def readable_fields(serializer_class: type[serializers.BaseSerializer], hidden: frozenset[str]) -> tuple[str, ...]:
    """The output names of `serializer_class`, in its order, less those that show a field in `hidden`."""
    return tuple(name for name, field in serializer_class().fields.items()
                 if not field.write_only and not reads_hidden(field, hidden))


def output_fields(serializer_class: type[serializers.BaseSerializer], *, primary_key: str, hidden: frozenset[str],
                  query_params: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The names a response renders, or None for all of the serializer's: those not hidden, narrowed to `?fields=`
    when `query_params` are given (list and detail), plus the primary key."""
    requested = requested_names(query_params) if query_params is not None else None
    if requested is None and not hidden:
        return None
    readable = readable_fields(serializer_class, hidden)
    if requested is None:
        return frozenset(readable)
    unknown = list(dict.fromkeys(name for name in requested if name not in readable))
    if unknown:
        raise ValidationError({PARAMETER: [
            f"{', '.join(unknown)}: not a field you can read. Choose from: {', '.join(readable)}."]})
    return frozenset(requested) | (frozenset({primary_key}) & frozenset(readable))


def keep_only(serializer: serializers.BaseSerializer, names: frozenset[str]) -> None:
    """Drop from `serializer` (or a list serializer's child) every output field not in `names`."""
    fields = serializer.child.fields if isinstance(serializer, serializers.ListSerializer) else serializer.fields
    for name in [name for name, field in fields.items() if not field.write_only and name not in names]:
        del fields[name]


@lru_cache(maxsize=512)
def _columns(serializer_class: type[serializers.ModelSerializer]) -> dict[str, str | None]:
    """Output name -> the model column it reads by itself, or None for a computed or related field."""
    model = serializer_class.Meta.model
    columns = {}
    for name, field in serializer_class().fields.items():
        column = _column_for(model, field)
        columns[name] = column.name if column is not None else None
    return columns


def only_columns(queryset: QuerySet, serializer_class: type[serializers.BaseSerializer],
                 names: frozenset[str], *, also: tuple[str, ...] = ()) -> QuerySet:
    """`queryset` loading only the columns behind `names` (and the primary key, and the model fields `also`), where
    each is a column of the model itself; otherwise unchanged, since a field computed from other columns would load
    them row by row.

    Relations are no longer followed: a foreign key is rendered from its own id column."""
    if not hasattr(getattr(serializer_class, "Meta", None), "model"):
        return queryset
    columns = _columns(serializer_class)
    wanted = [columns.get(name) for name in sorted(names)]
    if not wanted or None in wanted:
        return queryset
    return queryset.select_related(None).only(*wanted, *also)
