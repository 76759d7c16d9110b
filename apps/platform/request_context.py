"""Request-scoped plumbing: the request id that every response, log line and error carries."""
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponseBase

_request_id: ContextVar[str] = ContextVar("request_id", default="")

#: A client's id is echoed only when it is short and plain, so it cannot inject into logs or headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current_request_id() -> str:
    """The id of the request being served (empty outside a request)."""
    return _request_id.get()


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Carry a request's id into work done elsewhere (a background job), so its log lines share the id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIDMiddleware:
    """Echoes a sane `X-Request-ID` or makes one, and exposes it to logs and the error envelope."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        candidate = request.headers.get("X-Request-ID", "")
        # fullmatch, not match with `$`: `$` also matches before a trailing newline, and a newline in a
        # header value makes Django raise BadHeaderError (a 500) when the id is echoed.
        request_id = candidate if SANE_REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex
        request.id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
