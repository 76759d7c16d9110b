"""Lists and details rendered straight from database rows with orjson, byte for byte what the DRF serializer gives.

Through DRF a page of 50 rows costs 50 model instances, a `get_attribute` and a `to_representation` per field
per row, and `json.dumps`. The generator knows every field of a resource, so `RowRenderer.for_serializer`
decides once, when the viewset is built, how each output field becomes JSON from its column:

- unchanged, where DRF's field is proven to hand the column's value back as it is (text, integer and
  boolean columns under CharField, IntegerField, BooleanField, ChoiceField, a foreign key's integer id);
- timestamps as UTC `datetime`s that orjson writes as `...Z`, as `UTCDateTimeField` does in ISO 8601;
- through the field's own `to_representation` for the other field types DRF ships (decimals, dates,
  times, durations, UUIDs, floats, JSON...), so they are exact by construction; whatever that gives other
  than text, an integer or a boolean is written as JSON by DRF's own encoder, with DRF's renderer settings,
  and embedded as it is (orjson writes some floats differently from `json`: `1e-05` is `0.00001` there).

A field it cannot reproduce (a method field, a dotted or property source, a field class it does not know)
leaves the whole resource on the DRF serializer, as do a resource's own `serializer_class` and
`fast_render = False`. Writes, the browsable API, OPTIONS, the schema and any `Accept` other than DRF's plain
JSON renderer keep the serializer too. tests/api/test_row_rendering.py compares the two outputs byte for byte
for every registered resource and every supported field type.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import orjson
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Model, QuerySet
from rest_framework import ISO_8601, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings as drf_settings
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.compat import SHORT_SEPARATORS

from .serializers import UTCDateTimeField

Converter = Callable[[Any], Any]

#: Django column classes (exactly these, not subclasses that may convert values) and the Python type they hold.
PLAIN_COLUMNS: dict[type[models.Field], type] = {
    **dict.fromkeys((models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField), str),
    **dict.fromkeys((models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
                     models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                     models.PositiveSmallIntegerField, models.PositiveBigIntegerField), int),
    models.BooleanField: bool,
}

#: DRF's `to_representation`s that return a value of these types unchanged (CharField's `str(value)`,
#: IntegerField's `int(value)`...). Inherited ones count: EmailField and SlugField use CharField's.
UNCHANGED_BY: dict[type, tuple[Callable, ...]] = {
    str: (serializers.CharField.to_representation, serializers.ReadOnlyField.to_representation),
    int: (serializers.IntegerField.to_representation, serializers.ReadOnlyField.to_representation),
    bool: (serializers.BooleanField.to_representation, serializers.ReadOnlyField.to_representation),
}

#: DRF field classes whose `to_representation` depends on the value and the field's own options only (no
#: request, no context), so calling it on a column's value is exactly what the serializer does.
VALUE_ONLY_FIELDS = frozenset({
    serializers.BooleanField, serializers.CharField, serializers.EmailField, serializers.SlugField,
    serializers.URLField, serializers.RegexField, serializers.IPAddressField, serializers.UUIDField,
    serializers.IntegerField, serializers.BigIntegerField, serializers.FloatField, serializers.DecimalField,
    serializers.DateTimeField, serializers.DateField, serializers.TimeField, serializers.DurationField,
    serializers.ChoiceField, serializers.MultipleChoiceField, serializers.JSONField, serializers.ReadOnlyField,
    UTCDateTimeField,
})

#: What DRF's JSONRenderer writes for one value, with its own encoder and settings (checked per request).
drf_json = JSONEncoder(ensure_ascii=JSONRenderer.ensure_ascii, allow_nan=not JSONRenderer.strict,
                       separators=SHORT_SEPARATORS)

INT64_MIN, UINT64_MAX = -(2 ** 63), 2 ** 64 - 1
LINE_SEPARATOR, PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


def as_orjson_takes(value: Any) -> Any:
    """`value` ready for orjson: text, integers, booleans and None as they are (both libraries write them alike),
    anything else as the JSON text DRF's encoder writes for it."""
    kind = type(value)
    if kind is str or kind is bool or value is None or (kind is int and INT64_MIN <= value <= UINT64_MAX):
        return value
    return orjson.Fragment(drf_json.encode(value))


