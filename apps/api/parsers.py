"""Request body parsers whose every failure is a `ParseError` (a 400 in the envelope), never a 500.

DRF's own parsers let two kinds of bad input escape as 500s: JSON nested deeper than the interpreter's
recursion limit (`RecursionError`, and sign-in parses bodies before anyone is authenticated), and a form
with more fields than `DATA_UPLOAD_MAX_NUMBER_FIELDS` (Django's `TooManyFieldsSent`). Nesting is also
bounded well below the recursion limit (`TESSERA_API["MAX_JSON_DEPTH"]`), because a structure that only
just parses would still recurse through validation, copying, rendering and the jsonb adapter.
"""
import re
from itertools import accumulate
from typing import IO, Any

from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from .conf import api_settings

#: A JSON string literal, escapes included; brackets inside one are text, not nesting.
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text`, found without parsing it (so without recursing).

    On malformed JSON the figure may be off, which only decides which 400 the caller gets.
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def bounded_json_loads(text: str, *, strict: bool = True) -> Any:
    """`json.loads` for text from outside (a body, an uploaded file): nesting deeper than
    TESSERA_API["MAX_JSON_DEPTH"] is refused before parsing, and every failure is a ValueError."""
    limit = api_settings.MAX_JSON_DEPTH
    if text.count("[") + text.count("{") > limit and json_depth(text) > limit:
        raise ValueError(f"JSON nests deeper than {limit} levels.")
    try:
        return json.loads(text, parse_constant=json.strict_constant if strict else None)
    except RecursionError:  # only reachable when MAX_JSON_DEPTH is set near the interpreter's own limit
        raise ValueError("JSON nests too deeply.") from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit checked before parsing; any failure is a 400."""

    def parse(self, stream: IO[bytes], media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return bounded_json_loads(stream.read().decode(encoding), strict=self.strict)
        except ValueError as error:  # UnicodeDecodeError is one
            raise ParseError(f"JSON parse error - {error}") from None


class FormParser(parsers.FormParser):
    """DRF's form parser; a form over DATA_UPLOAD_MAX_NUMBER_FIELDS (or otherwise refused by Django) is a 400."""

    def parse(self, stream: IO[bytes], media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> QueryDict:
        try:

            return super().parse(stream, media_type, parser_context)
        except SuspiciousOperation as error:
            raise ParseError(f"Form parse error - {error}") from None