def in_utc(value: datetime) -> datetime:
    """A timestamp as `UTCDateTimeField` renders it in ISO 8601; orjson writes a zero offset as `Z` (OPT_UTC_Z)."""
    if value.tzinfo is None or value.tzinfo is timezone.utc:
        return value
    return value.astimezone(timezone.utc)


class RowRenderer:
    """Turns rows of one model into the dicts its serializer would give, ready for orjson.

    `names` are the output keys in the serializer's order; `columns[i]` is the column behind `names[i]`
    (a foreign key's `_id` column), plus the primary key at the end when the fields leave it out, so a
    DISTINCT that search may add still tells rows apart. `converters` maps an output position to what
    turns a non-null column value into its representation (nulls are null, as in DRF).
    """

    def __init__(self, names: Sequence[str], columns: Sequence[str], converters: dict[int, Converter],
                 follows_datetime_format: bool, *, pk_column: str | None = None) -> None:
        self.names = tuple(names)
        self.columns = tuple(columns)
        self.converters = tuple(converters.items())
        #: Whether a timestamp is written as ISO 8601 only because REST_FRAMEWORK["DATETIME_FORMAT"] says so.
        self.follows_datetime_format = follows_datetime_format
        self.pk_column = pk_column
        self._narrowed: dict[frozenset[str], RowRenderer] = {}

    @classmethod
    def for_serializer(cls, serializer_class: type[serializers.ModelSerializer]) -> RowRenderer | None:
        """The renderer reproducing `serializer_class`'s output, or None where one field rules it out."""
        if serializer_class.to_representation is not serializers.Serializer.to_representation:
            return None
        model = serializer_class.Meta.model
        names, columns, converters, follows_datetime_format = [], [], {}, False
        for field in serializer_class().fields.values():
            if field.write_only:
                continue
            column = _column_for(model, field)
            if column is None:
                return None
            converter = _converter_for(field, column)
            if converter is None:
                return None
            if converter is not UNCHANGED:
                converters[len(names)] = converter
            follows_datetime_format |= converter is in_utc and not hasattr(field, "format")
            names.append(field.field_name)
            columns.append(column.attname)
        if model._meta.pk.attname not in columns:
            columns.append(model._meta.pk.attname)
        return cls(names, columns, converters, follows_datetime_format, pk_column=model._meta.pk.attname)

    def narrowed(self, names: frozenset[str]) -> RowRenderer:
        """This renderer for the outputs in `names` only, in the same order, reading only their columns (and the
        primary key); the renderers of the first few hundred sets asked for are kept (sparse fieldsets, hidden
        fields)."""
        narrowed = self._narrowed.get(names)
        if narrowed is not None:
            return narrowed
        keep = [position for position, name in enumerate(self.names) if name in names]
        converters = dict(self.converters)
        columns = [self.columns[position] for position in keep]
        if self.pk_column is not None and self.pk_column not in columns:
            columns.append(self.pk_column)
        narrowed = RowRenderer([self.names[position] for position in keep], columns,
                               {new: converters[old] for new, old in enumerate(keep) if old in converters},
                               self.follows_datetime_format, pk_column=self.pk_column)
        if len(self._narrowed) < 256:  # a client choosing ever new sets must not grow it without end
            self._narrowed[names] = narrowed
        return narrowed

    def accepts(self, request: Request) -> bool:
        """Whether this request gets exactly DRF's JSONRenderer output from the rows: compact, unescaped
        UTF-8, no `indent` in the Accept header, and timestamps in ISO 8601."""
        renderer = getattr(request, "accepted_renderer", None)
        if type(renderer) is not JSONRenderer or renderer.ensure_ascii or not renderer.compact:
            return False
        if renderer.get_indent(request.accepted_media_type, {}) is not None:
            return False
        if self.follows_datetime_format:
            output_format = drf_settings.DATETIME_FORMAT
            return isinstance(output_format, str) and output_format.lower() == ISO_8601
        return True

    def select(self, queryset: QuerySet) -> QuerySet:
        """The same rows as tuples of the needed columns: same filters, ordering and slicing, no instances."""
        return queryset.values_list(*self.columns)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        rendered = dict(zip(self.names, values))
        for position, convert in self.converters:
            value = values[position]
            if value is not None:
                rendered[self.names[position]] = convert(value)
        return rendered

    def rows(self, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        return [self.row(values) for values in rows]

    def instance(self, instance: Model) -> dict[str, Any]:
        """One model instance (a detail's, fetched as DRF fetches it) rendered like a row."""
        return self.row([getattr(instance, column) for column in self.columns])


def _unchanged(value: Any) -> Any:
    return value


#: The converter of a field whose value goes out as the column holds it.
UNCHANGED: Converter = _unchanged


def _column_for(model: type[Model], field: serializers.Field) -> models.Field | None:
    """The concrete column `field` reads by its name (`source_attrs` of one step), or None."""
    if len(field.source_attrs) != 1:
        return None
    try:
        column = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    if not column.concrete or column.many_to_many or getattr(column, "column", None) is None:
        return None
    return column


def _converter_for(field: serializers.Field, column: models.Field) -> Converter | None:
    """How a non-null value of `column` becomes what `field` represents it as, or None if that cannot be exact."""
    if type(field) is serializers.PrimaryKeyRelatedField:
        return _related_id_converter(field, column)
    if column.is_relation or type(field) not in VALUE_ONLY_FIELDS:
        return None
    held = PLAIN_COLUMNS.get(type(column))
    representation = type(field).to_representation
    if held is not None and (representation in UNCHANGED_BY[held] or _choice_keys_are(field, held)):
        return UNCHANGED
    if type(field) is UTCDateTimeField and type(column) is models.DateTimeField:
        output_format = getattr(field, "format", ISO_8601)
        if isinstance(output_format, str) and output_format.lower() == ISO_8601:
            return in_utc
    to_representation = field.to_representation
    return lambda value: as_orjson_takes(to_representation(value))


def _choice_keys_are(field: serializers.Field, held: type) -> bool:
    """A ChoiceField hands a value back unchanged when every choice key has the column's type (it maps the
    value's text to the key with that text: the value itself)."""
    if type(field).to_representation is not serializers.ChoiceField.to_representation or held is bool:
        return False
    return bool(field.choices) and all(type(key) is held for key in field.choice_strings_to_values.values())


def _related_id_converter(field: serializers.PrimaryKeyRelatedField, column: models.Field) -> Converter | None:
    """DRF renders a foreign key as the value of its `_id` column (`pk_field` may convert it further)."""
    if not (column.many_to_one or column.one_to_one):
        return None
    if field.pk_field is not None:
        if type(field.pk_field) not in VALUE_ONLY_FIELDS:
            return None
        to_representation = field.pk_field.to_representation
        return lambda value: as_orjson_takes(to_representation(value))
    if PLAIN_COLUMNS.get(type(column.target_field)) in (str, int):
        return UNCHANGED
    return as_orjson_takes


def dumps(data: Any) -> bytes:
    """orjson's compact UTF-8, which DRF's JSONRenderer writes too, with U+2028 and U+2029 escaped as DRF does."""
    content = orjson.dumps(data, option=orjson.OPT_UTC_Z)
    if b"\xe2\x80" in content:
        content = content.replace(LINE_SEPARATOR, b"\\u2028").replace(PARAGRAPH_SEPARATOR, b"\\u2029")
    return content


class RowsResponse(Response):
    """A DRF Response whose data a RowRenderer prepared: written by `dumps` instead of the negotiated renderer,
    which `RowRenderer.accepts` made sure is DRF's JSONRenderer, so the content type is that renderer's."""

    @property
    def rendered_content(self) -> bytes:
        self["Content-Type"] = self.content_type or self.accepted_renderer.media_type
        return dumps(self.data)
